"""``RNN``: runs a cell over the time axis of ``(batch, timesteps, features)`` sequences.

A cell is any layer with ``state_size`` (an int, or a list of ints, one per
state) and ``call(inputs, states) -> (output, new_states)``; a list of cells
becomes ``StackedRNNCells``. The generic path is a Python loop over the time
steps. ``SimpleRNN``, ``LSTM`` and ``GRU`` override ``inner_loop`` to run
torch's fused kernel when Keras's cuDNN conditions hold.

Masks follow Keras: at a masked step the states are carried through unchanged
and the output is the previous step's output (zeros before the first unmasked
step), or zeros with ``zero_output_for_mask=True``.
"""
from __future__ import annotations

import inspect
from typing import Any

import torch

from cornu import symbolic
from cornu.layers.layer import InputSpec, Layer
from cornu.layers.rnn.utils import (as_mask, as_state_tensor, flatten_states, normalize_state_size,
                                    output_specs, pack_states, zeros_state)
from cornu.variables import Variable


class RNN(Layer):
    """Base class for recurrent layers: Keras's ``RNN(cell, return_sequences, return_state, ...)``."""
    _casts_int_inputs = True

    def __init__(self, cell, return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, unroll: bool = False, zero_output_for_mask: bool = False, **kwargs):
        if isinstance(cell, (list, tuple)):
            from cornu.layers.rnn.stacked_rnn_cells import StackedRNNCells

            cell = StackedRNNCells(cell)
        if not hasattr(cell, "call"):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: cell={cell}")
        if not hasattr(cell, "state_size"):
            raise ValueError("The RNN cell should have a `state_size` attribute (single integer or list of integers, "
                             f"one integer per RNN state). Received: cell={cell}")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.zero_output_for_mask = zero_output_for_mask
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)
        self._cell_takes_training = "training" in inspect.signature(cell.call).parameters
        # Stateful RNNs keep their last states here (Variables, not weights: never saved or trained).
        object.__setattr__(self, "_state_variables", None)

    # ------------------------------------------------------------ structure
    @property
    def _state_structure(self) -> list:
        """The states as the cell sees them: a list of sizes, or one such list per cell when stacked."""
        from cornu.layers.rnn.stacked_rnn_cells import StackedRNNCells

        if isinstance(self.cell, StackedRNNCells):
            return [normalize_state_size(c.state_size) for c in self.cell.cells]
        return normalize_state_size(self.cell.state_size)

    @property
    def _flat_state_sizes(self) -> list[int]:
        return flatten_states(self._state_structure)

    @property
    def _output_size(self) -> int:
        size = getattr(self.cell, "output_size", None)
        return int(size) if size is not None else self._flat_state_sizes[0]

    @property
    def states(self) -> Any:
        """A stateful layer's current states (``Variable``s); None otherwise or before the first call."""
        return None if self._state_variables is None else list(self._state_variables)

    # ---------------------------------------------------------------- build
    def build(self, sequences_shape, initial_state_shape=None) -> None:
        if self.stateful and sequences_shape[0] is None:
            raise ValueError("When using `stateful=True` in a RNN, the batch size must be static. Found dynamic "
                             f"batch size: sequence.shape={tuple(sequences_shape)}")
        step_shape = (sequences_shape[0],) + tuple(sequences_shape[2:])
        if isinstance(self.cell, Layer):
            self.cell._maybe_build(step_shape)
        if self.stateful:
            self._create_state_variables(sequences_shape[0])
        self.built = True

    def _create_state_variables(self, batch_size: int) -> None:
        with symbolic.real_mode():
            variables = [Variable(zeros_state(batch_size, s, self.compute_dtype), trainable=False, name="rnn_state",
                                  path=f"{self.name}/rnn_state") for s in self._flat_state_sizes]
        object.__setattr__(self, "_state_variables", variables)

    def reset_states(self) -> None:
        """Zero a stateful layer's states."""
        for v in self._state_variables or ():
            with torch.no_grad():
                v.value.zero_()

    def reset_state(self) -> None:
        self.reset_states()

    def get_initial_state(self, batch_size: int) -> list:
        """Zero states for ``batch_size`` sequences (the cell's own ``get_initial_state`` when it has one)."""
        make = getattr(self.cell, "get_initial_state", None)
        if callable(make):
            return list(make(batch_size))
        return pack_states(self._state_structure,
                           [zeros_state(batch_size, s, self.compute_dtype) for s in self._flat_state_sizes])

    # ----------------------------------------------------------------- call
    def call(self, sequences, initial_state=None, mask=None, training=False):
        if mask is not None:
            mask = as_mask(mask, sequences, self.name)
        batch = sequences.shape[0]
        if initial_state is not None:
            states = self._check_initial_state(initial_state, sequences)
        elif self.stateful:
            states = self._stateful_states(batch, sequences)
        else:
            states = [as_state_tensor(s, sequences) for s in flatten_states(self.get_initial_state(batch))]
        try:
            last_output, outputs, new_states = self.inner_loop(sequences, states, mask, training)
        finally:
            self._reset_dropout_masks()
        if self.stateful and not symbolic.in_fake_run():
            with torch.no_grad():
                for var, value in zip(self._state_variables, new_states):
                    var.value.copy_(value.detach())
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return (output, *pack_states(self._state_structure, list(new_states)))
        return output

    def _check_initial_state(self, initial_state: Any, sequences: torch.Tensor) -> list:
        flat = flatten_states(initial_state)
        sizes = self._flat_state_sizes
        batch = sequences.shape[0]
        expected = [(batch, s) for s in sizes]
        states = [as_state_tensor(s, sequences) for s in flat]
        got = [tuple(s.shape) for s in states]
        if got != expected:
            raise ValueError(f"Layer '{self.name}' expects {len(expected)} initial state(s) of shapes {expected} "
                             f"(batch_size, state_size), but received {len(got)} with shapes {got}.")
        return states

    def _stateful_states(self, batch: int, sequences: torch.Tensor) -> list:
        if self._state_variables is None:
            self._create_state_variables(batch)
        current = self._state_variables[0].value.shape[0]
        if current != batch:
            raise ValueError("If an RNN is stateful, the batch size of the input sequences must be the same as the "
                             f"batch size of the initial state. \n- Expected batch size: {current}\n- Received batch "
                             f"size: {batch}")
        # A copy: the stored states are overwritten after this call while autograd may still need these.
        return [v.value.detach().to(device=sequences.device, dtype=sequences.dtype, copy=True)
                for v in self._state_variables]

    def _reset_dropout_masks(self) -> None:
        cells = getattr(self.cell, "cells", None) or [self.cell]
        for cell in cells:
            for name in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
                reset = getattr(cell, name, None)
                if callable(reset):
                    reset()

    def inner_loop(self, sequences: torch.Tensor, states: list, mask: torch.Tensor | None, training: bool):
        """``(last_output, outputs or None, final flat states)``: the per-time-step loop over the cell."""
        return self._loop(sequences, states, mask, training)

    def _loop(self, sequences: torch.Tensor, states: list, mask: torch.Tensor | None, training: bool):
        steps = sequences.shape[1]
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        structure = self._state_structure
        kwargs = {"training": training} if self._cell_takes_training else {}
        outputs: list[torch.Tensor] = []
        previous = None
        output = None
        for t in order:
            output, new_states = self.cell(sequences[:, t], tuple(pack_states(structure, states)), **kwargs)
            new_states = flatten_states(new_states)
            if len(new_states) != len(states):
                raise ValueError(f"The cell of layer '{self.name}' returned {len(new_states)} states, but its "
                                 f"`state_size` declares {len(states)}.")
            if mask is not None:
                output, new_states, previous = masked_step(mask[:, t], output, new_states, states, previous,
                                                           self.zero_output_for_mask)
            states = new_states
            if self.return_sequences:
                outputs.append(output)
        if output is None:
            raise ValueError(f"Layer '{self.name}' received sequences with 0 timesteps: shape "
                             f"{tuple(sequences.shape)}.")
        return output, (torch.stack(outputs, 1) if self.return_sequences else None), states

    # --------------------------------------------------------------- shapes
    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch = sequences_shape[0]
        size = self._output_size
        output = (batch, sequences_shape[1], size) if self.return_sequences else (batch, size)
        if not self.return_state:
            return output
        from cornu.layers.rnn.stacked_rnn_cells import StackedRNNCells

        if isinstance(self.cell, StackedRNNCells):
            # As Keras's symbolic outputs: a single-state cell's state bare, a multi-state cell's as a list.
            states = [(batch, s) if isinstance(s, int) else [(batch, x) for x in s] for s in self.cell.state_size]
            return (output, *states)
        return (output, *[(batch, s) for s in self._flat_state_sizes])

    def compute_output_spec(self, *args, **kwargs):
        shapes = self.compute_output_shape(tuple(self._first_arg(args, kwargs).shape))
        return output_specs(shapes, self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        if mask is not None and not isinstance(mask, torch.Tensor):
            mask = torch.as_tensor(mask, device=inputs.device if isinstance(inputs, torch.Tensor) else None)
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self._state_structure)
        return output_mask

    # ---------------------------------------------------------------- config
    def _rnn_config(self) -> dict:
        return {"return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask}

    def get_config(self) -> dict:
        from cornu.saving.serialization import serialize_keras_object

        return {**super().get_config(), **self._rnn_config(), "cell": serialize_keras_object(self.cell)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "RNN":
        from cornu.saving.serialization import deserialize_keras_object

        config = dict(config)
        config["cell"] = deserialize_keras_object(config["cell"], custom_objects=custom_objects)
        return cls(**config)


def masked_step(keep: torch.Tensor, output: torch.Tensor, new_states: list, states: list,
                previous: torch.Tensor | None, zero_output_for_mask: bool) -> tuple:
    """Keras's masked time step: where ``keep`` is false the states carry over and the output is zero
    (``zero_output_for_mask``) or the last kept output. Returns ``(output, states, last kept output)``."""
    new_states = [torch.where(_expand(keep, n), n, s) for n, s in zip(new_states, states)]
    previous = torch.where(_expand(keep, output), output, torch.zeros_like(output) if previous is None else previous)
    if zero_output_for_mask:
        output = torch.where(_expand(keep, output), output, torch.zeros_like(output))
    else:
        output = previous
    return output, new_states, previous


def _expand(keep: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A ``(batch,)`` mask broadcastable against ``like`` (``(batch, ...)``)."""
    return keep.view(keep.shape[0], *([1] * (like.ndim - 1)))
