"""``AdditiveAttention``: Bahdanau-style attention, ``scores = sum(scale * tanh(query + key))``."""
from __future__ import annotations

import torch

from cornu.layers.attention.attention import Attention


class AdditiveAttention(Attention):
    """Additive attention over ``[query, value(, key)]``; ``use_scale`` learns a per-feature ``scale``."""

    _fusable = False

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape) -> None:
        self._validate_inputs(input_shape)
        dim = input_shape[0][-1]
        self.scale = self.add_weight(name="scale", shape=(dim,), initializer="glorot_uniform") \
            if self.use_scale else None
        self.concat_score_weight = None
        self.built = True

    def _calculate_scores(self, query, key) -> torch.Tensor:
        pair = torch.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))
        if self.scale is not None:
            pair = self.scale.value * pair
        return torch.sum(pair, dim=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["score_mode"]
        return config
