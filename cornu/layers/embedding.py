"""``Embedding``: maps integer indices to dense vectors."""
from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from cornu import constraints, initializers, regularizers
from cornu.layers.core import _ser
from cornu.layers.layer import Layer
from cornu.ops import numpy as numpy_ops

_INDEX_DTYPES = (torch.int32, torch.int64)


class Embedding(Layer):
    """Looks up rows of an ``(input_dim, output_dim)`` table for integer inputs of any shape."""

    _mask_from_ops = True

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero: bool = False,
                 weights=None, lora_rank=None, lora_alpha=None, quantization_config=None, **kwargs):
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        super().__init__(**kwargs)
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"Argument `{arg}` of Embedding must be a positive integer. Received: {arg}={value!r}")
        if lora_rank is not None:
            raise NotImplementedError("LoRA (`lora_rank`) is not supported by cornu's Embedding layer.")
        if quantization_config is not None:
            raise ValueError("cornu does not quantize layers yet; `quantization_config` must be None. "
                             f"Received: quantization_config={quantization_config!r}")
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        if weights is not None:
            self._maybe_build(None)
            if not (isinstance(weights, list) and len(weights) == 1):
                weights = [weights]
            self.set_weights(weights)

    def build(self, input_shape=None) -> None:
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer, name="embeddings",
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True

    def call(self, inputs):
        if inputs.dtype not in _INDEX_DTYPES:
            inputs = inputs.long()
        try:
            return F.embedding(inputs, self.embeddings.value)
        except IndexError:
            # Only reached when torch already checked the indices (CPU): no cost on the normal path.
            low, high = int(inputs.min()), int(inputs.max())
            raise IndexError(f"Embedding layer {self.name!r} received indices in [{low}, {high}], but valid "
                             f"indices are in [0, {self.input_dim}) (input_dim={self.input_dim}).") from None

    def compute_mask(self, inputs, mask=None):
        """``inputs != 0`` when ``mask_zero``, else ``None`` (an op node of the graph on symbolic inputs)."""
        if not self.mask_zero:
            return None
        return numpy_ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def get_config(self) -> dict:
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": _ser(initializers, self.embeddings_initializer),
                "embeddings_regularizer": _ser(regularizers, self.embeddings_regularizer),
                "activity_regularizer": _ser(regularizers, self.activity_regularizer),
                "embeddings_constraint": _ser(constraints, self.embeddings_constraint),
                "mask_zero": self.mask_zero, "quantization_config": None}
