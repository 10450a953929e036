"""Convolution layers (``Conv1D``, ``Conv2D``, ``Conv3D``).

Keras layout at the API (inputs ``channels_last``, kernel ``(*kernel_size, in, out)``),
torch kernels inside: the input is viewed as NC... in ``torch.channels_last``
memory format (a permute, no copy) and the weight is stored as ``(out, in, *k)``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from cornu import activations, constraints, initializers, regularizers
from cornu.utils import conv_utils
from cornu.layers import conv_gemm, lora
from cornu.layers.core import _ser
from cornu.layers.layer import InputSpec, Layer

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_MEMORY_FORMAT = {1: torch.contiguous_format, 2: torch.channels_last, 3: torch.channels_last_3d}


def check_padding(padding, allowed: tuple = ("valid", "same")) -> str:
    """Normalise ``padding`` and refuse a mode (``"causal"``) this layer does not have, as Keras does."""
    value = conv_utils.normalize_padding(padding)
    if value not in allowed:
        raise ValueError("The `padding` argument must be a list/tuple or one of {'valid', 'same'}. "
                         f"Received: {padding!r}")
    return value


class BaseConv(Layer):
    """N-D convolution shared by Conv1D/2D/3D."""

    rank = 2
    # Keras's Conv1D/2D/3D take `lora_rank` / `lora_alpha` through **kwargs; its transposed convolutions do not.
    _supports_lora = True

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", data_format=None,
                 dilation_rate=1, groups: int = 1, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        lora_rank = kwargs.pop("lora_rank", None) if self._supports_lora else None
        lora_alpha = kwargs.pop("lora_alpha", None) if self._supports_lora else None
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else lora_rank
        self.lora_enabled = False
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly positive integer. "
                             f"Received filters={filters!r}")
        rank = self.rank
        self.filters = filters
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"The number of groups must be a positive integer. Received: groups={groups!r}.")
        if filters % groups:
            raise ValueError("The number of filters must be evenly divisible by the number of groups. "
                             f"Received: groups={groups}, filters={filters}.")
        self.groups = groups
        self.kernel_size = conv_utils.normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = conv_utils.normalize_tuple(strides, rank, "strides")
        self.dilation_rate = conv_utils.normalize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = check_padding(padding, ("valid", "same", "causal") if rank == 1 else ("valid", "same"))
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:  # Keras refuses this whatever the padding
            raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                             f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=rank + 2)
        self._channel_axis = -1 if self.data_format == "channels_last" else 1

    def _check_output_size(self, input_shape: tuple, out: tuple) -> None:
        """Keras's ValueError for a convolution whose output would be empty."""
        if any(d is not None and d <= 0 for d in out):
            in_ch = input_shape[self._channel_axis]
            kernel = self.kernel_size + (None if in_ch is None else in_ch // self.groups, self.filters)
            raise ValueError(
                f"Computed output size would be zero or negative. Received `inputs shape={tuple(input_shape)}`, "
                f"`kernel shape={kernel}`, `dilation_rate={list(self.dilation_rate)}`, "
                f"`strides={self.strides}`, `padding={self.padding}` (layer {self.name!r}).")

    def build(self, input_shape) -> None:
        rank = self.rank
        in_ch = input_shape[self._channel_axis]
        if in_ch is None:
            raise ValueError(f"The channel dimension of the inputs to {type(self).__name__} layer "
                             f"{self.name!r} should be defined. Received input_shape={tuple(input_shape)}")
        if len(input_shape) == rank + 2:
            self.compute_output_shape(input_shape)
        if in_ch % self.groups:
            raise ValueError("The number of input channels must be evenly divisible by the number of groups. "
                             f"Received groups={self.groups}, but the input has {in_ch} channels "
                             f"(full input shape is {tuple(input_shape)}).")
        shape = self.kernel_size + (in_ch // self.groups, self.filters)
        # Keras (*k, in, out) -> torch (out, in, *k)
        layout = (rank + 1, rank) + tuple(range(rank))
        self.kernel = self.add_weight(shape=shape, initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel", layout=layout, memory_format=_MEMORY_FORMAT[rank])
        self.bias = self.add_weight(shape=(self.filters,), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                    name="bias") if self.use_bias else None
        self.input_spec = InputSpec(ndim=rank + 2, axes={self._channel_axis: in_ch})
        self.built = True
        if self.lora_rank:
            # Unlike Dense and Embedding, Keras 3.15's convolutions keep the given ``lora_alpha`` when built.
            self.enable_lora(self.lora_rank, lora_alpha=self.lora_alpha)

    def enable_lora(self, rank: int, lora_alpha: float | None = None, a_initializer="he_uniform",
                    b_initializer="zeros") -> None:
        """Freeze the kernel and train ``A @ B * (lora_alpha / rank)`` instead: ``A`` is ``(*k, in, rank)``."""
        lora.enable(self, "kernel", rank, lora_alpha, a_initializer, b_initializer, self.kernel_regularizer,
                    self.kernel_constraint)

    def _merged_kernel(self) -> torch.Tensor:
        """The kernel in Keras layout with the LoRA update folded in (what Keras saves)."""
        return lora.merged(self, "kernel", self.kernel.keras_value)

    def _saved_variables(self) -> list:
        """What weight files hold for this layer, as Keras writes it: the LoRA-merged kernel, then the bias."""
        if not self.built:
            return []
        return lora.saved(self, "kernel") + ([self.bias] if self.bias is not None else [])

    def call(self, inputs):
        return self.activation(self._convolve(inputs))

    def _convolve(self, inputs: torch.Tensor) -> torch.Tensor:
        """The convolution and bias, without the activation."""
        x = conv_utils.to_channels_first(inputs, self.data_format)
        padding: object = 0
        if self.padding == "same":
            x, sym = conv_utils.pad_same(x, self.kernel_size, self.strides, self.dilation_rate)
            padding = sym if sym is not None else 0
        elif self.padding == "causal":
            x = F.pad(x, ((self.kernel_size[0] - 1) * self.dilation_rate[0], 0))
        kernel, bias = self.kernel.value, self.bias.value if self.bias is not None else None
        if self.lora_enabled:
            # the update in Keras layout (*k, in, out), permuted to torch's (out, in, *k)
            kernel = kernel + lora.delta(self, "kernel").permute((self.rank + 1, self.rank) + tuple(range(self.rank)))
        if conv_gemm.applies(x, kernel, self.groups):
            pads = padding if isinstance(padding, tuple) else (padding,) * self.rank
            y = conv_gemm.convolve(x, kernel, bias, self.strides, pads, self.dilation_rate)
        else:
            y = _CONV[self.rank](x, kernel, bias, self.strides, padding, self.dilation_rate, self.groups)
        return conv_utils.to_channels_last(y, self.data_format)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        spatial = input_shape[1:-1] if self.data_format == "channels_last" else input_shape[2:]
        out = tuple(conv_utils.output_length(spatial[i], self.kernel_size[i], self.padding, self.strides[i],
                                             self.dilation_rate[i]) for i in range(self.rank))
        self._check_output_size(input_shape, out)
        if self.data_format == "channels_last":
            return (input_shape[0],) + out + (self.filters,)
        return (input_shape[0], self.filters) + out

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "groups": self.groups,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": _ser(initializers, self.kernel_initializer),
                "bias_initializer": _ser(initializers, self.bias_initializer),
                "kernel_regularizer": _ser(regularizers, self.kernel_regularizer),
                "bias_regularizer": _ser(regularizers, self.bias_regularizer),
                "activity_regularizer": _ser(regularizers, self.activity_regularizer),
                "kernel_constraint": _ser(constraints, self.kernel_constraint),
                "bias_constraint": _ser(constraints, self.bias_constraint),
                **({"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha} if self.lora_rank else {})}


class Conv1D(BaseConv):
    """1-D convolution over ``(batch, steps, channels)``."""

    rank = 1


class Conv2D(BaseConv):
    """2-D convolution over ``(batch, rows, cols, channels)``."""

    rank = 2


class Conv3D(BaseConv):
    """3-D convolution over ``(batch, d1, d2, d3, channels)``."""

    rank = 3
