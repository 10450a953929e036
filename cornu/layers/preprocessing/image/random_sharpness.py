"""``RandomSharpness``: blend each image with a blurred copy, from fully blurred to over-sharpened."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from cornu.layers.preprocessing.image.random_color import ColorAugmentation, factor_pair, value_range_pair
from cornu.utils import conv_utils

# The smoothing kernel [[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13, applied with zero padding.
_SMOOTH = ((1.0, 1.0, 1.0), (1.0, 5.0, 1.0), (1.0, 1.0, 1.0))


class RandomSharpness(ColorAugmentation):
    """``y = blur + 2 f (x - blur)`` with ``f ~ U(factor)`` per image, clipped to ``value_range``.

    ``f = 0`` gives the blurred image, ``0.5`` the original, ``1`` twice the detail. Integer
    images become floats even in inference, as in Keras.
    """

    casts_integers = True

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_pair(factor, 0, 1, lambda f: (0, f))
        self.value_range = value_range_pair(value_range)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        nchw = conv_utils.to_channels_first(x, self.data_format)
        channels = nchw.shape[1]
        kernel = torch.tensor(_SMOOTH, dtype=x.dtype, device=x.device) / 13.0
        blurred = F.conv2d(nchw, kernel.expand(channels, 1, 3, 3), padding=1, groups=channels)
        blurred = conv_utils.to_channels_last(blurred, self.data_format)
        weight = 2.0 * self.per_image(x, self.factor[0], self.factor[1])
        return torch.clamp(blurred + weight * (x - blurred), self.value_range[0], self.value_range[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range, "seed": self.seed}
