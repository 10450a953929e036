"""``Sequential``: a plain stack of layers, each feeding the next."""
from __future__ import annotations

from typing import Any

from cornu.layers.input_layer import InputLayer, input_layer_of
from cornu.layers.layer import Layer
from cornu.models import layer_fusion
from cornu.models.model import Model
from cornu.symbolic import KerasTensor
from cornu.utils import tracking


class Sequential(Model):
    """A linear stack of layers. Shapes are checked at ``add()`` once the input shape is known."""

    def __init__(self, layers: list | None = None, trainable: bool = True, name: str | None = None, **kwargs):
        Model.__init__(self, trainable=trainable, name=name, **kwargs)
        self._stack: list[Layer] = []
        self._input_layer: InputLayer | None = None
        self._outputs: list[KerasTensor] = []
        self._build_input_shape: tuple | None = None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Append a layer; raises ``ValueError`` at once if it cannot take the previous output."""
        if isinstance(layer, KerasTensor):
            found = input_layer_of(layer)
            if found is None:
                raise ValueError("Only `keras.Input` tensors can be added to a Sequential model, not the output "
                                 f"of another layer. Received: {layer!r}")
            layer = found
        if not isinstance(layer, Layer):
            raise ValueError("Only instances of `keras.Layer` can be added to a Sequential model. "
                             f"Received: {layer!r} (of type {type(layer).__name__})")
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or len(self._stack):
                raise ValueError("Sequential model already has layers; an InputLayer can only be the first layer. "
                                 f"Received: {layer.name!r}")
            self._input_layer = layer
            self._outputs = [layer.output_tensor]
            self.built = True
            return
        if any(layer is l for l in self._stack):
            raise ValueError(f"Layer {layer.name!r} is already in the Sequential model {self.name!r}.")
        if any(layer.name == l.name for l in self._stack):
            raise ValueError("All layers added to a Sequential model should have unique names. Name "
                             f"{layer.name!r} is already the name of a layer in this model. Update the `name` "
                             "argument to pass a unique name.")
        if not len(self._stack) and self._input_layer is None and layer._input_shape_arg is not None:
            self._input_layer = InputLayer(batch_shape=layer._input_shape_arg, dtype=None)
            self._outputs = [self._input_layer.output_tensor]
        self._stack.append(layer)
        if self._outputs:
            try:
                with self._name_scope():  # Keras builds the stack under the model's name: `top/dense/kernel`
                    self._outputs.append(layer(self._outputs[-1]))
            except Exception:
                del self._stack[len(self._stack) - 1]
                raise
            self.built = True

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer."""
        if not len(self._stack):
            raise TypeError("There are no layers in the model.")
        layer = self._stack[len(self._stack) - 1]
        del self._stack[len(self._stack) - 1]
        if self._outputs:
            self._outputs = self._outputs[:-1]
        return layer

    @property
    def layers(self) -> list[Layer]:
        return list(self._stack)

    def _flat_layers(self) -> list[Layer]:
        return list(self._stack)

    def build(self, input_shape: Any = None) -> None:
        """Build every layer for ``input_shape`` (batch dimension included)."""
        if not self._stack:
            raise ValueError(f"Sequential model {self.name} cannot be built because it has no layers. Call "
                             "`model.add(layer)`.")
        if self._input_layer is None:
            if input_shape is None:
                raise ValueError("You must provide an `input_shape` argument to build the Sequential model.")
            # Keras keeps the batch size it was built with (``model(x)`` on data fixes it) in the input layer;
            # calls with other batch sizes still run (inputs are checked past the batch axis).
            self._input_layer = InputLayer(batch_shape=tuple(input_shape))
            self._build_input_shape = tuple(input_shape)
        if len(self._outputs) != len(self._stack) + 1:
            outs = [self._input_layer.output_tensor]
            for layer in self._stack:
                outs.append(layer(outs[-1]))
            self._outputs = outs
        self.built = True

    def get_build_config(self) -> dict | None:
        """``{"input_shape": ...}`` of a built model, as Keras writes it (None before it is built)."""
        if not self.built or self._input_layer is None:
            return None
        return {"input_shape": tuple(self._input_layer.batch_shape)}

    def _check_input_spec(self, inputs: Any) -> None:
        if self._input_layer is not None:
            from cornu.models.functional import check_input_shapes

            check_input_shapes(self.name, [self._input_layer.batch_shape], [inputs])

    def call(self, inputs, training=None, mask=None):
        if not self._stack:
            raise ValueError(f"Sequential model {self.name} cannot be built because it has no layers. Call "
                             "`model.add(layer)`.")
        x = inputs
        if self._input_layer is not None:
            from cornu.models.functional import adjust_input_rank

            if isinstance(x, (list, tuple)) and len(x) == 1:
                x = x[0]  # `[x]` for the one input, as Keras takes it
            elif isinstance(x, dict):
                raise ValueError(f"Sequential model {self.name!r} takes one input tensor, not a dict. Received: "
                                 f"inputs with keys {list(x)}")
            x = adjust_input_rank(self._input_layer.batch_shape, x)
        stack = self._stack
        pairs = self._fusable_pairs()
        i = 0
        while i < len(stack):
            layer = stack[i]
            if i in pairs and layer_fusion.pool_first_applies(layer, x):
                x = layer_fusion.conv_pool_relu(layer, stack[i + 1], x)
                i += 2
            else:
                x = layer(x)
                i += 1
        return x

    def _fusable_pairs(self) -> frozenset[int]:
        """``layer_fusion.relu_pool_pairs`` of the stack, cached until the model's layers change."""
        key = (tracking.version(), len(self._stack))
        cached = self.__dict__.get("_fusion_cache")
        if cached is None or cached[0] != key:
            cached = self.__dict__["_fusion_cache"] = (key, layer_fusion.relu_pool_pairs(list(self._stack)))
        return cached[1]

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._stack:
            shape = layer.compute_output_shape(shape)
        return shape

    # ------------------------------------------------------------ shapes
    def _require_built(self, what: str) -> None:
        if not self._outputs:
            raise AttributeError(f"Sequential model {self.name!r} has no defined {what} yet: it has not been "
                                 "built (give the first layer an `input_shape`, start with `keras.Input`, or call "
                                 "the model on data).")

    @property
    def inputs(self) -> list[KerasTensor]:
        self._require_built("inputs")
        return [self._outputs[0]]

    @property
    def outputs(self) -> list[KerasTensor]:
        self._require_built("outputs")
        return [self._outputs[-1]]

    @property
    def input_shape(self) -> tuple:
        return self.inputs[0].shape

    @property
    def output_shape(self) -> tuple:
        return self.outputs[0].shape

    @property
    def output_names(self) -> list[str]:
        return [self._stack[len(self._stack) - 1].name] if len(self._stack) else ["output"]

    def get_config(self) -> dict:
        """Keras's Sequential config: name, trainable, dtype policy, layers, and the shape given to ``build``."""
        from cornu import dtype_policies
        from cornu.saving.serialization import serialize_keras_object

        layers = []
        if self._input_layer is not None:
            layers.append(serialize_keras_object(self._input_layer))
        layers += [serialize_keras_object(l) for l in self._stack]
        config = {"name": self.name, "trainable": self.trainable, "dtype": dtype_policies.serialize(self.dtype_policy),
                  "layers": layers}
        if self.built and self._input_layer is not None:
            config["build_input_shape"] = self._build_input_shape or tuple(self._input_layer.batch_shape)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Sequential":
        from cornu.saving.serialization import deserialize_keras_object

        kwargs = {"dtype": config["dtype"]} if config.get("dtype") is not None else {}
        model = cls(name=config.get("name"), trainable=config.get("trainable", True), **kwargs)
        for layer_cfg in config["layers"]:
            model.add(deserialize_keras_object(layer_cfg, custom_objects=custom_objects))
        shape = config.get("build_input_shape")
        if shape is not None and not model.built:
            model.build(tuple(shape))
        return model
