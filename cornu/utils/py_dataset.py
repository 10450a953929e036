"""``keras.utils.PyDataset``: a Python dataset of batches, indexed by batch number.

Subclasses implement ``__len__`` (number of batches) and ``__getitem__(i)``
(the i-th batch, ``(x, y)`` or ``(x, y, sample_weight)``). With ``workers > 1``
upcoming batches are prepared in a thread pool while the model trains.
"""
from __future__ import annotations

import concurrent.futures
import warnings
from typing import Any, Iterator


class PyDataset:
    """Base class for datasets that ``fit``/``evaluate``/``predict`` index batch by batch."""

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10):
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"`workers` must be a positive integer. Received: workers={workers!r}")
        if not isinstance(max_queue_size, int) or max_queue_size < 1:
            raise ValueError(f"`max_queue_size` must be a positive integer. Received: {max_queue_size!r}")
        if use_multiprocessing:
            warnings.warn("use_multiprocessing=True is not supported by cornu's PyDataset; using threads.",
                          stacklevel=2)
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self) -> int:
        return getattr(self, "_workers", 1)

    @property
    def use_multiprocessing(self) -> bool:
        return getattr(self, "_use_multiprocessing", False)

    @property
    def max_queue_size(self) -> int:
        return getattr(self, "_max_queue_size", 10)

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement `__getitem__(index)`.")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement `__len__()`.")

    @property
    def num_batches(self) -> int | None:
        try:
            return len(self)
        except NotImplementedError:
            return None

    def on_epoch_begin(self) -> None:
        """Called at the start of every epoch."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch (e.g. to reshuffle)."""


def iterate_py_dataset(dataset: PyDataset, steps: int | None = None) -> Iterator[Any]:
    """One epoch of batches, prefetched by ``dataset.workers`` threads, with the epoch hooks."""
    n = dataset.num_batches
    if n is None and steps is None:
        raise ValueError(f"{type(dataset).__name__} has no `__len__`: pass `steps_per_epoch` (or `steps`).")
    total = min(n, steps) if n is not None and steps else (steps or n)
    dataset.on_epoch_begin()
    if dataset.workers <= 1:
        for i in range(total):
            yield dataset[i]
    else:
        with concurrent.futures.ThreadPoolExecutor(dataset.workers) as pool:
            ahead = max(dataset.max_queue_size, dataset.workers)
            futures = [pool.submit(dataset.__getitem__, i) for i in range(min(ahead, total))]
            for i in range(total):
                batch = futures[i].result()
                if i + ahead < total:
                    futures.append(pool.submit(dataset.__getitem__, i + ahead))
                futures[i] = None
                yield batch
    dataset.on_epoch_end()
