"""``Attention``: dot-product (Luong) attention over ``[query, value(, key)]``.

``scores = query @ key^T`` (times a learned scalar with ``use_scale``), or
``concat_score_weight * sum(tanh(scale * (query + key)))`` with
``score_mode="concat"``; masked keys are pushed to ``-1e9`` before the
softmax, the attention-weighted ``value`` is returned, and masked query steps
are zeroed. Plain dot scores run through ``torch``'s fused
``scaled_dot_product_attention`` unless the scores are requested.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from cornu import config
from cornu.layers.layer import Layer


def large_negative(dtype: torch.dtype) -> float:
    """What masked scores are lowered by before a softmax (Keras's constant for the dtype)."""
    return 65504.0 if dtype == torch.float16 else 1.0e9


def as_mask(mask, device) -> torch.Tensor | None:
    """A mask given as a tensor, array or list, as a tensor on ``device`` (None stays None)."""
    if mask is None or isinstance(mask, torch.Tensor):
        return mask
    return torch.as_tensor(mask, device=device)


def causal_mask(q_len: int, k_len: int, device) -> torch.Tensor:
    """``(q_len, k_len)`` booleans, True where key step ``j <= i`` (query step): no peeking ahead."""
    return torch.ones(q_len, k_len, dtype=torch.bool, device=device).tril()


def seeded_dropout(x: torch.Tensor, rate: float, generator: torch.Generator | None) -> torch.Tensor:
    """Inverted dropout drawing from ``generator`` (torch's global RNG when None)."""
    if generator is None:
        return F.dropout(x, rate, True)
    keep = torch.rand(x.shape, device=x.device, generator=generator) >= rate
    return x * keep.to(x.dtype) / (1.0 - rate)


class Attention(Layer):
    """Dot-product attention layer (Luong-style); called on ``[query, value]`` or ``[query, value, key]``."""

    _score_modes = ("dot", "concat")
    _fusable = True  # dot-product scores: torch's fused kernel applies

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        if score_mode not in self._score_modes:
            raise ValueError(f"Invalid value for argument score_mode. Expected one of {{'dot', 'concat'}}. "
                             f"Received: score_mode={score_mode}")
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        self.supports_masking = True
        self._generator: torch.Generator | None = None

    # ----------------------------------------------------------------- build
    def build(self, input_shape) -> None:
        self._validate_inputs(input_shape)
        self.scale = self.add_weight(name="scale", shape=(), initializer="ones") if self.use_scale else None
        self.concat_score_weight = self.add_weight(name="concat_score_weight", shape=(), initializer="ones") \
            if self.score_mode == "concat" else None
        self.built = True

    # ------------------------------------------------------------------ call
    def call(self, inputs, mask=None, training=False, return_attention_scores: bool = False,
             use_causal_mask: bool = False):
        self._validate_inputs(inputs, mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        q_mask = as_mask(mask[0], query.device) if mask else None
        v_mask = as_mask(mask[1], query.device) if mask else None
        allowed = self._allowed(query, value, v_mask, use_causal_mask)
        dropping = bool(training) and self.dropout > 0
        fused = self._fusable and self.score_mode == "dot" and not return_attention_scores and \
            config.is_flash_attention_enabled() is not False
        if fused and not (dropping and self.seed is not None):
            out = self._fused(query, key, value, allowed, self.dropout if dropping else 0.0)
            weights = None
        else:
            scores = self._calculate_scores(query, key)
            if allowed is not None:
                scores = scores - large_negative(scores.dtype) * (~allowed).to(scores.dtype)
            weights = torch.softmax(scores, dim=-1)
            if dropping:
                weights = seeded_dropout(weights, self.dropout, self._rng(weights.device))
            out = torch.matmul(weights, value)
        if q_mask is not None:
            out = out * q_mask.to(out.dtype).unsqueeze(-1)
        return (out, weights) if return_attention_scores else out

    def _fused(self, query, key, value, allowed, dropout_p: float) -> torch.Tensor:
        """``softmax(scale * q k^T + mask) v`` by torch's fused kernel (scale folded into the query)."""
        if self.scale is not None:
            query = query * self.scale.value
        bias = None
        if allowed is not None:
            bias = torch.zeros(allowed.shape, dtype=query.dtype, device=query.device).masked_fill(
                ~allowed, -large_negative(query.dtype))
        return F.scaled_dot_product_attention(query, key, value, attn_mask=bias, dropout_p=dropout_p, scale=1.0)

    def _calculate_scores(self, query, key) -> torch.Tensor:
        if self.score_mode == "dot":
            scores = torch.matmul(query, key.transpose(-1, -2))
            return scores * self.scale.value if self.scale is not None else scores
        pair = query.unsqueeze(-2) + key.unsqueeze(-3)
        if self.scale is not None:
            pair = self.scale.value * pair
        return self.concat_score_weight.value * torch.sum(torch.tanh(pair), dim=-1)

    def _allowed(self, query, value, v_mask, use_causal_mask: bool) -> torch.Tensor | None:
        """Boolean ``(batch, 1 | Tq, Tv)`` of the keys each query step may attend to, or None."""
        allowed = None
        if v_mask is not None:
            allowed = v_mask.to(torch.bool).unsqueeze(-2)
        if use_causal_mask:
            causal = causal_mask(query.shape[-2], value.shape[-2], query.device).unsqueeze(0)
            allowed = causal if allowed is None else allowed & causal
        return allowed

    def _rng(self, device) -> torch.Generator | None:
        if self.seed is None:
            return None
        if self._generator is None or self._generator.device != torch.device(device):
            self._generator = torch.Generator(device=device)
            self._generator.manual_seed(int(self.seed))
        return self._generator

    def _validate_inputs(self, inputs, mask=None) -> None:
        name = type(self).__name__
        if not isinstance(inputs, (list, tuple)) or (inputs and isinstance(inputs[0], (int, type(None)))):
            shown = tuple(inputs) if isinstance(inputs, (list, tuple)) else inputs
            raise ValueError(f"{name} layer must be called on a list of inputs, namely [query, value] or "
                             f"[query, value, key]. Received: inputs={shown}.")
        if len(inputs) < 2 or len(inputs) > 3:
            raise ValueError(f"{name} layer accepts inputs list of length 2 or 3, namely [query, value] or "
                             f"[query, value, key]. Received length: {len(inputs)}.")
        if mask is not None:
            if not isinstance(mask, (list, tuple)):
                raise ValueError(f"{name} layer mask must be a list, namely [query_mask, value_mask]. "
                                 f"Received: mask={mask}.")
            if len(mask) < 2 or len(mask) > 3:
                raise ValueError(f"{name} layer accepts mask list of length 2 or 3. Received: inputs={inputs}, "
                                 f"mask={mask}.")

    # ---------------------------------------------------------------- masks
    def compute_mask(self, inputs, mask=None):
        """The query's mask: masked query steps stay masked in the output."""
        if mask is None or not isinstance(mask, (list, tuple)) or mask[0] is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape):
        self._validate_inputs(input_shape)
        return tuple(input_shape[0][:-1]) + (input_shape[1][-1],)

    def compute_output_spec(self, *args, **kwargs):
        # The scores change the output structure: infer it by a fake run rather than from shapes alone.
        from cornu import symbolic

        return symbolic.compute_output_spec(lambda *a, **k: Layer.__call__(self, *a, **k), args, kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), "use_scale": self.use_scale, "score_mode": self.score_mode,
                "dropout": self.dropout, "seed": self.seed}
