"""``RandomCrop``: a random ``(height, width)`` window, one offset per batch (training only).

As in Keras: an axis shorter than the target is not cropped, and the window is then resized
(bilinear) to the target; at inference the images pass through unchanged, in their own dtype.
Without a ``seed`` the layer draws one at construction, so its config always names the seed it uses.
"""
from __future__ import annotations

import random

import torch

from cornu.layers.preprocessing.image.augmentation import ImageAugmentation
from cornu.ops import image as image_ops
from cornu.layers.preprocessing.image.resizing import with_output_size


class RandomCrop(ImageAugmentation):
    """Crops a random ``height`` x ``width`` window of the images during training."""

    def __init__(self, height: int, width: int, seed=None, data_format=None, name=None, **kwargs):
        if seed is None:
            seed = random.randint(1, int(1e9))
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.height = height
        self.width = width
        self.autocast = False  # inference returns the inputs as given; training casts them itself

    def call(self, inputs, training=True):
        if not training:
            return inputs
        return super().call(inputs, training=training)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2], x.shape[-1]
        gen = self._rng(x.device)
        crop_h, crop_w = min(h, self.height), min(w, self.width)
        offsets = torch.randint(0, 2 ** 30, (2,), generator=gen, device=x.device)
        top = offsets[0] % (h - crop_h + 1)
        left = offsets[1] % (w - crop_w + 1)
        rows = (top + torch.arange(crop_h, device=x.device))
        cols = (left + torch.arange(crop_w, device=x.device))
        y = x.index_select(-2, rows).index_select(-1, cols)
        if (crop_h, crop_w) != (self.height, self.width):
            y = image_ops.resize_nchw(y, (self.height, self.width))
        return y

    def compute_output_shape(self, input_shape):
        return with_output_size(input_shape, self.data_format, self.height, self.width)

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width, "seed": self.seed}
