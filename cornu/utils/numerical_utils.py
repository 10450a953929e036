"""Label and vector helpers: ``to_categorical`` and ``normalize``.

NumPy in, NumPy out, with Keras's NumPy semantics (float64 one-hot rows,
NumPy's indexing and norms); a torch tensor in gives a torch tensor out (same
device). ``normalize`` takes any other array-like (a list) as a tensor, as
Keras does.
"""
from __future__ import annotations

import numpy as np
import torch

from cornu import config


def to_categorical(x, num_classes: int | None = None):
    """One-hot encode integer class labels into float64 vectors (float32 for a torch tensor).

    ``x`` of shape ``(n,)`` or ``(n, 1)`` gives ``(n, num_classes)``; other
    shapes get a trailing class axis. ``num_classes`` defaults (also when 0)
    to ``max(x) + 1``. Labels are cast to integers (fractions truncate) and
    index the class axis as NumPy does: a negative label counts from the end,
    one at or past ``num_classes`` raises ``IndexError``.
    """
    if isinstance(x, torch.Tensor):
        onehot = to_categorical(x.detach().cpu().numpy(), num_classes)
        return torch.from_numpy(onehot.astype("float32")).to(x.device)
    if num_classes is not None and (
        isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer))
    ):
        raise TypeError(
            f"`num_classes` must be an integer. Received: num_classes={num_classes!r} "
            f"(of type {type(num_classes).__name__})"
        )
    labels = np.asarray(x).astype("int64")
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = labels.reshape(-1)
    if not num_classes:
        if not flat.size:
            raise ValueError("Cannot infer `num_classes` from an empty array of labels; pass `num_classes`.")
        num_classes = int(flat.max()) + 1
    if num_classes < 0:
        raise ValueError(f"`num_classes` must be >= 0. Received: num_classes={num_classes}")
    onehot = np.zeros((flat.size, int(num_classes)))
    bad = flat[(flat >= num_classes) | (flat < -num_classes)]
    if bad.size:
        raise IndexError(f"Label {bad[0]} is out of range for num_classes={num_classes}.")
    onehot[np.arange(flat.size), flat] = 1.0
    return onehot.reshape(shape + (int(num_classes),))


def normalize(x, axis: int = -1, order: int = 2):
    """Scale ``x`` to unit ``order``-norm along ``axis``; all-zero slices stay zero.

    A NumPy array follows Keras's NumPy path exactly: any norm order NumPy
    accepts, the result at least 2-D, and the norms re-inserted at ``axis``
    unless ``axis`` is 0 (then at the last axis, as Keras does). Tensors and
    other array-likes need an integer ``order >= 1`` and give a tensor.
    """
    if isinstance(x, np.ndarray):
        norms = np.atleast_1d(np.linalg.norm(x, order, axis))
        norms[norms == 0] = 1
        return x / np.expand_dims(norms, axis if axis else -1)
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order!r}")
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(np.asarray(x), dtype=config.torch_dtype(config.floatx()), device=config.device())
    if not x.is_floating_point():
        x = x.to(config.torch_dtype(config.floatx()))
    norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.where(norm == 0, torch.ones_like(norm), norm)
