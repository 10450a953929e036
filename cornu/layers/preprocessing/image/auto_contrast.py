"""``AutoContrast``: stretch each image channel's values across the whole ``value_range``."""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.random_color import ColorAugmentation, value_range_pair


class AutoContrast(ColorAugmentation):
    """Maps each channel's ``[min, max]`` linearly onto ``value_range`` (constant channels are kept).

    Not random, so it applies in inference too; integer images become floats. As Keras computes
    it, the minimum and maximum are taken over axes ``(-3, -2)`` whatever the ``data_format``.
    """

    applies_in_inference = True
    casts_integers = True

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = value_range_pair(value_range)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        low, high = self.value_range
        lo = x.amin(dim=(-3, -2), keepdim=True)
        hi = x.amax(dim=(-3, -2), keepdim=True)
        span = hi - lo
        flat = span == 0
        scale = (high - low) / torch.where(flat, torch.ones_like(span), span)
        y = torch.clamp((x - lo) * scale + low, low, high)
        return torch.where(flat, x, y)

    def get_config(self) -> dict:
        return {**super().get_config(), "value_range": self.value_range}
