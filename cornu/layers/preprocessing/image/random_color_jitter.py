"""``RandomColorJitter``: brightness, contrast, saturation and hue jitter, in that order."""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.random_color import ColorAugmentation, RandomBrightness, RandomContrast
from cornu.layers.preprocessing.image.random_hue_saturation import RandomHue, RandomSaturation


class RandomColorJitter(ColorAugmentation):
    """Applies the random brightness, contrast, saturation and hue layers whose factor is given.

    Each sub-layer draws from its own generator (seeded ``seed``, ``seed + 1``, ... when ``seed``
    is given); the whole batch goes through each transform once.
    """

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None, saturation_factor=None,
                 hue_factor=None, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        steps = [(RandomBrightness, brightness_factor), (RandomContrast, contrast_factor),
                 (RandomSaturation, saturation_factor), (RandomHue, hue_factor)]
        self.steps = [cls(factor, value_range=value_range, seed=None if seed is None else seed + i,
                          data_format=data_format, dtype=self.dtype_policy)
                      for i, (cls, factor) in enumerate(steps) if factor is not None]

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        for step in self.steps:
            x = step.transform(x)
        return x

    def get_config(self) -> dict:
        return {**super().get_config(), "value_range": self.value_range, "brightness_factor": self.brightness_factor,
                "contrast_factor": self.contrast_factor, "saturation_factor": self.saturation_factor,
                "hue_factor": self.hue_factor, "seed": self.seed}
