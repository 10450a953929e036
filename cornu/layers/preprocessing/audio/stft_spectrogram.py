"""``STFTSpectrogram``: spectrograms by a strided convolution with (trainable) windowed DFT kernels."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from cornu import config
from cornu.layers.layer import InputSpec, Layer
from cornu.utils import conv_utils

MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")
_WINDOWS = {"hann": torch.hann_window, "hamming": torch.hamming_window, "blackman": torch.blackman_window,
            "bartlett": torch.bartlett_window}


def named_window(name: str, length: int, periodic: bool) -> torch.Tensor:
    """A window by name (float64): torch's own, ``"boxcar"``, or any name ``scipy.signal.get_window`` knows."""
    if name in _WINDOWS:
        return _WINDOWS[name](length, periodic=periodic, dtype=torch.float64)
    if name == "boxcar":
        return torch.ones(length, dtype=torch.float64)
    try:
        from scipy.signal import get_window
    except ImportError:
        get_window = None
    if get_window is None:
        raise ValueError(f"Invalid window name {name!r} in parameter window={name!r}: without SciPy, the names "
                         f"are {sorted(_WINDOWS) + ['boxcar']}.")
    return torch.as_tensor(get_window(name, length, fftbins=periodic), dtype=torch.float64)


def dft_kernels(frame_length: int, fft_length: int, window, periodic: bool, scaling) -> tuple[np.ndarray, np.ndarray]:
    """The real and imaginary DFT kernels ``(frame_length, 1, fft_length // 2 + 1)``, windowed and scaled.

    ``real[n, k] = w[n] cos(2 pi k n / P)``, ``imag[n, k] = -w[n] sin(2 pi k n / P)`` with the period
    ``P = 2 (fft_length // 2)`` (Keras's choice, equal to ``fft_length`` when it is even); ``scaling``
    divides the window by ``sqrt(sum w^2)`` ("density") or ``sum w`` ("spectrum").
    """
    if window is None:
        w = torch.ones(frame_length, dtype=torch.float64)
    elif isinstance(window, str):
        w = named_window(window, frame_length, periodic)
    else:
        w = torch.as_tensor(np.asarray(window), dtype=torch.float64)
        if tuple(w.shape) != (frame_length,):
            raise ValueError("The shape of `window` must be equal to [frame_length]."
                             f"Received: window shape={tuple(w.shape)}")
    if scaling == "density":
        w = w / torch.sqrt(torch.sum(w * w))
    elif scaling == "spectrum":
        w = w / torch.sum(w)
    bins = fft_length // 2 + 1
    angle = 2 * math.pi * torch.outer(torch.arange(frame_length, dtype=torch.float64),
                                      torch.arange(bins, dtype=torch.float64)) / (2 * (bins - 1))
    real = (w.unsqueeze(1) * torch.cos(angle)).unsqueeze(1)
    imag = (-w.unsqueeze(1) * torch.sin(angle)).unsqueeze(1)
    return real.numpy(), imag.numpy()


