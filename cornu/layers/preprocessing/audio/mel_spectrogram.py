"""``MelSpectrogram``: raw audio to (log-)mel spectrograms, one batched ``torch.stft`` per call."""
from __future__ import annotations

import math

import torch

from cornu.layers.layer import Layer
from cornu.ops import math as math_ops


def hertz_to_mel(frequency: torch.Tensor) -> torch.Tensor:
    """The HTK mel scale, ``1127 ln(1 + f / 700)``."""
    return 1127.0 * torch.log1p(frequency / 700.0)


def mel_filterbank(num_mel_bins: int, num_spectrogram_bins: int, sampling_rate: float, min_freq: float,
                   max_freq: float, dtype: torch.dtype = torch.float32, device=None) -> torch.Tensor:
    """The ``(num_spectrogram_bins, num_mel_bins)`` matrix of triangular mel filters (peak 1).

    The spectrogram bins lie evenly on ``[0, sampling_rate / 2]``; the filter edges lie evenly on
    the mel scale between ``min_freq`` and ``max_freq``; the DC bin gets no weight. Built in float64.
    """
    linear = torch.linspace(0.0, sampling_rate / 2, num_spectrogram_bins, dtype=torch.float64)[1:]
    mel = hertz_to_mel(linear).unsqueeze(1)
    low, high = hertz_to_mel(torch.tensor([float(min_freq), float(max_freq)], dtype=torch.float64)).tolist()
    edges = torch.linspace(low, high, num_mel_bins + 2, dtype=torch.float64)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (mel - lower) / (center - lower)
    falling = (upper - mel) / (upper - center)
    weights = torch.clamp(torch.minimum(rising, falling), min=0.0)
    weights = torch.cat([torch.zeros((1, num_mel_bins), dtype=torch.float64), weights])
    return weights.to(dtype=dtype, device=device)


class MelSpectrogram(Layer):
    """Mel spectrogram of signals ``(..., samples)``, shaped ``(..., num_mel_bins, frames)``.

    The centred (reflect-padded) STFT with a periodic window gives ``|X| ** mag_exp``, weighted by
    the mel filters; with ``power_to_db`` the result is ``10 log10(max(S, min_power) / ref)``,
    floored at ``max - top_db`` (the maximum over the whole batch, as Keras takes it; ``top_db=None``
    skips the floor, where Keras fails).
    """

    def __init__(self, fft_length=2048, sequence_stride=512, sequence_length=None, window="hann",
                 sampling_rate=16000, num_mel_bins=128, min_freq=20.0, max_freq=None, power_to_db=True, top_db=80.0,
                 mag_exp=2.0, min_power=1e-10, ref_power=1.0, **kwargs):
        super().__init__(**kwargs)
        sequence_length = sequence_length or fft_length
        if fft_length < sequence_length:
            raise ValueError("`fft_length` must be greater than or equal to `sequence_length`. "
                             f"Received: `sequence_length`={sequence_length}, `fft_length`={fft_length}.")
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        self._filters: dict = {}

    def _filterbank(self, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        key = (dtype, device)
        if key not in self._filters:
            self._filters[key] = mel_filterbank(self.num_mel_bins, self.fft_length // 2 + 1, self.sampling_rate,
                                                self.min_freq, self.max_freq, dtype, device)
        return self._filters[key]

    def call(self, inputs):
        dtype = self._compute_torch_dtype or torch.float32
        x = inputs if inputs.dtype == dtype else inputs.to(dtype)
        real, imag = math_ops.stft(x, self.sequence_length, self.sequence_stride, self.fft_length,
                                   window=self.window, center=True)
        power = real * real + imag * imag
        spectrogram = power if self.mag_exp == 2 else power ** (self.mag_exp / 2)
        mel = torch.matmul(spectrogram, self._filterbank(x.dtype, x.device)).transpose(-1, -2)
        if not self.power_to_db:
            return mel
        db = 10.0 * torch.log10(torch.clamp(mel, min=self.min_power))
        db = db - 10.0 * math.log10(max(self.ref_power, self.min_power))
        if self.top_db is not None:
            db = torch.maximum(db, db.amax() - self.top_db)
        return db

    def compute_output_shape(self, input_shape):
        samples = input_shape[-1]
        half = self.fft_length // 2
        frames = None if samples is None else (samples + 2 * half - self.fft_length) // self.sequence_stride + 1
        return tuple(input_shape[:-1]) + (self.num_mel_bins, frames)

    def get_config(self) -> dict:
        return {**super().get_config(), "fft_length": self.fft_length, "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length, "window": self.window, "sampling_rate": self.sampling_rate,
                "num_mel_bins": self.num_mel_bins, "min_freq": self.min_freq, "max_freq": self.max_freq,
                "power_to_db": self.power_to_db, "top_db": self.top_db, "mag_exp": self.mag_exp,
                "min_power": self.min_power, "ref_power": self.ref_power}
