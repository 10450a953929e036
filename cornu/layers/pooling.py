"""Pooling layers: max and average pooling in 1-3 dimensions, their global and adaptive forms."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from cornu.utils import conv_utils
from cornu.layers.layer import InputSpec, Layer

_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


class BasePooling(Layer):
    """Pooling over ``rank`` spatial axes; ``mode`` is ``"max"`` or ``"average"``."""
    _built_at_init = True

    rank = 2
    mode = "max"

    def __init__(self, pool_size=2, strides=None, padding: str = "valid", data_format=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = conv_utils.normalize_tuple(pool_size, self.rank, "pool_size")
        self.strides = conv_utils.normalize_tuple(strides if strides is not None else self.pool_size,
                                                  self.rank, "strides")
        self.padding = conv_utils.normalize_padding(padding)
        if self.padding == "causal":
            raise ValueError(f"Pooling layers do not support padding='causal'. Received: padding={padding!r}")
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        x = conv_utils.to_channels_first(inputs, self.data_format)
        ones = (1,) * self.rank
        if self.mode == "max":
            padding: object = 0
            if self.padding == "same":
                x, sym = conv_utils.pad_same(x, self.pool_size, self.strides, ones, value=float("-inf"))
                padding = sym if sym is not None else 0
            y = _MAX[self.rank](x, self.pool_size, self.strides, padding)
        elif self.padding == "same":
            # Average only over real (unpadded) elements, as Keras does.
            mask = torch.ones_like(x[:1, :1])
            xp, sym = conv_utils.pad_same(x, self.pool_size, self.strides, ones)
            if sym is not None:
                y = _AVG[self.rank](x, self.pool_size, self.strides, sym, count_include_pad=False)
            else:
                mp, _ = conv_utils.pad_same(mask, self.pool_size, self.strides, ones)
                avg = _AVG[self.rank]
                y = avg(xp, self.pool_size, self.strides) / avg(mp, self.pool_size, self.strides)
        else:
            y = _AVG[self.rank](x, self.pool_size, self.strides)
        return conv_utils.to_channels_last(y, self.data_format)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        last = self.data_format == "channels_last"
        spatial = input_shape[1:-1] if last else input_shape[2:]
        out = tuple(conv_utils.output_length(spatial[i], self.pool_size[i], self.padding, self.strides[i])
                    for i in range(self.rank))
        if any(d is not None and d <= 0 for d in out):
            raise ValueError(f"Computed output size would be negative or zero for layer {self.name!r}: "
                             f"input_shape={input_shape}, pool_size={self.pool_size}, padding={self.padding!r}")
        if last:
            return (input_shape[0],) + out + (input_shape[-1],)
        return (input_shape[0], input_shape[1]) + out

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling1D(BasePooling):
    """Max over windows of ``pool_size`` steps."""
    rank, mode = 1, "max"


class MaxPooling2D(BasePooling):
    """Max over ``pool_size`` windows of an image."""
    rank, mode = 2, "max"


class MaxPooling3D(BasePooling):
    """Max over ``pool_size`` windows of a volume."""
    rank, mode = 3, "max"


class _AveragePooling(BasePooling):
    """Average pooling: unlike max pooling, Keras gives ``pool_size`` no default."""

    def __init__(self, pool_size, strides=None, padding: str = "valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides=strides, padding=padding, data_format=data_format, name=name, **kwargs)


class AveragePooling1D(_AveragePooling):
    """Mean over windows of ``pool_size`` steps."""
    rank, mode = 1, "average"


class AveragePooling2D(_AveragePooling):
    """Mean over ``pool_size`` windows of an image."""
    rank, mode = 2, "average"


class AveragePooling3D(_AveragePooling):
    """Mean over ``pool_size`` windows of a volume."""
    rank, mode = 3, "average"


class BaseGlobalPooling(Layer):
    """Reduce all spatial axes with max or mean."""
    _built_at_init = True

    rank = 2
    mode = "max"

    def __init__(self, data_format=None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.keepdims = keepdims
        self.supports_masking = self.rank == 1 and self.mode == "average"  # the one Keras marks as masking
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _axes(self) -> tuple:
        return tuple(range(1, self.rank + 1)) if self.data_format == "channels_last" else tuple(range(2, self.rank + 2))

    def call(self, inputs, mask=None):
        axes = self._axes()
        if mask is not None and self.rank == 1 and self.mode != "max":
            # Average over the unmasked steps only, as Keras: masked steps are zeroed (a NaN there does not
            # spread) and a fully masked row is 0 / 0, NaN.
            step_axis = axes[0]
            keep = mask.to(torch.bool).unsqueeze(-1 if step_axis == 1 else 1)
            total = torch.sum(torch.where(keep, inputs, 0), dim=step_axis, keepdim=self.keepdims)
            return total / torch.sum(keep.to(inputs.dtype), dim=step_axis, keepdim=self.keepdims)
        if self.mode == "max":
            return torch.amax(inputs, dim=axes, keepdim=self.keepdims)
        return torch.mean(inputs, dim=axes, keepdim=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        axes = self._axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in axes)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalMaxPooling1D(BaseGlobalPooling):
    """Max over all steps."""
    rank, mode = 1, "max"


class GlobalMaxPooling2D(BaseGlobalPooling):
    """Max over all pixels."""
    rank, mode = 2, "max"


class GlobalMaxPooling3D(BaseGlobalPooling):
    """Max over all voxels."""
    rank, mode = 3, "max"


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Mean over all steps."""
    _casts_int_inputs = True
    rank, mode = 1, "average"


