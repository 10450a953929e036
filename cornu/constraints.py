"""Weight constraints (``keras.constraints``): projections applied to a weight after each update.

Each is called on the weight in Keras layout and returns the constrained
tensor; ``axis`` refers to Keras layout (Dense kernel ``(in, out)``: axis 0 is
each unit's incoming weights).
"""
from __future__ import annotations

from typing import Any

import torch

from cornu import config
from cornu.utils import identifiers


def _tensor(x: Any) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    if hasattr(x, "keras_value"):
        return x.keras_value
    return torch.as_tensor(x, dtype=config.torch_dtype(config.floatx()), device=config.device())


def _dims(axis: int | list | tuple) -> int | tuple:
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _norms(w: torch.Tensor, axis) -> torch.Tensor:
    return torch.sqrt(torch.sum(torch.square(w), dim=_dims(axis), keepdim=True))


class Constraint:
    """Base class: ``__call__(w)`` returns the projected weight (identity here)."""

    def __call__(self, w: Any) -> torch.Tensor:
        return _tensor(w)

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Constraint":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Rescale slices along ``axis`` whose L2 norm exceeds ``max_value``."""

    def __init__(self, max_value: float = 2, axis: int | list = 0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w: Any) -> torch.Tensor:
        w = _tensor(w)
        norms = _norms(w, self.axis)
        desired = torch.clamp(norms, 0, self.max_value)
        return w * (desired / (config.epsilon() + norms))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Move slice norms towards ``[min_value, max_value]`` by a fraction ``rate``."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: int | list = 0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w: Any) -> torch.Tensor:
        w = _tensor(w)
        norms = _norms(w, self.axis)
        desired = self.rate * torch.clamp(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (config.epsilon() + norms))

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class NonNeg(Constraint):
    """Zero out negative entries."""

    def __call__(self, w: Any) -> torch.Tensor:
        w = _tensor(w)
        return w * (w >= 0).to(w.dtype)


class UnitNorm(Constraint):
    """Scale slices along ``axis`` to unit L2 norm."""

    def __init__(self, axis: int | list = 0):
        self.axis = axis

    def __call__(self, w: Any) -> torch.Tensor:
        w = _tensor(w)
        return w / (config.epsilon() + _norms(w, self.axis))

    def get_config(self) -> dict:
        return {"axis": self.axis}


# Keras exports lowercase aliases of the classes.
max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm

ALL_OBJECTS_DICT: dict[str, type] = {
    "Constraint": Constraint, "MaxNorm": MaxNorm, "MinMaxNorm": MinMaxNorm, "NonNeg": NonNeg,
    "UnitNorm": UnitNorm, "constraint": Constraint, "max_norm": MaxNorm, "min_max_norm": MinMaxNorm,
    "non_neg": NonNeg, "unit_norm": UnitNorm,
}


def serialize(constraint: Constraint) -> dict:
    """Keras's form: ``{"module", "class_name", "config", "registered_name"}``."""
    from cornu.saving.serialization import serialize_keras_object

    if not hasattr(constraint, "get_config"):
        raise TypeError(f"Cannot serialize {constraint!r}: it has no `get_config()`.")
    return serialize_keras_object(constraint)


def deserialize(config: dict | str, custom_objects: dict | None = None) -> Constraint:
    """Build a constraint from ``serialize``'s dict or a registered name."""
    return identifiers.deserialize(config, ALL_OBJECTS_DICT, "constraint", custom_objects)


def get(identifier: Any) -> Any:
    """Resolve None, a name, a config dict, a class or a callable."""
    return identifiers.get(identifier, ALL_OBJECTS_DICT, "constraint")


__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "max_norm", "min_max_norm",
           "non_neg", "unit_norm", "get", "serialize", "deserialize"]
