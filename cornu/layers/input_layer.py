"""``Input`` / ``InputLayer``: the entry points of functional and Sequential models."""
from __future__ import annotations

from typing import Any

from cornu import config
from cornu.layers.layer import Layer
from cornu.symbolic import KerasTensor, Node


class InputLayer(Layer):
    """Holds the symbolic tensor a model's input is fed into."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, optional: bool = False, name=None, **kwargs):
        # Keras 2 spellings still seen in saved configs.
        batch_shape = kwargs.pop("batch_input_shape", batch_shape)
        shape = kwargs.pop("input_shape", shape)
        if kwargs.pop("ragged", False):
            raise ValueError("Ragged inputs are not supported by cornu (nor by Keras's PyTorch backend).")
        # The layer's policy stays the global one (as in Keras); `dtype` is the dtype of the input it holds.
        super().__init__(name=name, **kwargs)
        if input_tensor is not None:
            if not isinstance(input_tensor, KerasTensor):
                raise TypeError(f"Argument `input_tensor` must be a KerasTensor. Received: {input_tensor!r}")
            batch_shape = input_tensor.shape
        if shape is not None and batch_shape is not None:
            raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time.")
        if batch_shape is None:
            if shape is None:
                raise ValueError("You must pass a `shape` argument to `Input`.")
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size,) + tuple(shape)
        self.batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self._dtype = config.standardize_dtype(dtype)
        self.sparse = bool(sparse)
        self.optional = bool(optional)
        self.built = True
        self.output_tensor = KerasTensor(self.batch_shape, dtype=self._dtype, name=self.name)
        Node(self, (), {}, self.output_tensor)

    @property
    def dtype(self) -> str:
        """The dtype of the model input this layer stands for."""
        return self._dtype

    def call(self, inputs):
        return inputs

    def get_config(self) -> dict:
        return {"batch_shape": self.batch_shape, "dtype": self.dtype, "sparse": self.sparse, "ragged": False,
                "name": self.name, "optional": self.optional}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, optional: bool = False) -> KerasTensor:
    """A symbolic input of ``shape`` (batch dimension excluded) for the functional API."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       batch_shape=batch_shape, name=name, input_tensor=tensor, optional=optional)
    return layer.output_tensor


def input_layer_of(tensor: Any) -> InputLayer | None:
    """The InputLayer that produced ``tensor``, if any."""
    node = getattr(tensor, "_node", None)
    if node is not None and isinstance(node.operation, InputLayer):
        return node.operation
    return None
