"""Enabling LoRA on a layer (Dense, EinsumDense, Embedding, Conv1D/2D/3D): the checks and the two factors.

The layer freezes its weight ``frozen`` and trains ``A @ B * (lora_alpha / rank)``
added to it; each layer folds the update into its own call and saved files.
"""
from __future__ import annotations

from typing import Any

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
