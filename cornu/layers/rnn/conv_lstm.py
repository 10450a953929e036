"""``ConvLSTM1D`` / ``ConvLSTM2D`` / ``ConvLSTM3D``: LSTMs whose gates are convolutions (Shi et al., 2015).

Keras's layout at the API: inputs ``(batch, time, *spatial, channels)`` (or
``(batch, time, channels, *spatial)`` with ``channels_first``), weights
``kernel (*k, in, 4*filters)``, ``recurrent_kernel (*k, filters, 4*filters)``,
``bias (4*filters,)``, gates ``i, f, c, o``; the states ``h`` and ``c`` are
images shaped like one output step. The kernels are stored in torch's
``(4*filters, in, *k)`` layout.

The input convolution does not depend on the states, so one batched
convolution covers every time step before the loop; each step then runs one
recurrent convolution (stride 1, ``"same"`` padding, as Keras). Dropout, as in
Keras, uses one mask per sequence shared by the four gates.
"""
from __future__ import annotations

import torch

from cornu import activations, config, initializers, regularizers, symbolic
from cornu.layers.convolutional import _CONV, _MEMORY_FORMAT, check_padding
from cornu.layers.core import _ser
from cornu.layers.layer import InputSpec, Layer
from cornu.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from cornu.layers.rnn.rnn import RNN, masked_step
from cornu.layers.rnn.utils import as_state_tensor, flatten_states, forward_cell_attributes
from cornu.utils import conv_utils
from cornu.variables import Variable


def _check_filters(filters) -> int:
    if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
        raise ValueError(f"Invalid value for argument `filters`. Expected a strictly positive integer. "
                         f"Received filters={filters!r}")
    return filters


