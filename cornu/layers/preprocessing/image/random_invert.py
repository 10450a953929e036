"""``RandomInvert``: each image is inverted (``max - x``) with a probability drawn from ``factor``."""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.random_color import ColorAugmentation, factor_pair


class RandomInvert(ColorAugmentation):
    """Inverts an image to ``value_range[1] - x`` with probability ``p ~ U(factor)``, drawn per image.

    As Keras computes it, the inversion subtracts from the upper bound only (``max - x``, not
    ``max + min - x``), and the result is not clipped.
    """

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_pair(factor, 0, 1, lambda f: (0, f))
        self.value_range = value_range

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        probability = self.per_image(x, self.factor[0], self.factor[1])
        invert = self.per_image(x, 0.0, 1.0) < probability
        return torch.where(invert, self.value_range[1] - x, x)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range, "seed": self.seed}
