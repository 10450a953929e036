"""``GroupQueryAttention`` (Ainslie et al., 2023): query heads share fewer key/value heads.

``num_key_value_heads`` key/value heads each serve ``num_query_heads //
num_key_value_heads`` consecutive query heads (1 is multi-query attention; as
many as query heads is multi-head attention). The shared heads are never
copied on the fused path (torch's ``enable_gqa``); the explicit path, taken
when the scores are requested, repeats them as Keras does.
"""
from __future__ import annotations

import math

import torch

from cornu import config, constraints, initializers, regularizers, symbolic
from cornu.layers.activations import Softmax
from cornu.layers.attention.einsum_dense import EinsumDense
from cornu.layers.attention.multi_head_attention import (ProjectedAttention, _positive_int, attend,
                                                         check_flash, check_sliding_window, combined_mask)
from cornu.layers.core import _ser
from cornu.layers.layer import Layer, _mask_of, _to_tensor
from cornu.layers.regularization import Dropout
from cornu.utils import naming

# torch >= 2.5 shares key/value heads inside the fused kernel.
_SDPA_HAS_GQA = torch.__version__ >= "2.5"


class GroupQueryAttention(ProjectedAttention):
    """Grouped-query attention; ``call(query, value, key=None, ...)`` as in Keras."""

    # Keras's class is ``GroupedQueryAttention`` (exported as ``GroupQueryAttention``): its default name
    # and the group of its weights in saved files come from that name.
    _keras_class_name = "GroupedQueryAttention"

    def __init__(self, head_dim: int, num_query_heads: int, num_key_value_heads: int, dropout: float = 0.0,
                 use_bias: bool = True, sliding_window: int | None = None, flash_attention: bool | None = None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate: bool = False, seed=None, **kwargs):
        if kwargs.get("name") is None:
            kwargs["name"] = naming.uniquify("grouped_query_attention")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        for name, value in (("head_dim", head_dim), ("num_query_heads", num_query_heads),
                            ("num_key_value_heads", num_key_value_heads)):
            _positive_int(value, name)
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError("`num_query_heads` must be divisible by `num_key_value_heads`. Received: "
                             f"num_query_heads={num_query_heads}, num_key_value_heads={num_key_value_heads}")
        check_sliding_window(sliding_window)
        check_flash(flash_attention, dropout)
        self.supports_masking = True
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout = dropout
        self.use_bias = use_bias
        self.use_gate = use_gate
        self.sliding_window = sliding_window
        self._flash_attention = flash_attention if flash_attention is not None else config.is_flash_attention_enabled()
        self._set_projection_arguments(kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                                       kernel_constraint, bias_constraint)
        self.seed = seed
        self._inverse_sqrt_head_dim = 1.0 / math.sqrt(float(head_dim))
        self._softmax = Softmax(axis=-1, dtype=self.dtype_policy)
        self._dropout_layer = Dropout(rate=dropout, seed=seed, dtype=self.dtype_policy)

    # ----------------------------------------------------------------- build
    def _dense(self, equation: str, output_shape: tuple, bias_axes: str, name: str, input_shape: tuple,
               activation=None) -> EinsumDense:
        def clone(init):
            return init.clone() if hasattr(init, "clone") else init

        layer = EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes if self.use_bias else None,
                            activation=activation, name=name, kernel_initializer=clone(self.kernel_initializer),
                            bias_initializer=clone(self.bias_initializer),
                            kernel_regularizer=self.kernel_regularizer, bias_regularizer=self.bias_regularizer,
                            kernel_constraint=self.kernel_constraint, bias_constraint=self.bias_constraint,
                            dtype=self.dtype_policy)
        layer.build(input_shape)
        return layer

    def build(self, query_shape, value_shape=None, key_shape=None) -> None:
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        self.feature_dim = query_shape[-1]
        heads_q, heads_kv, dim = self.num_query_heads, self.num_key_value_heads, self.head_dim
        self._query_dense = self._dense("bqm,muh->bquh", (None, heads_q, dim), "uh", "query", query_shape)
        self._key_dense = self._dense("bkm,mvh->bkvh", (None, heads_kv, dim), "vh", "key", key_shape)
        if self.use_gate:
            self._gate_dense = self._dense("bqm,muh->bquh", (None, heads_q, dim), "uh", "gate", query_shape,
                                           "sigmoid")
        self._value_dense = self._dense("bkm,mvh->bkvh", (None, heads_kv, dim), "vh", "value", value_shape)
        self._output_dense = self._dense("bquh,uhm->bqm", (None, self.feature_dim), "m", "attention_output",
                                         query_shape[:-1] + (heads_q, dim))
        self._build_shapes = {"query_shape": query_shape, "value_shape": value_shape,
                              **({"key_shape": key_shape} if key_shape is not value_shape else {})}
        self.built = True

    # ------------------------------------------------------------------ call
    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores: bool = False, training=None, use_causal_mask: bool = False):
        if return_attention_scores and self._flash_attention:
            raise ValueError("Returning attention scores is not supported when flash attention is enabled. "
                             "Please disable flash attention to access attention scores.")
        query_mask = _mask_of(query) if query_mask is None else query_mask
        value_mask = _mask_of(value) if value_mask is None else value_mask
        key_mask = _mask_of(key) if key_mask is None and key is not None else key_mask
        value = _to_tensor(value, query.dtype)
        key = value if key is None else _to_tensor(key, query.dtype)
        mask, only_causal = combined_mask(query, value, key, query_mask, value_mask, key_mask, attention_mask,
                                          use_causal_mask, self.sliding_window)
        q = self._query_dense(query).transpose(1, 2)  # (batch, heads, steps, head_dim)
        k = self._key_dense(key).transpose(1, 2)
        v = self._value_dense(value).transpose(1, 2)
        if mask is not None:
            mask = mask.unsqueeze(-3)
        gqa = self.num_repeats > 1
        if gqa and (return_attention_scores or not _SDPA_HAS_GQA):
            k = k.repeat_interleave(self.num_repeats, dim=1)
            v = v.repeat_interleave(self.num_repeats, dim=1)
            gqa = False
        out, scores = attend(self, q, k, v, mask, scale=self._inverse_sqrt_head_dim, training=training,
                             return_scores=return_attention_scores, keras_fused=self.dropout == 0.0,
                             is_causal=only_causal, enable_gqa=gqa)
        out = out.transpose(1, 2)
        if self.use_gate:
            out = out * self._gate_dense(query)
        out = self._output_dense(out)
        return (out, scores) if return_attention_scores else out

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        return tuple(query_shape)

    def compute_output_spec(self, *args, **kwargs):
        return symbolic.compute_output_spec(lambda *a, **k: Layer.__call__(self, *a, **k), args, kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), "head_dim": self.head_dim, "num_query_heads": self.num_query_heads,
                "num_key_value_heads": self.num_key_value_heads, "use_bias": self.use_bias,
                "use_gate": self.use_gate, "sliding_window": self.sliding_window, "dropout": self.dropout,
                "kernel_initializer": _ser(initializers, self.kernel_initializer),
                "bias_initializer": _ser(initializers, self.bias_initializer),
                "kernel_regularizer": _ser(regularizers, self.kernel_regularizer),
                "bias_regularizer": _ser(regularizers, self.bias_regularizer),
                "activity_regularizer": _ser(regularizers, self.activity_regularizer),
                "kernel_constraint": _ser(constraints, self.kernel_constraint),
                "bias_constraint": _ser(constraints, self.bias_constraint), "seed": self.seed}
