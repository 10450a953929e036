"""``Embedding``: maps integer indices to dense vectors."""
from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from cornu import constraints, initializers, regularizers
from cornu.layers import lora
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
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else lora_rank
        self.lora_enabled = False
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
        if self.lora_rank:
            # As Keras 3.15 does, building re-enables LoRA with ``lora_alpha`` equal to the rank.
            self.enable_lora(self.lora_rank)

    def enable_lora(self, rank: int, lora_alpha: float | None = None, a_initializer="he_uniform",
                    b_initializer="zeros") -> None:
        """Freeze the table and train a low-rank update ``A @ B * (lora_alpha / rank)`` instead (LoRA)."""
        lora.enable(self, "embeddings", rank, lora_alpha, a_initializer, b_initializer, self.embeddings_regularizer,
                    self.embeddings_constraint)

    def _merged_kernel(self):
        """The table with the LoRA update folded in (what Keras saves)."""
        return lora.merged(self, "embeddings", self.embeddings.value)

    def _saved_variables(self) -> list:
        """What weight files hold for this layer, as Keras writes it: the LoRA-merged table."""
        if not self.built:
            return []
        return lora.saved(self, "embeddings")

    def call(self, inputs):
        if inputs.dtype not in _INDEX_DTYPES:
            inputs = inputs.long()
        try:
            out = F.embedding(inputs, self.embeddings.value)
            if self.lora_enabled:
                low_rank = F.embedding(inputs, self.lora_embeddings_a.value) @ self.lora_embeddings_b.value
                out = out + low_rank * (self.lora_alpha / self.lora_rank)
            return out
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
                "mask_zero": self.mask_zero, "quantization_config": None,
                **({"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha} if self.lora_rank else {})}


class ReversibleEmbedding(Embedding):
    """An ``Embedding`` that can also project back: ``layer(hidden, reverse=True)`` gives ``(..., input_dim)`` logits.

    The reverse projection uses the transposed table (``tie_weights=True``) or a
    separate ``reverse_embeddings`` ``(output_dim, input_dim)`` weight, computed in
    ``reverse_dtype`` when given; ``logit_soft_cap`` squashes the logits to
    ``tanh(logits / cap) * cap``.
    """

    def __init__(self, input_dim: int, output_dim: int, tie_weights: bool = True, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero: bool = False,
                 reverse_dtype=None, logit_soft_cap=None, **kwargs):
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer, embeddings_constraint=embeddings_constraint,
                         mask_zero=mask_zero, **kwargs)
        self.tie_weights = tie_weights
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap

    def build(self, input_shape=None) -> None:
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(shape=(self.output_dim, self.input_dim),
                                                      initializer=self.embeddings_initializer,
                                                      name="reverse_embeddings")

    def call(self, inputs, reverse: bool = False):
        if not reverse:
            return super().call(inputs)
        kernel = self._merged_kernel().T if self.tie_weights else self.reverse_embeddings.value
        if self.reverse_dtype is not None:
            dtype = getattr(torch, str(self.reverse_dtype))
            inputs, kernel = inputs.to(dtype), kernel.to(dtype)
        logits = torch.matmul(inputs, kernel.to(inputs.dtype))
        if self.logit_soft_cap is not None:
            logits = torch.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits

    def compute_output_shape(self, input_shape, reverse: bool = False):
        if reverse:
            return tuple(input_shape)[:-1] + (self.input_dim,)
        return super().compute_output_shape(input_shape)

    def compute_output_spec(self, inputs, reverse: bool = False):
        from cornu.symbolic import KerasTensor

        if not reverse:
            return super().compute_output_spec(inputs)
        return KerasTensor(self.compute_output_shape(inputs.shape, reverse=True),
                           dtype=self.reverse_dtype or self.compute_dtype)

    def _saved_variables(self) -> list:
        saved = super()._saved_variables()
        return saved + [self.reverse_embeddings] if saved and not self.tie_weights else saved

    def get_config(self) -> dict:
        return {**super().get_config(), "tie_weights": self.tie_weights, "reverse_dtype": self.reverse_dtype,
                "logit_soft_cap": self.logit_soft_cap}
