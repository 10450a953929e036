"""Helpers shared by the recurrent layers: argument checks, masks, state structures, weight paths."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from cornu import config


def check_units(units: Any) -> int:
    """Keras's check of ``units``: a positive integer (``TypeError`` for non-numbers)."""
    if isinstance(units, bool) or not isinstance(units, numbers.Real):
        raise TypeError(f"Received an invalid value for argument `units`, expected a positive integer, got {units!r}.")
    if not isinstance(units, numbers.Integral) or units <= 0:
        raise ValueError(f"Received an invalid value for argument `units`, expected a positive integer, got {units}.")
    return int(units)


def clip_rate(rate: Any) -> float:
    """Dropout rates are clipped into ``[0, 1]`` as Keras does (the config shows the clipped value)."""
    return min(1.0, max(0.0, rate))


def normalize_state_size(state_size: Any) -> list:
    """One cell's ``state_size`` as a list of ints (an int is one state)."""
    if isinstance(state_size, numbers.Integral):
        return [int(state_size)]
    if isinstance(state_size, (list, tuple)) and all(isinstance(s, numbers.Integral) for s in state_size):
        return [int(s) for s in state_size]
    raise ValueError("state_size must be an integer, or a list/tuple of integers (one for each state tensor). "
                     f"Received: state_size={state_size!r}")


def flatten_states(states: Any) -> list:
    """Nested lists/tuples of state tensors as one flat list."""
    if isinstance(states, (list, tuple)):
        return [t for s in states for t in flatten_states(s)]
    return [states]


def pack_states(structure: list, flat: list) -> list:
    """``flat`` shaped like ``structure`` (a list of ints, or of such lists for stacked cells)."""
    out, i = [], 0
    for entry in structure:
        if isinstance(entry, list):
            out.append(list(flat[i:i + len(entry)]))
            i += len(entry)
        else:
            out.append(flat[i])
            i += 1
    return out


def as_mask(mask: Any, sequences: torch.Tensor, layer_name: str) -> torch.Tensor:
    """``mask`` as a bool ``(batch, timesteps)`` tensor on the input's device; ``ValueError`` if it does not fit."""
    if not isinstance(mask, torch.Tensor):
        mask = torch.as_tensor(np.asarray(mask), device=sequences.device)
    if mask.ndim == 3 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    expected = tuple(sequences.shape[:2])
    if tuple(mask.shape) != expected:
        raise ValueError(f"Layer '{layer_name}' received a mask of shape {tuple(mask.shape)}, but the mask must have "
                         f"shape (batch_size, timesteps) = {expected} to match its input of shape "
                         f"{tuple(sequences.shape)}.")
    return mask.to(device=sequences.device, dtype=torch.bool)


def as_state_tensor(value: Any, like: torch.Tensor) -> torch.Tensor:
    """An initial state as a tensor of the sequences' dtype and device."""
    if hasattr(value, "keras_value"):
        value = value.keras_value
    if not isinstance(value, torch.Tensor):
        value = torch.as_tensor(np.asarray(value))
    return value.to(device=like.device, dtype=like.dtype if value.is_floating_point() else None)


def zeros_state(batch_size: int, size: int, dtype: Any) -> torch.Tensor:
    return torch.zeros((batch_size, size), dtype=config.torch_dtype(dtype), device=config.device())


def forward_cell_attributes(cls: type, names: tuple) -> None:
    """Give a layer class read-only properties that return its cell's attributes (``LSTM.units`` ...)."""
    for name in names:
        setattr(cls, name, property(lambda self, name=name: getattr(self.cell, name), doc=f"The cell's ``{name}``."))


def output_specs(shapes: Any, dtype: str) -> Any:
    """KerasTensors for an output shape, or for a tuple / list (nested freely) of output shapes."""
    from cornu.layers.layer import _is_shape
    from cornu.symbolic import KerasTensor

    if _is_shape(shapes):
        return KerasTensor(shapes, dtype=dtype)
    specs = [output_specs(s, dtype) for s in shapes]
    return tuple(specs) if isinstance(shapes, tuple) else specs
