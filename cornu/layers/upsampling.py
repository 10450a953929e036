"""Upsampling layers: repeat (``"nearest"``) or interpolate along spatial axes.

``UpSampling2D`` interpolations: ``"bilinear"`` and ``"bicubic"`` are torch's half-pixel
kernels (bicubic with ``a = -0.75``), as Keras computes them on its torch backend;
``"lanczos3"``/``"lanczos5"`` (which Keras computes only on its JAX and TensorFlow
backends) use Keras's definition there: half-pixel sample positions, the Lanczos kernel
``sinc(x) * sinc(x / a)`` on ``|x| < a``, weights renormalised over the pixels inside the image.
"""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from cornu.utils import conv_utils
from cornu.layers.layer import InputSpec, Layer

_INTERPOLATIONS = ("bicubic", "bilinear", "lanczos3", "lanczos5", "nearest")
_LANCZOS_RADIUS = {"lanczos3": 3, "lanczos5": 5}


@functools.lru_cache(maxsize=64)
def lanczos_weights(length: int, scale: int, radius: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``(length * scale, length)`` matrix taking ``length`` samples to ``length * scale`` by Lanczos resampling."""
    work = torch.float64 if dtype == torch.float64 else torch.float32
    sample = (torch.arange(length * scale, dtype=work, device=device) + 0.5) / scale - 0.5
    dist = sample[:, None] - torch.arange(length, dtype=work, device=device)[None, :]
    w = torch.sinc(dist) * torch.sinc(dist / radius) * (dist.abs() < radius)
    return (w / w.sum(dim=1, keepdim=True)).to(dtype)


def repeat_spatial(x: torch.Tensor, axes: tuple[int, ...], sizes: tuple[int, ...]) -> torch.Tensor:
    """Repeat every element ``sizes[i]`` times along ``axes[i]`` (one copy, no gather)."""
    view, expanded, final = [], [], []
    for d, n in enumerate(x.shape):
        view.append(n)
        expanded.append(n)
        if d in axes:
            s = sizes[axes.index(d)]
            view.append(1)
            expanded.append(s)
            final.append(n * s)
        else:
            final.append(n)
    return x.reshape(view).expand(expanded).reshape(final)


class _UpSampling(Layer):
    rank = 2

    def __init__(self, size, data_format=None, interpolation: str = "nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = conv_utils.normalize_tuple(size, self.rank, "size")
        self.data_format = conv_utils.normalize_data_format(data_format)
        if not isinstance(interpolation, str):
            raise TypeError(f"`interpolation` must be a string. Received: interpolation={interpolation!r}")
        if interpolation.lower() not in _INTERPOLATIONS:
            raise ValueError(f"`interpolation` argument should be one of: {list(_INTERPOLATIONS)}. "
                             f"Received: interpolation={interpolation!r}")
        self.interpolation = interpolation.lower()
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _spatial_axes(self) -> tuple[int, ...]:
        start = 1 if self.data_format == "channels_last" else 2
        return tuple(range(start, start + self.rank))

    def call(self, inputs):
        if self.interpolation == "nearest":
            return repeat_spatial(inputs, self._spatial_axes(), self.size)
        x = conv_utils.to_channels_first(inputs, self.data_format)
        if self.interpolation in _LANCZOS_RADIUS:
            radius = _LANCZOS_RADIUS[self.interpolation]
            (h, w), (sh, sw) = x.shape[2:], self.size
            rows = lanczos_weights(h, sh, radius, x.dtype, x.device)
            cols = lanczos_weights(w, sw, radius, x.dtype, x.device)
            y = torch.einsum("nchw,qw->nchq", torch.einsum("ph,nchw->ncpw", rows, x), cols)
        else:
            out_size = tuple(n * s for n, s in zip(x.shape[2:], self.size))
            y = F.interpolate(x, size=out_size, mode=self.interpolation, align_corners=False)
        return conv_utils.to_channels_last(y, self.data_format)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, s in zip(self._spatial_axes(), self.size):
            out[axis] = None if out[axis] is None else out[axis] * s
        return tuple(out)

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}


class UpSampling1D(Layer):
    """Repeats each step ``size`` times: ``(batch, steps, features)`` -> ``(batch, steps * size, features)``."""

    def __init__(self, size: int = 2, **kwargs):
        super().__init__(**kwargs)
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise ValueError(f"`size` must be a positive integer. Received: size={size!r}")
        self.size = size
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs):
        return repeat_spatial(inputs, (1,), (self.size,))

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else input_shape[1] * self.size
        return (input_shape[0], steps, input_shape[2])

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size}


class UpSampling2D(_UpSampling):
    """Scales rows and columns by ``size``; ``interpolation``: nearest, bilinear, bicubic, lanczos3, lanczos5."""

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation: str = "nearest", **kwargs):
        super().__init__(size, data_format=data_format, interpolation=interpolation, **kwargs)


class UpSampling3D(_UpSampling):
    """Repeats the three spatial axes ``size`` times (nearest neighbour)."""

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format=data_format, interpolation="nearest", **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("interpolation")
        return config
