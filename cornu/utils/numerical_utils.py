"""Label and vector helpers: ``to_categorical`` and ``normalize``.

NumPy in, NumPy out; a torch tensor in gives a torch tensor out (same device).
"""
from __future__ import annotations

import numpy as np
import torch


def to_categorical(x, num_classes: int | None = None):
    """One-hot encode integer class labels into float32 vectors.

    ``x`` of shape ``(n,)`` or ``(n, 1)`` gives ``(n, num_classes)``; other
    shapes get a trailing class axis. ``num_classes`` defaults to
    ``max(x) + 1``. A label that is negative, not a whole number, or not
    below ``num_classes`` raises ``ValueError``.
    """
    if isinstance(x, torch.Tensor):
        onehot = to_categorical(x.detach().cpu().numpy(), num_classes)
        return torch.from_numpy(onehot).to(x.device)
    if num_classes is not None and (
        isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer))
    ):
        raise TypeError(
            f"`num_classes` must be an integer. Received: num_classes={num_classes!r} "
            f"(of type {type(num_classes).__name__})"
        )
    labels = _integer_labels(np.asarray(x))
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = labels.reshape(-1)
    if num_classes is None:
        num_classes = int(flat.max()) + 1 if flat.size else 0
    if num_classes < 0:
        raise ValueError(f"`num_classes` must be >= 0. Received: num_classes={num_classes}")
    bad = flat[(flat < 0) | (flat >= num_classes)]
    if bad.size:
        raise ValueError(
            f"Label {bad[0]} is out of range for num_classes={num_classes}: "
            f"labels must be in [0, {num_classes})."
        )
    onehot = np.zeros((flat.size, num_classes), dtype="float32")
    onehot[np.arange(flat.size), flat] = 1.0
    return onehot.reshape(shape + (num_classes,))


def _integer_labels(x: np.ndarray) -> np.ndarray:
    """``x`` as int64, refusing non-numeric values and fractional labels."""
    if x.dtype == bool or np.issubdtype(x.dtype, np.integer):
        return x.astype("int64")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"Labels must be integers. Received an array of dtype {x.dtype}.")
    fractional = x[x != np.round(x)]
    if fractional.size:
        raise ValueError(f"Labels must be whole numbers. Received label {fractional[0]}.")
    return x.astype("int64")


def normalize(x, axis: int = -1, order: int = 2):
    """Scale ``x`` to unit ``order``-norm along ``axis``; all-zero slices stay zero."""
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order!r}")
    if isinstance(x, torch.Tensor):
        if not x.is_floating_point():
            x = x.to(torch.get_default_dtype())
        norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
        return x / torch.where(norm == 0, torch.ones_like(norm), norm)
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype("float32")
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    norm[norm == 0] = 1
    return x / norm
