"""``SimpleRNNCell`` and ``SimpleRNN``: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.

Kernels are stored in torch's ``(out, in)`` layout; ``get_weights()`` and saved
files show Keras's ``kernel (input_dim, units)``, ``recurrent_kernel (units, units)``.
With ``tanh`` or ``relu`` the layer runs torch's fused ``rnn_tanh`` / ``rnn_relu``.
"""
from __future__ import annotations

import torch.nn.functional as F

from cornu import activations, regularizers
from cornu.layers.core import _ser
from cornu.layers.layer import InputSpec
from cornu.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from cornu.layers.rnn.fused import FusedRNN
from cornu.layers.rnn.utils import forward_cell_attributes

_CELL_ARGS = ("activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
              "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
              "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout")


class SimpleRNNCell(DropoutRNNCell):
    """One step of a fully-connected RNN; ``dropout`` masks the inputs, ``recurrent_dropout`` the previous output."""

    def __init__(self, units: int, activation="tanh", use_bias: bool = True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                         dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed, **kwargs)

    def build(self, input_shape) -> None:
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel", layout=(1, 0))
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint, name="recurrent_kernel",
                                                layout=(1, 0))
        self.bias = self.add_weight(shape=(self.units,), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                    name="bias") if self.use_bias else None
        self.built = True

    def call(self, sequence, states, training=False):
        previous = states[0] if isinstance(states, (list, tuple)) else states
        if self._drop_active(self.dropout, training):
            sequence = sequence * self.get_dropout_mask(sequence)
        h = F.linear(sequence, self.kernel.value, self.bias.value if self.bias is not None else None)
        if self._drop_active(self.recurrent_dropout, training):
            previous = previous * self.get_recurrent_dropout_mask(previous)
        output = self.activation(h + F.linear(previous, self.recurrent_kernel.value))
        return output, ([output] if isinstance(states, (list, tuple)) else output)


class SimpleRNN(FusedRNN):
    """A fully-connected RNN layer: ``RNN(SimpleRNNCell(units, ...))`` with the cell's arguments."""

    def __init__(self, units: int, activation="tanh", use_bias: bool = True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False, seed: int | None = None,
                 **kwargs):
        cell = SimpleRNNCell(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                             recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                             kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                             bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                             recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                             dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
                             dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True),
                             name="simple_rnn_cell")
        # Keras 3.15's SimpleRNN accepts `activity_regularizer` but never hands it on: no loss, None in the config.
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)
        self.input_spec = InputSpec(ndim=3)

    def _fused_mode(self):
        act = self.cell.activation
        return "rnn_tanh" if act is activations.tanh else "rnn_relu" if act is activations.relu else None

    def _fused_weights(self) -> list:
        cell = self.cell
        bias = cell.bias.value
        return [cell.kernel.value, cell.recurrent_kernel.value, bias, bias.new_zeros(bias.shape)]

    def get_config(self) -> dict:
        cfg = {**self._layer_config(), **self.cell._cell_config(),
               "activity_regularizer": _ser(regularizers, self.activity_regularizer)}
        del cfg["seed"]
        return cfg


forward_cell_attributes(SimpleRNN, ("units",) + _CELL_ARGS)
