"""``RandomGrayscale`` and ``RandomColorDegeneration``: move images toward their luma."""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.random_color import ColorAugmentation, factor_pair, value_range_pair
from cornu.ops import image as image_ops


class RandomGrayscale(ColorAugmentation):
    """Replaces each image by its luma (in every channel) with probability ``factor``.

    Integer images stay integers (the luma truncated to their dtype), as in Keras.
    """

    float_on_apply = False

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if factor < 0 or factor > 1:
            raise ValueError(f"`factor` should be between 0 and 1. Received: factor={factor}")
        self.factor = factor

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        gray = image_ops.rgb_to_grayscale(x, data_format=self.data_format).expand_as(x)
        chosen = self.uniform((x.shape[0], 1, 1, 1), 0.0, 1.0, x.device) < self.factor
        return torch.where(chosen, gray, x)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor}


class RandomColorDegeneration(ColorAugmentation):
    """``y = x + f (luma - x)`` with ``f ~ U(factor)`` per image, clipped to ``value_range``.

    ``f = 0`` keeps the image, ``1`` gives its grayscale; a number ``f`` draws from ``(-f, f)``.
    One-channel images are their own luma.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_pair(factor, -1, 1, lambda f: (-abs(f), abs(f)))
        self.value_range = value_range_pair(value_range)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        gray = image_ops.rgb_to_grayscale(x, data_format=self.data_format)
        f = self.per_image(x, self.factor[0], self.factor[1])
        return torch.clamp(x + f * (gray - x), self.value_range[0], self.value_range[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range, "seed": self.seed}
