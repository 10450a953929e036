"""``keras.ops.image``: image operations on batched (4-D) or single (3-D) images.

Every function works on whole batches with torch kernels (gathers, grouped convolutions,
contractions), in either data format. ``resize`` follows Keras on its torch backend: torch's
half-pixel ``bilinear``/``bicubic`` kernels and ``nearest-exact`` sampling;
``crop_to_aspect_ratio`` first takes the centred window of the target aspect ratio (sizes
truncated to integers), ``pad_to_aspect_ratio`` first pads ``(missing // 2)`` pixels of
``fill_value`` on each side of the short axis. The warps (``affine_transform``,
``perspective_transform``, ``elastic_transform``, ``map_coordinates``) read 1 or 2**rank
neighbours, each mapped by ``fill_mode`` on its own, as Keras does. Integer images are
computed in float32 and rounded (half to even) back to their dtype.
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from cornu.ops.core import _tensor
from cornu.symbolic import symbolic_op
from cornu.utils import conv_utils

__all__ = ["affine_transform", "crop_images", "elastic_transform", "extract_patches", "extract_patches_3d",
           "gaussian_blur", "hsv_to_rgb", "map_coordinates", "pad_images", "perspective_transform", "resize",
           "rgb_to_grayscale", "rgb_to_hsv", "scale_and_translate", "sobel_edges", "ssim"]

FILL_MODES = ("reflect", "wrap", "constant", "nearest", "mirror")
INTERPOLATIONS = ("nearest", "bilinear")

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


def _images(images: Any, name: str = "images") -> torch.Tensor:
    """``images`` as a tensor of rank 3 or 4 (Keras's rank error otherwise)."""
    x = _tensor(images)
    if x.ndim not in (3, 4):
        raise ValueError("Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
                         f"Received input with shape: {name}.shape={tuple(x.shape)}")
    return x


def _nchw(x: torch.Tensor, data_format: str) -> tuple[torch.Tensor, bool]:
    """A rank-3 or rank-4 image tensor as an NCHW batch, and whether it was a single image."""
    single = x.ndim == 3
    x = x.unsqueeze(0) if single else x
    return conv_utils.to_channels_first(x, data_format), single


def _restore(y: torch.Tensor, data_format: str, single: bool) -> torch.Tensor:
    y = conv_utils.to_channels_last(y, data_format)
    return y[0] if single else y


def _check_float(x: torch.Tensor) -> None:
    if not x.dtype.is_floating_point:
        raise ValueError(f"Invalid images dtype: expected float dtype. Received: images.dtype={_dtype_name(x)}")


def _dtype_name(x: torch.Tensor) -> str:
    return str(x.dtype).replace("torch.", "")


def _channel_axis(x: torch.Tensor, data_format: str) -> int:
    return -1 if data_format == "channels_last" else -3


def _check_rgb(x: torch.Tensor, axis: int, expected: str = "expected 3 (RGB)") -> None:
    if x.shape[axis] != 3:
        raise ValueError(f"Invalid channel size: {expected}. Received input with shape: "
                         f"images.shape={tuple(x.shape)}")


@symbolic_op
def rgb_to_grayscale(images: Any, data_format: str | None = None) -> torch.Tensor:
    """ITU-R 601 luma ``0.2989 R + 0.587 G + 0.114 B``, keeping a channel axis of size 1 and the dtype."""
    data_format = conv_utils.normalize_data_format(data_format)
    x = _images(images)
    axis = _channel_axis(x, data_format)
    if x.shape[axis] == 1:
        return x
    _check_rgb(x, axis, "expected 3 (RGB) or 1 (Grayscale)")
    work = x if x.dtype.is_floating_point else x.to(torch.float32)
    weights = torch.tensor([0.2989, 0.5870, 0.1140], dtype=work.dtype, device=x.device)
    shape = [1] * x.ndim
    shape[axis] = 3
    y = (work * weights.reshape(shape)).sum(dim=axis, keepdim=True)
    return y if y.dtype == x.dtype else y.to(x.dtype)


@symbolic_op
def rgb_to_hsv(images: Any, data_format: str | None = None) -> torch.Tensor:
    """RGB in ``[0, 1]`` to HSV, every component in ``[0, 1]`` (float images only)."""
    data_format = conv_utils.normalize_data_format(data_format)
    x = _images(images)
    _check_float(x)
    axis = _channel_axis(x, data_format)
    _check_rgb(x, axis)
    r, g, b = x.unbind(axis)
    value = torch.maximum(torch.maximum(r, g), b)
    span = value - torch.minimum(torch.minimum(r, g), b)
    grey = span == 0
    safe_span = torch.where(grey, torch.ones_like(span), span)
    saturation = torch.where(value > 0, span / torch.where(value > 0, value, torch.ones_like(value)),
                             torch.zeros_like(value))
    hue = torch.where(value == r, (g - b) / safe_span,
                      torch.where(value == g, 2.0 + (b - r) / safe_span, 4.0 + (r - g) / safe_span))
    hue = torch.where(grey, torch.zeros_like(hue), torch.remainder(hue / 6.0, 1.0))
    return torch.stack([hue, saturation, value], dim=axis)


@symbolic_op
def hsv_to_rgb(images: Any, data_format: str | None = None) -> torch.Tensor:
    """HSV (hue taken modulo 1) back to RGB (float images only)."""
    data_format = conv_utils.normalize_data_format(data_format)
    x = _images(images)
    _check_float(x)
    axis = _channel_axis(x, data_format)
    _check_rgb(x, axis)
    hue, saturation, value = x.unbind(axis)
    # Each channel is v - v s clip(min(k, 4 - k), 0, 1) with k = (6 h + n) mod 6, n = 5, 3, 1 for r, g, b.
    offsets = torch.tensor([5.0, 3.0, 1.0], dtype=x.dtype, device=x.device)
    k = torch.remainder(hue.unsqueeze(-1) * 6.0 + offsets, 6.0)
    weight = torch.clamp(torch.minimum(k, 4.0 - k), 0.0, 1.0)
    rgb = value.unsqueeze(-1) - (value * saturation).unsqueeze(-1) * weight
    return rgb if axis == -1 else rgb.movedim(-1, axis)


def _gaussian_kernel(size: int, sigma, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """The normalised 1-D Gaussian of ``size`` taps centred on the middle one."""
    t = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    k = torch.exp(-(t ** 2) / (2.0 * torch.as_tensor(sigma, dtype=dtype, device=device) ** 2))
    return k / k.sum()


@symbolic_op
def gaussian_blur(images: Any, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format: str | None = None) -> torch.Tensor:
    """Depthwise Gaussian blur, zero padded to keep the image size.

    As Keras computes it, ``kernel_size[0]`` and ``sigma[0]`` shape the kernel along the width and
    ``kernel_size[1]``, ``sigma[1]`` along the height (the two agree for the usual square kernels);
    unlike Keras's torch backend, non-square kernels keep the output the size of the input.
    """
    data_format = conv_utils.normalize_data_format(data_format)
    kernel_size = conv_utils.normalize_tuple(kernel_size, 2, "kernel_size")
    sigma = tuple(sigma) if isinstance(sigma, (tuple, list)) else (sigma, sigma)
    if len(sigma) != 2:
        raise ValueError(f"Expected `sigma` to be a number or a pair of numbers. Received: sigma={sigma}")
    x, single = _nchw(_images(images), data_format)
    work = x if x.dtype.is_floating_point else x.to(torch.float32)
    kx = _gaussian_kernel(kernel_size[0], sigma[0], work.dtype, x.device)
    ky = _gaussian_kernel(kernel_size[1], sigma[1], work.dtype, x.device)
    y = _depthwise_same(work, torch.outer(ky, kx))
    if not x.dtype.is_floating_point:
        y = torch.round(y).to(x.dtype)
    return _restore(y, data_format, single)


def _depthwise_same(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Every channel of an NCHW batch correlated with one 2-D kernel, zero padded to keep the size."""
    c = x.shape[1]
    kh, kw = kernel.shape
    x = F.pad(x, ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2))
    return F.conv2d(x, kernel.expand(c, 1, kh, kw), groups=c)


def fix_index(i: torch.Tensor, n: int, fill_mode: str) -> torch.Tensor:
    """Integer indices outside ``[0, n)`` brought inside by ``fill_mode`` (constant: clamped, masked by the caller).

    ``reflect``: (d c b a | a b c d | d c b a); ``mirror``: (d c b | a b c d | c b a); ``wrap``:
    (a b c d | a b c d); ``nearest`` and ``constant``: the edge pixel.
    """
    if fill_mode == "wrap":
        return torch.remainder(i, n)
    if fill_mode == "reflect":
        period = 2 * n
        r = torch.remainder(i, period)
        return torch.where(r >= n, period - 1 - r, r)
    if fill_mode == "mirror" and n > 1:
        s = n - 1
        return torch.abs(torch.remainder(i + s, 2 * s) - s)
    return i.clamp(0, n - 1)


def interpolate(read, coords: list[torch.Tensor], sizes: list[int], order: int, fill_mode: str,
                fill_value: float) -> torch.Tensor:
    """Sample at float ``coords`` (one tensor per axis): ``read(indices)`` gathers values at integer indices.

    Each neighbour (1 for ``order=0``, rounding half to even; ``2**len(coords)`` for ``order=1``)
    has its indices mapped by ``fill_mode`` on its own; ``constant`` gives outside neighbours ``fill_value``.
    """
    if order == 0:
        corners = [[(torch.round(c).long(), None)] for c in coords]
    else:
        corners = []
        for c in coords:
            low = torch.floor(c)
            frac = c - low
            low = low.long()
            corners.append([(low, 1 - frac), (low + 1, frac)])
    total = None
    for choice in _product(corners):
        indices = [fix_index(i, n, fill_mode) for (i, _), n in zip(choice, sizes)]
        values = read(indices)
        if fill_mode == "constant":
            inside = None
            for (i, _), n in zip(choice, sizes):
                ok = (i >= 0) & (i < n)
                inside = ok if inside is None else inside & ok
            values = torch.where(_expand_like(inside, values), values, torch.full_like(values, float(fill_value)))
        for _, weight in choice:
            if weight is not None:
                values = values * _expand_like(weight, values)
        total = values if total is None else total + values
    return total


def _product(options: list[list]) -> list[tuple]:
    combos: list[tuple] = [()]
    for axis in options:
        combos = [c + (o,) for c in combos for o in axis]
    return combos


def _expand_like(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``t`` (the sampled positions' shape) broadcast against ``like`` (positions with a channel axis at 1 in NCHW)."""
    if t.ndim == like.ndim:
        return t
    return t.unsqueeze(1)


def sample_nchw(x: torch.Tensor, src_x: torch.Tensor, src_y: torch.Tensor, interpolation: str = "bilinear",
                fill_mode: str = "constant", fill_value: float = 0.0) -> torch.Tensor:
    """Resample an NCHW batch: output pixel ``[n, :, i, j]`` reads input position ``(src_y, src_x)[n, i, j]``."""
    n, c, h, w = x.shape
    work = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    flat = x.to(work).reshape(n, c, h * w)
    out_shape = src_x.shape[1:]
    size = out_shape.numel()

    def read(indices: list[torch.Tensor]) -> torch.Tensor:
        iy, ix = indices
        index = (iy * w + ix).reshape(n, 1, size).expand(n, c, size)
        return torch.gather(flat, 2, index).reshape(n, c, *out_shape)

    order = 0 if interpolation == "nearest" else 1
    out = interpolate(read, [src_y.to(work), src_x.to(work)], [h, w], order, fill_mode, fill_value)
    return _cast_back(out, x.dtype)


def _cast_back(y: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A float result in the input's dtype: integers rounded half to even and clipped to their range."""
    if dtype.is_floating_point:
        return y.to(dtype)
    if dtype == torch.bool:
        return y != 0
    info = torch.iinfo(dtype)
    return torch.round(y).clamp(info.min, info.max).to(dtype)


def _check_sampling(interpolation: str, fill_mode: str) -> None:
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"Invalid value for argument `interpolation`. Expected of one {set(INTERPOLATIONS)}. "
                         f"Received: interpolation={interpolation}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Invalid value for argument `fill_mode`. Expected of one {set(FILL_MODES)}. "
                         f"Received: fill_mode={fill_mode}")


@symbolic_op
def affine_transform(images: Any, transform: Any, interpolation: str = "bilinear", fill_mode: str = "constant",
                     fill_value: float = 0, data_format: str | None = None) -> torch.Tensor:
    """Warp images by ``[a0, a1, a2, b0, b1, b2, c0, c1]`` rows taking output (x, y) to input (x', y').

    ``x' = a0 x + a1 y + a2``, ``y' = b0 x + b1 y + b2`` (x: column, y: row, pixel centres at integers);
    as on Keras's non-TensorFlow backends, ``c0`` and ``c1`` are ignored.
    """
    data_format = conv_utils.normalize_data_format(data_format)
    _check_sampling(interpolation, fill_mode)
    x = _images(images)
    t = _tensor(transform)
    if t.ndim not in (1, 2):
        raise ValueError("Invalid transform rank: expected rank 1 (single transform) or rank 2 (batch of "
                         f"transforms). Received input with shape: transform.shape={tuple(t.shape)}")
    x, single = _nchw(x, data_format)
    t = t.reshape(-1, 8).to(device=x.device)
    return _restore(warp_affine(x, t[:, :6].reshape(-1, 2, 3), interpolation, fill_mode, fill_value),
                    data_format, single)


def affine_sources(x: torch.Tensor, matrices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``(n, h, w)`` input columns and rows that ``warp_affine`` reads for each output pixel of ``x``."""
    n, _, h, w = x.shape
    work = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    m = matrices.to(device=x.device, dtype=work).expand(n, 2, 3)
    rows = torch.arange(h, device=x.device, dtype=work)[:, None]
    cols = torch.arange(w, device=x.device, dtype=work)
    src_x = m[:, 0, 0, None, None] * cols + m[:, 0, 1, None, None] * rows + m[:, 0, 2, None, None]
    src_y = m[:, 1, 0, None, None] * cols + m[:, 1, 1, None, None] * rows + m[:, 1, 2, None, None]
    return src_x, src_y


def warp_affine(x: torch.Tensor, matrices: torch.Tensor, interpolation: str = "bilinear",
                fill_mode: str = "constant", fill_value: float = 0.0) -> torch.Tensor:
    """Resample an NCHW batch: output pixel (col, row) reads input ``matrices[n] @ (col, row, 1)`` ((n|1, 2, 3))."""
    if _grid_samples(x, interpolation, fill_mode):
        n, _, h, w = x.shape
        work = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
        # grid_sample reads input pixel p at (2 p + 1) / size - 1: each matrix row scaled by 2 / size and
        # shifted (in float64, then cast), applied to pixel coordinates. Each coordinate plane is one
        # broadcast add of a row term and a column term, written into a (n, 2, h, w) buffer viewed as
        # grid_sample's (n, h, w, 2): on CPU several times faster than F.affine_grid's batched
        # (h w, 3) @ (3, 2) matmul or an interleaving stack.
        m = matrices.to(device=x.device, dtype=torch.float64).expand(n, 2, 3)
        cols = torch.arange(w, device=x.device, dtype=work)
        rows = torch.arange(h, device=x.device, dtype=work)
        planes = torch.empty((n, 2, h, w), device=x.device, dtype=work)
        for k, size in enumerate((w, h)):
            t = (m[:, k] * (2.0 / size)).to(work)
            shift = (m[:, k, 2] * (2.0 / size) + (1.0 / size - 1.0)).to(work)
            row_term = t[:, 1, None] * rows + shift[:, None]
            torch.add(row_term[:, :, None], t[:, 0, None, None] * cols, out=planes[:, k])
        return _grid_sample(x, planes.permute(0, 2, 3, 1), fill_mode, fill_value)
    return sample_nchw(x, *affine_sources(x, matrices), interpolation, fill_mode, fill_value)


_GRID_PADDING = {"constant": "zeros", "reflect": "reflection", "nearest": "border"}


def _grid_samples(x: torch.Tensor, interpolation: str, fill_mode: str) -> bool:
    """Whether one ``grid_sample`` computes Keras's numbers: bilinear reads with ``fill_mode`` applied per neighbour.

    Per-neighbour ``reflect`` (half-sample symmetric) equals reflecting the coordinate about the
    outer pixel edges, ``nearest`` equals clamping it, and ``constant`` equals zero padding of
    ``x - fill_value``. ``wrap``, ``mirror``, ``nearest`` interpolation and integer images (whose results
    are rounded, so a last-bit difference can move a tie) keep the gathers.
    """
    return interpolation == "bilinear" and fill_mode in _GRID_PADDING and x.dtype.is_floating_point


def _grid_sample(x: torch.Tensor, grid: torch.Tensor, fill_mode: str, fill_value: float) -> torch.Tensor:
    """Bilinear ``grid_sample`` of an NCHW batch (half-pixel normalised ``grid``) with Keras's ``fill_mode``."""
    work = grid.dtype
    xw = x if x.dtype == work else x.to(work)
    shift = fill_mode == "constant" and fill_value != 0
    if shift:
        xw = xw - fill_value
    y = F.grid_sample(xw, grid, mode="bilinear", padding_mode=_GRID_PADDING[fill_mode], align_corners=False)
    if shift:
        y = y + fill_value
    return _cast_back(y, x.dtype)


@symbolic_op
def map_coordinates(inputs: Any, coordinates: Any, order: int, fill_mode: str = "constant",
                    fill_value: float = 0) -> torch.Tensor:
    """Sample ``inputs`` at ``coordinates`` (one array per input axis, all of the output's shape)."""
    x = _tensor(inputs)
    if isinstance(coordinates, (list, tuple)):
        coords = [_tensor(c, device=x.device) for c in coordinates]
    else:
        c = _tensor(coordinates, device=x.device)
        coords = list(c.unbind(0)) if c.ndim else [c]
    if len(coords) != x.ndim:
        raise ValueError("First dim of `coordinates` must be the same as the rank of `inputs`. "
                         f"Received inputs with shape: {tuple(x.shape)} and coordinate leading dim of {len(coords)}")
    if order not in (0, 1):
        raise NotImplementedError(f"map_coordinates currently requires order<=1. Received: order={order}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Invalid value for argument `fill_mode`. Expected one of {set(FILL_MODES)}. "
                         f"Received: fill_mode={fill_mode}")
    work = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    flat = x.to(work).reshape(-1)
    sizes = list(x.shape)
    strides = [1] * len(sizes)
    for axis in range(len(sizes) - 2, -1, -1):
        strides[axis] = strides[axis + 1] * sizes[axis + 1]
    coords = [c.to(work) for c in torch.broadcast_tensors(*coords)]

    def read(indices: list[torch.Tensor]) -> torch.Tensor:
        index = sum(i * s for i, s in zip(indices, strides))
        return flat[index]

    return _cast_back(interpolate(read, coords, sizes, order, fill_mode, fill_value), x.dtype)


def _edges(size: int, start, end, target, names: tuple[str, str, str]) -> tuple[int, int]:
    """Keras's reading of two of (start, end, target) along one axis: the (start, end) amounts."""
    if sum(v is not None for v in (start, end, target)) != 2:
        raise ValueError(f"Must specify exactly two of {', '.join(names)}. Received: {names[0]}={start}, "
                         f"{names[1]}={end}, {names[2]}={target}")
    return start, end


def _image_rank(x: torch.Tensor) -> None:
    if x.ndim not in (3, 4):
        raise ValueError("Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
                         f"Received: images.shape={tuple(x.shape)}")


@symbolic_op
def crop_images(images: Any, top_cropping=None, left_cropping=None, bottom_cropping=None, right_cropping=None,
                target_height=None, target_width=None, data_format: str | None = None) -> torch.Tensor:
    """Crop rows and columns off the edges; two of (top, bottom, target height) and of (left, right, width)."""
    data_format = conv_utils.normalize_data_format(data_format)
    x = _tensor(images)
    _image_rank(x)
    x, single = _nchw(x, data_format)
    h, w = x.shape[-2], x.shape[-1]
    top, bottom = _edges(h, top_cropping, bottom_cropping, target_height,
                         ("top_cropping", "bottom_cropping", "target_height"))
    left, right = _edges(w, left_cropping, right_cropping, target_width,
                         ("left_cropping", "right_cropping", "target_width"))
    if top is None:
        top = h - bottom - target_height
    if left is None:
        left = w - right - target_width
    target_height = h - top - bottom if target_height is None else target_height
    target_width = w - left - right if target_width is None else target_width
    for name, value in (("top_cropping", top), ("left_cropping", left), ("target_height", target_height),
                        ("target_width", target_width)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
    y = x[..., top:top + target_height, left:left + target_width]
    return _restore(y, data_format, single)


@symbolic_op
def pad_images(images: Any, top_padding=None, left_padding=None, bottom_padding=None, right_padding=None,
               target_height=None, target_width=None, data_format: str | None = None) -> torch.Tensor:
    """Zero-pad rows and columns; two of (top, bottom, target height) and of (left, right, target width)."""
    data_format = conv_utils.normalize_data_format(data_format)
    x = _tensor(images)
    _image_rank(x)
    x, single = _nchw(x, data_format)
    h, w = x.shape[-2], x.shape[-1]
    top, bottom = _edges(h, top_padding, bottom_padding, target_height,
                         ("top_padding", "bottom_padding", "target_height"))
    left, right = _edges(w, left_padding, right_padding, target_width,
                         ("left_padding", "right_padding", "target_width"))
    top = target_height - h - bottom if top is None else top
    bottom = target_height - h - top if bottom is None else bottom
    left = target_width - w - right if left is None else left
    right = target_width - w - left if right is None else right
    for name, value in (("top_padding", top), ("bottom_padding", bottom), ("left_padding", left),
                        ("right_padding", right)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
    return _restore(F.pad(x, (left, right, top, bottom)), data_format, single)


def _patches(x: torch.Tensor, size: tuple, strides: tuple, dilation: tuple, padding: str) -> torch.Tensor:
    """Patches of an NC+spatial batch as (N, prod(size) * C, *out): features ordered (taps..., channel)."""
    spatial = len(size)
    if padding == "same":
        flat: list[int] = []
        for i in reversed(range(spatial)):
            flat += list(conv_utils.same_pads(x.shape[2 + i], size[i], strides[i], dilation[i]))
        x = F.pad(x, flat)
    outs = [(x.shape[2 + i] - (size[i] - 1) * dilation[i] - 1) // strides[i] + 1 for i in range(spatial)]
    taps = []
    for offsets in _product([list(range(k)) for k in size]):
        index = tuple(slice(o * d, o * d + (n - 1) * s + 1, s) for o, d, n, s in zip(offsets, dilation, outs, strides))
        taps.append(x[(slice(None), slice(None)) + index])
    y = torch.stack(taps, dim=1)  # (N, taps, C, *out)
    return y.reshape(y.shape[0], -1, *y.shape[3:])


def _extract(images: Any, size, strides, dilation_rate, padding: str, data_format: str | None,
             spatial: int) -> torch.Tensor:
    data_format = conv_utils.normalize_data_format(data_format)
    padding = conv_utils.normalize_padding(padding)
    x = _tensor(images)
    if x.ndim not in (spatial + 1, spatial + 2):
        kind = "image" if spatial == 2 else "volume"
        raise ValueError(f"Invalid {kind}s rank: expected rank {spatial + 1} (single {kind}) or rank {spatial + 2} "
                         f"(batch of {kind}s). Received input with shape: {kind}s.shape={tuple(x.shape)}")
    size = conv_utils.normalize_tuple(size, spatial, "size")
    strides = size if strides is None else conv_utils.normalize_tuple(strides, spatial, "strides")
    dilation = conv_utils.normalize_tuple(dilation_rate, spatial, "dilation_rate")
    single = x.ndim == spatial + 1
    x = conv_utils.to_channels_first(x.unsqueeze(0) if single else x, data_format)
    return _restore(_patches(x, size, strides, dilation, padding), data_format, single)


@symbolic_op
def extract_patches(images: Any, size, strides=None, dilation_rate=1, padding: str = "valid",
                    data_format: str | None = None) -> torch.Tensor:
    """Patches of ``size`` as the channel axis, ordered (row, column, channel); a 3-tuple ``size`` means volumes."""
    if isinstance(size, (tuple, list)) and len(size) == 3:
        return extract_patches_3d(images, size, strides, dilation_rate, padding, data_format)
    return _extract(images, size, strides, dilation_rate, padding, data_format, 2)


@symbolic_op
def extract_patches_3d(volumes: Any, size, strides=None, dilation_rate=1, padding: str = "valid",
                       data_format: str | None = None) -> torch.Tensor:
    """Patches of volumes (rank 4 or 5) as the channel axis, ordered (depth, row, column, channel)."""
    return _extract(volumes, size, strides, dilation_rate, padding, data_format, 3)


@symbolic_op
def sobel_edges(images: Any, data_format: str | None = None) -> torch.Tensor:
    """The zero-padded 3x3 Sobel gradients ``[dy, dx]`` of every channel, stacked on a new last axis."""
    data_format = conv_utils.normalize_data_format(data_format)
    x, single = _nchw(_images(images), data_format)
    work = x if x.dtype.is_floating_point else x.to(torch.float32)
    smooth = torch.tensor([1.0, 2.0, 1.0], dtype=work.dtype, device=x.device)
    diff = torch.tensor([-1.0, 0.0, 1.0], dtype=work.dtype, device=x.device)
    dy = _depthwise_same(work, torch.outer(diff, smooth))
    dx = _depthwise_same(work, torch.outer(smooth, diff))
    y = torch.stack([_restore(dy, data_format, single), _restore(dx, data_format, single)], dim=-1)
    return y if y.dtype == x.dtype else y.to(x.dtype)


@symbolic_op
def ssim(image1: Any, image2: Any, max_val: float = 1.0, filter_size: int = 11, filter_sigma: float = 1.5,
         k1: float = 0.01, k2: float = 0.03, data_format: str | None = None) -> torch.Tensor:
    """Structural similarity (Wang et al. 2004) with a Gaussian window (valid positions), one value per image."""
    data_format = conv_utils.normalize_data_format(data_format)
    a, single = _nchw(_images(image1, "image1"), data_format)
    b, _ = _nchw(_images(image2, "image2"), data_format)
    if a.shape != b.shape:
        raise ValueError("`image1` and `image2` must have the same shape. "
                         f"Received: image1.shape={tuple(a.shape)}, image2.shape={tuple(b.shape)}")
    dtype = a.dtype
    work = dtype if dtype in (torch.float32, torch.float64) else torch.float32
    a, b = a.to(work), b.to(work)
    k = _gaussian_kernel(filter_size, filter_sigma, work, a.device)
    kernel = torch.outer(k, k).expand(a.shape[1], 1, filter_size, filter_size)

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, kernel, groups=t.shape[1])

    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mu1, mu2 = blur(a), blur(b)
    var1 = blur(a * a) - mu1 * mu1
    var2 = blur(b * b) - mu2 * mu2
    cov = blur(a * b) - mu1 * mu2
    value = ((2 * mu1 * mu2 + c1) * (2 * cov + c2)) / ((mu1 * mu1 + mu2 * mu2 + c1) * (var1 + var2 + c2))
    out = value.mean(dim=(1, 2, 3)).to(dtype)
    return out[0] if single else out


def _points(points: Any, name: str, device: torch.device) -> torch.Tensor:
    p = _tensor(points, device=device)
    if tuple(p.shape[-2:]) != (4, 2) or p.ndim not in (2, 3):
        raise ValueError(f"Invalid {name} shape: expected (4,2) for a single image or (N,4,2) for a batch. "
                         f"Received shape: {tuple(p.shape)}")
    return p.reshape(-1, 4, 2).to(torch.float64)


def homographies(start_points: torch.Tensor, end_points: torch.Tensor) -> torch.Tensor:
    """``(n, 8)`` rows ``[a0, a1, a2, b0, b1, b2, c0, c1]`` mapping each end point to its start point."""
    xe, ye = end_points[..., 0], end_points[..., 1]
    xs, ys = start_points[..., 0], start_points[..., 1]
    one, zero = torch.ones_like(xe), torch.zeros_like(xe)
    rows_x = torch.stack([xe, ye, one, zero, zero, zero, -xe * xs, -ye * xs], -1)
    rows_y = torch.stack([zero, zero, zero, xe, ye, one, -xe * ys, -ye * ys], -1)
    a = torch.cat([rows_x, rows_y], dim=-2)
    b = torch.cat([xs, ys], dim=-1)
    return torch.linalg.solve_ex(a, b)[0]  # no error check: that would wait for the device


def warp_projective(x: torch.Tensor, transforms: torch.Tensor, interpolation: str = "bilinear",
                    fill_mode: str = "constant", fill_value: float = 0.0) -> torch.Tensor:
    """Resample an NCHW batch through ``(n|1, 8)`` projective rows (output pixel to input position)."""
    n, _, h, w = x.shape
    work = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    t = transforms.to(device=x.device, dtype=work).expand(n, 8)
    rows = torch.arange(h, device=x.device, dtype=work)[:, None]
    cols = torch.arange(w, device=x.device, dtype=work)

    def plane(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        value = a[:, None, None] * cols + b[:, None, None] * rows
        return value + (1.0 if c is None else c[:, None, None])

    k = plane(t[:, 6], t[:, 7], None)
    src_x = plane(t[:, 0], t[:, 1], t[:, 2]) / k
    src_y = plane(t[:, 3], t[:, 4], t[:, 5]) / k
    if _grid_samples(x, interpolation, fill_mode):
        planes = torch.empty((n, 2, h, w), device=x.device, dtype=work)  # viewed as the (n, h, w, 2) grid
        torch.add(src_x * (2.0 / w), 1.0 / w - 1.0, out=planes[:, 0])
        torch.add(src_y * (2.0 / h), 1.0 / h - 1.0, out=planes[:, 1])
        return _grid_sample(x, planes.permute(0, 2, 3, 1), fill_mode, fill_value)
    return sample_nchw(x, src_x, src_y, interpolation, fill_mode, fill_value)


@symbolic_op
def perspective_transform(images: Any, start_points: Any, end_points: Any, interpolation: str = "bilinear",
                          fill_value: float = 0, data_format: str | None = None) -> torch.Tensor:
    """Warp images so that each of the 4 ``start_points`` (x, y) lands on its ``end_points`` counterpart."""
    data_format = conv_utils.normalize_data_format(data_format)
    _check_sampling(interpolation, "constant")
    x, single = _nchw(_images(images), data_format)
    start = _points(start_points, "start_points", x.device)
    end = _points(end_points, "end_points", x.device)
    y = warp_projective(x, homographies(start, end), interpolation, "constant", fill_value)
    return _restore(y, data_format, single)


def elastic_warp(x: torch.Tensor, alpha, sigma, generator: torch.Generator | None, interpolation: str = "bilinear",
                 fill_mode: str = "reflect", fill_value: float = 0.0, max_sigma: float | None = None) -> torch.Tensor:
    """Displace every pixel of an NCHW batch by ``alpha * sigma`` times Gaussian-smoothed N(0, 1) noise.

    Smoothing white noise with a normalised Gaussian of width ``sigma`` divides its spread by about
    ``2 sqrt(pi) sigma``; the ``sigma`` factor keeps the displacement's spread near ``0.28 alpha``
    pixels whatever the smoothness, as Keras's does. ``alpha`` and ``sigma`` may be one value per
    image, ``(n,)`` tensors (then ``max_sigma`` bounds ``sigma`` and sets the kernel's length);
    per-image kernels run as one grouped convolution.
    """
    n, _, h, w = x.shape
    work = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    noise = torch.randn((n, 2, h, w), generator=generator, device=x.device, dtype=work)
    bound = float(sigma) if max_sigma is None else float(max_sigma)
    size = 2 * math.ceil(3 * bound) + 1
    sigmas = torch.as_tensor(sigma, dtype=work, device=x.device).reshape(-1, 1).expand(n, 1).clamp(min=1e-3)
    t = torch.arange(size, dtype=work, device=x.device) - (size - 1) / 2
    k = torch.exp(-(t ** 2) / (2 * sigmas ** 2))
    k = k / k.sum(dim=1, keepdim=True)  # (n, size)
    weight = (k[:, :, None] * k[:, None, :])[:, None].expand(n, 2, size, size).reshape(2 * n, 1, size, size)
    pad = (size - 1) // 2
    field = F.conv2d(F.pad(noise.reshape(1, 2 * n, h, w), (pad, pad, pad, pad)), weight, groups=2 * n)
    scale = torch.as_tensor(alpha, dtype=work, device=x.device).reshape(-1, 1, 1, 1) * sigmas.reshape(n, 1, 1, 1)
    field = field.reshape(n, 2, h, w) * scale
    rows = torch.arange(h, device=x.device, dtype=work)[:, None]
    cols = torch.arange(w, device=x.device, dtype=work)
    return sample_nchw(x, cols + field[:, 1], rows + field[:, 0], interpolation, fill_mode, fill_value)


@symbolic_op
def elastic_transform(images: Any, alpha: float = 20.0, sigma: float = 5.0, interpolation: str = "bilinear",
                      fill_mode: str = "reflect", fill_value: float = 0.0, seed=None,
                      data_format: str | None = None) -> torch.Tensor:
    """Random elastic deformation (Simard et al. 2003): one smooth random displacement field per image."""
    from cornu.random import _generator

    data_format = conv_utils.normalize_data_format(data_format)
    _check_sampling(interpolation, fill_mode)
    x, single = _nchw(_images(images), data_format)
    y = elastic_warp(x, alpha, sigma, _generator(seed, x.device), interpolation, fill_mode, fill_value)
    return _restore(y, data_format, single)


def _triangle(t: torch.Tensor) -> torch.Tensor:
    return torch.clamp(1.0 - t, min=0.0)


def _keys_cubic(t: torch.Tensor) -> torch.Tensor:
    """Keys's cubic convolution kernel with a = -0.5."""
    near = (1.5 * t - 2.5) * t * t + 1.0
    far = ((-0.5 * t + 2.5) * t - 4.0) * t + 2.0
    return torch.where(t >= 2.0, torch.zeros_like(t), torch.where(t >= 1.0, far, near))


def _lanczos(radius: int):
    def kernel(t: torch.Tensor) -> torch.Tensor:
        y = radius * torch.sin(math.pi * t) * torch.sin(math.pi * t / radius)
        out = torch.where(t > 1e-3, y / torch.where(t > 1e-3, (math.pi * t) ** 2, torch.ones_like(t)),
                          torch.ones_like(t))
        return torch.where(t > radius, torch.zeros_like(t), out)
    return kernel


_SCALE_KERNELS = {"linear": _triangle, "bilinear": _triangle, "trilinear": _triangle, "triangle": _triangle,
                  "cubic": _keys_cubic, "bicubic": _keys_cubic, "tricubic": _keys_cubic,
                  "lanczos3": _lanczos(3), "lanczos5": _lanczos(5)}


def _scale_weights(in_size: int, out_size: int, scale: torch.Tensor, translation: torch.Tensor, kernel,
                   antialias: bool) -> torch.Tensor:
    """``(in_size, out_size)`` resampling weights along one axis (half-pixel centres, zero outside)."""
    dtype = scale.dtype
    inv_scale = 1.0 / scale
    sample = (torch.arange(out_size, dtype=dtype, device=scale.device) + 0.5 - translation) * inv_scale - 0.5
    kernel_scale = torch.clamp(inv_scale, min=1.0) if antialias else torch.ones_like(inv_scale)
    distance = torch.abs(sample[None, :] - torch.arange(in_size, dtype=dtype, device=scale.device)[:, None])
    weights = kernel(distance / kernel_scale)
    total = weights.sum(dim=0, keepdim=True)
    eps = torch.finfo(torch.float32).eps
    weights = torch.where(torch.abs(total) > 1000.0 * eps,
                          weights / torch.where(total != 0, total, torch.ones_like(total)), torch.zeros_like(weights))
    inside = (sample >= -0.5) & (sample <= in_size - 0.5)
    return torch.where(inside[None, :], weights, torch.zeros_like(weights))


@symbolic_op
def scale_and_translate(images: Any, output_shape, scale, translation, spatial_dims, method: str,
                        antialias: bool = True) -> torch.Tensor:
    """Resample ``spatial_dims`` of ``images``: input ``(y, x)`` lands on ``(y * scale + translation)``.

    Pixel centres sit at half-integers; each axis is one weight matrix of the ``method`` kernel
    (widened by ``1 / scale`` when ``antialias`` and downsampling), applied by a tensor contraction.
    """
    if method not in _SCALE_KERNELS:
        raise ValueError(f"Invalid value for argument `method`. Expected one of {sorted(_SCALE_KERNELS)}. "
                         f"Received: method={method}")
    x = _tensor(images)
    work = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    y = x.to(work)
    spatial_dims = [int(d) % x.ndim for d in spatial_dims]
    scale = _tensor(scale, device=x.device).to(work).reshape(-1)
    translation = _tensor(translation, device=x.device).to(work).reshape(-1)
    output_shape = tuple(int(d) for d in output_shape)
    for i, axis in enumerate(spatial_dims):
        weights = _scale_weights(x.shape[axis], output_shape[axis], scale[i], translation[i], _SCALE_KERNELS[method],
                                 bool(antialias))
        y = torch.tensordot(y.movedim(axis, -1), weights, dims=1).movedim(-1, axis)
    return y if y.dtype == x.dtype else _cast_back(y, x.dtype)
