"""``keras.ops.image``: image operations on batched (4-D) or single (3-D) images.

``resize`` follows Keras on its torch backend: torch's half-pixel ``bilinear``/``bicubic``
kernels and ``nearest-exact`` sampling; ``crop_to_aspect_ratio`` first takes the centred
window of the target aspect ratio (sizes truncated to integers), ``pad_to_aspect_ratio``
first pads ``(missing // 2)`` pixels of ``fill_value`` on each side of the short axis.
Integer images are resized in float32 and rounded back to their dtype.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from cornu.ops.core import _tensor
from cornu.symbolic import symbolic_op
from cornu.utils import conv_utils

__all__ = ["resize"]

_TORCH_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}


def check_interpolation(interpolation: str) -> str:
    """Keras's torch-backend errors for an interpolation it cannot compute; the torch mode otherwise."""
    if isinstance(interpolation, str) and interpolation.startswith("lanczos"):
        raise ValueError("Resizing with Lanczos interpolation is not supported by the PyTorch backend. "
                         f"Received: interpolation={interpolation}.")
    if interpolation not in _TORCH_MODES:
        raise ValueError(f"Invalid value for argument `interpolation`. Expected of one {_TORCH_MODES}. "
                         f"Received: interpolation={interpolation}")
    return _TORCH_MODES[interpolation]


def aspect_window(height: int, width: int, target_h: int, target_w: int, pad: bool) -> tuple[int, int]:
    """The (height, width) of the centred crop (``pad=False``) or padded canvas of the target aspect ratio."""
    if pad:
        new_h, new_w = int(width * target_h / target_w), int(height * target_w / target_h)
        if new_h > height:
            return height + 2 * ((new_h - height) // 2), width
        if new_w > width:
            return height, width + 2 * ((new_w - width) // 2)
        return height, width
    return min(height, int(width * target_h / target_w)), min(width, int(height * target_w / target_h))


def resize_nchw(x: torch.Tensor, size: tuple[int, int], interpolation: str = "bilinear", antialias: bool = False,
                crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
                fill_value: float = 0.0) -> torch.Tensor:
    """The resize on an NCHW batch (float result for float input, rounded back for integers)."""
    mode = check_interpolation(interpolation)
    th, tw = size
    h, w = x.shape[-2], x.shape[-1]
    if crop_to_aspect_ratio:
        ch, cw = aspect_window(h, w, th, tw, pad=False)
        top, left = (h - ch) // 2, (w - cw) // 2
        x = x[..., top:top + ch, left:left + cw]
    elif pad_to_aspect_ratio:
        ph, pw = aspect_window(h, w, th, tw, pad=True)
        if (ph, pw) != (h, w):
            dh, dw = (ph - h) // 2, (pw - w) // 2
            x = F.pad(x, (dw, dw, dh, dh), mode="constant", value=float(fill_value))
    dtype = x.dtype
    work = x if dtype.is_floating_point else x.to(torch.float32)
    if mode == "nearest-exact":
        y = F.interpolate(work, size=(th, tw), mode=mode)
    else:
        y = F.interpolate(work, size=(th, tw), mode=mode, align_corners=False, antialias=bool(antialias))
    if not dtype.is_floating_point:
        info = torch.iinfo(dtype)
        y = torch.round(y).clamp(info.min, info.max).to(dtype)
    return y


@symbolic_op
def resize(images: Any, size, interpolation: str = "bilinear", antialias: bool = False,
           crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False, fill_mode: str = "constant",
           fill_value: float = 0.0, data_format: str | None = None) -> torch.Tensor:
    """Resize images to ``size = (height, width)``."""
    data_format = conv_utils.normalize_data_format(data_format)
    size = tuple(size)
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers. Received: size={size}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`.")
    if fill_mode != "constant":
        raise ValueError("Invalid value for argument `fill_mode`. Only `'constant'` is supported. "
                         f"Received: fill_mode={fill_mode}")
    x = _tensor(images)
    if x.ndim not in (3, 4):
        raise ValueError("Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
                         f"Received input with shape: images.shape={tuple(x.shape)}")
    single = x.ndim == 3
    if single:
        x = x.unsqueeze(0)
    y = resize_nchw(conv_utils.to_channels_first(x, data_format), size, interpolation, antialias,
                    crop_to_aspect_ratio, pad_to_aspect_ratio, fill_value)
    y = conv_utils.to_channels_last(y, data_format)
    return y[0] if single else y