class STFTSpectrogram(Layer):
    """Spectrograms of multichannel signals ``(batch, time, channels)`` (or channels first).

    Each channel is convolved (stride ``frame_step``, ``"valid"`` or ``"same"`` padding) with the
    kernels ``real_kernel`` and ``imag_kernel`` (Keras layout ``(frame_length, 1, bins)``, trainable
    like any weight), both in one ``conv1d``. ``mode`` picks the output: the parts (``"real"``,
    ``"imag"``, ``"stft"`` = both), ``"magnitude"`` ``sqrt(max(|X|^2, epsilon))`` and its ``"log"``,
    the one-sided ``"psd"`` (inner bins doubled) or the ``"angle"``. Channels and bins merge into
    one axis, channel-major, unless ``expand_dims``.
    """

    def __init__(self, mode="log", frame_length=256, frame_step=None, fft_length=None, window="hann",
                 periodic=False, scaling="density", padding="valid", expand_dims=False, data_format=None, **kwargs):
        if frame_step is not None and (frame_step > frame_length or frame_step < 1):
            raise ValueError("`frame_step` should be a positive integer not greater than `frame_length`. "
                             f"Received frame_step={frame_step}, frame_length={frame_length}")
        if fft_length is not None and fft_length < frame_length:
            raise ValueError("`fft_length` should be not less than `frame_length`. "
                             f"Received fft_length={fft_length}, frame_length={frame_length}")
        if mode not in MODES:
            raise ValueError(f"Output mode is invalid, it must be one of {', '.join(MODES)}. Received: mode={mode}")
        if scaling not in (None, "density", "spectrum"):
            raise ValueError(f"Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                             f"Received scaling={scaling}")
        if padding not in ("valid", "same"):
            raise ValueError(f"Padding is invalid, it should be 'valid', 'same'. Received: padding={padding}")
        if isinstance(window, str):
            named_window(window, 2, periodic)  # an unknown name fails here, with Keras's error class
        if not isinstance(frame_length, int) or frame_length < 1:
            raise ValueError(f"`frame_length` should be a positive integer. Received: frame_length={frame_length}")
        super().__init__(**kwargs)
        self.mode = mode
        self.frame_length = frame_length
        self.frame_step = frame_step
        self.fft_length = fft_length
        self.window = window
        self.periodic = periodic
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = expand_dims
        self.data_format = conv_utils.normalize_data_format(data_format)
        self._frame_step = frame_step or max(frame_length // 2, 1)
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape=None) -> None:
        real, imag = dft_kernels(self.frame_length, self._fft_length, self.window, self.periodic, self.scaling)
        shape = real.shape
        if self.mode != "imag":
            self.real_kernel = self.add_weight(shape=shape, initializer=lambda s, dtype=None: real, name="real_kernel")
        if self.mode != "real":
            self.imag_kernel = self.add_weight(shape=shape, initializer=lambda s, dtype=None: imag, name="imag_kernel")
        self.built = True

    def _kernel(self) -> torch.Tensor:
        parts = [v.value for v in (getattr(self, "real_kernel", None), getattr(self, "imag_kernel", None))
                 if v is not None]
        return torch.cat(parts, dim=-1).permute(2, 1, 0)

    def _frames(self, samples):
        if samples is None:
            return None
        if self.padding == "same":
            return -(-samples // self._frame_step)
        return (samples - self.frame_length) // self._frame_step + 1

    def call(self, inputs):
        if not inputs.is_floating_point():
            raise TypeError("Invalid input type. Expected `float16`, `float32` or `float64`. "
                            f"Received: input type={config.standardize_dtype(inputs.dtype)}")
        x = inputs if self.data_format == "channels_first" else inputs.transpose(1, 2)
        batch, channels, samples = x.shape
        x = x.reshape(batch * channels, 1, samples)
        if self.padding == "same":
            total = max((self._frames(samples) - 1) * self._frame_step + self.frame_length - samples, 0)
            x = F.pad(x, (total // 2, total - total // 2))
        kernel = self._kernel()
        z = F.conv1d(x, kernel.to(x.dtype), stride=self._frame_step)
        z = self._select(z, kernel.shape[0])
        z = z.reshape(batch, channels, z.shape[1], z.shape[2])
        if self.expand_dims:
            return z.permute(0, 1, 3, 2) if self.data_format == "channels_first" else z.permute(0, 3, 2, 1)
        z = z.reshape(batch, channels * z.shape[2], z.shape[3])
        return z if self.data_format == "channels_first" else z.transpose(1, 2)

    def _select(self, z: torch.Tensor, size: int) -> torch.Tensor:
        """The mode's output from the stacked ``(N, [real | imag], frames)`` convolution."""
        if self.mode in ("real", "imag", "stft"):
            return z
        bins = size // 2
        real, imag = z[:, :bins], z[:, bins:]
        if self.mode == "angle":
            return torch.atan2(imag, real)
        power = real * real + imag * imag
        if self.mode == "psd":
            scale = torch.full((bins, 1), 2.0, dtype=z.dtype, device=z.device)
            scale[0] = 1.0
            scale[-1] = 1.0
            return power * scale
        magnitude = torch.sqrt(torch.clamp(power, min=config.epsilon()))
        return torch.log(magnitude) if self.mode == "log" else magnitude

    def compute_output_shape(self, input_shape):
        batch = input_shape[0]
        channels, samples = (input_shape[1], input_shape[2]) if self.data_format == "channels_first" else (
            input_shape[2], input_shape[1])
        bins = self._fft_length // 2 + 1
        bins = 2 * bins if self.mode == "stft" else bins
        frames = self._frames(samples)
        if self.expand_dims:
            return (batch, channels, frames, bins) if self.data_format == "channels_first" else (
                batch, frames, bins, channels)
        merged = None if channels is None else channels * bins
        return (batch, merged, frames) if self.data_format == "channels_first" else (batch, frames, merged)

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode, "frame_length": self.frame_length,
                "frame_step": self.frame_step, "fft_length": self.fft_length, "window": self.window,
                "periodic": self.periodic, "scaling": self.scaling, "padding": self.padding,
                "data_format": self.data_format, "expand_dims": self.expand_dims}
