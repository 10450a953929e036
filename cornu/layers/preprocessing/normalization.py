"""``Normalization``: feature-wise ``(x - mean) / sqrt(variance)``, statistics given or learned by ``adapt``.

``adapt`` streams: each batch's mean and variance are merged into running
statistics (Chan's parallel formula, float64 on the device), so a generator
or ``PyDataset`` larger than memory can be adapted to.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import torch

from cornu import config
from cornu.layers.layer import Layer

_DEFAULT_ROWS = 4096  # rows per step when adapting to an in-memory array without `batch_size`


def _as_axis_tuple(axis) -> tuple:
    if axis is None:
        return ()
    if isinstance(axis, int):
        return (axis,)
    return tuple(axis)


def _batch_tensor(batch: Any) -> torch.Tensor:
    """A batch (array, tensor, or an ``(x, y)`` tuple whose ``x`` is used) as a float64 device tensor."""
    if isinstance(batch, tuple):
        batch = batch[0]
    if hasattr(batch, "keras_value"):
        batch = batch.keras_value
    if isinstance(batch, torch.Tensor):
        return batch.detach().to(config.device(), torch.float64)
    arr = np.asarray(batch)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"adapt() expects numeric data. Received data of dtype {arr.dtype}")
    return torch.as_tensor(arr, device=config.device()).to(torch.float64)


def iterate_batches(data: Any, batch_size: int | None = None, steps: int | None = None,
                    default_rows: int = _DEFAULT_ROWS) -> Iterator[torch.Tensor]:
    """The batches ``adapt`` reads: arrays and tensors are sliced by rows, iterables are read as they come."""
    from cornu.utils.py_dataset import PyDataset, iterate_py_dataset

    if isinstance(data, PyDataset):
        source: Any = iterate_py_dataset(data, steps)
    elif isinstance(data, (np.ndarray, torch.Tensor, list)) or hasattr(data, "keras_value"):
        x = _batch_tensor(data if not isinstance(data, list) else np.asarray(data))
        rows = batch_size or default_rows
        source = (x[i:i + rows] for i in range(0, max(x.shape[0], 1), rows)) if x.ndim else iter([x])
    elif hasattr(data, "__iter__") or hasattr(data, "__next__"):
        source = iter(data)
    else:
        raise TypeError(f"Unsupported data type for adapt(): {type(data).__name__}. Expected a NumPy array, a "
                        "tensor, a PyDataset or an iterable of batches.")
    for i, batch in enumerate(source):
        if steps is not None and i >= steps:
            break
        yield _batch_tensor(batch)


class Normalization(Layer):
    """Shifts and scales inputs to mean 0 and variance 1 along the kept ``axis`` (``invert`` undoes it).

    The statistics are the non-trainable weights ``mean``, ``variance`` and ``count``
    (as Keras saves them) unless ``mean`` and ``variance`` are given.
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.axis = _as_axis_tuple(axis)
        if (mean is not None) != (variance is not None):
            raise ValueError("When setting values directly, both `mean` and `variance` must be set. "
                             f"Received: mean={mean} and variance={variance}")
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        self.supports_masking = True

    def build(self, input_shape) -> None:
        if input_shape is None:
            raise ValueError(f"Layer {self.name!r} needs an input shape to build.")
        ndim = len(input_shape)
        self._build_input_shape = tuple(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError("All `axis` values must be in the range [-ndim, ndim). Received inputs with "
                             f"ndim={ndim}, while axis={self.axis}")
        self._keep_axis = tuple(sorted(a if a >= 0 else a + ndim for a in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError("All `axis` values to be kept must have a known shape. Received "
                                 f"axis={self.axis}, inputs.shape={tuple(input_shape)}, with unknown axis at "
                                 f"index {d}")
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._stat_shape = tuple(input_shape[d] for d in self._keep_axis)
        self._broadcast_shape = tuple(input_shape[d] if d in self._keep_axis else 1 for d in range(ndim))
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=self._stat_shape, initializer="zeros",
                                              trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=self._stat_shape, initializer="ones",
                                                  trainable=False)
            self.count = self.add_weight(name="count", shape=(), dtype="int32", initializer="zeros",
                                         trainable=False)
        self.built = True

    def _statistics(self, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        if self.input_mean is not None:
            mean = torch.as_tensor(np.asarray(self.input_mean), dtype=dtype, device=device)
            variance = torch.as_tensor(np.asarray(self.input_variance), dtype=dtype, device=device)
            stat, shape = self._stat_shape, self._broadcast_shape
            return (torch.broadcast_to(mean, stat).reshape(shape), torch.broadcast_to(variance, stat).reshape(shape))
        shape = self._broadcast_shape
        return (self.adapt_mean.value.to(dtype).reshape(shape), self.adapt_variance.value.to(dtype).reshape(shape))

    def call(self, inputs):
        dtype = self._compute_torch_dtype or torch.float32
        x = torch.as_tensor(inputs).to(dtype)
        mean, variance = self._statistics(dtype, x.device)
        std = torch.clamp(torch.sqrt(variance), min=config.epsilon())
        if self.invert:
            return mean + x * std
        return (x - mean) / std

    def adapt(self, data, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn ``mean`` and ``variance`` from ``data``: an array, a tensor, a ``PyDataset`` or batches.

        Statistics are merged batch by batch, so only one batch is in memory at a time.
        """
        if self.input_mean is not None:
            raise ValueError(f"Layer {self.name!r} was given `mean` and `variance`; it cannot adapt.")
        n = mean = m2 = None
        for x in iterate_batches(data, batch_size, steps):
            if not self.built:
                self._maybe_build((None,) + tuple(x.shape[1:]) if x.ndim else ())
            self._check_adapt_shape(tuple(x.shape))
            if x.numel() == 0:
                continue
            b_n = x.numel() // max(int(np.prod(self._stat_shape)), 1)
            b_mean = x.mean(dim=self._reduce_axis) if self._reduce_axis else x
            b_m2 = ((x - b_mean.reshape(self._broadcast_shape)) ** 2).sum(dim=self._reduce_axis) \
                if self._reduce_axis else torch.zeros_like(x)
            if n is None:
                n, mean, m2 = b_n, b_mean, b_m2
                continue
            total = n + b_n
            delta = b_mean - mean
            mean = mean + delta * (b_n / total)
            m2 = m2 + b_m2 + delta ** 2 * (n * b_n / total)
            n = total
        if n is None:
            raise ValueError(f"adapt() of layer {self.name!r} received no data.")
        self.adapt_mean.assign(mean.reshape(self._stat_shape).to(torch.float32))
        self.adapt_variance.assign((m2 / n).reshape(self._stat_shape).to(torch.float32))
        self.count.assign(np.asarray(n, dtype="int32"))

    def _check_adapt_shape(self, shape: tuple) -> None:
        built = self._build_input_shape
        ok = len(shape) == len(built) and all(shape[d] == built[d] for d in self._keep_axis)
        if not ok:
            raise ValueError(f"The layer was built with input_shape={built}, but adapt() is being called with "
                             f"data with an incompatible shape, data.shape={shape}")

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "invert": self.invert, "mean": _listed(self.input_mean),
                "variance": _listed(self.input_variance)}


def _listed(value):
    """Statistics given as arrays or tensors appear in the config as (nested) lists, JSON-friendly."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value
