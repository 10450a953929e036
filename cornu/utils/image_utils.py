"""``keras.utils`` image helpers: ``load_img``, ``img_to_array``, ``array_to_img``, ``save_img``, ``smart_resize``.

Pillow reads and writes the files. ``resize_array`` is the resize the directory
datasets use: bilinear/nearest/bicubic/area with half-pixel centres and no
antialiasing, the sampling ``tf.image.resize`` (what Keras's datasets call) uses.
"""
from __future__ import annotations

import io
import os
import warnings
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from cornu import config

PIL_INTERPOLATION = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")
RESIZE_INTERPOLATION = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")
_TORCH_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic", "area": "area"}
# Kernels torch lacks fall back to the closest Pillow filter.
_PIL_FALLBACK = {"lanczos3": "LANCZOS", "lanczos5": "LANCZOS", "gaussian": "BICUBIC", "mitchellcubic": "BICUBIC"}


def _pil():
    """Pillow's ``Image`` module, imported on first use (``import cornu`` stays light)."""
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError("Could not import PIL.Image. The use of `load_img` requires PIL "
                          "(`pip install pillow`).") from e
    return Image


def _data_format(data_format: str | None) -> str:
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"Invalid `data_format`: {data_format!r}. Expected 'channels_last' or 'channels_first'.")
    return data_format


def convert_mode(img: Any, color_mode: str) -> Any:
    """The Pillow image in the mode ``color_mode`` asks for (grayscale keeps 16/32-bit integer modes)."""
    if color_mode == "grayscale":
        return img if img.mode in ("L", "I;16", "I") else img.convert("L")
    if color_mode == "rgba":
        return img if img.mode == "RGBA" else img.convert("RGBA")
    if color_mode == "rgb":
        return img if img.mode == "RGB" else img.convert("RGB")
    raise ValueError(f'color_mode must be "grayscale", "rgb", or "rgba". Received: color_mode={color_mode!r}')


