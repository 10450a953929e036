"""``MultiHeadAttention`` (Vaswani et al., 2017), with Keras's sub-layers, weights and masks.

The query, key and value are projected per head by ``EinsumDense`` sub-layers
(``query``/``key``/``value``, kernels ``(dim, heads, head_dim)``), attended to
over ``attention_axes``, and projected back by ``attention_output`` (kernel
``(heads, value_dim, *output_shape)``). Attention runs in one canonical layout,
``(batch, other axes..., heads, steps, head_dim)`` with the attention axes
flattened into ``steps``: torch's fused ``scaled_dot_product_attention`` when
the scores are not requested, the explicit softmax otherwise.

Masks follow Keras 3.15: the query's own mask (``query._keras_mask``), the
value and key masks (argument or tensor mask), ``use_causal_mask``,
``sliding_window`` and ``attention_mask`` are combined into one boolean
``(batch, query steps, key steps)`` mask. A query step that may attend to
nothing gets the average of all values where Keras takes its fused path
(3-D inputs, no dropout) and zeros where Keras computes explicitly.
"""
from __future__ import annotations

import math
import string
from typing import Any

import torch
import torch.nn.functional as F

from cornu import config, constraints, initializers, regularizers, symbolic
from cornu.layers.activations import Softmax
from cornu.layers.attention.attention import as_mask, causal_mask
from cornu.layers.attention.einsum_dense import EinsumDense
from cornu.layers.core import _ser
from cornu.layers.layer import Layer, _mask_of, _shape_of, _to_tensor
from cornu.layers.regularization import Dropout


def projection_equation(free_dims: int, bound_dims: int, output_dims: int) -> tuple[str, str]:
    """``(equation, bias_axes)`` of a projection keeping ``free_dims`` axes and contracting ``bound_dims``."""
    letters = string.ascii_lowercase
    free = letters[:free_dims]
    bound = letters[free_dims:free_dims + bound_dims]
    out = letters[free_dims + bound_dims:free_dims + bound_dims + output_dims]
    return f"{free}{bound},{bound}{out}->{free}{out}", out


def _positive_int(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"Received an invalid value for argument `{name}`, expected a positive integer. "
                         f"Received: {name}={value!r}")


def check_sliding_window(sliding_window: Any) -> None:
    if sliding_window is not None and (isinstance(sliding_window, bool) or not isinstance(sliding_window, int)
                                       or sliding_window <= 0):
        raise ValueError(f"`sliding_window` must be `None` or a positive integer. Received: "
                         f"sliding_window={sliding_window!r}")


def check_flash(flash_attention: Any, dropout: float) -> None:
    if flash_attention and dropout > 0.0:
        raise ValueError("Dropout is not supported when flash attention is enabled. Please set dropout to 0.0 "
                         "to use flash attention.")


def combined_mask(query, value, key, query_mask, value_mask, key_mask, attention_mask, use_causal_mask: bool,
                  sliding_window: int | None) -> tuple[torch.Tensor | None, bool]:
    """Keras's attention mask ``(batch, Tq, Tk)`` from every source; also whether it is the causal mask alone."""
    auto = None
    query_mask, value_mask, key_mask = (as_mask(m, query.device) for m in (query_mask, value_mask, key_mask))

    def both(a, b):
        return b if a is None else a & b

    if query_mask is not None:
        auto = query_mask.to(torch.bool).unsqueeze(-1)
    if value_mask is not None:
        auto = both(auto, value_mask.to(torch.bool).unsqueeze(-2))
    if key_mask is not None:
        auto = both(auto, key_mask.to(torch.bool).unsqueeze(-2))
    only_causal = auto is None and attention_mask is None and sliding_window is None and use_causal_mask
    q_len, k_len = query.shape[1], value.shape[1]
    if use_causal_mask:
        auto = both(auto, causal_mask(q_len, k_len, query.device).unsqueeze(0))
    if sliding_window is not None:
        rows = torch.arange(q_len, device=query.device).unsqueeze(-1)
        cols = torch.arange(k_len, device=query.device).unsqueeze(0)
        auto = both(auto, ((rows - cols).abs() < sliding_window).unsqueeze(0))
    if attention_mask is not None:
        attention_mask = torch.as_tensor(attention_mask, device=query.device).to(torch.bool)
        auto = attention_mask if auto is None else attention_mask & auto
    return auto, only_causal


