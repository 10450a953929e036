"""Noise and regularization layers active only in training: spatial dropout, Gaussian
noise/dropout, alpha dropout, plus ``ActivityRegularization``."""
from __future__ import annotations

import math

import torch

from cornu import regularizers
from cornu.utils import conv_utils
from cornu.layers.layer import InputSpec, Layer
from cornu.layers.regularization import Dropout, SeededLayer


def _check_rate(value, arg: str = "rate") -> float:
    message = (f"Invalid value received for argument `{arg}`. Expected a float value between 0 and 1. "
               f"Received: {arg}={value!r}")
    if not isinstance(value, (int, float)):  # Keras's range check fails on a non-number with a TypeError
        raise TypeError(message)
    if not 0 <= value <= 1:
        raise ValueError(message)
    return float(value)


class _SeededNoise(SeededLayer):
    """Noise layers: Gaussian draws from the layer's (optionally seeded) generator."""
    _built_at_init = True

    def _normal(self, like: torch.Tensor) -> torch.Tensor:
        return torch.randn(like.shape, dtype=like.dtype, device=like.device, generator=self._rng(like.device))

    def compute_output_shape(self, input_shape):
        return input_shape


class _SpatialDropout(Dropout):
    """Dropout of whole feature maps: one keep/drop decision per (sample, channel)."""

    rank = 1

    def __init__(self, rate: float, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _noise_shape(self, shape) -> tuple:
        if self.data_format == "channels_last":
            return (shape[0],) + (1,) * self.rank + (shape[-1],)
        return (shape[0], shape[1]) + (1,) * self.rank

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return torch.zeros_like(inputs)
        noise = torch.rand(self._noise_shape(inputs.shape), device=inputs.device, generator=self._rng(inputs.device))
        keep = (noise >= self.rate).to(inputs.dtype)
        return inputs * keep / (1.0 - self.rate)

    def get_config(self) -> dict:
        # Keras's spatial dropouts write only these keys, the dtype as a plain name (no `trainable`).
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype,
                "data_format": self.data_format}


class SpatialDropout1D(_SpatialDropout):
    """Drops entire channels of ``(batch, steps, channels)`` inputs."""

    rank = 1

    def __init__(self, rate: float, seed=None, **kwargs):
        super().__init__(rate, data_format="channels_last", seed=seed, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("data_format")
        return config


class SpatialDropout2D(_SpatialDropout):
    """Drops entire 2D feature maps."""

    rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Drops entire 3D feature maps."""

    rank = 3


class GaussianNoise(_SeededNoise):
    """Adds zero-mean Gaussian noise with standard deviation ``stddev`` in training."""

    def __init__(self, stddev: float, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = _check_rate(stddev, "stddev")

    def call(self, inputs, training=None):
        if not training or self.stddev == 0:
            return inputs
        return inputs + self.stddev * self._normal(inputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_SeededNoise):
    """Multiplies inputs by Gaussian noise of mean 1 and variance ``rate / (1 - rate)`` in training."""

    def __init__(self, rate: float, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate(rate)

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return torch.zeros_like(inputs)
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * (1.0 + stddev * self._normal(inputs))

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(_SeededNoise):
    """Dropout that keeps the mean and variance of SELU activations (dropped units go to SELU's floor)."""

    _ALPHA = 1.6732632423543772848170429916717
    _SCALE = 1.0507009873554804934193349852946

    def __init__(self, rate: float, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate(rate)
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return torch.zeros_like(inputs)
        shape = inputs.shape if self.noise_shape is None else tuple(
            s if n is None else n for s, n in zip(inputs.shape, self.noise_shape))
        keep = (torch.rand(shape, device=inputs.device, generator=self._rng(inputs.device)) >= self.rate)
        keep = keep.to(inputs.dtype)
        alpha_p = -self._ALPHA * self._SCALE
        a = ((1.0 - self.rate) * (1.0 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (inputs * keep + alpha_p * (1.0 - keep)) + b

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}


class ActivityRegularization(Layer):
    """Identity that adds ``l1 * sum|x| + l2 * sum(x**2)`` (per sample) to the layer's losses."""
    _built_at_init = True

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = float(l1)
        self.l2 = float(l2)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}
