"""``convert_format`` and the box transforms that follow image transforms: clip, crop, pad, affine, deltas."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from cornu.utils.bounding_boxes.formats import as_tensor, check_format, convert

_EPSILON = 1e-7


def convert_format(boxes: Any, source: str, target: str, height: Any = None, width: Any = None,
                   dtype: str = "float32") -> Any:
    """Boxes (a tensor/array, or a dict holding ``"boxes"``) converted from ``source`` to ``target`` format."""
    if isinstance(boxes, dict):
        out = dict(boxes)
        out["boxes"] = convert_format(boxes["boxes"], source, target, height, width, dtype)
        return out
    from cornu.config import standardize_dtype

    t = as_tensor(boxes, getattr(torch, standardize_dtype(dtype)))
    return convert(t, source, target, height, width)


def clip_to_image_size(bounding_boxes: dict, height: Any = None, width: Any = None,
                       bounding_box_format: str = "xyxy") -> dict:
    """Boxes clipped to the image (``xyxy`` or ``rel_xyxy``); labels of boxes left with no area become -1."""
    fmt = check_format(bounding_box_format)
    if fmt not in ("xyxy", "rel_xyxy"):
        raise NotImplementedError(f"clip_to_image_size supports 'xyxy' and 'rel_xyxy', got {bounding_box_format!r}")
    if fmt == "xyxy" and (height is None or width is None):
        raise ValueError(f"`height` and `width` must be set if `format='xyxy'`. Received: height={height}, "
                         f"width={width}")
    boxes = as_tensor(bounding_boxes["boxes"])
    hi_x, hi_y = (1.0, 1.0) if fmt == "rel_xyxy" else (width, height)
    x1, y1, x2, y2 = boxes.unbind(-1)
    x1, x2 = x1.clamp(0, hi_x), x2.clamp(0, hi_x)
    y1, y2 = y1.clamp(0, hi_y), y2.clamp(0, hi_y)
    out = dict(bounding_boxes)
    out["boxes"] = torch.stack([x1, y1, x2, y2], -1)
    if "labels" in bounding_boxes:
        labels = bounding_boxes["labels"]
        labels = (labels if isinstance(labels, torch.Tensor) else torch.as_tensor(np.asarray(labels))).to(boxes.device)
        area = (x2 - x1) * (y2 - y1)
        out["labels"] = torch.where(area > 0, labels, torch.full_like(labels, -1))
    return out


def _xyxy_only(fmt: str, name: str) -> None:
    if check_format(fmt) != "xyxy":
        raise NotImplementedError(f"{name} supports only the 'xyxy' format, got {fmt!r}")


def crop(boxes: Any, top: Any, left: Any, height: Any, width: Any, bounding_box_format: str = "xyxy") -> torch.Tensor:
    """``xyxy`` boxes in the frame of the crop ``(top, left, height, width)``, clipped to it."""
    _xyxy_only(bounding_box_format, "crop")
    if height is None or width is None:
        raise ValueError(f"crop() needs the crop `height` and `width`. Received: height={height}, width={width}")
    x1, y1, x2, y2 = as_tensor(boxes).unbind(-1)
    x1, x2 = (x1 - left).clamp(0, width), (x2 - left).clamp(0, width)
    y1, y2 = (y1 - top).clamp(0, height), (y2 - top).clamp(0, height)
    return torch.stack([x1, y1, x2, y2], -1)


def pad(boxes: Any, top: Any, left: Any, height: Any = None, width: Any = None,
        bounding_box_format: str = "xyxy") -> torch.Tensor:
    """``xyxy`` boxes shifted by the ``top``/``left`` padding added to the image."""
    _xyxy_only(bounding_box_format, "pad")
    x1, y1, x2, y2 = as_tensor(boxes).unbind(-1)
    return torch.stack([x1 + left, y1 + top, x2 + left, y2 + top], -1)


def _param(x: Any, like: torch.Tensor) -> torch.Tensor:
    """A per-image transform parameter (scalar or ``(batch,)``) as a ``(batch or 1, 1)`` tensor."""
    t = x if isinstance(x, torch.Tensor) else torch.as_tensor(x)
    t = t.to(like.device)
    if not t.is_floating_point():
        t = t.to(like.dtype)
    return t.reshape(-1, 1)


def affine_transform(boxes: Any, angle: Any, translate_x: Any, translate_y: Any, scale: Any, shear_x: Any,
                     shear_y: Any, height: int, width: int, center_x: Any = None, center_y: Any = None,
                     bounding_box_format: str = "xyxy") -> torch.Tensor:
    """``xyxy`` boxes moved by an affine image transform (the box around the moved corners).

    Angles are in degrees; translations and the center are fractions of ``width - 1`` / ``height - 1``.
    """
    _xyxy_only(bounding_box_format, "affine_transform")
    b = as_tensor(boxes)
    unbatched = b.ndim == 2
    b = b[None] if unbatched else b
    p = [_param(v, b) for v in (angle, translate_x, translate_y, scale, shear_x, shear_y)]
    dtype = torch.result_type(b, torch.stack(torch.broadcast_tensors(*p)))
    b = b.to(dtype)
    angle, tx, ty, scale, shx, shy = [v.to(dtype) for v in p]
    cx = _param(0.5 if center_x is None else center_x, b).to(dtype) * (width - 1)
    cy = _param(0.5 if center_y is None else center_y, b).to(dtype) * (height - 1)
    theta = angle * (math.pi / 180)
    cos, sin = torch.cos(theta), torch.sin(theta)
    a, c = torch.tan(shx * (math.pi / 180)), torch.tan(shy * (math.pi / 180))
    # The y row is the rotation's followed by the y shear; the x row takes the x shear from that row.
    m10, m11 = -sin + c * cos, cos + c * sin
    m00, m01 = cos - a * m10, sin + a * m11
    x1, y1, x2, y2 = b.unbind(-1)
    xs = torch.stack([x1, x2, x1, x2], -1) - cx[..., None] + tx[..., None] * (width - 1)
    ys = torch.stack([y1, y1, y2, y2], -1) - cy[..., None] + ty[..., None] * (height - 1)
    s = scale[..., None]
    nx = s * (m00[..., None] * xs + m01[..., None] * ys) + cx[..., None]
    ny = s * (m10[..., None] * xs + m11[..., None] * ys) + cy[..., None]
    out = torch.stack([nx.amin(-1), ny.amin(-1), nx.amax(-1), ny.amax(-1)], -1)
    return out[0] if unbatched else out


def _check_delta_args(fmt: str, variance: Any, arg: str) -> str:
    if variance is not None and len(variance) != 4:
        raise ValueError(f"`variance` must be length 4, got {variance}")
    low = fmt.lower()
    if low not in ("center_xywh", "center_yxhw"):
        raise ValueError(f"`{arg}` should be one of 'center_xywh' or 'center_yxhw', got {fmt!r}")
    return low


def _image_hw(image_shape: Any) -> tuple:
    return (None, None) if image_shape is None else (image_shape[0], image_shape[1])


def encode_box_to_deltas(anchors: Any, boxes: Any, anchor_format: str, box_format: str,
                         encoding_format: str = "center_yxhw", variance: Any = None,
                         image_shape: Any = None) -> torch.Tensor:
    """Regression targets of ``boxes`` against ``anchors``: center offsets over anchor size, log size ratios."""
    enc = _check_delta_args(encoding_format, variance, "encoding_format")
    h, w = _image_hw(image_shape)
    a = convert(as_tensor(anchors), anchor_format, enc, h, w)
    b = convert(as_tensor(boxes), box_format, enc, h, w)
    size_a = a[..., 2:]
    deltas = torch.cat([(b[..., :2] - a[..., :2]) / size_a, torch.log((b[..., 2:] + _EPSILON) / size_a)], -1)
    if variance is not None:
        deltas = deltas / torch.as_tensor(variance, dtype=deltas.dtype, device=deltas.device)
    return deltas


def decode_deltas_to_boxes(anchors: Any, boxes_delta: Any, anchor_format: str, box_format: str,
                           encoded_format: str = "center_yxhw", variance: Any = None,
                           image_shape: Any = None) -> Any:
    """Boxes in ``box_format`` from regression deltas against ``anchors`` (dicts decode level by level)."""
    if variance is not None and len(variance) != 4:
        raise ValueError(f"`variance` must be length 4, got {variance}")
    enc = encoded_format.lower() if isinstance(encoded_format, str) else encoded_format
    if enc not in ("center_xywh", "center_yxhw"):
        raise ValueError(f"`encoded_format` should be 'center_xywh' or 'center_yxhw', but got {encoded_format!r}.")
    if isinstance(anchors, dict) and isinstance(boxes_delta, dict):
        return {k: decode_deltas_to_boxes(anchors[k], boxes_delta[k], anchor_format, box_format, encoded_format,
                                          variance, image_shape) for k in anchors}
    h, w = _image_hw(image_shape)
    a = convert(as_tensor(anchors), anchor_format, enc, h, w)
    d = as_tensor(boxes_delta)
    if variance is not None:
        d = d * torch.as_tensor(variance, dtype=d.dtype, device=d.device)
    size_a = a[..., 2:]
    decoded = torch.cat([d[..., :2] * size_a + a[..., :2], torch.exp(d[..., 2:]) * size_a], -1)
    return convert(decoded, enc, box_format, h, w)