def attend(layer: Layer, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None,
           *, scale: float, training: bool, return_scores: bool, keras_fused: bool, is_causal: bool = False,
           enable_gqa: bool = False):
    """Attention in the canonical layout ``(..., heads, steps, dim)``; ``mask`` is ``(..., 1, Tq, Tk)`` booleans.

    Returns ``(output, scores or None)``. ``keras_fused`` says whether Keras
    itself takes its fused path here, which decides what a query step with
    no allowed key gets (the mean of all values, or zeros).
    """
    rate = layer.dropout
    dropping = bool(training) and rate > 0
    explicit = return_scores or (dropping and layer.seed is not None) or layer._flash_attention is False
    if not explicit:
        bias = None
        if mask is not None:
            low = -3e4 if query.dtype == torch.float16 else -1e9
            bias = torch.zeros(mask.shape, dtype=query.dtype, device=query.device).masked_fill(~mask, low)
        kwargs = {"enable_gqa": True} if enable_gqa else {}
        out = F.scaled_dot_product_attention(query, key, value, attn_mask=bias, dropout_p=rate if dropping else 0.0,
                                             is_causal=is_causal and mask is None, scale=scale, **kwargs)
        if mask is not None and not keras_fused:
            out = out * mask.any(dim=-1, keepdim=True).to(out.dtype)
        return out, None
    if enable_gqa:
        repeats = query.shape[-3] // key.shape[-3]
        key, value = key.repeat_interleave(repeats, dim=-3), value.repeat_interleave(repeats, dim=-3)
    if is_causal and mask is None:
        mask = causal_mask(query.shape[-2], key.shape[-2], query.device)
    scores = torch.matmul(query * scale, key.transpose(-1, -2))
    weights = layer._softmax.call(scores, mask=mask)
    dropped = layer._dropout_layer.call(weights, training=True) if dropping else weights
    out = torch.matmul(dropped, value)
    if not return_scores and mask is not None and not keras_fused:  # standing in for the fused path
        out = out * mask.any(dim=-1, keepdim=True).to(out.dtype)
    return out, weights


class ProjectedAttention(Layer):
    """What MultiHeadAttention and GroupQueryAttention share: built from the shapes of their first call
    (query, value, key), with Keras's ``shapes_dict`` build config."""

    def _set_projection_arguments(self, kernel_initializer, bias_initializer, kernel_regularizer,
                                  bias_regularizer, kernel_constraint, bias_constraint) -> None:
        """Resolve the arguments every query/key/value/output projection is built with."""
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def __call__(self, *args, **kwargs):
        if not self.built:
            _build_from_call(self, args, kwargs)
        return super().__call__(*args, **kwargs)

    def get_build_config(self) -> dict | None:
        return None if self._build_shapes is None else {"shapes_dict": dict(self._build_shapes)}

    def build_from_config(self, config: dict) -> None:
        shapes = config.get("shapes_dict") or {}
        if shapes and not self.built:
            with symbolic.real_mode():
                self.build(shapes["query_shape"], shapes["value_shape"], shapes.get("key_shape"))


