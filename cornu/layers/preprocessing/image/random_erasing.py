"""``RandomErasing`` (Zhong et al. 2017): a random rectangle of each chosen image replaced, batched by masks.

Each image is erased with a probability drawn from ``factor``; as in Keras (measured), the
rectangle's height and width are ``sqrt(s)`` of the image's, with a separate ``s`` drawn from
``scale`` for each (a square of area ``s`` when ``scale`` is a single value), at a uniform position.
It is filled with ``fill_value``, or, when that is None, with per-pixel N(0, 1) noise times the
width of ``value_range``; the result is clipped to ``value_range``.
"""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.augmentation import ImageAugmentation
from cornu.layers.preprocessing.image.factor_utils import chosen, unit_range


def box_mask(layer, n: int, h: int, w: int, box_h: torch.Tensor, box_w: torch.Tensor,
             device: torch.device) -> torch.Tensor:
    """``(n, 1, h, w)`` masks of ``box_h`` by ``box_w`` pixel rectangles at uniform positions inside the image."""
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
        box_h = torch.sqrt(self.uniform((n,), self.scale[0], self.scale[1], device)) * h
        box_w = torch.sqrt(self.uniform((n,), self.scale[0], self.scale[1], device)) * w
        mask = box_mask(self, n, h, w, box_h, box_w, device) & chosen(self, n, self.factor, device)[:, None, None, None]
        low, high = min(self.value_range), max(self.value_range)
        if self.fill_value is None:
            noise = torch.randn((n, c, h, w), generator=self._rng(device), device=device)
            fill = (noise * (high - low) + low).to(x.dtype)
        else:
            fill = torch.full_like(x, float(self.fill_value))
        return torch.where(mask, fill, x).clamp(low, high)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "scale": self.scale, "fill_value": self.fill_value,
                "value_range": self.value_range, "seed": self.seed}
