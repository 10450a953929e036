"""``Rescaling``: ``inputs * scale + offset`` (pixel values to ``[0, 1]`` or ``[-1, 1]``)."""
from __future__ import annotations

import torch

from cornu.layers.layer import Layer


class Rescaling(Layer):
    """Multiplies by ``scale`` and adds ``offset``; both may be scalars or per-channel sequences.

    Inputs of any numeric dtype are cast to the compute dtype first, as Keras does.
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def call(self, inputs):
        dtype = self._compute_torch_dtype or torch.float32
        x = torch.as_tensor(inputs).to(dtype)
        scale = torch.as_tensor(self.scale, dtype=dtype, device=x.device)
        offset = torch.as_tensor(self.offset, dtype=dtype, device=x.device)
        return x * scale + offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