class MultiHeadAttention(ProjectedAttention):
    """Multi-head attention; ``call(query, value, key=None, ...)`` as in Keras."""

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None, dropout: float = 0.0,
                 use_bias: bool = True, output_shape=None, attention_axes=None, sliding_window: int | None = None,
                 flash_attention: bool | None = None, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, use_gate: bool = False, seed=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        _positive_int(num_heads, "num_heads")
        _positive_int(key_dim, "key_dim")
        if value_dim is not None:
            _positive_int(value_dim, "value_dim")
        check_sliding_window(sliding_window)
        check_flash(flash_attention, dropout)
        self.supports_masking = True
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim if value_dim is not None else key_dim
        self.dropout = dropout
        self.use_bias = use_bias
        self.use_gate = use_gate
        if output_shape is None or isinstance(output_shape, (list, tuple)):
            self._output_shape = None if output_shape is None else tuple(output_shape)
        else:
            self._output_shape = (output_shape,)
        if attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            attention_axes = (attention_axes,)
        self._attention_axes = attention_axes
        self.sliding_window = sliding_window
        # As Keras: unset, the layer takes the global switch (`keras.config.disable_flash_attention()`) at creation.
        self._flash_attention = flash_attention if flash_attention is not None else config.is_flash_attention_enabled()
        self._set_projection_arguments(kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                                       kernel_constraint, bias_constraint)
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(key_dim))
        self._softmax = Softmax(axis=-1, dtype=self.dtype_policy)
        self._dropout_layer = Dropout(rate=dropout, seed=seed, dtype=self.dtype_policy)

    @property
    def attention_axes(self):
        return self._attention_axes

    # ----------------------------------------------------------------- build
    def _sublayer_kwargs(self) -> dict:
        def clone(init):
            return init.clone() if hasattr(init, "clone") else init

        return {"kernel_initializer": clone(self.kernel_initializer),
                "bias_initializer": clone(self.bias_initializer),
                "kernel_regularizer": self.kernel_regularizer, "bias_regularizer": self.bias_regularizer,
                "kernel_constraint": self.kernel_constraint, "bias_constraint": self.bias_constraint,
                "dtype": self.dtype_policy}

    def _projection(self, name: str, input_shape: tuple, heads: int, head_dim: int, activation=None) -> EinsumDense:
        rank = len(input_shape)
        equation, bias_axes = projection_equation(rank - 1, 1, 2)
        layer = EinsumDense(equation, output_shape=(None,) * (rank - 2) + (heads, head_dim), activation=activation,
                            bias_axes=bias_axes if self.use_bias else None, name=name, **self._sublayer_kwargs())
        layer.build(input_shape)
        return layer

    def _resolved_axes(self, rank: int) -> tuple[int, ...]:
        axes = tuple(range(1, rank - 1)) if self._attention_axes is None else tuple(
            a + rank if a < 0 else a for a in self._attention_axes)
        bad = [a for a in axes if not 1 <= a <= rank - 2]
        if bad or len(set(axes)) != len(axes):
            raise ValueError(f"Invalid `attention_axes` {self._attention_axes}: they must be distinct axes of the "
                             f"query other than the batch and feature axes (rank {rank}).")
        return tuple(sorted(axes))

    def build(self, query_shape, value_shape=None, key_shape=None) -> None:
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError("All dimensions of `value` and `key`, except the last one, must be equal. Received: "
                             f"value_shape={value_shape} and key_shape={key_shape}")
        rank = len(query_shape)
        self._axes = self._resolved_axes(rank)
        if self._attention_axes is None:
            self._attention_axes = self._axes
        self.query_dense = self._projection("query", query_shape, self.num_heads, self.key_dim)
        self.key_dense = self._projection("key", key_shape, self.num_heads, self.key_dim)
        if self.use_gate:
            self._gate_dense = self._projection("gate", query_shape, self.num_heads, self.value_dim, "sigmoid")
        self.value_dense = self._projection("value", value_shape, self.num_heads, self.value_dim)
        out_shape = self._output_shape or (query_shape[-1],)
        equation, bias_axes = projection_equation(rank - 1, 2, len(out_shape))
        self.output_dense = EinsumDense(equation, output_shape=(None,) * (rank - 2) + tuple(out_shape),
                                        bias_axes=bias_axes if self.use_bias else None, name="attention_output",
                                        **self._sublayer_kwargs())
        self.output_dense.build(query_shape[:-1] + (self.num_heads, self.value_dim))
        self._build_shapes = {"query_shape": query_shape, "value_shape": value_shape,
                              **({"key_shape": key_shape} if key_shape is not value_shape else {})}
        self.built = True

    # ------------------------------------------------------------------ call
    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores: bool = False, training=None, use_causal_mask: bool = False):
        if return_attention_scores and self._flash_attention:
            raise ValueError("Returning attention scores is not supported when flash attention is enabled. "
                             "Please disable flash attention to access attention scores.")
        # As in Keras 3.15, the query mask is the one the query tensor carries.
        query_mask = _mask_of(query)
        value_mask = _mask_of(value) if value_mask is None else value_mask
        key_mask = _mask_of(key) if key_mask is None and key is not None else key_mask
        value = _to_tensor(value, query.dtype)
        key = value if key is None else _to_tensor(key, query.dtype)
        mask, only_causal = combined_mask(query, value, key, query_mask, value_mask, key_mask, attention_mask,
                                          use_causal_mask, self.sliding_window)
        q = self.query_dense(query)
        k = self.key_dense(key)
        v = self.value_dense(value)
        out, scores = self._compute_attention(q, k, v, mask, training, return_attention_scores, only_causal)
        if self.use_gate:
            out = out * self._gate_dense(query)
        out = self.output_dense(out)
        return (out, scores) if return_attention_scores else out

    def _compute_attention(self, q, k, v, mask, training, return_scores: bool, only_causal: bool):
        """Project-space attention: ``(batch, T..., heads, dim)`` in and out, scores in Keras's layout."""
        rank = q.ndim
        axes = self._axes
        n = len(axes)
        others = [i for i in range(1, rank - 2) if i not in axes]
        perm = [0] + others + [rank - 2] + list(axes) + [rank - 1]
        lead = len(others) + 2
        q_steps = [q.shape[a] for a in axes]
        k_steps = [k.shape[a] for a in axes]

        def canonical(t):
            t = t.permute(perm)
            return t.reshape(*t.shape[:lead], -1, t.shape[-1])

        if mask is not None:
            while mask.ndim < rank - 2 + n:
                mask = mask.unsqueeze(mask.ndim - 2 * n)  # Keras inserts missing axes before the step axes
            mask = mask.unsqueeze(mask.ndim - 2 * n)  # the heads axis
            if n > 1:
                mask = mask.expand(*mask.shape[:-2 * n], *q_steps, *k_steps)
                mask = mask.reshape(*mask.shape[:-2 * n], math.prod(q_steps), math.prod(k_steps))
        out, scores = attend(self, canonical(q), canonical(k), canonical(v), mask,
                             scale=self._inverse_sqrt_key_dim, training=training, return_scores=return_scores,
                             keras_fused=rank == 4 and self.dropout == 0.0, is_causal=only_causal)
        out = out.reshape(*out.shape[:lead], *q_steps, out.shape[-1])
        inverse = [perm.index(i) for i in range(rank)]
        out = out.permute(inverse)
        if scores is not None:
            scores = scores.reshape(*scores.shape[:lead], *q_steps, *k_steps)
        return out, scores

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        out_shape = self._output_shape or (query_shape[-1],)
        return tuple(query_shape[:-1]) + tuple(out_shape)

    def compute_output_spec(self, *args, **kwargs):
        return symbolic.compute_output_spec(lambda *a, **k: Layer.__call__(self, *a, **k), args, kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "use_gate": self.use_gate, "output_shape": self._output_shape,
                "attention_axes": self._attention_axes, "sliding_window": self.sliding_window,
                "kernel_initializer": _ser(initializers, self.kernel_initializer),
                "bias_initializer": _ser(initializers, self.bias_initializer),
                "kernel_regularizer": _ser(regularizers, self.kernel_regularizer),
                "bias_regularizer": _ser(regularizers, self.bias_regularizer),
                "activity_regularizer": _ser(regularizers, self.activity_regularizer),
                "kernel_constraint": _ser(constraints, self.kernel_constraint),
                "bias_constraint": _ser(constraints, self.bias_constraint), "seed": self.seed}


def _build_from_call(layer: Layer, args: tuple, kwargs: dict) -> None:
    """Build an attention layer from the shapes of ``query``, ``value`` and ``key`` however they were passed."""
    names = ("query", "value", "key")
    given = dict(zip(names, args))
    given.update({k: v for k, v in kwargs.items() if k in names})
    if "value" not in given:
        raise TypeError(f"{type(layer).__name__}.call() is missing a required argument: 'value'")
    shapes = {name: _shape_of(given.get(name)) for name in names}
    with symbolic.real_mode():
        layer.build(shapes["query"], shapes["value"], shapes["key"])
