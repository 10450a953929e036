"""``keras.ops.math`` functions: logsumexp, top-k, segments, FFTs and short-time Fourier transforms."""
from __future__ import annotations

from typing import Any

import torch

from cornu.ops.core import _tensor
from cornu.ops.numpy import _as_float, _dims
from cornu.symbolic import symbolic_op


@symbolic_op
def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """``log(sum(exp(x)))`` over ``axis``, computed stably."""
    t = _as_float(x)
    dims = _dims(t, axis)
    return torch.logsumexp(t, dim=dims, keepdim=keepdims) if dims else t


@symbolic_op
def top_k(x: Any, k: int, sorted: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` largest entries of the last axis and their indices (int32)."""
    t = _tensor(x)
    if not 0 <= k <= t.shape[-1]:
        raise ValueError(f"`k` must be in [0, {t.shape[-1]}] for last axis size {t.shape[-1]}. "
                         f"Received: k={k}")
    values, indices = torch.topk(t, k, dim=-1, largest=True, sorted=sorted)
    return values, indices.to(torch.int32)


@symbolic_op
def in_top_k(targets: Any, predictions: Any, k: int) -> torch.Tensor:
    """Whether each target class scores among the ``k`` highest predictions (bool, per row)."""
    preds = _tensor(predictions)
    tgt = _tensor(targets, device=preds.device).to(torch.int64)
    target_score = torch.take_along_dim(preds, tgt.unsqueeze(-1), dim=-1)
    higher = torch.sum(preds > target_score, dim=-1)
    return higher < k


@symbolic_op
def rsqrt(x: Any) -> torch.Tensor:
    """Element-wise ``1 / sqrt(x)``."""
    return torch.rsqrt(_as_float(x))


@symbolic_op
def erf(x: Any) -> torch.Tensor:
    """Element-wise Gauss error function."""
    return torch.erf(_as_float(x))


@symbolic_op
def erfinv(x: Any) -> torch.Tensor:
    """Element-wise inverse error function."""
    return torch.erfinv(_as_float(x))


def _segments(data: Any, segment_ids: Any, num_segments: int | None):
    t = _tensor(data)
    ids = _tensor(segment_ids, device=t.device).to(torch.int64)
    if ids.ndim != 1 or ids.shape[0] != t.shape[0]:
        raise ValueError(f"`segment_ids` must be 1-D with one id per row of `data` ({t.shape[0]}). "
                         f"Received shape {tuple(ids.shape)}")
    if num_segments is None:
        num_segments = int(ids.max()) + 1 if ids.numel() else 0
    return t, ids, int(num_segments)


@symbolic_op
def segment_sum(data: Any, segment_ids: Any, num_segments: int | None = None,
                sorted: bool = False) -> torch.Tensor:
    """Sum the rows of ``data`` that share a segment id."""
    t, ids, n = _segments(data, segment_ids, num_segments)
    out = torch.zeros((n,) + tuple(t.shape[1:]), dtype=t.dtype, device=t.device)
    return out.index_add(0, ids, t)


@symbolic_op
def segment_max(data: Any, segment_ids: Any, num_segments: int | None = None,
                sorted: bool = False) -> torch.Tensor:
    """Maximum over the rows of ``data`` sharing a segment id (lowest value when empty)."""
    t, ids, n = _segments(data, segment_ids, num_segments)
    lowest = torch.finfo(t.dtype).min if t.is_floating_point() else torch.iinfo(t.dtype).min
    out = torch.full((n,) + tuple(t.shape[1:]), lowest, dtype=t.dtype, device=t.device)
    index = ids.reshape((-1,) + (1,) * (t.ndim - 1)).expand_as(t)
    return out.scatter_reduce(0, index, t, reduce="amax", include_self=True)


__all__ = [
    "erf", "erfinv", "in_top_k", "logsumexp", "rsqrt", "segment_max", "segment_sum", "top_k",
]
