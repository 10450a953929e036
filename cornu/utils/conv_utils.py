"""Shared helpers for convolution and pooling layers: argument normalisation and padding."""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F

from cornu import config


def normalize_tuple(value, rank: int, name: str, allow_zero: bool = False) -> tuple:
    """``3`` -> ``(3, 3)``; validate a tuple of positive (or, with ``allow_zero``, non-negative) ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * rank
    try:
        value = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"The `{name}` argument must be a tuple of {rank} integers. "
                         f"Received: {name}={value!r}") from None
    if len(value) != rank or any(v < 0 if allow_zero else v <= 0 for v in value):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"The `{name}` argument must be a tuple of {rank} {kind} integers. Received: {name}={value!r}")
    return value


def normalize_padding(value: str) -> str:
    padding = str(value).lower()
    if padding not in ("valid", "same", "causal"):
        raise ValueError("The `padding` argument must be one of 'valid', 'same' (or 'causal'). "
                         f"Received: padding={value!r}")
    return padding


def normalize_data_format(value: str | None) -> str:
    fmt = value or config.image_data_format()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"The `data_format` argument must be one of 'channels_first', 'channels_last'. "
                         f"Received: data_format={value!r}")
    return fmt


def output_length(length: int | None, kernel: int, padding: str, stride: int, dilation: int = 1) -> int | None:
    """Spatial output size of a convolution/pool along one axis (Keras's rule)."""
    if length is None:
        return None
    effective = (kernel - 1) * dilation + 1
    if padding == "same":
        return math.ceil(length / stride)
    if padding == "causal":
        return math.ceil(length / stride)
    return max((length - effective) // stride + 1, 0)


def same_pads(length: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """(before, after) padding that makes 'same' output ``ceil(length/stride)``; extra on the after side."""
    effective = (kernel - 1) * dilation + 1
    total = max((math.ceil(length / stride) - 1) * stride + effective - length, 0)
    return total // 2, total - total // 2


def to_channels_first(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """NHWC -> an NCHW *view* (torch.channels_last memory format, no copy)."""
    if data_format == "channels_first":
        return x
    return x.permute(0, x.ndim - 1, *range(1, x.ndim - 1))


def to_channels_last(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """NCHW (channels_last memory) -> the NHWC view Keras code sees."""
    if data_format == "channels_first":
        return x
    return x.permute(0, *range(2, x.ndim), 1)


def pad_same(x: torch.Tensor, kernel: Sequence[int], strides: Sequence[int], dilation: Sequence[int],
             value: float = 0.0) -> tuple[torch.Tensor, tuple[int, ...] | None]:
    """'same' padding for an NC... tensor.

    Returns ``(x, symmetric)``: when padding is symmetric on every axis, ``x``
    is untouched and ``symmetric`` holds the per-axis padding to hand to the
    torch kernel; otherwise ``x`` is explicitly padded and ``symmetric`` is None.
    """
    pads = [same_pads(x.shape[2 + i], kernel[i], strides[i], dilation[i]) for i in range(len(kernel))]
    if all(b == a for b, a in pads):
        return x, tuple(b for b, _ in pads)
    flat: list[int] = []
    for b, a in reversed(pads):
        flat += [b, a]
    return F.pad(x, flat, value=value), None
