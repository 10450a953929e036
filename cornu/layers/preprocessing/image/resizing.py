"""``Resizing``: resize images to a fixed size (``keras.ops.image.resize`` as a layer)."""
from __future__ import annotations

import torch

from cornu.layers.layer import Layer
from cornu.ops import image as image_ops
from cornu.utils import conv_utils


def spatial_axes(ndim: int, data_format: str) -> tuple[int, int]:
    """The (height, width) axes of a rank-``ndim`` image tensor (3-D: one image, 4-D: a batch)."""
    return (ndim - 3, ndim - 2) if data_format == "channels_last" else (ndim - 2, ndim - 1)


def check_image_rank(x: torch.Tensor, name: str = "images") -> None:
    if x.ndim not in (3, 4):
        raise ValueError("Expected image tensor to have rank 3 (single image) or 4 (batch of images). "
                         f"Received: {name}.shape={tuple(x.shape)}")


def with_output_size(input_shape, data_format: str, height, width) -> tuple:
    shape = list(input_shape)
    h, w = spatial_axes(len(shape), data_format)
    shape[h], shape[w] = height, width
    return tuple(shape)


class Resizing(Layer):
    """Resizes images to ``(height, width)``; optionally crops or pads to the target aspect ratio first."""

    def __init__(self, height: int, width: int, interpolation: str = "bilinear", crop_to_aspect_ratio: bool = False,
                 pad_to_aspect_ratio: bool = False, fill_mode: str = "constant", fill_value: float = 0.0,
                 antialias: bool = False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = height
        self.width = width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = antialias
        self.data_format = conv_utils.normalize_data_format(data_format)

    def call(self, inputs):
        check_image_rank(inputs, "inputs")
        return image_ops.resize(inputs, (self.height, self.width), interpolation=self.interpolation,
                                antialias=self.antialias, crop_to_aspect_ratio=self.crop_to_aspect_ratio,
                                pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_mode=self.fill_mode,
                                fill_value=self.fill_value, data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        return with_output_size(input_shape, self.data_format, self.height, self.width)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "height": self.height, "width": self.width,
                "interpolation": self.interpolation, "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}
