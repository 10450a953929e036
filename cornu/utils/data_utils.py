"""``keras.utils.pack_x_y_sample_weight`` / ``unpack_x_y_sample_weight`` with Keras's public semantics."""
from __future__ import annotations

from typing import Any


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> Any:
    """The data tuple a ``train_step`` receives: ``x`` alone (a tuple/list ``x`` wrapped as ``(x,)`` so it is not
    read as ``(x, y)``), ``(x, y)`` or ``(x, y, sample_weight)``. With ``y=None`` the weight is dropped."""
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data: Any) -> tuple:
    """``(x, y, sample_weight)`` from ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` (missing parts None)."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) in (1, 2, 3):
        return tuple(data) + (None,) * (3 - len(data))
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
                     f"found: {data}")
