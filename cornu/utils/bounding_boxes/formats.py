"""Box formats and the conversion of a ``(..., 4)`` tensor between any two of them, via ``xyxy``."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy", "rel_yxyx", "rel_xywh",
           "rel_center_xywh")


def as_tensor(x: Any, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Any array-like as a torch tensor (kept on its device), floats as given, ints as float32."""
    if isinstance(x, torch.Tensor):
        t = x
    else:
        t = torch.as_tensor(np.asarray(x))
    if dtype is not None:
        return t.to(dtype)
    return t if t.is_floating_point() else t.to(torch.float32)


def check_format(fmt: str) -> str:
    """The lower-cased format name, or ``ValueError`` listing the supported ones."""
    low = fmt.lower() if isinstance(fmt, str) else fmt
    if low not in FORMATS:
        raise ValueError(f"Invalid source or target format: {fmt!r}. Supported formats: {FORMATS}")
    return low


def to_xyxy(boxes: torch.Tensor, fmt: str, height: Any = None, width: Any = None) -> torch.Tensor:
    """``boxes`` in format ``fmt`` as absolute ``xyxy``; relative formats are scaled by ``width``/``height``."""
    a, b, c, d = boxes.unbind(-1)
    base = fmt[4:] if fmt.startswith("rel_") else fmt
    if base == "xyxy":
        x1, y1, x2, y2 = a, b, c, d
    elif base == "yxyx":
        y1, x1, y2, x2 = a, b, c, d
    elif base == "xywh":
        x1, y1, x2, y2 = a, b, a + c, b + d
    elif base == "center_xywh":
        x1, y1, x2, y2 = a - c / 2, b - d / 2, a + c / 2, b + d / 2
    else:  # center_yxhw
        x1, y1, x2, y2 = b - d / 2, a - c / 2, b + d / 2, a + c / 2
    if fmt.startswith("rel_"):
        x1, x2, y1, y2 = x1 * width, x2 * width, y1 * height, y2 * height
    return torch.stack([x1, y1, x2, y2], -1)


def from_xyxy(boxes: torch.Tensor, fmt: str, height: Any = None, width: Any = None) -> torch.Tensor:
    """Absolute ``xyxy`` boxes in format ``fmt`` (the inverse of ``to_xyxy``)."""
    x1, y1, x2, y2 = boxes.unbind(-1)
    if fmt.startswith("rel_"):
        x1, x2, y1, y2 = x1 / width, x2 / width, y1 / height, y2 / height
    base = fmt[4:] if fmt.startswith("rel_") else fmt
    if base == "xyxy":
        out = [x1, y1, x2, y2]
    elif base == "yxyx":
        out = [y1, x1, y2, x2]
    elif base == "xywh":
        out = [x1, y1, x2 - x1, y2 - y1]
    elif base == "center_xywh":
        out = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]
    else:  # center_yxhw
        out = [(y1 + y2) / 2, (x1 + x2) / 2, y2 - y1, x2 - x1]
    return torch.stack(out, -1)


def convert(boxes: torch.Tensor, source: str, target: str, height: Any = None, width: Any = None) -> torch.Tensor:
    """Checked conversion of a ``(..., 4)`` tensor from ``source`` to ``target`` format."""
    source, target = check_format(source), check_format(target)
    if boxes.shape[-1] != 4:
        raise ValueError(f"`boxes` must be a tensor with the last dimension of 4. Received: boxes.shape="
                         f"{tuple(boxes.shape)}")
    if (source.startswith("rel_") or target.startswith("rel_")) and (height is None or width is None):
        raise ValueError("convert_format() must receive `height` and `width` transforming between relative and "
                         f"absolute formats. Received: source={source!r}, target={target!r}, height={height}, "
                         f"width={width}")
    if source == target:
        return boxes
    return from_xyxy(to_xyxy(boxes, source, height, width), target, height, width)
