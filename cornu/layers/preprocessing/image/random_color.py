"""``RandomContrast`` and ``RandomBrightness``: one random factor per image, shared by its channels.

Contrast: ``(x - mean) * c + mean`` with the per-image, per-channel spatial mean and
``c ~ U(1 - lower, 1 + upper)``. Brightness: ``x + d * (max - min)`` with ``d ~ U(lower, upper)``
(integer images get the shift truncated to their dtype). Both clip to ``value_range``.
"""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.augmentation import ImageAugmentation
from cornu.layers.preprocessing.image.resizing import check_image_rank


def _factor_pair(factor, low: float, high: float, single) -> tuple:
    """Keras's reading of ``factor``: a number (bounded by ``[low, high]``) or a pair, sorted."""
    message = (f"The `factor` argument should be a number (or a list of two numbers) in the range [{low}, {high}]. "
               f"Received: factor={factor}")
    if isinstance(factor, (int, float)):
        if not low <= factor <= high:
            raise ValueError(message)
        return single(factor)
    if isinstance(factor, (tuple, list)) and len(factor) == 2 and all(isinstance(f, (int, float)) for f in factor):
        if factor[0] > high or factor[1] < low:
            raise ValueError(message)
        return (min(factor), max(factor))
    raise ValueError(message)


class _RandomColor(ImageAugmentation):
    """Per-image random factors; integer and float inputs keep Keras's output dtypes."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range

    def call(self, inputs, training=True):
        check_image_rank(inputs)
        if not training:
            return inputs
        single = inputs.ndim == 3
        x = inputs.unsqueeze(0) if single else inputs
        y = self.adjust(x, self.data_format == "channels_last")
        return y[0] if single else y

    def adjust(self, x: torch.Tensor, channels_last: bool) -> torch.Tensor:
        raise NotImplementedError

    def _per_image(self, x: torch.Tensor, low: float, high: float) -> torch.Tensor:
        return self.uniform((x.shape[0], 1, 1, 1), low, high, x.device)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range, "seed": self.seed}


class RandomContrast(_RandomColor):
    """Scales each image's deviation from its per-channel mean by a random factor, then clips."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(factor, value_range, seed, data_format, **kwargs)
        self.factor = _factor_pair(factor, 0, 1, lambda f: (max(-f, 0), f))

    def adjust(self, x, channels_last):
        dtype = self._compute_torch_dtype or torch.float32
        x = x.to(dtype)
        c = self._per_image(x, 1.0 - self.factor[0], 1.0 + self.factor[1]).to(dtype)
        mean = x.mean(dim=(1, 2) if channels_last else (2, 3), keepdim=True)
        return torch.clamp((x - mean) * c + mean, self.value_range[0], self.value_range[1])


class RandomBrightness(_RandomColor):
    """Adds a random fraction of the value range to each image, then clips to ``value_range``."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(f"The `value_range` argument should be a list of two numbers. "
                             f"Received: value_range={value_range}")
        super().__init__(factor, sorted(value_range), seed, data_format, **kwargs)
        self.factor = _factor_pair(factor, -1, 1, lambda f: (-abs(f), abs(f)))

    def adjust(self, x, channels_last):
        low, high = self.value_range
        delta = self._per_image(x, self.factor[0], self.factor[1]) * (high - low)
        if x.is_floating_point():
            delta = delta.to(x.dtype)
            return torch.clamp(x + delta, low, high)
        return torch.clamp(x + torch.trunc(delta).to(x.dtype), low, high)
