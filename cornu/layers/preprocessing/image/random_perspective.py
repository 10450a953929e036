"""``RandomPerspective``: moves each image's four corners at random and warps by the homography, batched.

Each image is transformed with a probability drawn from ``factor``; its corners move by up to
``scale / 4`` of the image size along each axis (uniformly, in or out), and one projective resample
(``ops.image.warp_projective``, constant ``fill_value`` outside) warps the whole batch.
"""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.augmentation import ImageAugmentation
from cornu.layers.preprocessing.image.factor_utils import chosen, unit_range, where_chosen
from cornu.layers.preprocessing.image.random_affine import INTERPOLATIONS
from cornu.ops.image import homographies, warp_projective


class RandomPerspective(ImageAugmentation):
    """Random perspective distortion of each image (with probability from ``factor``, strength ``scale``)."""

    def __init__(self, factor=1.0, scale: float = 1.0, interpolation: str = "bilinear", fill_value: float = 0.0,
                 seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = unit_range(factor)
        if not isinstance(scale, (int, float)) or not 0 <= scale <= 1:
            raise ValueError(f"The `scale` argument should be a number in the range [0, 1]. Received: scale={scale}")
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"Invalid interpolation mode. Expected one of {INTERPOLATIONS}. "
                             f"Received: interpolation={interpolation}")
        self.scale = scale
        self.interpolation = interpolation
        self.fill_value = fill_value

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        device = x.device
        size = torch.tensor([w - 1.0, h - 1.0], device=device)
        corners = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], device=device) * size
        shift = self.uniform((n, 4, 2), -0.25 * self.scale, 0.25 * self.scale, device) * size
        start = corners.expand(n, 4, 2).to(torch.float64)
        transforms = homographies(start, start + shift.to(torch.float64))
        warped = warp_projective(x, transforms, self.interpolation, "constant", self.fill_value)
        return where_chosen(chosen(self, n, self.factor, device), warped, x)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "interpolation": self.interpolation, "fill_value": self.fill_value, "seed": self.seed}
