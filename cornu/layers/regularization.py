"""Regularization layers: ``Dropout`` and its relatives."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from cornu.layers.layer import Layer


class SeededLayer(Layer):
    """A layer drawing random numbers from its own generator when ``seed`` is given (else torch's global one)."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self._generator: torch.Generator | None = None
        self.supports_masking = True

    def _rng(self, device: torch.device) -> torch.Generator | None:
        if self.seed is None:
            return None
        if self._generator is None or self._generator.device != device:
            self._generator = torch.Generator(device=device)
            self._generator.manual_seed(int(self.seed))
        return self._generator


class Dropout(SeededLayer):
    """Zeroes a ``rate`` fraction of inputs during training and scales the rest by ``1/(1-rate)``."""
    _built_at_init = True

    def __init__(self, rate: float, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if not isinstance(rate, (int, float)):  # Keras's range check fails on a non-number with a TypeError
            raise TypeError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                            f"Received: rate={rate!r}")
        if not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 "
                             f"and 1. Received: rate={rate!r}")
        self.rate = float(rate)
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return torch.zeros_like(inputs)
        gen = self._rng(inputs.device)
        if self.noise_shape is None and gen is None:
            return F.dropout(inputs, self.rate, True)
        shape = inputs.shape if self.noise_shape is None else tuple(
            s if n is None else n for s, n in zip(inputs.shape, self.noise_shape))
        keep = torch.rand(shape, device=inputs.device, generator=gen) >= self.rate
        return inputs * keep.to(inputs.dtype) / (1.0 - self.rate)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}
