"""``LSTMCell`` and ``LSTM`` (Hochreiter & Schmidhuber, 1997) with Keras's weights and gate order.

Keras's layout at the API: ``kernel (input_dim, 4*units)``, ``recurrent_kernel
(units, 4*units)``, ``bias (4*units,)``, gates ``i, f, c, o``. torch's fused
LSTM uses the same gate order, so the kernels are stored transposed
(``(4*units, in)``) and feed ``torch._VF.lstm`` without any copy; the bias goes
in as ``b_ih`` with a zero ``b_hh``.
"""
from __future__ import annotations

import torch

from cornu import activations, initializers, regularizers
from cornu.layers.core import _ser
from cornu.layers.layer import InputSpec
from cornu.layers.rnn.dropout_rnn_cell import DropoutRNNCell, gate_linear
from cornu.layers.rnn.fused import FusedRNN
from cornu.layers.rnn.utils import forward_cell_attributes

_CELL_ARGS = ("activation", "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
              "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
              "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
              "recurrent_dropout", "seed")


class LSTMCell(DropoutRNNCell):
    """One LSTM step; states ``[h, c]``. ``unit_forget_bias`` starts the forget-gate bias at one."""

    dropout_mask_count = 4

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias: bool = True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                         dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias

    @property
    def state_size(self) -> list[int]:
        return [self.units, self.units]

    def build(self, input_shape) -> None:
        units = self.units
        self.kernel = self.add_weight(shape=(input_shape[-1], 4 * units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel", layout=(1, 0))
        self.recurrent_kernel = self.add_weight(shape=(units, 4 * units), initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint, name="recurrent_kernel",
                                                layout=(1, 0))
        if self.use_bias:
            init = self.bias_initializer
            if self.unit_forget_bias:
                base = init

                def init(shape, dtype=None):
                    parts = [base((units,), dtype=dtype), initializers.get("ones")((units,), dtype=dtype),
                             base((2 * units,), dtype=dtype)]
                    return torch.cat([torch.as_tensor(p) for p in parts])

            self.bias = self.add_weight(shape=(4 * units,), initializer=init, regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint, name="bias")
        else:
            self.bias = None
        self.built = True

    def call(self, inputs, states, training=False):
        h_tm1, c_tm1 = states[0], states[1]
        dp = self.get_dropout_mask(inputs) if self._drop_active(self.dropout, training) else None
        rec_dp = self.get_recurrent_dropout_mask(h_tm1) if self._drop_active(self.recurrent_dropout, training) \
            else None
        z = gate_linear(inputs, self.kernel.value, dp, self.bias.value if self.bias is not None else None)
        z = z + gate_linear(h_tm1, self.recurrent_kernel.value, rec_dp)
        z_i, z_f, z_c, z_o = z.chunk(4, -1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_tm1 + i * self.activation(z_c)
        o = self.recurrent_activation(z_o)
        h = o * self.activation(c)
        return h, [h, c]

    def _cell_config(self) -> dict:
        return {**super()._cell_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


class LSTM(FusedRNN):
    """Long Short-Term Memory layer: ``RNN(LSTMCell(units, ...))``, fused (``torch._VF.lstm``) when it can be."""

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias: bool = True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, unroll: bool = False, use_cudnn="auto", **kwargs):
        cell = LSTMCell(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                        kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                        bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                        kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                        bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                        recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint, dropout=dropout,
                        recurrent_dropout=recurrent_dropout, seed=seed, dtype=kwargs.get("dtype"),
                        trainable=kwargs.get("trainable", True), name="lstm_cell")
        super().__init__(cell, use_cudnn=use_cudnn, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.input_spec = InputSpec(ndim=3)

    def _fused_mode(self):
        cell = self.cell
        if cell.activation is activations.tanh and cell.recurrent_activation is activations.sigmoid:
            return "lstm"
        return None

    def _fused_weights(self) -> list:
        cell = self.cell
        bias = cell.bias.value
        return [cell.kernel.value, cell.recurrent_kernel.value, bias, bias.new_zeros(bias.shape)]

    def get_config(self) -> dict:
        return {**self._layer_config(), **self.cell._cell_config(),
                "activity_regularizer": _ser(regularizers, self.activity_regularizer)}


forward_cell_attributes(LSTM, ("units",) + _CELL_ARGS)
