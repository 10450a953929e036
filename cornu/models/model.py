"""``Model``: a ``Layer`` that can be trained (``compile``/``fit``/...) and saved.

``Model(inputs, outputs)`` builds a functional model; subclassing ``Model`` and
writing ``call`` gives a subclassed one, exactly as in Keras.
"""
from __future__ import annotations

from typing import Any

from cornu import symbolic
from cornu.layers.layer import Layer
from cornu.metrics.base import Metric
from cornu.symbolic import KerasTensor
from cornu.trainers.trainer import Trainer


class Model(Trainer, Layer):
    """Groups layers into an object with training and inference features."""

    def __new__(cls, *args, **kwargs):
        from cornu.models.functional import Functional

        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            return object.__new__(Functional)
        if not issubclass(cls, Functional) and _functional_arguments(args, kwargs):
            # ``CustomModel(inputs, outputs)``: a functional model that keeps the subclass's methods.
            return object.__new__(functional_subclass(cls))
        return object.__new__(cls)

    def __init__(self, *args, trainable: bool = True, name: str | None = None, dtype=None, **kwargs):
        if args:
            raise TypeError(f"{type(self).__name__}() takes no positional arguments for a subclassed model; "
                            "pass `inputs=` and `outputs=` to build a functional model.")
        Layer.__init__(self, trainable=trainable, name=name, dtype=dtype, **kwargs)
        self._init_trainer()

    def __setattr__(self, name: str, value: Any) -> None:
        # Keras tracks metrics held as model attributes: they join ``model.metrics``.
        if isinstance(value, Metric) and not name.startswith("_"):
            tracked = self.__dict__.setdefault("_tracked_metrics", [])
            if all(value is not m for m in tracked):
                tracked.append(value)
        super().__setattr__(name, value)

    @property
    def layers(self) -> list[Layer]:
        """Sub-layers in the order they were tracked."""
        return self._flat_layers()

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by (unique) name or by index in ``layers``."""
        if index is not None and name is not None:
            raise ValueError(f"Provide only a layer name or a layer index. Received: index={index}, name={name}.")
        if index is not None:
            layers = self.layers
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(layers)} layers.")
            return layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: {[l.name for l in self.layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def build(self, input_shape: Any = None) -> None:
        """Create the weights of a subclassed model by tracing ``call`` on shapes only."""
        if self.built:
            return
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument to build a subclassed model.")
        if isinstance(input_shape, dict):
            spec = {k: KerasTensor(v) for k, v in input_shape.items()}
        elif isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
            spec = [KerasTensor(s) for s in input_shape]
        else:
            spec = KerasTensor(tuple(input_shape))
        self.built = True
        symbolic.compute_output_spec(lambda x: Layer.__call__(self, x), (spec,), {})
        self._build_shapes = input_shape

    def summary(self, line_length: int | None = None, positions: list | None = None, print_fn=None,
                expand_nested: bool = False, show_trainable: bool = False, layer_range: Any = None) -> None:
        """Print a table of the layers, their output shapes and parameter counts."""
        from cornu.utils.summary_utils import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable, layer_range=layer_range)

    def find_learning_rate(self, x: Any, y: Any = None, **kwargs: Any) -> Any:
        """cornu extra: an LR range test; see ``cornu.callbacks.find_learning_rate`` (model left untouched)."""
        from cornu.callbacks.learning_rate_finder import find_learning_rate

        return find_learning_rate(self, x, y, **kwargs)

    # ------------------------------------------------------------- saving
    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        """Write the weights to a Keras-format ``.weights.h5`` file (atomically)."""
        from cornu.saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: str, skip_mismatch: bool = False, **kwargs) -> None:
        """Load weights written by ``save_weights`` (or Keras); legacy ``.h5`` files also take ``by_name=True``."""
        from cornu.saving import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def save(self, filepath: str, overwrite: bool = True, **kwargs) -> None:
        """Save architecture, weights and compile state to a ``.keras`` archive."""
        from cornu.saving import save_model

        save_model(self, filepath, overwrite=overwrite, **kwargs)

    def export(self, filepath: str, format: str = "tf_saved_model", verbose: bool | None = None,
               input_signature: Any = None, **kwargs) -> None:
        """Write an inference artifact: ``format="onnx"`` (an ONNX file) or ``"torch"`` (a ``.pt2`` program)."""
        from cornu.export import export_model

        export_model(self, filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs)

    def get_config(self) -> dict:
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Model":
        if "input_layers" in config and "output_layers" in config:
            from cornu.models.functional import Functional
            from cornu.saving.functional_config import functional_from_config

            return functional_from_config(config, custom_objects=custom_objects,
                                          cls=cls if issubclass(cls, Functional) else functional_subclass(cls))
        return cls(**config)

    def get_compile_config(self) -> dict:
        """The ``compile`` arguments, serialized as Keras writes them (``{}`` when not compiled)."""
        from cornu.saving.serialization import default_compile_config

        return default_compile_config(self)

    def compile_from_config(self, config: dict) -> None:
        """``compile`` with the arguments ``get_compile_config`` wrote (from cornu or Keras)."""
        from cornu.saving.serialization import default_compile_from_config

        default_compile_from_config(self, config)

    def to_json(self, **kwargs) -> str:
        import json

        from cornu.saving.serialization import serialize_keras_object

        return json.dumps(serialize_keras_object(self), **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    @property
    def output_names(self) -> list[str]:
        return getattr(self, "_output_names_list", None) or ["output"]

    @output_names.setter
    def output_names(self, value: list[str]) -> None:
        self._output_names_list = list(value)



def _functional_arguments(args: tuple, kwargs: dict) -> bool:
    """Whether constructor arguments are Keras's functional ``(inputs, outputs)``."""
    if len(args) == 2:
        candidates = args
    elif len(args) == 1 and "outputs" in kwargs:
        candidates = (args[0], kwargs["outputs"])
    elif "inputs" in kwargs and "outputs" in kwargs:
        candidates = (kwargs["inputs"], kwargs["outputs"])
    else:
        return False
    from cornu.utils import tree

    return all(tree.flatten(c) and all(isinstance(t, KerasTensor) for t in tree.flatten(c)) for c in candidates)


_FUNCTIONAL_SUBCLASSES: dict[type, type] = {}


def functional_subclass(cls: type) -> type:
    """``cls`` with ``Functional`` mixed in (cached), named and placed like ``cls`` for serialization."""
    from cornu.models.functional import Functional

    if cls is Model:
        return Functional
    if cls not in _FUNCTIONAL_SUBCLASSES:
        _FUNCTIONAL_SUBCLASSES[cls] = type(cls.__name__, (cls, Functional),
                                           {"__module__": cls.__module__, "__qualname__": cls.__qualname__})
    return _FUNCTIONAL_SUBCLASSES[cls]
