"""``Solarization``: pixels at or above a threshold are reflected, ``max + min - x``."""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.random_color import ColorAugmentation, value_range_pair


def _unit_pair(factor, name: str) -> tuple:
    """``addition_factor`` / ``threshold_factor``: a number ``f`` (read as ``(0, f)``) or a pair, within [0, 1]."""
    message = (f"The `addition_factor` and `threshold_factor` arguments should be a number (or a list of two "
               f"numbers) in the range [0, 1]. Received: {name}={factor}")
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        factor = (0, factor)
    if not (isinstance(factor, (tuple, list)) and len(factor) == 2
            and all(isinstance(f, (int, float)) and 0 <= f <= 1 for f in factor)):
        raise ValueError(message)
    return (min(factor), max(factor))


class Solarization(ColorAugmentation):
    """Adds ``a`` and reflects the pixels reaching a threshold ``t``, then clips to ``value_range``.

    Computed on the image mapped onto ``[0, 255]``: per image ``a = 255 U(0, addition_factor[1])``
    and ``t = 255 U(0, threshold_factor[1])`` (as Keras draws them: from zero up to the factor's upper
    bound); ``y = x + a``, reflected to ``255 - y`` where ``y >= t``. Integer images become floats
    even in inference.
    """

    casts_integers = True

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = _unit_pair(addition_factor, "addition_factor")
        self.threshold_factor = _unit_pair(threshold_factor, "threshold_factor")
        self.value_range = value_range_pair(value_range)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        low, high = self.value_range
        y = (x - low) / (high - low) * 255
        y = y + self.per_image(y, 0.0, self.addition_factor[1]) * 255
        threshold = self.per_image(y, 0.0, self.threshold_factor[1]) * 255
        y = torch.clamp(torch.where(y >= threshold, 255 - y, y), 0, 255)
        return y / 255 * (high - low) + low

    def get_config(self) -> dict:
        return {**super().get_config(), "value_range": self.value_range, "addition_factor": self.addition_factor,
                "threshold_factor": self.threshold_factor, "seed": self.seed}
