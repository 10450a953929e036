"""``CenterCrop``: the centred ``(height, width)`` window of each image.

An image smaller than the target along either axis is instead resized to it (bilinear,
cropped to the target aspect ratio first), as in Keras. Outputs are in the compute dtype.
"""
from __future__ import annotations

import torch

from cornu.layers.layer import Layer
from cornu.layers.preprocessing.image.resizing import check_image_rank, spatial_axes, with_output_size
from cornu.ops import image as image_ops
from cornu.utils import conv_utils


class CenterCrop(Layer):
    """Crops the central ``height`` x ``width`` window of images (resizing those that are smaller)."""

    def __init__(self, height: int, width: int, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = height
        self.width = width
        self.data_format = conv_utils.normalize_data_format(data_format)

    def call(self, inputs):
        check_image_rank(inputs, "inputs")
        dtype = self._compute_torch_dtype or torch.float32
        x = inputs if inputs.dtype == dtype else inputs.to(dtype)
        ha, wa = spatial_axes(x.ndim, self.data_format)
        h, w = x.shape[ha], x.shape[wa]
        if h >= self.height and w >= self.width:
            top, left = (h - self.height) // 2, (w - self.width) // 2
            return x.narrow(ha, top, self.height).narrow(wa, left, self.width)
        return image_ops.resize(x, (self.height, self.width), crop_to_aspect_ratio=True,
                                data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        return with_output_size(input_shape, self.data_format, self.height, self.width)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "height": self.height, "width": self.width}
