"""Enabling LoRA on a layer (Dense, EinsumDense, Embedding, Conv1D/2D/3D): the checks and the two factors.

The layer freezes one weight (``kernel``, ``embeddings``) and trains
``A @ B * (lora_alpha / rank)`` added to it; weight files hold the merged weight,
as Keras writes them.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cornu import initializers


def enable(layer: Any, name: str, rank: int, lora_alpha: float | None, a_initializer: Any, b_initializer: Any,
           regularizer: Any, constraint: Any) -> None:
    """Check that LoRA can be enabled, as Keras does; freeze ``layer.<name>`` (Keras layout ``(..., out)``) and
    add ``layer.lora_<name>_a`` of shape ``(..., rank)`` and ``layer.lora_<name>_b`` of shape ``(rank, out)``."""
    if constraint is not None:
        noun = "embedding" if name == "embeddings" else name
        raise ValueError(f"Lora is incompatible with {noun} constraints. In order to enable lora on this layer, "
                         f"remove the `{name}_constraint` argument.")
    if not layer.built:
        raise ValueError("Cannot enable lora on a layer that isn't yet built.")
    if layer.lora_enabled:
        raise ValueError("lora is already enabled. This can only be done once per layer.")
    if not isinstance(rank, int) or isinstance(rank, bool) or rank <= 0:
        raise ValueError(f"`rank` must be a positive integer. Received: rank={rank!r}")
    frozen = getattr(layer, name)
    shape = tuple(frozen.shape)
    for suffix, factor_shape, initializer in (("a", shape[:-1] + (rank,), a_initializer),
                                              ("b", (rank, shape[-1]), b_initializer)):
        setattr(layer, f"lora_{name}_{suffix}", layer.add_weight(
            name=f"lora_{name}_{suffix}", shape=factor_shape, initializer=initializers.get(initializer),
            regularizer=regularizer))
    frozen.trainable = False
    frozen._trainable_wanted = False
    layer.lora_enabled = True
    layer.lora_rank = rank
    layer.lora_alpha = lora_alpha if lora_alpha is not None else rank


def delta(layer: Any, name: str) -> torch.Tensor:
    """``A @ B * (lora_alpha / rank)`` in the frozen weight's Keras layout."""
    a, b = getattr(layer, f"lora_{name}_a").value, getattr(layer, f"lora_{name}_b").value
    return torch.matmul(a, b) * (layer.lora_alpha / layer.lora_rank)


def merged(layer: Any, name: str, value: torch.Tensor) -> torch.Tensor:
    """``value`` (the frozen weight in Keras layout) with the LoRA update folded in, when LoRA is on."""
    return value + delta(layer, name) if layer.lora_enabled else value


def saved(layer: Any, name: str) -> list:
    """What a weight file holds for ``layer.<name>``: the variable, or its LoRA-merged value."""
    return [getattr(layer, name)] if not layer.lora_enabled else [MergedWeight(layer, name)]


class MergedWeight:
    """A LoRA layer's frozen weight as saved: reads merged (``layer._merged_kernel()``); loading sets the weight
    and resets the LoRA factors to zero."""

    def __init__(self, layer: Any, name: str):
        self.layer = layer
        self.name = name
        self.path = getattr(layer, name).path

    @property
    def shape(self) -> tuple:
        return getattr(self.layer, self.name).shape

    def numpy(self) -> np.ndarray:
        return self.layer._merged_kernel().detach().cpu().numpy()

    def __array__(self, dtype=None, copy=None):
        return self.numpy() if dtype is None else self.numpy().astype(dtype)

    def assign(self, value) -> None:
        getattr(self.layer, self.name).assign(value)
        for suffix in ("a", "b"):
            factor = getattr(self.layer, f"lora_{self.name}_{suffix}")
            factor.assign(np.zeros(factor.shape, "float32"))
