"""``RandomErasing`` (Zhong et al. 2017): a random rectangle of each chosen image replaced, batched by masks.

Each image is erased with a probability drawn from ``factor``; the rectangle covers a fraction of
the image drawn from ``scale`` with an aspect ratio drawn log-uniformly in [0.3, 1 / 0.3], at a
uniform position. It is filled with ``fill_value``, or, when that is None, with N(0, 1) noise
scaled to ``value_range`` (and clipped to it).
"""
from __future__ import annotations

import math

import torch

from cornu.layers.preprocessing.image.augmentation import ImageAugmentation
from cornu.layers.preprocessing.image.factor_utils import chosen, unit_range


def box_mask(layer, n: int, h: int, w: int, area: torch.Tensor, ratio: torch.Tensor,
             device: torch.device) -> torch.Tensor:
    """``(n, 1, h, w)`` masks of rectangles of ``area`` (fraction) and width/height ``ratio`` at random positions."""
    box_h = torch.sqrt(area * h * w / ratio).clamp(max=h)
    box_w = torch.sqrt(area * h * w * ratio).clamp(max=w)
    top = layer.uniform((n,), 0.0, 1.0, device) * (h - box_h)
    left = layer.uniform((n,), 0.0, 1.0, device) * (w - box_w)
    rows = torch.arange(h, device=device, dtype=torch.float32)[None, :, None]
    cols = torch.arange(w, device=device, dtype=torch.float32)[None, None, :]
    top, left = torch.round(top)[:, None, None], torch.round(left)[:, None, None]
    inside_rows = (rows >= top) & (rows < top + torch.round(box_h)[:, None, None])
    inside_cols = (cols >= left) & (cols < left + torch.round(box_w)[:, None, None])
    return (inside_rows & inside_cols).unsqueeze(1)


class RandomErasing(ImageAugmentation):
    """Erases a random rectangle of each image with probability drawn from ``factor``."""

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255), seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = unit_range(factor)
        self.scale = unit_range(scale, "scale")
        if fill_value is not None and not isinstance(fill_value, (int, float)):
            raise ValueError(f"`fill_value` must be a number or None. Received: fill_value={fill_value}")
        self.fill_value = fill_value
        self.value_range = value_range

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        device = x.device
        area = self.uniform((n,), self.scale[0], self.scale[1], device)
        ratio = torch.exp(self.uniform((n,), math.log(0.3), -math.log(0.3), device))
        mask = box_mask(self, n, h, w, area, ratio, device) & chosen(self, n, self.factor, device)[:, None, None, None]
        low, high = min(self.value_range), max(self.value_range)
        if self.fill_value is None:
            noise = torch.randn((n, c, h, w), generator=self._rng(device), device=device)
            fill = (noise * (high - low) / 4 + (high + low) / 2).clamp(low, high).to(x.dtype)
        else:
            fill = torch.full_like(x, float(self.fill_value))
        return torch.where(mask, fill, x)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "scale": self.scale, "fill_value": self.fill_value,
                "value_range": self.value_range, "seed": self.seed}
