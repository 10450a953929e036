"""``StackedRNNCells``: several cells run as one, each step feeding the next cell's output upward."""
from __future__ import annotations

import inspect

from cornu.layers.layer import Layer
from cornu.layers.rnn.utils import flatten_states, normalize_state_size, zeros_state


class StackedRNNCells(Layer):
    """A cell made of ``cells``; its states are one list per cell (what ``RNN(return_state=True)`` returns)."""

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if not hasattr(cell, "call"):
                raise ValueError(f"All cells must have a `call` method. Received cell without a `call` method: {cell}")
            if not hasattr(cell, "state_size"):
                raise ValueError("All cells must have a `state_size` attribute. Received cell without a "
                                 f"`state_size`: {cell}")
        self.cells = list(cells)

    @property
    def state_size(self) -> list:
        return [c.state_size for c in self.cells]

    @property
    def output_size(self) -> int:
        last = self.cells[-1]
        size = getattr(last, "output_size", None)
        return size if size is not None else normalize_state_size(last.state_size)[0]

    def get_initial_state(self, batch_size: int) -> list:
        states = []
        for cell in self.cells:
            make = getattr(cell, "get_initial_state", None)
            if callable(make):
                states.append(list(flatten_states(make(batch_size))))
            else:
                states.append([zeros_state(batch_size, s, self.compute_dtype)
                               for s in normalize_state_size(cell.state_size)])
        return states

    def build(self, input_shape) -> None:
        shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer):
                cell._maybe_build(shape)
            size = getattr(cell, "output_size", None)
            if size is None:
                size = normalize_state_size(cell.state_size)[0]
            shape = (shape[0], size)
        self.built = True

    def call(self, inputs, states, training=False, **kwargs):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            cell_states = list(cell_states) if isinstance(cell_states, (list, tuple)) else [cell_states]
            extra = {"training": training} if "training" in inspect.signature(cell.call).parameters else {}
            inputs, cell_new = cell(inputs, cell_states, **extra)
            new_states.append(flatten_states(cell_new))
        return inputs, new_states

    def get_config(self) -> dict:
        from cornu.saving.serialization import serialize_keras_object

        return {**super().get_config(), "cells": [serialize_keras_object(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "StackedRNNCells":
        from cornu.saving.serialization import deserialize_keras_object

        config = dict(config)
        config["cells"] = [deserialize_keras_object(c, custom_objects=custom_objects) for c in config["cells"]]
        return cls(**config)
