"""Zero-padding and cropping layers along the spatial axes (1D, 2D and 3D)."""
from __future__ import annotations

import torch.nn.functional as F

from cornu.utils import conv_utils
from cornu.layers.layer import InputSpec, Layer

_AXIS_NAMES = {1: "(left, right)", 2: "((top, bottom), (left, right))",
               3: "((left_dim1, right_dim1), (left_dim2, right_dim2), (left_dim3, right_dim3))"}


def _pair(value, arg: str, original) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ValueError(f"`{arg}` should be an int or a tuple of 2 ints. Received: {arg}={original!r}")
    if min(value) < 0:
        raise ValueError(f"`{arg}` values must be non-negative. Received: {arg}={original!r}")
    return int(value[0]), int(value[1])


def normalize_amounts(value, rank: int, arg: str) -> tuple:
    """Keras's padding/cropping argument -> ``rank`` (before, after) pairs (a flat pair for rank 1)."""
    if rank == 1:
        return _pair(value, arg, value)
    if isinstance(value, int) and not isinstance(value, bool):
        return tuple(_pair(value, arg, value) for _ in range(rank))
    if not isinstance(value, (list, tuple)) or len(value) != rank:
        raise ValueError(f"`{arg}` should have {rank} elements: an int, a tuple of {rank} ints or a tuple of "
                         f"{rank} tuples of 2 ints {_AXIS_NAMES[rank]}. Received: {arg}={value!r}")
    return tuple(_pair(v, arg, value) for v in value)


class _SpatialOp(Layer):
    """Shared shape handling: ``self.amounts`` holds one (before, after) pair per spatial axis."""

    rank = 1
    arg = "padding"
    sign = 1
    has_data_format = True

    def __init__(self, amounts, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = conv_utils.normalize_data_format(data_format)
        value = normalize_amounts(amounts, self.rank, self.arg)
        setattr(self, self.arg, value)
        self.amounts = (value,) if self.rank == 1 else value
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _spatial_axes(self) -> tuple[int, ...]:
        start = 1 if self.data_format == "channels_last" else 2
        return tuple(range(start, start + self.rank))

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, (before, after) in zip(self._spatial_axes(), self.amounts):
            if out[axis] is not None:
                out[axis] = out[axis] + self.sign * (before + after)
                if out[axis] <= 0:
                    raise ValueError(f"Values in `{self.arg}` argument should be smaller than the corresponding "
                                     f"spatial dimension of the input. Received: input_shape={tuple(input_shape)}, "
                                     f"{self.arg}={getattr(self, self.arg)}")
        return tuple(out)

    def build(self, input_shape) -> None:
        self.compute_output_shape(input_shape)
        self.built = True

    def get_config(self) -> dict:
        config = {**super().get_config(), self.arg: getattr(self, self.arg)}
        if self.has_data_format:
            config["data_format"] = self.data_format
        return config


class _ZeroPadding(_SpatialOp):
    arg, sign = "padding", 1

    def call(self, inputs):
        axes = self._spatial_axes()
        pads: list[int] = []
        for axis in range(inputs.ndim - 1, axes[0] - 1, -1):
            pads.extend(self.amounts[axis - axes[0]] if axis in axes else (0, 0))
        return F.pad(inputs, pads)


class _Cropping(_SpatialOp):
    arg, sign = "cropping", -1

    def call(self, inputs):
        index: list[slice] = [slice(None)] * inputs.ndim
        for axis, (before, after) in zip(self._spatial_axes(), self.amounts):
            index[axis] = slice(before, inputs.shape[axis] - after)
        return inputs[tuple(index)]


class ZeroPadding1D(_ZeroPadding):
    """Adds zeros at the start and end of the steps axis: ``padding`` is an int or ``(left, right)``."""

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Adds rows and columns of zeros: ``padding`` is an int, ``(h, w)`` or ``((top, bottom), (left, right))``."""

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Adds zeros around the three spatial axes of a volume."""

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)


class Cropping1D(_Cropping):
    """Removes ``cropping = (start, end)`` steps from the steps axis."""

    rank = 1
    has_data_format = False

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, data_format="channels_last", **kwargs)


class Cropping2D(_Cropping):
    """Removes rows and columns: ``cropping`` is an int, ``(h, w)`` or ``((top, bottom), (left, right))``."""

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format=data_format, **kwargs)


class Cropping3D(_Cropping):
    """Removes slices from the three spatial axes of a volume."""

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format=data_format, **kwargs)
