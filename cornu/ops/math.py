"""``keras.ops.math`` functions: logsumexp, top-k, segments, FFTs and short-time Fourier transforms."""
from __future__ import annotations

from typing import Any

import torch

from cornu import config
from cornu.ops.core import _tensor, symbolic_op
from cornu.ops.numpy import _as_float, _common, _dims


@symbolic_op
def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """``log(sum(exp(x)))`` over ``axis``, computed stably."""
    t = _as_float(x)
    dims = _dims(t, axis)
    return torch.logsumexp(t, dim=dims, keepdim=keepdims) if dims else t


@symbolic_op
def top_k(x: Any, k: int, sorted: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` largest entries of the last axis and their indices (int64, as Keras on torch returns)."""
    t = _tensor(x)
    if not 0 <= k <= t.shape[-1]:
        raise ValueError(f"`k` must be in [0, {t.shape[-1]}] for last axis size {t.shape[-1]}. "
                         f"Received: k={k}")
    return torch.topk(t, k, dim=-1, largest=True, sorted=sorted)  # (values, indices), as Keras on torch


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


def _segment_reduce(data: Any, segment_ids: Any, num_segments: int | None, reduce: str,
                    empty: Any) -> torch.Tensor:
    """Reduce the rows of ``data`` sharing a segment id; segments without rows hold ``empty``."""
    t, ids, n = _segments(data, segment_ids, num_segments)
    out = torch.full((n,) + tuple(t.shape[1:]), empty, dtype=t.dtype, device=t.device)
    index = ids.reshape((-1,) + (1,) * (t.ndim - 1)).expand_as(t)
    return out.scatter_reduce(0, index, t, reduce=reduce, include_self=True)


def _extreme(t: torch.Tensor, high: bool) -> Any:
    """+-inf for floats, the integer limits otherwise."""
    if t.is_floating_point():
        return float("inf") if high else float("-inf")
    info = torch.iinfo(t.dtype)
    return info.max if high else info.min


@symbolic_op
def segment_max(data: Any, segment_ids: Any, num_segments: int | None = None,
                sorted: bool = False) -> torch.Tensor:
    """Maximum over the rows of ``data`` sharing a segment id (``-inf`` when empty)."""
    t = _tensor(data)
    return _segment_reduce(t, segment_ids, num_segments, "amax", _extreme(t, high=False))


@symbolic_op
def segment_min(data: Any, segment_ids: Any, num_segments: int | None = None,
                sorted: bool = False) -> torch.Tensor:
    """Minimum over the rows of ``data`` sharing a segment id (``inf`` when empty)."""
    t = _tensor(data)
    return _segment_reduce(t, segment_ids, num_segments, "amin", _extreme(t, high=True))


@symbolic_op
def segment_prod(data: Any, segment_ids: Any, num_segments: int | None = None,
                 sorted: bool = False) -> torch.Tensor:
    """Product over the rows of ``data`` sharing a segment id (1 when empty)."""
    return _segment_reduce(data, segment_ids, num_segments, "prod", 1)


@symbolic_op
def erfc(x: Any) -> torch.Tensor:
    """Element-wise complementary error function ``1 - erf(x)``, accurate for large ``x``."""
    return torch.special.erfc(_as_float(x))


@symbolic_op
def view_as_complex(x: Any) -> torch.Tensor:
    """Float tensor with a last axis of size 2 (real, imag) as a complex64 tensor (as Keras)."""
    t = _tensor(x).to(torch.float32)
    if t.ndim == 0 or t.shape[-1] != 2:
        raise ValueError("Last dimension of input must be size 2 (real and imaginary). "
                         f"Received shape: {tuple(t.shape)}")
    return torch.complex(t[..., 0], t[..., 1])


@symbolic_op
def view_as_real(x: Any) -> torch.Tensor:
    """Complex tensor as floats with a new last axis of size 2 (real, imag)."""
    t = _tensor(x)
    if not t.is_complex():
        t = t.to(torch.complex128 if t.dtype == torch.float64 else torch.complex64)
    return torch.view_as_real(t).clone()


def _complex_pair(x: Any) -> torch.Tensor:
    """Keras's ``(real, imag)`` pair of float tensors as one complex tensor."""
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError("Input `x` should be a tuple of two tensors - real and imaginary. "
                         f"Received: x={x!r}")
    real = _tensor(x[0])
    imag = _tensor(x[1], device=real.device)
    if not (real.is_floating_point() and imag.is_floating_point()):
        raise ValueError(f"At least one tensor in input `x` is not of type float. Received: x={x!r}")
    if real.shape != imag.shape:
        raise ValueError("Both the real and imaginary parts should have the same shape. "
                         f"Received: x[0].shape = {tuple(real.shape)}, x[1].shape = {tuple(imag.shape)}")
    dtype = torch.promote_types(real.dtype, imag.dtype)
    if dtype in (torch.float16, torch.bfloat16):
        dtype = torch.float32
    return torch.complex(real.to(dtype), imag.to(dtype))


def _split(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return z.real.contiguous(), z.imag.contiguous()


@symbolic_op
def fft(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """FFT along the last axis of ``x = (real, imag)``; returns ``(real, imag)``."""
    return _split(torch.fft.fft(_complex_pair(x)))


@symbolic_op
def fft2(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """2-D FFT over the last two axes of ``x = (real, imag)``; returns ``(real, imag)``."""
    return _split(torch.fft.fft2(_complex_pair(x)))


@symbolic_op
def ifft2(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse 2-D FFT over the last two axes of ``x = (real, imag)``; returns ``(real, imag)``."""
    return _split(torch.fft.ifft2(_complex_pair(x)))


@symbolic_op
def rfft(x: Any, fft_length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """FFT of a real signal along the last axis: the ``fft_length // 2 + 1`` non-negative frequencies."""
    return _split(torch.fft.rfft(_as_float(x), n=fft_length))


@symbolic_op
def irfft(x: Any, fft_length: int | None = None) -> torch.Tensor:
    """Inverse of ``rfft``: a real signal of ``fft_length`` (default ``2 * (n - 1)``) samples."""
    return torch.fft.irfft(_complex_pair(x), n=fft_length)


_WINDOWS = {"hann": torch.hann_window, "hamming": torch.hamming_window}


def _window(window: Any, sequence_length: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """The analysis window: periodic Hann/Hamming by name, an explicit array, or ones for ``None``."""
    if window is None:
        return torch.ones(sequence_length, dtype=dtype, device=device)
    if isinstance(window, str):
        if window not in _WINDOWS:
            raise ValueError('If a string is passed to `window`, it must be one of `"hann"`, `"hamming"`. '
                             f"Received: window={window}")
        return _WINDOWS[window](sequence_length, periodic=True, dtype=dtype, device=device)
    w = _tensor(window, device=device).to(dtype)
    if tuple(w.shape) != (sequence_length,):
        raise ValueError(f"The shape of `window` must be equal to [sequence_length]. "
                         f"Received: window shape={tuple(w.shape)}")
    return w


def _check_lengths(sequence_length: int, fft_length: int) -> None:
    if fft_length < sequence_length:
        raise ValueError("`fft_length` must equal or larger than `sequence_length`. "
                         f"Received: sequence_length={sequence_length}, fft_length={fft_length}")


@symbolic_op
def stft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int, window: Any = "hann",
         center: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Short-time Fourier transform of real signals (last axis) as ``(real, imag)``.

    Output shape ``(..., frames, fft_length // 2 + 1)``; with ``center`` the signal
    is reflect-padded by ``fft_length // 2`` on both sides first.
    """
    t = _tensor(x)
    if t.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"Invalid input type. Expected `float32` or `float64`. "
                        f"Received: input type={config.standardize_dtype(t.dtype)}")
    _check_lengths(sequence_length, fft_length)
    win = _window(window, sequence_length, t.dtype, t.device)
    batch = t.shape[:-1]
    z = torch.stft(t.reshape(-1, t.shape[-1]), n_fft=fft_length, hop_length=sequence_stride,
                   win_length=sequence_length, window=win, center=center, pad_mode="reflect",
                   return_complex=True)
    z = z.transpose(-1, -2)
    return _split(z.reshape(batch + z.shape[-2:]))


def _overlap_add(frames: torch.Tensor, stride: int) -> torch.Tensor:
    """Sum frames ``(..., n, size)`` placed every ``stride`` samples into one signal."""
    n, size = frames.shape[-2:]
    total = stride * (n - 1) + size
    flat = frames.reshape((-1, n, size)).transpose(1, 2)
    out = torch.nn.functional.fold(flat, (1, total), (1, size), stride=(1, stride))
    return out.reshape(frames.shape[:-2] + (total,))


def _inverse_window(win: torch.Tensor, stride: int) -> torch.Tensor:
    """``win`` over the sum of the squared windows that overlap each of its samples (periodically)."""
    size = win.shape[0]
    pad = -size % stride
    squared = torch.nn.functional.pad(win * win, (0, pad)).reshape(-1, stride).sum(0)
    return win / squared.repeat((size + pad) // stride)[:size]


@symbolic_op
def istft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int, length: int | None = None,
          window: Any = "hann", center: bool = True) -> torch.Tensor:
    """Inverse of ``stft``: overlap-add of the inverse FFTs of ``x = (real, imag)`` frames.

    A named or explicit window is inverted (divided by its summed overlapping
    squares); ``window=None`` overlap-adds unweighted frames. ``center`` drops
    the ``fft_length // 2`` padding ``stft`` added; ``length`` truncates.
    """
    z = _complex_pair(x)
    _check_lengths(sequence_length, fft_length)
    win = None if window is None else _window(window, sequence_length, z.real.dtype, z.device)
    if center and win is not None and sequence_length == fft_length:
        batch = z.shape[:-2]
        spec = z.reshape((-1,) + tuple(z.shape[-2:])).transpose(-1, -2)
        out = torch.istft(spec, n_fft=fft_length, hop_length=sequence_stride, win_length=sequence_length,
                          window=win, center=True, length=length)
        return out.reshape(batch + out.shape[-1:])
    frames = torch.fft.irfft(z, n=fft_length)
    if win is not None:
        left = (fft_length - sequence_length) // 2
        padded = torch.nn.functional.pad(win, (left, fft_length - sequence_length - left))
        frames = frames * _inverse_window(padded, sequence_stride)
    out = _overlap_add(frames, sequence_stride)
    half = fft_length // 2
    if center:
        out = out[..., half:]
    if length is not None:
        return out[..., :length]
    return out[..., : out.shape[-1] - half] if center else out


@symbolic_op
def extract_sequences(x: Any, sequence_length: int, sequence_stride: int) -> torch.Tensor:
    """Frames of ``sequence_length`` samples every ``sequence_stride`` along the last axis."""
    return _tensor(x).unfold(-1, sequence_length, sequence_stride)


@symbolic_op
def logdet(x: Any) -> torch.Tensor:
    """``log(det(x))`` of positive-definite matrices, computed stably."""
    return torch.logdet(_as_float(x))


@symbolic_op
def cdist(x: Any, y: Any) -> torch.Tensor:
    """Euclidean distances between the rows of ``x`` (..., m, d) and of ``y`` (..., n, d): (..., m, n)."""
    a, b = _common(_as_float(x), _as_float(y))
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise ValueError(f"`x` and `y` must be at least 2-D with the same last dimension. "
                         f"Received: x.shape={tuple(a.shape)}, y.shape={tuple(b.shape)}")
    return torch.cdist(a, b)


__all__ = [
    "cdist", "erf", "erfc", "erfinv", "extract_sequences", "fft", "fft2", "ifft2", "in_top_k", "irfft", "istft",
    "logdet", "logsumexp", "rfft", "rsqrt", "segment_max", "segment_min", "segment_prod", "segment_sum",
    "stft", "top_k", "view_as_complex", "view_as_real",
]
