"""``RandAugment`` (Cubuk et al. 2019): ``num_ops`` operations drawn from a fixed list, applied in turn.

The operations are Keras's eleven, all of strength ``factor``: shear, translation, rotation,
brightness, color degeneration, contrast, sharpness, solarization, posterization (1 to
``8 * factor`` bits removed), auto-contrast and equalization. Each call picks the operations for
the whole batch from a CPU generator (no device sync); each operation then draws its own per-image
parameters on the device and transforms the batch at once.
"""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.augmentation import ImageAugmentation
from cornu.layers.preprocessing.image.auto_contrast import AutoContrast
from cornu.layers.preprocessing.image.equalization import Equalization
from cornu.layers.preprocessing.image.factor_utils import unit_range
from cornu.layers.preprocessing.image.random_affine import RandomRotation, RandomTranslation
from cornu.layers.preprocessing.image.random_color import RandomBrightness, RandomContrast
from cornu.layers.preprocessing.image.random_grayscale import RandomColorDegeneration
from cornu.layers.preprocessing.image.random_posterization import RandomPosterization
from cornu.layers.preprocessing.image.random_sharpness import RandomSharpness
from cornu.layers.preprocessing.image.random_shear import RandomShear
from cornu.layers.preprocessing.image.resizing import check_image_rank
from cornu.layers.preprocessing.image.solarization import Solarization


def augmentation_ops(factor: tuple, value_range, interpolation: str, seed, data_format: str,
                     color: bool = True) -> list:
    """Keras's RandAugment / AugMix operations, each of strength ``factor`` (``color``: the four color ones too)."""
    common = {"seed": seed, "data_format": data_format}
    strength = (0, factor[1])
    bits = (1, max(1, int(8 * factor[1])))
    ops = [RandomShear(strength, strength, interpolation=interpolation, **common),
           RandomTranslation(strength, strength, interpolation=interpolation, **common),
           RandomRotation(strength, interpolation=interpolation, **common)]
    colors = [RandomBrightness(strength, value_range=value_range, **common),
              RandomColorDegeneration(strength, value_range=value_range, **common),
              RandomContrast(strength, value_range=value_range, **common),
              RandomSharpness(strength, value_range=value_range, **common)]
    ops += [Solarization(strength, strength, value_range=value_range, seed=seed, data_format=data_format),
            RandomPosterization(bits, value_range=value_range, **common),
            AutoContrast(value_range=value_range, data_format=data_format),
            Equalization(value_range=value_range, data_format=data_format)]
    return ops[:3] + colors + ops[3:] if color else ops


class ComposedAugmentation(ImageAugmentation):
    """Shared call of the layers built from other augmentation layers: a CPU generator picks the operations."""

    def _choices(self) -> torch.Generator | None:
        if self.seed is None:
            return None
        if getattr(self, "_cpu_generator", None) is None:
            self._cpu_generator = torch.Generator()
            self._cpu_generator.manual_seed(int(self.seed))
        return self._cpu_generator

    def pick(self, count: int, high: int) -> list[int]:
        """``count`` integers in ``[0, high)``, drawn on the CPU."""
        return torch.randint(high, (count,), generator=self._choices()).tolist()

    def call(self, inputs, training=True):
        check_image_rank(inputs)
        dtype = self._compute_torch_dtype or torch.float32
        x = inputs if inputs.dtype == dtype else inputs.to(dtype)
        return self.compose(x) if training else x

    def compose(self, x: torch.Tensor) -> torch.Tensor:
        """The augmented batch (or single image), in the layer's data format."""
        raise NotImplementedError


class RandAugment(ComposedAugmentation):
    """Applies ``num_ops`` randomly chosen augmentations of strength ``factor`` to every batch."""

    def __init__(self, value_range=(0, 255), num_ops: int = 2, factor=0.5, interpolation: str = "bilinear",
                 seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range
        self.num_ops = num_ops
        self.factor = unit_range(factor)
        self.interpolation = interpolation
        self.augmentations = augmentation_ops(self.factor, value_range, interpolation, seed, self.data_format)

    def compose(self, x):
        for index in self.pick(self.num_ops, len(self.augmentations)):
            x = self.augmentations[index](x, training=True)
        return x

    def get_config(self) -> dict:
        return {**super().get_config(), "value_range": self.value_range, "num_ops": self.num_ops,
                "factor": self.factor, "interpolation": self.interpolation, "seed": self.seed}
