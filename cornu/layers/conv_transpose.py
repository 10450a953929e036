"""Transposed convolutions (``Conv1DTranspose``, ``Conv2DTranspose``, ``Conv3DTranspose``).

Keras layout at the API: inputs ``channels_last``, kernel ``(*kernel_size, filters, in)``.
Inside, the kernel is torch's ``(in, filters, *k)`` in ``channels_last`` memory format and
the input an NC... view, so ``F.conv_transposeNd`` runs without copies.

Keras's output length per axis (``d`` = dilated kernel extent ``(k - 1) * dilation + 1``)::

    output_padding None:  valid -> L * s + max(d - s, 0)      same -> L * s
    output_padding p:     (L - 1) * s + d - 2 * pad + p        pad = d // 2 (same) or 0 (valid)

The result is the full transposed convolution (length ``(L - 1) * s + d``) cropped by
``crop = full - out``: ``crop // 2`` off the start and the rest off the end; when ``out``
is longer than ``full`` the extra outputs at the end hold only the bias.
"""
from __future__ import annotations

import torch.nn.functional as F

from cornu.layers.convolutional import _MEMORY_FORMAT, BaseConv, check_padding
from cornu.layers.layer import InputSpec
from cornu.utils import conv_utils

_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def transpose_output_length(length: int | None, kernel: int, padding: str, stride: int, dilation: int = 1,
                            output_padding: int | None = None) -> int | None:
    """Keras's output length of a transposed convolution along one axis."""
    if length is None:
        return None
    extent = (kernel - 1) * dilation + 1
    if output_padding is None:
        return length * stride + (max(extent - stride, 0) if padding == "valid" else 0)
    pad = extent // 2 if padding == "same" else 0
    return (length - 1) * stride + extent - 2 * pad + output_padding


def torch_crop_args(length: int, out: int, kernel: int, stride: int, dilation: int) -> tuple[int, int, bool]:
    """``(padding, output_padding, slice_end)`` for torch to produce Keras's ``out`` outputs.

    ``slice_end`` is True when torch gives one output too many at the end (odd crop).
    """
    full = (length - 1) * stride + (kernel - 1) * dilation + 1
    crop = full - out
    if crop < 0:
        return 0, -crop, False
    return crop // 2, 0, crop % 2 == 1


class BaseConvTranspose(BaseConv):
    """N-D transposed convolution (the gradient of a convolution) shared by Conv1D/2D/3DTranspose."""

    _supports_lora = False

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        check_padding(padding)
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, groups=1, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, **kwargs)
        if output_padding is None:
            self.output_padding = None
        else:
            self.output_padding = conv_utils.normalize_tuple(output_padding, self.rank, "output_padding",
                                                             allow_zero=True)
            for i, (p, s) in enumerate(zip(self.output_padding, self.strides)):
                if p >= s:
                    raise ValueError("`output_padding` must be strictly less than `strides` for all dimensions. "
                                     f"At dimension {i}, `output_padding` is {p} but `strides` is {s}. "
                                     f"Received: output_padding={self.output_padding}, strides={self.strides}")

    def build(self, input_shape) -> None:
        rank = self.rank
        in_ch = input_shape[self._channel_axis]
        if in_ch is None:
            raise ValueError(f"The channel dimension of the inputs to {type(self).__name__} layer "
                             f"{self.name!r} should be defined. Received input_shape={tuple(input_shape)}")
        # Keras (*k, filters, in) -> torch (in, filters, *k)
        layout = (rank + 1, rank) + tuple(range(rank))
        self.kernel = self.add_weight(shape=self.kernel_size + (self.filters, in_ch),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel", layout=layout,
                                      memory_format=_MEMORY_FORMAT[rank])
        self.bias = self.add_weight(shape=(self.filters,), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                    name="bias") if self.use_bias else None
        self.input_spec = InputSpec(ndim=rank + 2, axes={self._channel_axis: in_ch})
        self.built = True

    def _output_lengths(self, spatial) -> tuple:
        ops = self.output_padding or (None,) * self.rank
        return tuple(transpose_output_length(spatial[i], self.kernel_size[i], self.padding, self.strides[i],
                                             self.dilation_rate[i], ops[i]) for i in range(self.rank))

    def call(self, inputs):
        x = conv_utils.to_channels_first(inputs, self.data_format)
        spatial = tuple(x.shape[2:])
        out = self._output_lengths(spatial)
        args = [torch_crop_args(spatial[i], out[i], self.kernel_size[i], self.strides[i], self.dilation_rate[i])
                for i in range(self.rank)]
        y = _CONV_TRANSPOSE[self.rank](x, self.kernel.value, self.bias.value if self.bias is not None else None,
                                       self.strides, tuple(a[0] for a in args), tuple(a[1] for a in args),
                                       1, self.dilation_rate)
        if any(a[2] for a in args):
            y = y[(slice(None), slice(None)) + tuple(slice(0, n) for n in out)]
        return self.activation(conv_utils.to_channels_last(y, self.data_format))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        last = self.data_format == "channels_last"
        out = self._output_lengths(input_shape[1:-1] if last else input_shape[2:])
        if last:
            return (input_shape[0],) + out + (self.filters,)
        return (input_shape[0], self.filters) + out

    def get_config(self) -> dict:
        config = super().get_config()
        del config["groups"]
        config["output_padding"] = self.output_padding
        return config


class Conv1DTranspose(BaseConvTranspose):
    """1-D transposed convolution over ``(batch, steps, channels)``."""

    rank = 1


class Conv2DTranspose(BaseConvTranspose):
    """2-D transposed convolution over ``(batch, rows, cols, channels)``."""

    rank = 2


class Conv3DTranspose(BaseConvTranspose):
    """3-D transposed convolution over ``(batch, d1, d2, d3, channels)``."""

    rank = 3

    # Keras puts ``data_format`` before ``output_padding`` here (only here).
    def __init__(self, filters: int, kernel_size, strides=(1, 1, 1), padding: str = "valid", data_format=None,
                 output_padding=None, dilation_rate=(1, 1, 1), **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, output_padding=output_padding,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)
