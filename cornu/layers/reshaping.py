"""Reshaping layers: ``Flatten`` and relatives."""
from __future__ import annotations

import math

from cornu.layers import conv_utils
from cornu.layers.layer import InputSpec, Layer


class Flatten(Layer):
    """Flattens all but the batch axis, in Keras's (row-major, channels_last) order."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = inputs.permute(0, *range(2, inputs.ndim), 1)
        if inputs.ndim == 1:
            return inputs.unsqueeze(1)
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if not rest:
            return (input_shape[0], 1)
        n = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], n)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}
