"""Weight regularizers (``keras.regularizers``): callables mapping a weight to a scalar penalty.

Each is called on the weight in Keras layout and returns a 0-dim tensor on
the weight's device, which the layer adds to its losses.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from cornu import config
from cornu.utils import identifiers


def _validate_penalty(value: Any, name: str) -> float:
    """A finite non-negative number, else ``ValueError`` naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(
            f"Invalid value for argument {name}: expected a non-negative float. Received: {name}={value!r}"
        )
    return float(value)


def _tensor(x: Any) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    if hasattr(x, "keras_value"):
        return x.keras_value
    return torch.as_tensor(x, dtype=config.torch_dtype(config.floatx()), device=config.device())


class Regularizer:
    """Base class: ``__call__(x)`` returns the penalty (0 here)."""

    def __call__(self, x: Any) -> torch.Tensor:
        x = _tensor(x)
        return torch.zeros((), dtype=x.dtype, device=x.device)

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Regularizer":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1(Regularizer):
    """``l1 * sum(|x|)``."""

    def __init__(self, l1: float = 0.01):
        self.l1 = _validate_penalty(0.01 if l1 is None else l1, "l1")

    def __call__(self, x: Any) -> torch.Tensor:
        return self.l1 * torch.sum(torch.abs(_tensor(x)))

    def get_config(self) -> dict:
        # Keras reports L1's factor rounded through float32 (L2 and L1L2 keep the Python float).
        return {"l1": float(torch.tensor(self.l1, dtype=torch.float32))}


class L2(Regularizer):
    """``l2 * sum(x**2)``."""

    def __init__(self, l2: float = 0.01):
        self.l2 = _validate_penalty(0.01 if l2 is None else l2, "l2")

    def __call__(self, x: Any) -> torch.Tensor:
        return self.l2 * torch.sum(torch.square(_tensor(x)))

    def get_config(self) -> dict:
        return {"l2": self.l2}


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _validate_penalty(0.0 if l1 is None else l1, "l1")
        self.l2 = _validate_penalty(0.0 if l2 is None else l2, "l2")

    def __call__(self, x: Any) -> torch.Tensor:
        x = _tensor(x)
        penalty = torch.zeros((), dtype=x.dtype, device=x.device)
        if self.l1:
            penalty = penalty + self.l1 * torch.sum(torch.abs(x))
        if self.l2:
            penalty = penalty + self.l2 * torch.sum(torch.square(x))
        return penalty

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a 2-D weight towards orthogonality.

    Penalty: ``factor * mean |cos(v_i, v_j)|`` over all pairs ``i != j`` of the
    L2-normalised rows (``mode="rows"``) or columns (``mode="columns"``).
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        self.factor = _validate_penalty(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError(
                f"Invalid value for argument `mode`. Expected one of {{'rows', 'columns'}}. Received: mode={mode!r}"
            )
        self.mode = mode

    def __call__(self, x: Any) -> torch.Tensor:
        x = _tensor(x)
        if x.ndim != 2:
            raise ValueError(
                f"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape={tuple(x.shape)}"
            )
        vectors = x if self.mode == "rows" else x.T
        vectors = F.normalize(vectors, dim=1, eps=1e-12)
        product = vectors @ vectors.T
        size = product.shape[0]
        off_diagonal = product * (1.0 - torch.eye(size, dtype=x.dtype, device=x.device))
        num_pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * torch.sum(torch.abs(off_diagonal)) / num_pairs

    def get_config(self) -> dict:
        # Keras stores the factor as a float32 scalar: its config holds the float32-rounded value.
        return {"factor": float(np.float32(self.factor)), "mode": self.mode}


# Keras exports lowercase aliases of the classes.
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

ALL_OBJECTS_DICT: dict[str, type] = {
    "Regularizer": Regularizer, "L1": L1, "L2": L2, "L1L2": L1L2, "OrthogonalRegularizer": OrthogonalRegularizer,
    "regularizer": Regularizer, "l1": L1, "l2": L2, "l1l2": L1L2, "l1_l2": L1L2,
    "orthogonal_regularizer": OrthogonalRegularizer,
}


def serialize(regularizer: Regularizer) -> dict:
    """Keras's form: ``{"module", "class_name", "config", "registered_name"}``."""
    from cornu.saving.serialization import serialize_keras_object

    if not hasattr(regularizer, "get_config"):
        raise TypeError(f"Cannot serialize {regularizer!r}: it has no `get_config()`.")
    return serialize_keras_object(regularizer)


def deserialize(config: dict | str, custom_objects: dict | None = None) -> Regularizer:
    """Build a regularizer from ``serialize``'s dict or a registered name."""
    return identifiers.deserialize(config, ALL_OBJECTS_DICT, "regularizer", custom_objects)


def get(identifier: Any) -> Any:
    """Resolve None, a name, a config dict, a class or a callable."""
    return identifiers.get(identifier, ALL_OBJECTS_DICT, "regularizer")


__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "orthogonal_regularizer", "get", "serialize", "deserialize"]
