"""``RandomShear``: shears each image along x and/or y by a random fraction, one batched warp per call.

As in Keras, the shear is about the image origin (top-left pixel): output pixel (x, y) reads input
``(x + sx y, y + sy x)`` with ``|sx|`` drawn from ``x_factor``, ``|sy|`` from ``y_factor``, and each sign
drawn at random.
"""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.factor_utils import unit_range
from cornu.layers.preprocessing.image.random_affine import _RandomAffine


class RandomShear(_RandomAffine):
    """Shears images by a random fraction drawn from ``x_factor`` / ``y_factor`` (number ``f``: ``(-f, f)``)."""

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation: str = "bilinear", fill_mode: str = "reflect",
                 fill_value: float = 0.0, data_format=None, seed=None, **kwargs):
        self.x_factor = self._factor(x_factor, "x_factor")
        self.y_factor = self._factor(y_factor, "y_factor")
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)

    @staticmethod
    def _factor(value, name: str) -> tuple:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not 0 <= value <= 1:
                raise ValueError("The `factor` argument should be a number (or a list of two numbers) in the range "
                                 f"[0, 1.0]. Received: input_number={value}")
            return (-value, value)
        # A pair may be negative: get_config's (-f, f) must rebuild the layer (Keras's own check refuses it).
        return unit_range(value, name, -1.0, 1.0)

    def _magnitude(self, factor: tuple, n: int, device: torch.device) -> torch.Tensor:
        low = factor[0] if factor[0] >= 0 else 0.0
        size = self.uniform((n,), low, max(abs(factor[0]), abs(factor[1])), device)
        sign = torch.where(self.uniform((n,), 0.0, 1.0, device) < 0.5, -1.0, 1.0)
        return size * sign

    def matrices(self, n, h, w, device):
        sx = self._magnitude(self.x_factor, n, device)
        sy = self._magnitude(self.y_factor, n, device)
        one, zero = torch.ones_like(sx), torch.zeros_like(sx)
        return torch.stack([torch.stack([one, sx, zero], -1), torch.stack([sy, one, zero], -1)], -2)

    def get_config(self) -> dict:
        config = super().get_config()
        return {**{k: config[k] for k in ("name", "trainable", "dtype", "data_format")},
                "x_factor": self.x_factor, "y_factor": self.y_factor,
                **{k: config[k] for k in ("fill_mode", "interpolation", "seed", "fill_value")},
                **({"bounding_box_format": config["bounding_box_format"]} if "bounding_box_format" in config else {})}