def load_img(path: Any, color_mode: str = "rgb", target_size: tuple[int, int] | None = None,
             interpolation: str = "nearest", keep_aspect_ratio: bool = False) -> Any:
    """Load an image file (path or file-like object) into a Pillow image.

    ``target_size`` is ``(height, width)``; ``keep_aspect_ratio`` crops the centre to the target's aspect ratio
    before resizing with Pillow's ``interpolation`` filter.
    """
    image_module = _pil()
    if isinstance(path, io.BytesIO):
        img = image_module.open(path)
    elif isinstance(path, (str, bytes, os.PathLike)):
        with open(os.fspath(path), "rb") as f:
            img = image_module.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    img = convert_mode(img, color_mode)
    if target_size is not None:
        height, width = target_size
        if img.size != (width, height):
            if interpolation not in PIL_INTERPOLATION:
                raise ValueError(f"Invalid interpolation method {interpolation} specified. Supported methods are "
                                 f"{', '.join(PIL_INTERPOLATION)}")
            resample = getattr(image_module.Resampling, interpolation.upper())
            box = None
            if keep_aspect_ratio:
                w0, h0 = img.size
                crop_h = min(h0, (w0 * height) // width)
                crop_w = min(w0, (h0 * width) // height)
                top, left = (h0 - crop_h) // 2, (w0 - crop_w) // 2
                box = (left, top, left + crop_w, top + crop_h)
            img = img.resize((width, height), resample, box=box)
    return img


def img_to_array(img: Any, data_format: str | None = None, dtype: str | None = None) -> np.ndarray:
    """A Pillow image as a 3-D NumPy array (``floatx`` unless ``dtype``), channels where ``data_format`` says."""
    data_format = _data_format(data_format)
    x = np.asarray(img, dtype=dtype or config.floatx())
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if data_format == "channels_first" else x
    if x.ndim == 2:
        return x.reshape((1, *x.shape)) if data_format == "channels_first" else x.reshape((*x.shape, 1))
    raise ValueError(f"Unsupported image shape: {x.shape}")


def array_to_img(x: Any, data_format: str | None = None, scale: bool = True, dtype: str | None = None) -> Any:
    """A 3-D array as a Pillow image; ``scale`` maps its range onto [0, 255] first."""
    image_module = _pil()
    data_format = _data_format(data_format)
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=dtype or config.floatx())
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). Got array with shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        peak = np.max(x)
        if peak != 0:
            x = x / peak
        x = x * 255
    channels = x.shape[2]
    if channels == 4:
        return image_module.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return image_module.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:
            return image_module.fromarray(x[:, :, 0].astype("int32"), "I")
        return image_module.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def save_img(path: Any, x: Any, data_format: str | None = None, file_format: str | None = None, scale: bool = True,
             **kwargs: Any) -> None:
    """Save a 3-D array as an image file (RGBA is flattened to RGB for JPEG, with a warning)."""
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and (file_format in ("jpg", "jpeg") or (
            file_format is None and str(path).lower().endswith((".jpg", ".jpeg")))):
        warnings.warn("The JPG format does not support RGBA images, converting to RGB.", stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def aspect_box(height: int, width: int, target_h: int, target_w: int, pad: bool) -> tuple[int, int, int, int]:
    """``(top, left, box_h, box_w)``: the centred window of the target's aspect ratio (cropping, or padding out)."""
    if pad:
        box_h = max(height, int(width * target_h / target_w))
        box_w = max(width, int(height * target_w / target_h))
        return (box_h - height) // 2, (box_w - width) // 2, box_h, box_w
    box_h = min(height, int(width * target_h / target_w))
    box_w = min(width, int(height * target_w / target_h))
    return (height - box_h) // 2, (width - box_w) // 2, box_h, box_w


def fit_aspect(x: np.ndarray, size: tuple[int, int], crop_to_aspect_ratio: bool = False,
               pad_to_aspect_ratio: bool = False) -> np.ndarray:
    """An ``(H, W, C)`` array cut (``crop``) or zero-padded (``pad``) to the centred window of ``size``'s ratio."""
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be `True`.")
    if not (crop_to_aspect_ratio or pad_to_aspect_ratio):
        return x
    h0, w0 = x.shape[:2]
    top, left, box_h, box_w = aspect_box(h0, w0, size[0], size[1], pad_to_aspect_ratio)
    if crop_to_aspect_ratio:
        return x[top:top + box_h, left:left + box_w]
    padded = np.zeros((box_h, box_w, x.shape[2]), dtype=x.dtype)
    padded[top:top + h0, left:left + w0] = x
    return padded


def resize_images(images: torch.Tensor, size: tuple[int, int], interpolation: str = "bilinear") -> torch.Tensor:
    """Resize a batch ``(N, H, W, C)`` of any dtype to float32 ``(N, height, width, C)``, one kernel call.

    Half-pixel centres, no antialiasing; the kernel runs on the channels_last view (no copy). Kernels torch lacks
    (lanczos, gaussian, mitchellcubic) use the closest Pillow filter, image by image.
    """
    if interpolation not in RESIZE_INTERPOLATION:
        raise ValueError(f"Argument `interpolation` should be one of {RESIZE_INTERPOLATION}. Received: "
                         f"interpolation={interpolation}")
    height, width = size
    if tuple(images.shape[1:3]) == (height, width):
        return images.float()
    if interpolation in _PIL_FALLBACK:
        image_module = _pil()
        resample = getattr(image_module.Resampling, _PIL_FALLBACK[interpolation])
        arr = images.float().numpy()
        out = [[np.asarray(image_module.fromarray(img[:, :, c], "F").resize((width, height), resample))
                for c in range(img.shape[2])] for img in arr]
        return torch.from_numpy(np.stack([np.stack(chans, axis=-1) for chans in out]).astype("float32"))
    mode = _TORCH_MODES[interpolation]
    extra = {"align_corners": False} if mode in ("bilinear", "bicubic") else {}
    out = F.interpolate(images.permute(0, 3, 1, 2).float(), size=(height, width), mode=mode, **extra)
    return out.permute(0, 2, 3, 1).contiguous()


def resize_array(x: np.ndarray, size: tuple[int, int], interpolation: str = "bilinear",
                 crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False) -> np.ndarray:
    """Resize one ``(H, W, C)`` array to ``size`` as float32 (half-pixel centres, no antialiasing).

    ``crop_to_aspect_ratio`` takes the largest centred window of the target's aspect ratio first;
    ``pad_to_aspect_ratio`` pads with zeros, centred, to that ratio instead.
    """
    if interpolation not in RESIZE_INTERPOLATION:
        raise ValueError(f"Argument `interpolation` should be one of {RESIZE_INTERPOLATION}. Received: "
                         f"interpolation={interpolation}")
    x = fit_aspect(np.asarray(x), size, crop_to_aspect_ratio, pad_to_aspect_ratio)
    return resize_images(torch.from_numpy(np.array(x))[None], size, interpolation)[0].numpy()


def smart_resize(x: Any, size: tuple[int, int], interpolation: str = "bilinear",
                 data_format: str = "channels_last", backend_module: Any = None) -> Any:
    """Resize images (3-D, or 4-D batches) to ``size`` without distorting the aspect ratio: crop, then resize."""
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    arr = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if arr.ndim not in (3, 4):
        raise ValueError(f"Expected an image array with shape `(height, width, channels)`, or "
                         f"`(batch_size, height, width, channels)`, but got input with incorrect rank, of shape "
                         f"{arr.shape}.")
    channels_first = data_format == "channels_first"
    images = arr if arr.ndim == 4 else arr[None]
    if channels_first:
        images = images.transpose(0, 2, 3, 1)
    out = np.stack([resize_array(img, size, interpolation, crop_to_aspect_ratio=True) for img in images])
    if channels_first:
        out = out.transpose(0, 3, 1, 2)
    out = out if arr.ndim == 4 else out[0]
    return torch.from_numpy(out) if isinstance(x, torch.Tensor) else out