class ConvLSTMCell(DropoutRNNCell):
    """One ConvLSTM step over ``(batch, *spatial, channels)`` inputs; states ``[h, c]``."""

    def __init__(self, rank: int, filters: int, kernel_size, strides=1, padding: str = "valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias: bool = True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None, **kwargs):
        super().__init__(_check_filters(filters), activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                         kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
                         seed=seed, **kwargs)
        self.rank = rank
        self.filters = filters
        self.kernel_size = conv_utils.normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = conv_utils.normalize_tuple(strides, rank, "strides")
        self.dilation_rate = conv_utils.normalize_tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("Specifying `strides > 1` is not compatible with `dilation_rate > 1`. Please provide "
                             f"`strides=1` or `dilation_rate=1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.padding = check_padding(padding)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias

    @property
    def state_size(self) -> list[int]:
        return [self.filters, self.filters]

    # ---------------------------------------------------------------- shapes
    def _spatial(self, shape: tuple) -> tuple:
        return tuple(shape[1:-1]) if self.data_format == "channels_last" else tuple(shape[2:])

    def _channels(self, shape: tuple):
        return shape[-1] if self.data_format == "channels_last" else shape[1]

    def compute_output_shape(self, input_shape) -> tuple:
        """One step's output (and state) shape for a ``(batch, *spatial, channels)`` step input."""
        spatial = self._spatial(tuple(input_shape))
        out = tuple(conv_utils.output_length(spatial[i], self.kernel_size[i], self.padding, self.strides[i],
                                             self.dilation_rate[i]) for i in range(self.rank))
        if any(d is not None and d <= 0 for d in out):
            raise ValueError(f"Computed output size would be zero or negative for layer {self.name!r}. Received "
                             f"input shape {tuple(input_shape)}, kernel_size={self.kernel_size}, "
                             f"strides={self.strides}, padding={self.padding}, dilation_rate={self.dilation_rate}.")
        if self.data_format == "channels_last":
            return (input_shape[0],) + out + (self.filters,)
        return (input_shape[0], self.filters) + out

    # ---------------------------------------------------------------- weights
    def build(self, input_shape) -> None:
        rank, filters = self.rank, self.filters
        in_ch = self._channels(tuple(input_shape))
        if in_ch is None:
            raise ValueError(f"The channel dimension of the inputs to layer {self.name!r} should be defined. "
                             f"Received input_shape={tuple(input_shape)}")
        layout = (rank + 1, rank) + tuple(range(rank))  # Keras (*k, in, out) -> torch (out, in, *k)
        fmt = _MEMORY_FORMAT[rank]
        self.kernel = self.add_weight(shape=self.kernel_size + (in_ch, 4 * filters),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel", layout=layout,
                                      memory_format=fmt)
        self.recurrent_kernel = self.add_weight(shape=self.kernel_size + (filters, 4 * filters),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint, name="recurrent_kernel",
                                                layout=layout, memory_format=fmt)
        if self.use_bias:
            init = self.bias_initializer
            if self.unit_forget_bias:
                base = init

                def init(shape, dtype=None):
                    parts = [base((filters,), dtype=dtype), initializers.get("ones")((filters,), dtype=dtype),
                             base((2 * filters,), dtype=dtype)]
                    return torch.cat([torch.as_tensor(p) for p in parts])

            self.bias = self.add_weight(shape=(4 * filters,), initializer=init, regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint, name="bias")
        else:
            self.bias = None
        self.built = True

    # ---------------------------------------------------------------- compute
    def input_conv(self, inputs: torch.Tensor) -> torch.Tensor:
        """The four gates' input convolution (plus bias) of ``(n, *spatial, channels)``, channels first."""
        x = conv_utils.to_channels_first(inputs, self.data_format)
        padding: object = 0
        if self.padding == "same":
            x, sym = conv_utils.pad_same(x, self.kernel_size, self.strides, self.dilation_rate)
            padding = sym if sym is not None else 0
        bias = self.bias.value if self.bias is not None else None
        return _CONV[self.rank](x, self.kernel.value, bias, self.strides, padding, self.dilation_rate)

    def step(self, z_x: torch.Tensor, states, training: bool = False):
        """One step from the precomputed input gates ``z_x`` (channels first); states in the API layout."""
        h_tm1, c_tm1 = states
        if self._drop_active(self.recurrent_dropout, training):
            h_tm1 = h_tm1 * self.get_recurrent_dropout_mask(h_tm1)
        h = conv_utils.to_channels_first(h_tm1, self.data_format)
        ones = (1,) * self.rank
        h, sym = conv_utils.pad_same(h, self.kernel_size, ones, ones)
        z = z_x + _CONV[self.rank](h, self.recurrent_kernel.value, None, ones, sym if sym is not None else 0)
        z_i, z_f, z_c, z_o = z.chunk(4, 1)
        c_prev = conv_utils.to_channels_first(c_tm1, self.data_format)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_prev + i * self.activation(z_c)
        o = self.recurrent_activation(z_o)
        h = o * self.activation(c)
        h = conv_utils.to_channels_last(h, self.data_format)
        c = conv_utils.to_channels_last(c, self.data_format)
        return h, [h, c]

    def call(self, inputs, states, training=False):
        if self._drop_active(self.dropout, training):
            inputs = inputs * self.get_dropout_mask(inputs)
        return self.step(self.input_conv(inputs), states, training)

    # ---------------------------------------------------------------- config
    def _cell_config(self) -> dict:
        base = super()._cell_config()
        del base["units"]
        return {**base, "filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}

    def get_config(self) -> dict:
        return {**super().get_config(), "rank": self.rank}


class ConvLSTM(RNN):
    """The ``RNN`` over a ``ConvLSTMCell``: one batched input convolution, then one recurrent one per step."""

    rank = 2

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias: bool = True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, **kwargs):
        cell = ConvLSTMCell(self.rank, filters, kernel_size, strides=strides, padding=padding,
                            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                            recurrent_activation=recurrent_activation, use_bias=use_bias,
                            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
                            dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True),
                            name="conv_lstm_cell")
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, activity_regularizer=activity_regularizer,
                         **kwargs)
        self.input_spec = InputSpec(ndim=self.rank + 3)
        object.__setattr__(self, "_state_shape", None)

    # ---------------------------------------------------------------- states
    def _step_output_shape(self, sequences_shape) -> tuple:
        return self.cell.compute_output_shape((sequences_shape[0],) + tuple(sequences_shape[2:]))

    def build(self, sequences_shape, initial_state_shape=None) -> None:
        self.input_spec.check(self.name, 0, tuple(sequences_shape))  # before any shape arithmetic
        object.__setattr__(self, "_state_shape", self._step_output_shape(sequences_shape)[1:])
        super().build(sequences_shape, initial_state_shape)

    def _zeros(self, batch_size: int) -> torch.Tensor:
        if self._state_shape is None or any(d is None for d in self._state_shape):
            raise ValueError(f"Layer '{self.name}' cannot make initial states before it knows the spatial shape of "
                             f"its inputs; received state shape {self._state_shape}.")
        return torch.zeros((batch_size, *self._state_shape), dtype=config.torch_dtype(self.compute_dtype),
                           device=config.device())

    def get_initial_state(self, batch_size: int) -> list:
        """Zero ``h`` and ``c``, each shaped like one output step."""
        return [self._zeros(batch_size), self._zeros(batch_size)]

    def _create_state_variables(self, batch_size: int) -> None:
        with symbolic.real_mode():
            variables = [Variable(self._zeros(batch_size), trainable=False, name="rnn_state",
                                  path=f"{self.name}/rnn_state") for _ in range(2)]
        object.__setattr__(self, "_state_variables", variables)

    def _check_initial_state(self, initial_state, sequences: torch.Tensor) -> list:
        states = [as_state_tensor(s, sequences) for s in flatten_states(initial_state)]
        expected = [(sequences.shape[0], *self._state_shape)] * 2
        got = [tuple(s.shape) for s in states]
        if got != expected:
            raise ValueError(f"Layer '{self.name}' expects 2 initial states of shapes {expected}, but received "
                             f"{len(got)} with shapes {got}.")
        return states

    # ----------------------------------------------------------------- call
    def call(self, sequences, initial_state=None, mask=None, training=False):
        object.__setattr__(self, "_state_shape", self._step_output_shape(tuple(sequences.shape))[1:])
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def inner_loop(self, sequences: torch.Tensor, states: list, mask: torch.Tensor | None, training: bool):
        cell = self.cell
        batch, steps = sequences.shape[:2]
        if steps == 0:
            raise ValueError(f"Layer '{self.name}' received sequences with 0 timesteps: shape "
                             f"{tuple(sequences.shape)}.")
        x = sequences
        if cell._drop_active(cell.dropout, training):
            x = x * cell.get_dropout_mask(sequences[:, 0]).unsqueeze(1)
        z_all = cell.input_conv(x.reshape(batch * steps, *x.shape[2:]))
        z_all = z_all.reshape(batch, steps, *z_all.shape[1:])
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        outputs: list[torch.Tensor] = []
        previous = None
        output = None
        for t in order:
            output, new_states = cell.step(z_all[:, t], states, training)
            if mask is not None:
                output, new_states, previous = masked_step(mask[:, t], output, new_states, states, previous,
                                                           self.zero_output_for_mask)
            states = new_states
            if self.return_sequences:
                outputs.append(output)
        return output, (torch.stack(outputs, 1) if self.return_sequences else None), states

    # --------------------------------------------------------------- shapes
    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        step = self._step_output_shape(tuple(sequences_shape))
        output = (step[0], sequences_shape[1]) + step[1:] if self.return_sequences else step
        return (output, step, step) if self.return_state else output

    # ---------------------------------------------------------------- config
    def get_config(self) -> dict:
        return {**Layer.get_config(self), **self._rnn_config(), **self.cell._cell_config(),
                "activity_regularizer": _ser(regularizers, self.activity_regularizer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "ConvLSTM":
        return cls(**config)


class ConvLSTM1D(ConvLSTM):
    """ConvLSTM over sequences of 1-D signals ``(batch, time, steps, channels)``."""

    rank = 1


class ConvLSTM2D(ConvLSTM):
    """ConvLSTM over sequences of images ``(batch, time, rows, cols, channels)``."""

    rank = 2


class ConvLSTM3D(ConvLSTM):
    """ConvLSTM over sequences of volumes ``(batch, time, d1, d2, d3, channels)``."""

    rank = 3


forward_cell_attributes(ConvLSTM, ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
                                   "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                                   "recurrent_initializer", "bias_initializer", "unit_forget_bias",
                                   "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                                   "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
                                   "recurrent_dropout", "seed"))
