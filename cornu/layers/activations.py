"""Activation layers: ``ReLU``, ``LeakyReLU``, ``PReLU``, ``ELU``, ``Softmax``."""
from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from cornu import constraints, initializers, regularizers
from cornu.layers.core import _ser
from cornu.layers.layer import AxisError, InputSpec, Layer


def _non_negative(value, what: str, layer: str) -> float:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{what} of a {layer} layer cannot be None or a negative value. Received: {what}={value!r}")
    return float(value)


class _ElementwiseActivation(Layer):
    _built_at_init = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape


class ReLU(_ElementwiseActivation):
    """``max_value`` for ``x >= max_value``, ``x`` for ``threshold <= x``, else ``negative_slope * (x - threshold)``."""

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0,
                 **kwargs):
        super().__init__(**kwargs)
        if max_value is not None:
            _non_negative(max_value, "max_value", "ReLU")
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope = _non_negative(negative_slope, "negative_slope", "ReLU")
        self.threshold = _non_negative(threshold, "threshold", "ReLU")

    def call(self, inputs):
        if self.negative_slope == 0.0 and self.threshold == 0.0:
            return F.relu(inputs) if self.max_value is None else torch.clamp(inputs, 0.0, self.max_value)
        y = torch.where(inputs >= self.threshold, inputs, self.negative_slope * (inputs - self.threshold))
        return y if self.max_value is None else torch.clamp(y, max=self.max_value)

    def get_config(self) -> dict:
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(_ElementwiseActivation):
    """``x`` for ``x >= 0``, else ``negative_slope * x``."""

    def __init__(self, negative_slope: float = 0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.", stacklevel=2)
        super().__init__(**kwargs)
        self.negative_slope = _non_negative(negative_slope, "negative_slope", "LeakyReLU")

    def call(self, inputs):
        return F.leaky_relu(inputs, self.negative_slope)

    def get_config(self) -> dict:
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(_ElementwiseActivation):
    """Leaky ReLU with a learned slope ``alpha`` (one per input element, shared along ``shared_axes``)."""
    _built_at_init = False

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = list(shared_axes)
        else:
            self.shared_axes = [shared_axes]

    def build(self, input_shape) -> None:
        rank = len(input_shape)
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if not 1 <= axis < rank:
                raise AxisError(f"Invalid shared axis {axis} for an input of shape {tuple(input_shape)}: "
                                 "shared axes must be in [1, rank).")
            param_shape[axis - 1] = 1
        if None in param_shape:
            raise ValueError(f"PReLU needs every non-shared, non-batch axis to be defined. "
                             f"Received input_shape={tuple(input_shape)}, shared_axes={self.shared_axes}")
        self.alpha = self.add_weight(shape=param_shape, initializer=self.alpha_initializer, name="alpha",
                                     regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)
        axes = {i: input_shape[i] for i in range(1, rank) if i not in (self.shared_axes or [])}
        self.input_spec = InputSpec(ndim=rank, axes=axes)
        self.built = True

    def call(self, inputs):
        return torch.where(inputs > 0, inputs, inputs * self.alpha.value)

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha_initializer": _ser(initializers, self.alpha_initializer),
                "alpha_regularizer": _ser(regularizers, self.alpha_regularizer),
                "alpha_constraint": _ser(constraints, self.alpha_constraint), "shared_axes": self.shared_axes}


class ELU(_ElementwiseActivation):
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""

    def __init__(self, alpha: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs):
        return F.elu(inputs, self.alpha)

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(_ElementwiseActivation):
    """Softmax over ``axis`` (an int or a tuple of axes); masked positions get probability 0."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = tuple(axis) if isinstance(axis, (list, tuple)) else int(axis)

    def call(self, inputs, mask=None):
        if mask is not None:
            large_negative = -3e4 if inputs.dtype == torch.float16 else -1e9
            inputs = inputs + (1.0 - mask.to(inputs.dtype)) * large_negative
        if isinstance(self.axis, tuple) and len(self.axis) > 1:
            out = torch.exp(inputs - torch.logsumexp(inputs, dim=self.axis, keepdim=True))
        else:
            axis = self.axis[0] if isinstance(self.axis, tuple) else self.axis
            out = torch.softmax(inputs, dim=axis)
        if mask is not None:
            out = out * mask.to(out.dtype)
        return out

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
