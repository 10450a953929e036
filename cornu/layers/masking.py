"""``Masking``: mark time steps whose features all equal ``mask_value`` as padding."""
from __future__ import annotations

import torch

from cornu.layers.layer import Layer


class Masking(Layer):
    """Masks (and zeroes) every step whose features all equal ``mask_value``; later layers skip those steps."""

    def __init__(self, mask_value: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return torch.any(torch.as_tensor(inputs) != self.mask_value, dim=-1)

    def call(self, inputs):
        keep = torch.any(inputs != self.mask_value, dim=-1, keepdim=True)
        return inputs * keep.to(inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "mask_value": self.mask_value}
