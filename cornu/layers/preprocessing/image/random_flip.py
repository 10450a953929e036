"""``RandomFlip``: flip each image left-right and/or up-down with probability 1/2 (training only).

In Keras's dict inputs, segmentation masks flip with their images and boxes are mirrored
(``x -> width - x``, ``y -> height - y``) on the flipped images; as in Keras, coordinates
below 0 are then raised to 0 (the far edges are not clipped) and boxes left with no (or negative) area get the label -1.
"""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.augmentation import ImageAugmentation

HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL = "horizontal", "vertical", "horizontal_and_vertical"


class RandomFlip(ImageAugmentation):
    """Randomly flips images; ``mode``: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"``."""

    def __init__(self, mode: str = HORIZONTAL_AND_VERTICAL, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = mode

    def draw(self, x: torch.Tensor) -> tuple:
        """Whether each image flips left-right and whether it flips up-down (``None``: the mode never does)."""
        n = x.shape[0]
        flips = []
        for modes in ((HORIZONTAL, HORIZONTAL_AND_VERTICAL), (VERTICAL, HORIZONTAL_AND_VERTICAL)):
            flips.append(torch.rand((n,), generator=self._rng(x.device), device=x.device) < 0.5
                         if self.mode in modes else None)
        return tuple(flips)

    def apply(self, x: torch.Tensor, params: tuple) -> torch.Tensor:
        for flip, axis in zip(params, (-1, -2)):
            if flip is not None:
                x = torch.where(flip[:, None, None, None], x.flip(axis), x)
        return x

    def transform_segmentation_masks(self, masks: torch.Tensor, params: tuple) -> torch.Tensor:
        return self.apply(masks, params)

    def transform_bounding_boxes(self, boxes, labels, params, height, width):
        x1, y1, x2, y2 = boxes.unbind(-1)
        horizontal, vertical = params
        if horizontal is not None:
            flip = horizontal[:, None]
            x1, x2 = torch.where(flip, width - x2, x1), torch.where(flip, width - x1, x2)
        if vertical is not None:
            flip = vertical[:, None]
            y1, y2 = torch.where(flip, height - y2, y1), torch.where(flip, height - y1, y2)
        out = torch.stack([x1, y1, x2, y2], -1).clamp(min=0)  # Keras's floor at 0
        if labels is not None:
            empty = (out[..., 2] - out[..., 0]) * (out[..., 3] - out[..., 1]) <= 0
            labels = torch.where(empty, torch.full_like(labels, -1), labels)
        return out, labels, (height, width)

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed, "mode": self.mode}
