"""Reshaping layers: ``Flatten``, ``Reshape``, ``Permute``, ``RepeatVector``."""
from __future__ import annotations

import math

from cornu.utils import conv_utils
from cornu.layers.layer import InputSpec, Layer


class Flatten(Layer):
    """Flattens all but the batch axis, in Keras's (row-major, channels_last) order."""
    _keeps_input_dtype = True

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

def resolve_target_shape(input_shape: tuple, target_shape: tuple) -> tuple:
    """``target_shape`` with its ``-1`` resolved from ``input_shape`` (batch axes excluded).

    Unknown input dimensions make the ``-1`` entry ``None``. ValueError when the
    sizes cannot match.
    """
    unknown = [i for i, d in enumerate(target_shape) if d == -1]
    if len(unknown) > 1:
        raise ValueError(f"There must be at most one unknown dimension (-1) in target_shape. "
                         f"Received: target_shape={target_shape}.")
    if None in input_shape:
        return tuple(None if d == -1 else d for d in target_shape)
    total = math.prod(input_shape)
    known = math.prod(d for d in target_shape if d != -1)
    message = (f"The total size of the tensor must be unchanged. Received: input_shape={tuple(input_shape)}, "
               f"target_shape={target_shape}")
    if not unknown:
        if total != known:
            raise ValueError(message)
        return tuple(target_shape)
    if known == 0 or total % known != 0:
        raise ValueError(message)
    out = list(target_shape)
    out[unknown[0]] = total // known
    return tuple(out)


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (batch axis kept); one entry may be ``-1``."""
    _built_at_init = True
    _keeps_input_dtype = True

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if not hasattr(target_shape, "__iter__"):
            raise TypeError(f"`target_shape` must be a tuple of integers. Received: target_shape={target_shape!r}")
        try:
            target_shape = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError):
            raise ValueError(f"`target_shape` must be a tuple of integers. "
                             f"Received: target_shape={target_shape!r}") from None
        if any(d < -1 or d == 0 for d in target_shape):
            raise ValueError(f"`target_shape` entries must be positive or -1. Received: target_shape={target_shape}")
        if sum(d == -1 for d in target_shape) > 1:
            raise ValueError(f"There must be at most one unknown dimension (-1) in target_shape. "
                             f"Received: target_shape={target_shape}.")
        self.target_shape = target_shape

    def call(self, inputs):
        shape = resolve_target_shape(tuple(inputs.shape[1:]), self.target_shape)
        return inputs.reshape((inputs.shape[0],) + shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + resolve_target_shape(tuple(input_shape[1:]), self.target_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(Layer):
    """Permutes the non-batch axes: ``dims`` is a permutation of ``1..rank-1`` (1-indexed)."""
    _keeps_input_dtype = True

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` "
                             f"must be consecutive and start from 1. Received dims={dims}")
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs):
        return inputs.permute(0, *self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self) -> dict:
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """``(batch, features)`` -> ``(batch, n, features)`` by repeating each sample ``n`` times."""

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"`n` must be a positive integer. Received: n={n}")
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        return inputs.unsqueeze(1).expand(-1, self.n, -1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "n": self.n}
