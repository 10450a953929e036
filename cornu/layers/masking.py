"""``Masking``: mark time steps whose features all equal ``mask_value`` as padding."""
from __future__ import annotations

import torch

from cornu.layers.layer import Layer
from cornu.ops import numpy as numpy_ops


class Masking(Layer):
    """Masks (and zeroes) every step whose features all equal ``mask_value``; later layers skip those steps."""
    _built_at_init = True

    _mask_from_ops = True

    def __init__(self, mask_value: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        """Steps with any feature other than ``mask_value`` (op nodes of the graph on symbolic inputs)."""
        return numpy_ops.any(numpy_ops.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = torch.any(inputs != self.mask_value, dim=-1, keepdim=True)
        return inputs * keep.to(inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "mask_value": self.mask_value}
