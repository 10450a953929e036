"""``keras.utils.timeseries_dataset_from_array``: sliding windows over an array as a cornu ``Dataset``.

Window ``k`` starts at ``start_index + p_k`` (``p_k = k * sequence_stride``, in a
seeded shuffled order when ``shuffle``) and takes ``sequence_length`` steps
``sampling_rate`` apart; its target is ``targets[start_index + p_k]``. Batches
are gathered with one fancy index per batch, not window by window.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cornu.utils import dataset_utils
from cornu.utils.dataset import Dataset, _SourceDataset


class WindowSource:
    """Windows of ``data`` (and their targets) by window number."""

    def __init__(self, data: np.ndarray, targets: np.ndarray | None, starts: np.ndarray, offsets: np.ndarray):
        self.data, self.targets, self.starts, self.offsets = data, targets, starts, offsets

    def __len__(self) -> int:
        return len(self.starts)

    def get_batch(self, idx: np.ndarray) -> Any:
        starts = self.starts[idx]
        x = torch.from_numpy(np.ascontiguousarray(self.data[starts[:, None] + self.offsets]))
        if self.targets is None:
            return x
        return x, torch.from_numpy(np.ascontiguousarray(self.targets[starts]))

    def __getitem__(self, i: int) -> Any:
        window = self.data[self.starts[i] + self.offsets]
        return window if self.targets is None else (window, self.targets[self.starts[i]])


def _as_array(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def timeseries_dataset_from_array(data: Any, targets: Any, sequence_length: int, sequence_stride: int = 1,
                                  sampling_rate: int = 1, batch_size: int | None = 128, shuffle: bool = False,
                                  seed: int | None = None, start_index: int | None = None,
                                  end_index: int | None = None, format: str = "torch") -> Dataset:
    """A ``Dataset`` of ``(windows, targets)`` batches (windows alone when ``targets`` is None).

    ``format="tf"`` returns the same batches as a ``tf.data.Dataset`` (TensorFlow required).
    """
    dataset_utils.check_format(format)
    data = _as_array(data)
    targets = None if targets is None else _as_array(targets)
    n = len(data)
    if start_index is not None and not 0 <= start_index < n:
        raise ValueError(f"`start_index` must be 0 or greater and less than the number of samples, got "
                         f"start_index={start_index}")
    if end_index is not None and not (start_index or 0) < end_index <= n:
        raise ValueError(f"`end_index` must be higher than `start_index` and lower or equal to the number of "
                         f"samples, got end_index={end_index}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride),
                        ("sequence_length", sequence_length)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"`{name}` must be higher than 0. Received: {name}={value}")
    if sampling_rate >= n:
        raise ValueError(f"`sampling_rate` must be lower than the length of the data. Received: "
                         f"sampling_rate={sampling_rate}, for data of length {n}")
    if sequence_stride >= n:
        raise ValueError(f"`sequence_stride` must be lower than the length of the data. Received: "
                         f"sequence_stride={sequence_stride}, for data of length {n}")
    start = start_index or 0
    end = n if end_index is None else end_index
    num_seqs = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    positions = np.arange(0, max(num_seqs, 0), sequence_stride, dtype=np.int64)
    if shuffle:
        np.random.RandomState(np.random.randint(1e6) if seed is None else seed).shuffle(positions)
    offsets = np.arange(sequence_length, dtype=np.int64) * sampling_rate
    source = WindowSource(data, targets, positions + start, offsets)
    return dataset_utils.in_format(_SourceDataset(source, batch_size=batch_size, num_workers=0), format)
