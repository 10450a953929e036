"""``RandomSaturation`` and ``RandomHue``: per-image adjustments in HSV space."""
from __future__ import annotations

import torch

from cornu import config
from cornu.layers.preprocessing.image.random_color import ColorAugmentation, factor_pair, value_range_pair
from cornu.ops import image as image_ops


class RandomSaturation(ColorAugmentation):
    """Scales the HSV saturation by ``f / (1 - f + epsilon)`` with ``f ~ U(factor)`` per image.

    ``f = 0.5`` keeps the image, ``0`` gives gray, ``1`` full saturation; a number ``f`` draws
    from ``(-f, f)``. As Keras computes it, the RGB values go to HSV unscaled, the new saturation
    is clipped to ``value_range`` and the result is not clipped. Integer images must be cast to
    floats first (``ValueError`` in training).
    """

    float_on_apply = False

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_pair(factor, -1, 1, lambda f: (-abs(f), abs(f)))
        self.value_range = value_range_pair(value_range)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        hsv = image_ops.rgb_to_hsv(x, data_format=self.data_format)
        f = self.per_image(x, self.factor[0], self.factor[1])
        scale = f / (1.0 - f + config.epsilon())
        axis = self.channel_axis
        hue, saturation, value = hsv.unbind(axis)
        saturation = torch.clamp(saturation * scale.squeeze(axis), self.value_range[0], self.value_range[1])
        hsv = torch.stack([hue, saturation, value], dim=axis)
        return image_ops.hsv_to_rgb(hsv, data_format=self.data_format)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range, "seed": self.seed}


class RandomHue(ColorAugmentation):
    """Rotates the hue by ``±f / 2`` (random sign) with ``f ~ U(factor)`` per image.

    The image is mapped from ``value_range`` onto ``[0, 1]``, shifted in HSV space, clipped to
    ``[0, 1]`` and mapped back. ``f = 1`` rotates by half a turn.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_pair(factor, 0, 1, lambda f: (0, f))
        self.value_range = value_range

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        low, high = self.value_range
        hsv = image_ops.rgb_to_hsv((x - low) / (high - low), data_format=self.data_format)
        f = self.per_image(x, self.factor[0], self.factor[1])
        sign = torch.where(self.per_image(x, 0.0, 1.0) < 0.5, -1.0, 1.0).to(x.dtype)
        axis = self.channel_axis
        hue, saturation, value = hsv.unbind(axis)
        hue = hue + (0.5 * sign * f).squeeze(axis)
        rgb = image_ops.hsv_to_rgb(torch.stack([hue, saturation, value], dim=axis), data_format=self.data_format)
        return torch.clamp(rgb, 0.0, 1.0) * (high - low) + low

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range, "seed": self.seed}
