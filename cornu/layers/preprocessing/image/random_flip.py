"""``RandomFlip``: flip each image left-right and/or up-down with probability 1/2 (training only)."""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.augmentation import ImageAugmentation

HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL = "horizontal", "vertical", "horizontal_and_vertical"


class RandomFlip(ImageAugmentation):
    """Randomly flips images; ``mode``: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"``."""

    def __init__(self, mode: str = HORIZONTAL_AND_VERTICAL, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = mode

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):
            flip = (torch.rand((n, 1, 1, 1), generator=self._rng(x.device), device=x.device) < 0.5)
            x = torch.where(flip, x.flip(-1), x)
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            flip = (torch.rand((n, 1, 1, 1), generator=self._rng(x.device), device=x.device) < 0.5)
            x = torch.where(flip, x.flip(-2), x)
        return x

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed, "mode": self.mode}
