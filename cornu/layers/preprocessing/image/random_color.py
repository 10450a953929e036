"""The base of the color layers, and ``RandomContrast`` and ``RandomBrightness``.

``ColorAugmentation`` draws per-image parameters and transforms the whole batch in one
elementwise pass, in the layer's data format. Contrast: ``(x - mean) * c + mean`` with the
per-image, per-channel spatial mean and ``c ~ U(1 - lower, 1 + upper)``. Brightness:
``x + d * (max - min)`` with ``d ~ U(lower, upper)`` (integer images get the shift truncated to
their dtype). Both clip to ``value_range``.
"""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.augmentation import ImageAugmentation
from cornu.layers.preprocessing.image.resizing import check_image_rank


def factor_pair(factor, low: float, high: float, single, name: str = "factor") -> tuple:
    """Keras's reading of ``factor``: a number (bounded by ``[low, high]``) or a pair, sorted."""
    message = (f"The `{name}` argument should be a number (or a list of two numbers) in the range [{low}, {high}]. "
               f"Received: {name}={factor}")
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        if not low <= factor <= high:
            raise ValueError(message)
        return single(factor)
    if isinstance(factor, (tuple, list)) and len(factor) == 2 and all(isinstance(f, (int, float)) for f in factor):
        if factor[0] > high or factor[1] < low:
            raise ValueError(message)
        return (min(factor), max(factor))
    raise ValueError(message)


def value_range_pair(value_range) -> list:
    """A checked ``value_range``: two numbers, sorted into a list (as the checking Keras layers store it)."""
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError(f"The `value_range` argument should be a list of two numbers. "
                         f"Received: value_range={value_range}")
    return sorted(value_range)


class ColorAugmentation(ImageAugmentation):
    """A color layer: ``transform`` maps a batched 4-D image tensor (in ``data_format``) in one pass.

    As in Keras, float images arrive in the compute dtype; integer images pass through untouched
    when the layer does not apply and become floats when it does. Class flags record the
    exceptions: ``applies_in_inference`` (not random, so active in inference too),
    ``casts_integers`` (integer images become floats even when passed through), ``float_on_apply``
    (False: ``transform`` sees integer images as they are).
    """

    applies_in_inference = False
    casts_integers = False
    float_on_apply = True

    def call(self, inputs, training=True):
        check_image_rank(inputs)
        dtype = self._compute_torch_dtype or torch.float32
        if self.casts_integers and inputs.dtype != dtype:
            inputs = inputs.to(dtype)
        if not (training or self.applies_in_inference):
            return inputs
        single = inputs.ndim == 3
        x = inputs.unsqueeze(0) if single else inputs
        if self.float_on_apply and x.dtype != dtype:
            x = x.to(dtype)
        y = self.transform(x)
        return y[0] if single else y

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @property
    def channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    @property
    def spatial_axes(self) -> tuple:
        return (1, 2) if self.data_format == "channels_last" else (2, 3)

    def per_image(self, x: torch.Tensor, low: float, high: float) -> torch.Tensor:
        """One ``U(low, high)`` draw per image, shaped to broadcast over it, in ``x``'s float dtype."""
        u = self.uniform((x.shape[0], 1, 1, 1), low, high, x.device)
        return u.to(x.dtype) if x.is_floating_point() else u


class _RandomColor(ColorAugmentation):
    """Contrast and brightness: a factor pair, ``value_range`` and ``seed`` in the config."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range, "seed": self.seed}


class RandomContrast(_RandomColor):
    """Scales each image's deviation from its per-channel mean by a random factor, then clips."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(factor, value_range, seed, data_format, **kwargs)
        self.factor = factor_pair(factor, 0, 1, lambda f: (max(-f, 0), f))

    def transform(self, x):
        c = self.per_image(x, 1.0 - self.factor[0], 1.0 + self.factor[1])
        mean = x.mean(dim=self.spatial_axes, keepdim=True)
        return torch.clamp((x - mean) * c + mean, self.value_range[0], self.value_range[1])


class RandomBrightness(_RandomColor):
    """Adds a random fraction of the value range to each image, then clips to ``value_range``."""

    float_on_apply = False

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(factor, value_range_pair(value_range), seed, data_format, **kwargs)
        self.factor = factor_pair(factor, -1, 1, lambda f: (-abs(f), abs(f)))

    def transform(self, x):
        low, high = self.value_range
        delta = self.per_image(x, self.factor[0], self.factor[1]) * (high - low)
        if x.is_floating_point():
            return torch.clamp(x + delta, low, high)
        return torch.clamp(x + torch.trunc(delta).to(x.dtype), low, high)
