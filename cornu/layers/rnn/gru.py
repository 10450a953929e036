"""``GRUCell`` and ``GRU`` (Cho et al., 2014) with Keras's weights and gate order.

Keras's layout at the API: ``kernel (input_dim, 3*units)``, ``recurrent_kernel
(units, 3*units)`` with gates ``z, r, h``; ``bias (2, 3*units)`` (input and
recurrent biases) when ``reset_after=True``, ``(3*units,)`` otherwise. Kernels
are stored transposed (``(3*units, in)``); torch's fused GRU (the
``reset_after=True`` variant) wants gates ``r, z, n``, so each call reorders the
gate blocks once before ``torch._VF.gru``.
"""
from __future__ import annotations

import torch

from cornu import activations, regularizers
from cornu.layers.core import _ser
from cornu.layers.layer import InputSpec
from cornu.layers.rnn.dropout_rnn_cell import DropoutRNNCell, gate_linear
from cornu.layers.rnn.fused import FusedRNN
from cornu.layers.rnn.utils import forward_cell_attributes

_CELL_ARGS = ("activation", "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
              "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
              "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout",
              "reset_after", "seed")


def keras_to_torch_gates(t: torch.Tensor) -> torch.Tensor:
    """Reorder stacked gate blocks along the first axis from Keras's ``z, r, h`` to torch's ``r, z, n``."""
    z, r, h = t.chunk(3, 0)
    return torch.cat([r, z, h], 0)


class GRUCell(DropoutRNNCell):
    """One GRU step; ``reset_after`` applies the reset gate after the recurrent matmul (cuDNN's variant)."""

    dropout_mask_count = 3

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, reset_after: bool = True, seed: int | None = None, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                         dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = reset_after

    def build(self, input_shape) -> None:
        units = self.units
        self.kernel = self.add_weight(shape=(input_shape[-1], 3 * units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel", layout=(1, 0))
        self.recurrent_kernel = self.add_weight(shape=(units, 3 * units), initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint, name="recurrent_kernel",
                                                layout=(1, 0))
        if self.use_bias:
            shape = (2, 3 * units) if self.reset_after else (3 * units,)
            self.bias = self.add_weight(shape=shape, initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        name="bias")
        else:
            self.bias = None
        self.built = True

    def call(self, inputs, states, training=False):
        nested = isinstance(states, (list, tuple))
        h_tm1 = states[0] if nested else states
        dp = self.get_dropout_mask(inputs) if self._drop_active(self.dropout, training) else None
        rec_dp = self.get_recurrent_dropout_mask(h_tm1) if self._drop_active(self.recurrent_dropout, training) \
            else None
        bias = self.bias.value if self.bias is not None else None
        input_bias = bias[0] if bias is not None and self.reset_after else bias
        x_z, x_r, x_h = gate_linear(inputs, self.kernel.value, dp, input_bias).chunk(3, -1)
        if self.reset_after:
            rec = gate_linear(h_tm1, self.recurrent_kernel.value, rec_dp, bias[1] if bias is not None else None)
            r_z, r_r, r_h = rec.chunk(3, -1)
            z = self.recurrent_activation(x_z + r_z)
            r = self.recurrent_activation(x_r + r_r)
            hh = self.activation(x_h + r * r_h)
        else:
            k_z, k_r, k_h = self.recurrent_kernel.value.chunk(3, 0)
            h_z, h_r, h_h = (h_tm1, h_tm1, h_tm1) if rec_dp is None else (h_tm1 * m for m in rec_dp)
            z = self.recurrent_activation(x_z + torch.nn.functional.linear(h_z, k_z))
            r = self.recurrent_activation(x_r + torch.nn.functional.linear(h_r, k_r))
            hh = self.activation(x_h + torch.nn.functional.linear(r * h_h, k_h))
        h = z * h_tm1 + (1 - z) * hh
        return h, ([h] if nested else h)

    def _cell_config(self) -> dict:
        return {**super()._cell_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after}


class GRU(FusedRNN):
    """Gated Recurrent Unit layer: ``RNN(GRUCell(units, ...))``, fused (``torch._VF.gru``) when it can be."""

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 reset_after: bool = True, use_cudnn="auto", **kwargs):
        cell = GRUCell(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                       kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                       bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                       recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                       kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                       bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
                       reset_after=reset_after, seed=seed, dtype=kwargs.get("dtype"),
                       trainable=kwargs.get("trainable", True), name="gru_cell")
        super().__init__(cell, use_cudnn=use_cudnn, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.input_spec = InputSpec(ndim=3)

    def _fused_mode(self):
        cell = self.cell
        if cell.reset_after and cell.activation is activations.tanh \
                and cell.recurrent_activation is activations.sigmoid:
            return "gru"
        return None

    def _fused_weights(self) -> list:
        cell = self.cell
        bias = cell.bias.value
        return [keras_to_torch_gates(cell.kernel.value), keras_to_torch_gates(cell.recurrent_kernel.value),
                keras_to_torch_gates(bias[0]), keras_to_torch_gates(bias[1])]

    def _kernel_gate_order(self, masks: list) -> list:
        return [masks[1], masks[0], masks[2]]

    def get_config(self) -> dict:
        return {**self._layer_config(), **self.cell._cell_config(),
                "activity_regularizer": _ser(regularizers, self.activity_regularizer)}


forward_cell_attributes(GRU, ("units",) + _CELL_ARGS)
