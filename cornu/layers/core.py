"""Core layers: ``Dense``, ``Activation``, ``Identity``, ``Lambda``."""
from __future__ import annotations

import inspect
from typing import Callable

import torch.nn.functional as F

from cornu import activations, constraints, initializers, regularizers
from cornu.layers import lora
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
                 kernel_constraint=None, bias_constraint=None, lora_rank: int | None = None,
                 lora_alpha: float | None = None, quantization_config=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if quantization_config is not None:
            raise ValueError("cornu does not quantize layers yet; `quantization_config` must be None. "
                             f"Received: quantization_config={quantization_config!r}")
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError("Received an invalid value for `units`, expected a positive integer. "
                             f"Received: units={units!r}")
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
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else lora_rank
        self.lora_enabled = False

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
        if self.lora_rank:
            # As Keras 3.15 does, building re-enables LoRA with ``lora_alpha`` equal to the rank.
            self.enable_lora(self.lora_rank)

    def compute_output_shape(self, input_shape):
        """``input_shape`` with the last axis ``units``; builds nothing (a wrapper's weights keep their scope)."""
        return tuple(input_shape)[:-1] + (self.units,)

    def enable_lora(self, rank: int, lora_alpha: float | None = None, a_initializer="he_uniform",
                    b_initializer="zeros") -> None:
        """Freeze the kernel and train a low-rank update ``A @ B * (lora_alpha / rank)`` instead (LoRA)."""
        lora.enable(self, "kernel", rank, lora_alpha, a_initializer, b_initializer, self.kernel_regularizer,
                    self.kernel_constraint)

    def _merged_kernel(self):
        """The kernel in Keras layout with the LoRA update folded in (what Keras saves)."""
        return lora.merged(self, "kernel", self.kernel.keras_value)

    def call(self, inputs):
        if not inputs.is_floating_point():  # integer inputs compute in float, as Keras's matmul promotes them
            inputs = inputs.to(self.kernel.value.dtype)
        y = F.linear(inputs, self.kernel.value, self.bias.value if self.bias is not None else None)
        if self.lora_enabled:
            scale = self.lora_alpha / self.lora_rank
            y = y + (inputs @ self.lora_kernel_a.value) @ self.lora_kernel_b.value * scale
        return self.activation(y)

    def _saved_variables(self) -> list:
        """What weight files hold for this layer, as Keras writes it: the LoRA-merged kernel, then the bias."""
        if not self.built:
            return []
        return lora.saved(self, "kernel") + ([self.bias] if self.bias is not None else [])

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": _ser(initializers, self.kernel_initializer),
                "bias_initializer": _ser(initializers, self.bias_initializer),
                "kernel_regularizer": _ser(regularizers, self.kernel_regularizer),
                "bias_regularizer": _ser(regularizers, self.bias_regularizer),
                **({"activity_regularizer": _ser(regularizers, self.activity_regularizer)}
                   if self.activity_regularizer is not None else {}),
                "kernel_constraint": _ser(constraints, self.kernel_constraint),
                "bias_constraint": _ser(constraints, self.bias_constraint), "quantization_config": None,
                **({"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha} if self.lora_rank else {})}


class Activation(Layer):
    """Applies an activation function (by name or callable)."""
    _built_at_init = True

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
    _built_at_init = True
    _keeps_input_dtype = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

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
        self.mask = mask
        self.supports_masking = mask is not None
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

    def compute_mask(self, inputs, previous_mask=None):
        """``mask(inputs, previous_mask)`` when ``mask`` is a function, ``mask`` itself when a constant."""
        if callable(self.mask):
            return self.mask(inputs, previous_mask)
        return self.mask

    def get_config(self) -> dict:
        """As Keras: ``output_shape`` and ``mask`` appear only when given (functions serialized like ``function``)."""
        from cornu.saving import serialization
        from cornu.saving.lambda_serialization import serialize_function

        config = {**super().get_config(), "function": serialize_function(self.function)}
        if self._output_shape is not None:
            config["output_shape"] = serialize_function(self._output_shape) if callable(self._output_shape) \
                else self._output_shape
        if self.mask is not None:
            config["mask"] = serialize_function(self.mask) if callable(self.mask) \
                else serialization.serialize_keras_object(self.mask)
        config["arguments"] = self.arguments
        return config

    @classmethod
    def from_config(cls, config: dict, safe_mode: bool | None = None) -> "Lambda":
        from cornu.saving import serialization
        from cornu.saving.lambda_serialization import deserialize_function

        config = dict(config)
        config["function"] = deserialize_function(config["function"], safe_mode=safe_mode)
        for key in ("output_shape", "mask"):
            value = config.get(key)
            if isinstance(value, dict) and value.get("class_name") == "__numpy__":
                config[key] = serialization.deserialize_keras_object(value)
            elif isinstance(value, (dict, str)):
                config[key] = deserialize_function(value, safe_mode=safe_mode)
        return cls(**config)
