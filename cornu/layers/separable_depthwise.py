"""Depthwise and separable convolutions (``DepthwiseConv1D/2D``, ``SeparableConv1D/2D``).

Keras layouts at the API: the depthwise kernel is ``(*kernel_size, in, depth_multiplier)`` and
output channel ``c * depth_multiplier + m`` comes from input channel ``c``; the pointwise
kernel is ``(*1s, in * depth_multiplier, filters)``. Inside, the depthwise kernel is stored
as ``(in, depth_multiplier, *k)`` and viewed (no copy) as torch's grouped weight
``(in * depth_multiplier, 1, *k)``; the pointwise kernel is torch's ``(filters, in * dm, *1s)``
in ``channels_last`` memory format. Inputs are NC... views of ``channels_last`` tensors.
"""
from __future__ import annotations

from cornu import activations, constraints, initializers, regularizers
from cornu.layers.convolutional import _CONV, _MEMORY_FORMAT, check_padding
from cornu.layers.core import _ser
from cornu.layers.layer import InputSpec, Layer
from cornu.utils import conv_utils


def _positive(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"Invalid value for argument `{name}`. Expected a strictly positive value. "
                         f"Received {name}={value!r}.")
    return value


class BaseDepthwiseConv(Layer):
    """A depthwise convolution: each input channel convolved with its own ``depth_multiplier`` filters.

    ``SeparableConv`` adds a pointwise (1x1) convolution after it; the depthwise kernel's
    Keras name is ``"kernel"`` here and ``"depthwise_kernel"`` there.
    """

    rank = 2
    _depthwise_name = "kernel"

    def __init__(self, kernel_size, strides=1, padding: str = "valid", depth_multiplier: int = 1,
                 data_format=None, dilation_rate=1, activation=None, use_bias: bool = True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        rank = self.rank
        self.depth_multiplier = _positive(depth_multiplier, "depth_multiplier")
        self.kernel_size = conv_utils.normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = conv_utils.normalize_tuple(strides, rank, "strides")
        self.dilation_rate = conv_utils.normalize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = check_padding(padding)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=rank + 2)
        self._channel_axis = -1 if self.data_format == "channels_last" else 1

    def _in_channels(self, input_shape) -> int:
        in_ch = input_shape[self._channel_axis]
        if in_ch is None:
            raise ValueError(f"The channel dimension of the inputs to {type(self).__name__} layer "
                             f"{self.name!r} should be defined. Received input_shape={tuple(input_shape)}")
        if len(input_shape) == self.rank + 2:
            self.compute_output_shape(input_shape)
        return in_ch

    def _add_depthwise(self, in_ch: int):
        rank = self.rank
        # Keras (*k, in, dm) -> stored (in, dm, *k), viewed as torch's (in * dm, 1, *k)
        layout = (rank, rank + 1) + tuple(range(rank))
        return self.add_weight(shape=self.kernel_size + (in_ch, self.depth_multiplier),
                               initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
                               constraint=self.depthwise_constraint, name=self._depthwise_name, layout=layout)

    def _add_bias(self, units: int):
        if not self.use_bias:
            return None
        return self.add_weight(shape=(units,), initializer=self.bias_initializer, regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint, name="bias")

    def build(self, input_shape) -> None:
        in_ch = self._in_channels(input_shape)
        self.kernel = self._add_depthwise(in_ch)
        self.bias = self._add_bias(in_ch * self.depth_multiplier)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: in_ch})
        self.built = True

    def _depthwise(self, x, kernel, bias):
        """Depthwise convolution of an NC... tensor with the stored ``(in, dm, *k)`` kernel."""
        in_ch = kernel.shape[0]
        weight = kernel.view(in_ch * self.depth_multiplier, 1, *self.kernel_size)
        padding: object = 0
        if self.padding == "same":
            x, sym = conv_utils.pad_same(x, self.kernel_size, self.strides, self.dilation_rate)
            padding = sym if sym is not None else 0
        return _CONV[self.rank](x, weight, bias, self.strides, padding, self.dilation_rate, in_ch)

    def call(self, inputs):
        x = conv_utils.to_channels_first(inputs, self.data_format)
        y = self._depthwise(x, self.kernel.value, self.bias.value if self.bias is not None else None)
        return self.activation(conv_utils.to_channels_last(y, self.data_format))

    def _out_channels(self, in_ch):
        return None if in_ch is None else in_ch * self.depth_multiplier

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        last = self.data_format == "channels_last"
        spatial = input_shape[1:-1] if last else input_shape[2:]
        out = tuple(conv_utils.output_length(spatial[i], self.kernel_size[i], self.padding, self.strides[i],
                                             self.dilation_rate[i]) for i in range(self.rank))
        in_ch = input_shape[self._channel_axis]
        if any(d is not None and d <= 0 for d in out):
            kernel = self.kernel_size + (in_ch, self._out_channels(in_ch))
            raise ValueError(
                f"Computed output size would be zero or negative. Received `inputs shape={input_shape}`, "
                f"`kernel shape={kernel}`, `dilation_rate={list(self.dilation_rate)}`, "
                f"`strides={self.strides}`, `padding={self.padding}` (layer {self.name!r}).")
        channels = self._out_channels(in_ch)
        if last:
            return (input_shape[0],) + out + (channels,)
        return (input_shape[0], channels) + out

    def get_config(self) -> dict:
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "depthwise_initializer": _ser(initializers, self.depthwise_initializer),
                "bias_initializer": _ser(initializers, self.bias_initializer),
                "depthwise_regularizer": _ser(regularizers, self.depthwise_regularizer),
                "bias_regularizer": _ser(regularizers, self.bias_regularizer),
                "activity_regularizer": _ser(regularizers, self.activity_regularizer),
                "depthwise_constraint": _ser(constraints, self.depthwise_constraint),
                "bias_constraint": _ser(constraints, self.bias_constraint)}


