"""``DropoutRNNCell``: the base of the built-in cells (dropout masks, arguments, initial state, config).

Dropout in a recurrent cell follows Keras: one mask per sequence, drawn at the
first step of an ``RNN`` call and reused at every step (``dropout`` on the
inputs, ``recurrent_dropout`` on the previous output). Gated cells draw one
mask per gate (``dropout_mask_count``: 4 for LSTM, 3 for GRU), as Keras 3 does.
"""
from __future__ import annotations

from typing import Any

import torch

from cornu import activations, constraints, initializers, regularizers
from cornu.layers.core import _ser
from cornu.layers.layer import Layer
from cornu.layers.rnn.utils import check_units, clip_rate, normalize_state_size, zeros_state


class DropoutRNNCell(Layer):
    """A cell with ``units``, kernel / recurrent kernel / bias arguments and per-sequence dropout masks."""

    dropout_mask_count: int | None = None

    def __init__(self, units: int, activation="tanh", use_bias: bool = True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, **kwargs):
        units = check_units(units)
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = clip_rate(dropout)
        self.recurrent_dropout = clip_rate(recurrent_dropout)
        self.seed = seed
        # Plain attributes (not tracked): the masks of the sequence in progress and the seeded generator.
        object.__setattr__(self, "_dropout_mask", None)
        object.__setattr__(self, "_recurrent_dropout_mask", None)
        object.__setattr__(self, "_generator", None)

    # ---------------------------------------------------------------- state
    @property
    def state_size(self) -> Any:
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    def get_initial_state(self, batch_size: int) -> list[torch.Tensor]:
        """Zeros for every state, shaped ``(batch_size, size)``."""
        return [zeros_state(batch_size, s, self.compute_dtype) for s in normalize_state_size(self.state_size)]

    # ---------------------------------------------------------------- dropout
    def _drop_active(self, rate: float, training: bool) -> bool:
        return bool(training) and 0.0 < rate < 1.0

    def _rng(self, device: torch.device) -> torch.Generator | None:
        if self.seed is None:
            return None
        if self._generator is None or self._generator.device != device:
            gen = torch.Generator(device=device)
            gen.manual_seed(int(self.seed))
            object.__setattr__(self, "_generator", gen)
        return self._generator

    def _draw(self, like: torch.Tensor, rate: float, count: int | None) -> Any:
        gen = self._rng(like.device)
        scale = 1.0 / (1.0 - rate)

        def one():
            keep = torch.rand(like.shape, generator=gen, device=like.device) >= rate
            return keep.to(like.dtype) * scale

        return one() if count is None else [one() for _ in range(count)]

    def get_dropout_mask(self, step_input: torch.Tensor) -> Any:
        """The input mask(s) of the current sequence (drawn on first use); None without dropout."""
        if self.dropout <= 0.0:
            return None
        if self._dropout_mask is None:
            object.__setattr__(self, "_dropout_mask", self._draw(step_input, self.dropout, self.dropout_mask_count))
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, step_input: torch.Tensor) -> Any:
        """The recurrent mask(s) of the current sequence (drawn on first use); None without recurrent dropout."""
        if self.recurrent_dropout <= 0.0:
            return None
        if self._recurrent_dropout_mask is None:
            masks = self._draw(step_input, self.recurrent_dropout, self.dropout_mask_count)
            object.__setattr__(self, "_recurrent_dropout_mask", masks)
        return self._recurrent_dropout_mask

    def reset_dropout_mask(self) -> None:
        object.__setattr__(self, "_dropout_mask", None)

    def reset_recurrent_dropout_mask(self) -> None:
        object.__setattr__(self, "_recurrent_dropout_mask", None)

    # ---------------------------------------------------------------- config
    def _cell_config(self) -> dict:
        """The cell's own arguments (what ``LSTM`` etc. put flat in their configs)."""
        return {"units": self.units, "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": _ser(initializers, self.kernel_initializer),
                "recurrent_initializer": _ser(initializers, self.recurrent_initializer),
                "bias_initializer": _ser(initializers, self.bias_initializer),
                "kernel_regularizer": _ser(regularizers, self.kernel_regularizer),
                "recurrent_regularizer": _ser(regularizers, self.recurrent_regularizer),
                "bias_regularizer": _ser(regularizers, self.bias_regularizer),
                "kernel_constraint": _ser(constraints, self.kernel_constraint),
                "recurrent_constraint": _ser(constraints, self.recurrent_constraint),
                "bias_constraint": _ser(constraints, self.bias_constraint),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout, "seed": self.seed}

    def get_config(self) -> dict:
        return {**super().get_config(), **self._cell_config()}


def gate_linear(x: torch.Tensor, weight: torch.Tensor, masks: Any, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``x @ weight.T (+ bias)`` for stacked gates; with per-gate dropout masks each gate sees its own ``x``."""
    if masks is None:
        return torch.nn.functional.linear(x, weight, bias)
    n = len(masks)
    parts = [torch.nn.functional.linear(x * m, w) for m, w in zip(masks, weight.chunk(n, 0))]
    out = torch.cat(parts, -1)
    return out if bias is None else out + bias
