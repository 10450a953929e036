"""Pairwise IoU tables and the element-wise Complete IoU (CIoU) of boxes in any format."""
from __future__ import annotations

import math
from typing import Any

import torch

from cornu.utils.bounding_boxes.formats import as_tensor, check_format, to_xyxy

_EPSILON = 1e-7


def _xyxy(boxes: Any, fmt: str, image_shape: Any) -> torch.Tensor:
    fmt = check_format(fmt)
    h, w = (1, 1) if image_shape is None else (image_shape[0], image_shape[1])
    return to_xyxy(as_tensor(boxes), fmt, h, w)


def compute_iou(boxes1: Any, boxes2: Any, bounding_box_format: str, use_masking: bool = False, mask_val: Any = -1,
                image_shape: Any = None) -> torch.Tensor:
    """IoU of every box in ``boxes1`` (``(..., M, 4)``) with every box in ``boxes2`` (``(..., N, 4)``): ``(..., M, N)``.

    With ``use_masking``, rows/columns of boxes whose four values are all negative get ``mask_val``.
    """
    raw1, raw2 = as_tensor(boxes1), as_tensor(boxes2)
    b1, b2 = _xyxy(raw1, bounding_box_format, image_shape), _xyxy(raw2, bounding_box_format, image_shape)
    b1, b2 = b1.unsqueeze(-2), b2.unsqueeze(-3)  # (..., M, 1, 4), (..., 1, N, 4)
    iw = (torch.minimum(b1[..., 2], b2[..., 2]) - torch.maximum(b1[..., 0], b2[..., 0])).clamp(min=0)
    ih = (torch.minimum(b1[..., 3], b2[..., 3]) - torch.maximum(b1[..., 1], b2[..., 1])).clamp(min=0)
    inter = iw * ih
    area1 = (b1[..., 2] - b1[..., 0]) * (b1[..., 3] - b1[..., 1])
    area2 = (b2[..., 2] - b2[..., 0]) * (b2[..., 3] - b2[..., 1])
    union = area1 + area2 - inter
    iou = torch.where(union > 0, inter / union.clamp(min=_EPSILON), torch.zeros_like(inter))
    if use_masking:
        masked1 = (raw1 < 0).all(-1).unsqueeze(-1)
        masked2 = (raw2 < 0).all(-1).unsqueeze(-2)
        iou = torch.where(masked1 | masked2, torch.full_like(iou, mask_val), iou)
    return iou


def compute_ciou(boxes1: Any, boxes2: Any, bounding_box_format: str, image_shape: Any = None) -> torch.Tensor:
    """Complete IoU of ``boxes1[i]`` with ``boxes2[i]``: IoU less the normalized center distance and a
    penalty on the aspect-ratio difference (shape ``(...)`` for inputs ``(..., 4)``)."""
    b1, b2 = _xyxy(boxes1, bounding_box_format, image_shape), _xyxy(boxes2, bounding_box_format, image_shape)
    x1a, y1a, x2a, y2a = b1.unbind(-1)
    x1b, y1b, x2b, y2b = b2.unbind(-1)
    w1, h1 = x2a - x1a, y2a - y1a + _EPSILON
    w2, h2 = x2b - x1b, y2b - y1b + _EPSILON
    inter = ((torch.minimum(x2a, x2b) - torch.maximum(x1a, x1b)).clamp(min=0)
             * (torch.minimum(y2a, y2b) - torch.maximum(y1a, y1b)).clamp(min=0))
    union = w1 * h1 + w2 * h2 - inter + _EPSILON
    iou = inter / union
    cw = torch.maximum(x2a, x2b) - torch.minimum(x1a, x1b)
    ch = torch.maximum(y2a, y2b) - torch.minimum(y1a, y1b)
    c2 = cw ** 2 + ch ** 2 + _EPSILON
    rho2 = ((x1b + x2b - x1a - x2a) ** 2 + (y1b + y2b - y1a - y2a) ** 2) / 4
    v = (4 / math.pi ** 2) * (torch.atan(w2 / h2) - torch.atan(w1 / h1)) ** 2
    alpha = v / (v - iou + (1 + _EPSILON))
    return iou - (rho2 / c2 + v * alpha)
