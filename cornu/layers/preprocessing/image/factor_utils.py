"""Argument reading and per-image coin flips shared by the probability-driven augmentation layers."""
from __future__ import annotations

import torch


def unit_range(value, name: str = "factor", low: float = 0.0, high: float = 1.0) -> tuple:
    """Keras's reading of a range argument: a number ``f`` means ``(0, f)``; a pair is kept in order."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    pair = isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    values = [value] if number else list(value) if pair else None
    if values is None or any(v < low or v > high for v in values):
        raise ValueError(f"The `{name}` argument should be a number (or a list of two numbers) in the range "
                         f"[{low}, {high}]. Received: {name}={value}")
    return (0, value) if number else (min(value), max(value))


def chosen(layer, n: int, factor: tuple, device: torch.device) -> torch.Tensor:
    """Which of ``n`` images to transform: each with a probability drawn from ``factor``; ``(n,)`` bool."""
    probability = layer.uniform((n,), factor[0], factor[1], device)
    return layer.uniform((n,), 0.0, 1.0, device) < probability


def where_chosen(mask: torch.Tensor, transformed: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    return torch.where(mask.reshape(-1, *([1] * (original.ndim - 1))), transformed, original)
