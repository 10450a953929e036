"""``RandomElasticTransform``: smooth random displacement fields, one batched resample per call.

Each image is transformed with a probability drawn from ``factor``, with a strength ``s`` drawn
from ``scale``: Gaussian-smoothed N(0, 1) noise of width ``0.05 s min(h, w)`` pixels, scaled so its
spread is about ``0.03 s max(h, w)`` pixels (as Keras's, measured; ``ops.image.elastic_warp`` with
per-image width and strength),
resampled with ``fill_mode``; the result is clipped to ``value_range``.
"""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.augmentation import ImageAugmentation
from cornu.layers.preprocessing.image.factor_utils import chosen, unit_range, where_chosen
from cornu.layers.preprocessing.image.random_affine import FILL_MODES, INTERPOLATIONS
from cornu.ops.image import elastic_warp


class RandomElasticTransform(ImageAugmentation):
    """Random elastic deformation (probability from ``factor``, strength from ``scale``)."""

    def __init__(self, factor=1.0, scale=1.0, interpolation: str = "bilinear", fill_mode: str = "reflect",
                 fill_value: float = 0.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = unit_range(factor)
        self.scale = unit_range(scale, "scale")
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"Invalid interpolation mode. Expected one of {INTERPOLATIONS}. "
                             f"Received: interpolation={interpolation}")
        if fill_mode not in FILL_MODES:
            raise ValueError(f"Invalid fill_mode. Expected one of {FILL_MODES}. Received: fill_mode={fill_mode}")
        self.interpolation = interpolation
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.value_range = value_range

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        if self.scale[1] <= 0:
            return x
        strength = self.uniform((n,), self.scale[0], self.scale[1], x.device)
        # Keras's field (measured): width 0.05 s min(h, w), spread 0.03 s max(h, w) pixels; elastic_warp's
        # field spreads 0.28 alpha pixels.
        sigma = (0.05 * min(h, w)) * strength
        alpha = strength * (0.105 * max(h, w))
        warped = elastic_warp(x, alpha, sigma, self._rng(x.device), self.interpolation, self.fill_mode,
                              self.fill_value, max_sigma=0.05 * min(h, w) * self.scale[1])
        warped = warped.clamp(min(self.value_range), max(self.value_range))
        return where_chosen(chosen(self, n, self.factor, x.device), warped, x)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "interpolation": self.interpolation, "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                "value_range": self.value_range, "seed": self.seed}