class DepthwiseConv1D(BaseDepthwiseConv):
    """Depthwise 1-D convolution over ``(batch, steps, channels)``: ``channels * depth_multiplier`` outputs."""

    rank = 1


class DepthwiseConv2D(BaseDepthwiseConv):
    """Depthwise 2-D convolution over ``(batch, rows, cols, channels)``: ``channels * depth_multiplier`` outputs."""

    rank = 2


class BaseSeparableConv(BaseDepthwiseConv):
    """A depthwise convolution followed by a pointwise (1x1) one mixing channels into ``filters``."""

    _depthwise_name = "depthwise_kernel"

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", data_format=None,
                 dilation_rate=1, depth_multiplier: int = 1, activation=None, use_bias: bool = True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        filters = _positive(filters, "filters")
        super().__init__(kernel_size, strides=strides, padding=padding, depth_multiplier=depth_multiplier,
                         data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                         use_bias=use_bias, depthwise_initializer=depthwise_initializer,
                         bias_initializer=bias_initializer, depthwise_regularizer=depthwise_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         depthwise_constraint=depthwise_constraint, bias_constraint=bias_constraint, **kwargs)
        self.filters = filters
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape) -> None:
        rank = self.rank
        in_ch = self._in_channels(input_shape)
        self.depthwise_kernel = self._add_depthwise(in_ch)
        # Keras (*1s, in * dm, filters) -> torch (filters, in * dm, *1s)
        self.pointwise_kernel = self.add_weight(
            shape=(1,) * rank + (in_ch * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint, name="pointwise_kernel",
            layout=(rank + 1, rank) + tuple(range(rank)), memory_format=_MEMORY_FORMAT[rank])
        self.bias = self._add_bias(self.filters)
        self.input_spec = InputSpec(ndim=rank + 2, axes={self._channel_axis: in_ch})
        self.built = True

    def call(self, inputs):
        x = conv_utils.to_channels_first(inputs, self.data_format)
        x = self._depthwise(x, self.depthwise_kernel.value, None)
        y = _CONV[self.rank](x, self.pointwise_kernel.value, self.bias.value if self.bias is not None else None)
        return self.activation(conv_utils.to_channels_last(y, self.data_format))

    def _out_channels(self, in_ch):
        return self.filters

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(filters=self.filters,
                      pointwise_initializer=_ser(initializers, self.pointwise_initializer),
                      pointwise_regularizer=_ser(regularizers, self.pointwise_regularizer),
                      pointwise_constraint=_ser(constraints, self.pointwise_constraint))
        return config


class SeparableConv1D(BaseSeparableConv):
    """Depthwise then pointwise 1-D convolution over ``(batch, steps, channels)``."""

    rank = 1


class SeparableConv2D(BaseSeparableConv):
    """Depthwise then pointwise 2-D convolution over ``(batch, rows, cols, channels)``."""

    rank = 2
