"""Core layers: ``Dense``, ``Activation``, ``Identity``, ``Lambda``."""
from __future__ import annotations

import inspect
from typing import Callable

import torch.nn.functional as F

from cornu import activations, constraints, initializers, regularizers
from cornu.layers.layer import InputSpec, Layer
from cornu.utils import tree


def _ser(module, obj):
    if obj is None:
        return None
    ser = getattr(module, "serialize", None)
    return ser(obj) if ser else obj


class Dense(Layer):
    """``activation(inputs @ kernel + bias)``; the kernel is stored as torch's ``(units, in)``."""

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive integer. Received: units={units!r}")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape) -> None:
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"The last dimension of the input to Dense layer {self.name!r} must be defined. "
                             f"Received input_shape={tuple(input_shape)}")
        self.kernel = self.add_weight(shape=(in_dim, self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel", layout=(1, 0))
        self.bias = self.add_weight(shape=(self.units,), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                    name="bias") if self.use_bias else None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: in_dim})
        self.built = True

    def call(self, inputs):
        y = F.linear(inputs, self.kernel.value, self.bias.value if self.bias is not None else None)
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": _ser(initializers, self.kernel_initializer),
                "bias_initializer": _ser(initializers, self.bias_initializer),
                "kernel_regularizer": _ser(regularizers, self.kernel_regularizer),
                "bias_regularizer": _ser(regularizers, self.bias_regularizer),
                "activity_regularizer": _ser(regularizers, self.activity_regularizer),
                "kernel_constraint": _ser(constraints, self.kernel_constraint),
                "bias_constraint": _ser(constraints, self.bias_constraint)}


class Activation(Layer):
    """Applies an activation function (by name or callable)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Identity(Layer):
    """Returns its input unchanged."""

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


class Lambda(Layer):
    """Wraps a function of the inputs as a layer (``Lambda(lambda x: x * 2)``)."""

    def __init__(self, function: Callable, output_shape=None, mask=None, arguments: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Argument `function` of Lambda must be callable. Received: {function!r}")
        self.function = function
        self.arguments = dict(arguments or {})
        self._output_shape = output_shape
        self._fn_takes_training = "training" in inspect.signature(function).parameters \
            if not isinstance(function, type) else False

    def call(self, inputs, training=None):
        kwargs = dict(self.arguments)
        if self._fn_takes_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_spec(self, *args, **kwargs):
        if self._output_shape is None:
            return super().compute_output_spec(*args, **kwargs)
        from cornu.symbolic import KerasTensor

        inputs = self._first_arg(args, kwargs)
        shape = self._output_shape(tree.map_structure(lambda t: t.shape, inputs)) \
            if callable(self._output_shape) else (inputs.shape[0],) + tuple(self._output_shape) \
            if not isinstance(inputs, (list, tuple)) else (None,) + tuple(self._output_shape)
        return KerasTensor(shape, dtype=self.compute_dtype)

    def get_config(self) -> dict:
        from cornu.saving.lambda_serialization import serialize_function

        return {**super().get_config(), "function": serialize_function(self.function),
                "output_shape": self._output_shape if not callable(self._output_shape) else None,
                "arguments": self.arguments}

    @classmethod
    def from_config(cls, config: dict, safe_mode: bool | None = None) -> "Lambda":
        from cornu.saving.lambda_serialization import deserialize_function

        config = dict(config)
        config["function"] = deserialize_function(config["function"], safe_mode=safe_mode)
        return cls(**config)
