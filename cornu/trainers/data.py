"""Data adapters: turn what ``fit``/``evaluate``/``predict`` receive into device batches.

Arrays (NumPy or torch, possibly nested in lists/dicts) are converted and moved
to the device once per call when they fit, then batched by index on the device
(shuffling is a ``randperm`` there). Generators, ``PyDataset``s and torch
``DataLoader``s are iterated and each batch is moved as it comes.
"""
from __future__ import annotations

import inspect
import math
import warnings
from typing import Any, Iterator

import numpy as np
import torch

from cornu import config
from cornu.utils import tree

# Keep at most this fraction of free GPU memory for whole-array residency.
_DEVICE_FRACTION = 0.5


def unpack_x_y_sample_weight(data: Any) -> tuple:
    """``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` -> a 3-tuple."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(f"Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
                     f"found a tuple of length {len(data)}.")


def pack_x_y_sample_weight(x, y=None, sample_weight=None) -> tuple:
    if y is None:
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _is_array(x: Any) -> bool:
    return isinstance(x, (np.ndarray, torch.Tensor)) or (
        hasattr(x, "__array__") and not isinstance(x, (str, bytes, dict, list, tuple)))


def is_text(arr: Any) -> bool:
    """A NumPy array of strings (``str``/``bytes``, or ``object`` holding them)."""
    if not isinstance(arr, np.ndarray):
        return False
    kind = arr.dtype.kind
    return kind in "US" or (kind == "O" and arr.size > 0 and isinstance(arr.flat[0], (str, bytes)))


def _take(t: Any, idx: torch.Tensor, idx_np: np.ndarray | None) -> Any:
    """Rows ``idx`` of one leaf: device tensors by ``index_select``, string arrays by NumPy indexing."""
    if isinstance(t, torch.Tensor):
        return t.index_select(0, idx)
    return t[idx_np] if isinstance(t, np.ndarray) else t


def to_tensor(x: Any, device: torch.device | None = None, name: str = "x") -> Any:
    """Convert one array leaf to a torch tensor (floats to floatx) on ``device``."""
    if x is None:
        return None
    if isinstance(x, torch.Tensor):
        t = x
    else:
        arr = np.asarray(x)
        if is_text(arr):
            return arr  # strings stay NumPy: text layers (TextVectorization, StringLookup) take them as they are
        if arr.dtype.kind not in "biuf":
            raise ValueError(
                f"Failed to convert `{name}` to a tensor: expected numeric data, got an array of dtype "
                f"{arr.dtype} (e.g. {arr.flat[0]!r} at index 0)." if arr.size else
                f"Failed to convert `{name}` to a tensor: unsupported dtype {arr.dtype}.")
        t = torch.from_numpy(np.ascontiguousarray(arr))
    if t.is_floating_point() and t.dtype != config.torch_dtype(config.floatx()):
        t = t.to(config.torch_dtype(config.floatx()))
    elif t.dtype == torch.float64:
        t = t.float()
    if device is not None and t.device != device:
        t = t.to(device, non_blocking=True)
    return t


def _convert_structure(data: Any, name: str) -> Any:
    def conv(leaf):
        if leaf is None:
            return None
        if isinstance(leaf, (int, float)) and not isinstance(leaf, bool):
            raise ValueError(f"Expected an array for `{name}`, got a Python scalar {leaf!r}.")
        if not _is_array(leaf) and not isinstance(leaf, (list, tuple)):
            raise TypeError(f"Unrecognized data type for `{name}`: {type(leaf).__name__} ({leaf!r:.80}).")
        return to_tensor(leaf, name=name)

    return tree.map_structure(conv, data)


def _num_samples(x: Any, y: Any, sw: Any) -> int:
    sizes = {}
    for name, part in (("x", x), ("y", y), ("sample_weight", sw)):
        leaves = [t for t in tree.flatten(part) if t is not None]
        if leaves:
            sizes[name] = [int(t.shape[0]) if t.ndim else 1 for t in leaves]
    all_sizes = {s for v in sizes.values() for s in v}
    if len(all_sizes) > 1:
        detail = " ".join(f"'{k}' sizes: {', '.join(map(str, v))}" for k, v in sizes.items())
        raise ValueError("Data cardinality is ambiguous. Make sure all arrays contain the same number of "
                         f"samples. {detail}")
    if not all_sizes:
        raise ValueError("No data provided: `x` is empty or None.")
    return all_sizes.pop()


def _fits_on_device(tensors: list[torch.Tensor], device: torch.device) -> bool:
    if device.type != "cuda":
        return True
    need = sum(t.numel() * t.element_size() for t in tensors)
    free, _ = torch.cuda.mem_get_info(device)
    return need <= _DEVICE_FRACTION * free


class ArrayDataAdapter:
    """Batches from in-memory arrays, resident on the device when they fit."""

    def __init__(self, x: Any, y: Any = None, sample_weight: Any = None, batch_size: int | None = 32,
                 shuffle: bool | str = False, steps: int | None = None, device: torch.device | None = None):
        self.device = device or config.device()
        x = _convert_structure(x, "x")
        y = _convert_structure(y, "y") if y is not None else None
        sample_weight = _convert_structure(sample_weight, "sample_weight") if sample_weight is not None else None
        self.num_samples = _num_samples(x, y, sample_weight)
        if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool)):
            raise TypeError(f"`batch_size` must be an integer or None. Received: batch_size={batch_size!r} "
                            f"(of type {type(batch_size).__name__})")
        self.batch_size = int(batch_size or 32)
        if self.batch_size <= 0:
            raise ValueError(f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}")
        leaves = [t for t in tree.flatten((x, y, sample_weight)) if isinstance(t, torch.Tensor)]
        self.on_device = _fits_on_device(leaves, self.device)
        target = self.device if self.on_device else None
        move = (lambda t: t.to(target, non_blocking=True) if isinstance(t, torch.Tensor) else t) \
            if target is not None else (lambda t: t)
        self.data = tree.map_structure(move, (x, y, sample_weight))
        self._has_text = any(isinstance(t, np.ndarray) for t in tree.flatten(self.data))
        self.shuffle = shuffle
        self.steps = steps
        # ``(n, device) -> permutation``; distributed fits use rank 0's permutation on every rank.
        self.shuffle_source = lambda n, device: torch.randperm(n, device=device)

    @property
    def num_batches(self) -> int:
        n = math.ceil(self.num_samples / self.batch_size)
        return min(n, self.steps) if self.steps else n

    def __iter__(self) -> Iterator[tuple]:
        n, bs = self.num_samples, self.batch_size
        index_device = self.device if self.on_device else torch.device("cpu")
        perm = perm_np = None
        if self.shuffle is True:
            perm = self.shuffle_source(n, index_device)
            if self._has_text:  # string arrays index on the host: the permutation comes over once per epoch
                perm_np = perm.cpu().numpy()
        order = range(self.num_batches)
        if self.shuffle == "batch":
            order = torch.randperm(math.ceil(n / bs)).tolist()[: self.num_batches]
        for b in order:
            start, stop = b * bs, min((b + 1) * bs, n)
            if perm is not None:
                idx, idx_np = perm[start:stop], None if perm_np is None else perm_np[start:stop]
                batch = tree.map_structure(lambda t: _take(t, idx, idx_np), self.data)
            else:
                batch = tree.map_structure(
                    lambda t: t[start:stop] if isinstance(t, (torch.Tensor, np.ndarray)) else t, self.data)
            if not self.on_device:
                batch = tree.map_structure(
                    lambda t: t.to(self.device, non_blocking=True) if isinstance(t, torch.Tensor) else t, batch)
            yield batch


class IterableDataAdapter:
    """Batches from a generator, ``PyDataset``, torch ``DataLoader`` or any iterable of batches."""

    def __init__(self, data: Any, steps: int | None = None, device: torch.device | None = None):
        self.device = device or config.device()
        self.data = data
        self.steps = steps
        self._iterator = None
        self._reiterable = not hasattr(data, "__next__")

    @property
    def num_batches(self) -> int | None:
        if self.steps:
            return self.steps
        try:
            return len(self.data)
        except TypeError:
            return None

    def _convert(self, batch: Any) -> tuple:
        if not isinstance(batch, tuple) and inspect.isgenerator(self.data):
            raise ValueError("When passing a Python generator to a Keras model, the generator must return a tuple, "
                             "either (input,) or (inputs, targets) or (inputs, targets, sample_weights). Received: "
                             f"{type(batch).__name__} {batch!r:.100}")
        x, y, sw = unpack_x_y_sample_weight(batch)
        conv = lambda part, name: None if part is None else tree.map_structure(
            lambda t: to_tensor(t, self.device, name) if t is not None else None, part)
        return conv(x, "x"), conv(y, "y"), conv(sw, "sample_weight")

    def __iter__(self) -> Iterator[tuple]:
        from cornu.utils.py_dataset import PyDataset, iterate_py_dataset

        if isinstance(self.data, PyDataset):
            for batch in iterate_py_dataset(self.data, self.steps):
                yield self._convert(batch)
            return
        if self._reiterable or self._iterator is None:
            iterable = not hasattr(self.data, "__getitem__") or hasattr(self.data, "__iter__")
            if type(self.data).__module__.startswith("tensorflow") and hasattr(self.data, "as_numpy_iterator"):
                self._iterator = self.data.as_numpy_iterator()  # a tf.data.Dataset: NumPy batches
            else:
                self._iterator = iter(self.data) if iterable else (self.data[i] for i in range(len(self.data)))
        for step, batch in enumerate(self._iterator):
            yield self._convert(batch)
            if self.steps and step + 1 >= self.steps:
                break


class StepsPerEpochIterator:
    """``fit``'s epochs of ``steps`` batches, as Keras counts them.

    Each epoch carries on in the data from where the previous one stopped. Data that runs out at the start of an
    epoch starts again; data that runs out in the middle of one ends that epoch early (with Keras's warning), and
    the next epoch starts the data again.
    """

    def __init__(self, adapter: Any, steps: int):
        self.adapter = adapter
        self.steps = steps
        self._iterator: Iterator | None = None

    @property
    def num_batches(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[tuple]:
        for step in range(self.steps):
            batch = self._next()
            if batch is None and step == 0:
                batch = self._next()
            if batch is None:
                if step:
                    warnings.warn("Your input ran out of data; interrupting training. Make sure that your dataset "
                                  "or generator can generate at least `steps_per_epoch * epochs` batches.",
                                  stacklevel=2)
                return
            yield batch

    def _next(self) -> tuple | None:
        if self._iterator is None:
            self._iterator = iter(self.adapter)
        try:
            return next(self._iterator)
        except StopIteration:
            self._iterator = None
            return None


def get_data_adapter(x: Any, y: Any = None, sample_weight: Any = None, batch_size: int | None = None,
                     shuffle: bool | str = False, steps: int | None = None) -> ArrayDataAdapter | IterableDataAdapter:
    """Pick the adapter for ``x``."""
    if x is None:
        raise ValueError("Expected `x` to be provided, got None.")
    if isinstance(x, list) and x and all(isinstance(v, (str, bytes)) for v in x):
        x = np.asarray(x)  # a list of texts is one string array, as Keras reads it
    leaves = tree.flatten(x)
    if any(isinstance(leaf, (int, float)) for leaf in leaves):  # Python numbers (lists of them): not data to Keras
        raise ValueError(f"Unrecognized data type: x={x!r:.100} (of type {type(x).__name__}). Pass NumPy arrays "
                         "or tensors.")
    if all(_is_array(leaf) for leaf in leaves):
        return ArrayDataAdapter(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle, steps=steps)
    if y is not None:
        raise ValueError(f"`y` argument is not supported when using a generator, dataset or iterable as input "
                         f"(`x` is a {type(x).__name__}). Yield (x, y) pairs from `x` instead.")
    if hasattr(x, "__iter__") or hasattr(x, "__getitem__"):
        return IterableDataAdapter(x, steps=steps)
    raise TypeError(f"Unrecognized data type: x={x!r:.100} (of type {type(x).__name__})")


def train_validation_split(arrays: tuple, validation_split: float) -> tuple[tuple, tuple]:
    """Split off the last ``validation_split`` fraction of every array (Keras's rule: before shuffling)."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"`validation_split` must be between 0 and 1. Received: {validation_split!r}")
    leaves = [t for t in tree.flatten(arrays) if t is not None]
    if not leaves or not all(_is_array(t) for t in leaves):
        raise ValueError("`validation_split` is only supported for tensors or NumPy arrays, "
                         f"found types {sorted({type(t).__name__ for t in leaves})}.")
    n = int(leaves[0].shape[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"Training data contains {n} samples, which is not sufficient to split it into a "
                         f"validation and training set as specified by `validation_split={validation_split}`.")
    first = tree.map_structure(lambda t: t[:split_at] if t is not None else None, arrays)
    second = tree.map_structure(lambda t: t[split_at:] if t is not None else None, arrays)
    return first, second