class GlobalAveragePooling2D(BaseGlobalPooling):
    """Mean over all pixels."""
    _casts_int_inputs = True
    rank, mode = 2, "average"


class GlobalAveragePooling3D(BaseGlobalPooling):
    """Mean over all voxels."""
    _casts_int_inputs = True
    rank, mode = 3, "average"


_ADAPTIVE = {("max", 1): F.adaptive_max_pool1d, ("max", 2): F.adaptive_max_pool2d, ("max", 3): F.adaptive_max_pool3d,
             ("average", 1): F.adaptive_avg_pool1d, ("average", 2): F.adaptive_avg_pool2d,
             ("average", 3): F.adaptive_avg_pool3d}
_AXES_NAMES = {2: "(height, width)", 3: "(depth, height, width)"}


def _adaptive_output_size(value, rank: int) -> tuple:
    """``output_size`` as a tuple of ``rank`` ints, with Keras's error classes (TypeError, ValueError in 1-D)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * rank
    if rank == 1:
        if isinstance(value, (tuple, list)):
            if len(value) != 1:
                raise ValueError(f"For 1D input, `output_size` tuple must have length 1. Received: {value}")
            if isinstance(value[0], int) and not isinstance(value[0], bool):
                return (value[0],)
        raise TypeError(f"`output_size` must be an integer or tuple of 1 integer. Received: {value} "
                        f"of type {type(value)}")
    if isinstance(value, (tuple, list)) and len(value) == rank and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return tuple(value)
    raise TypeError(f"`output_size` must be an integer or {_AXES_NAMES[rank]} tuple. Received: {value} "
                    f"of type {type(value)}")


class BaseAdaptivePooling(Layer):
    """Pool to a fixed ``output_size``: window ``i`` covers ``[floor(i*L/n), ceil((i+1)*L/n))`` on each axis."""

    rank = 2
    mode = "max"

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.output_size = _adaptive_output_size(output_size, self.rank)
        if any(n <= 0 for n in self.output_size):
            raise ValueError(f"`output_size` must be positive. Received: output_size={output_size!r}")
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        x = conv_utils.to_channels_first(inputs, self.data_format)
        y = _ADAPTIVE[self.mode, self.rank](x, self.output_size)
        return conv_utils.to_channels_last(y, self.data_format)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.data_format == "channels_last":
            return (input_shape[0],) + self.output_size + (input_shape[-1],)
        return (input_shape[0], input_shape[1]) + self.output_size

    def get_config(self) -> dict:
        return {**super().get_config(), "output_size": self.output_size, "data_format": self.data_format}


class AdaptiveMaxPooling1D(BaseAdaptivePooling):
    """Max over ``output_size`` adaptive windows of the steps."""
    rank, mode = 1, "max"


class AdaptiveMaxPooling2D(BaseAdaptivePooling):
    """Max over an ``output_size`` grid of adaptive windows of an image."""
    rank, mode = 2, "max"


class AdaptiveMaxPooling3D(BaseAdaptivePooling):
    """Max over an ``output_size`` grid of adaptive windows of a volume."""
    rank, mode = 3, "max"


class AdaptiveAveragePooling1D(BaseAdaptivePooling):
    """Mean over ``output_size`` adaptive windows of the steps."""
    rank, mode = 1, "average"


class AdaptiveAveragePooling2D(BaseAdaptivePooling):
    """Mean over an ``output_size`` grid of adaptive windows of an image."""
    rank, mode = 2, "average"


class AdaptiveAveragePooling3D(BaseAdaptivePooling):
    """Mean over an ``output_size`` grid of adaptive windows of a volume."""
    rank, mode = 3, "average"
