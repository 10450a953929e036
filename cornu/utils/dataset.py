"""``cornu.utils.Dataset``: the dataset the directory utilities return, built on ``torch.utils.data``.

Keras's data utilities return ``tf.data`` datasets; cornu returns this instead.
A dataset is an iterable of elements (usually batches) that ``fit``, ``evaluate``
and ``predict`` take, with the chainable verbs keras.io code calls on ``tf.data``
(``map``, ``batch``, ``shuffle``, ``prefetch``, ``cache``, ``take`` ...).

A dataset that reads from a map-style source (files, array slices) runs as a
``DataLoader``: samples are decoded in worker processes, batched there, pinned
when CUDA is the device, and prefetched; ``shuffle``, ``take``, ``skip`` and
``batch`` called straight on the source fold into its sampler so the workers
keep doing the work. Every other verb is a stream over the parent's elements in
the main process; ``map`` hands the function the element's tensors on the
device, so augmentation layers run batch-wise there.
"""
from __future__ import annotations

import queue
import random
import threading
import warnings
from typing import Any, Callable, Iterator

import numpy as np
import torch
import torch.utils.data as tud

from cornu import config
from cornu.utils import tree

INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2
AUTOTUNE = -1


class Cardinality(int):
    """An ``int`` that also answers ``.numpy()``, as the tensor ``tf.data``'s ``cardinality()`` returns does."""

    def numpy(self) -> np.int64:
        return np.int64(self)


class Skipped:
    """What a source returns for a sample it could not decode: the path and why, reported once by the loader."""

    def __init__(self, path: str, reason: str):
        self.path, self.reason = path, reason


def collate(samples: list) -> Any:
    """Stack a list of same-structured samples along a new first axis (strings into a NumPy string array)."""
    first = samples[0]
    if isinstance(first, tuple):
        return tuple(collate([s[i] for s in samples]) for i in range(len(first)))
    if isinstance(first, list):
        return [collate([s[i] for s in samples]) for i in range(len(first))]
    if isinstance(first, dict):
        return {k: collate([s[k] for s in samples]) for k in first}
    if isinstance(first, torch.Tensor):
        return torch.stack(samples)
    if isinstance(first, (str, bytes)):
        return np.asarray(samples)
    if isinstance(first, np.ndarray) and first.dtype.kind in "USO":
        return np.stack(samples)
    return torch.from_numpy(np.stack([np.asarray(s) for s in samples]))


def _convert_sample(sample: Any) -> Any:
    """One unbatched sample with its numeric NumPy leaves as tensors (strings stay as they are)."""
    def conv(leaf):
        if isinstance(leaf, np.ndarray) and leaf.dtype.kind not in "USO":
            return torch.from_numpy(leaf)
        if isinstance(leaf, (np.generic, int, float, bool)) and not isinstance(leaf, (str, bytes)):
            return torch.as_tensor(leaf)
        return leaf
    return tree.map_structure(conv, sample)


def unbatch_element(element: Any) -> Iterator[Any]:
    """Split one batched element into its samples along the first axis."""
    leaves = [leaf for leaf in tree.flatten(element) if leaf is not None]
    if not leaves:
        return
    n = len(leaves[0])
    for i in range(n):
        yield tree.map_structure(lambda t, i=i: t[i] if t is not None else None, element)


def to_device(element: Any, device: torch.device) -> Any:
    """Move the element's tensors to ``device`` (asynchronously from pinned memory); other leaves stay."""
    return tree.map_structure(
        lambda t: t.to(device, non_blocking=True) if isinstance(t, torch.Tensor) and t.device != device else t,
        element)


def to_numpy(element: Any) -> Any:
    return tree.map_structure(lambda t: t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t, element)


class _LoaderView(tud.Dataset):
    """The torch map-style dataset a ``DataLoader`` reads: a source seen through an index list, batching itself.

    A source has ``__len__`` and ``__getitem__(i)`` (a sample, or ``Skipped``); optionally ``get_batch(indices)``
    (a whole batch in one gather), or ``batch_item(i)`` + ``collate(samples)`` (per-sample work, then batch-wise
    work such as one resize for the whole batch). ``__getitems__`` returns ``(batch, skipped)``: samples the
    source could not decode are dropped from the batch and named, so the main process warns about them instead
    of a worker raising mid-epoch.
    """

    def __init__(self, source: Any, indices: np.ndarray):
        self.source, self.indices = source, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, position: int) -> tuple:
        sample = self.source[int(self.indices[position])]
        if isinstance(sample, Skipped):
            return None, [(sample.path, sample.reason)]
        return _convert_sample(sample), []

    def __getitems__(self, positions: list) -> tuple:
        idx = self.indices[np.asarray(positions, dtype=np.int64)]
        if hasattr(self.source, "get_batch"):
            return self.source.get_batch(idx), []
        samples, skipped = [], []
        fetch = getattr(self.source, "batch_item", self.source.__getitem__)
        for i in idx:
            sample = fetch(int(i))
            if isinstance(sample, Skipped):
                skipped.append((sample.path, sample.reason))
            else:
                samples.append(_convert_sample(sample))
        batch_fn = getattr(self.source, "collate", collate)
        return (batch_fn(samples) if samples else None), skipped


def _identity(x: Any) -> Any:
    return x


class Dataset:
    """An iterable of elements (usually ``(x, y)`` batches) with ``tf.data``'s chainable verbs.

    Make one with :meth:`from_tensor_slices` or a directory utility (``image_dataset_from_directory`` ...).
    ``class_names`` and ``file_paths`` are set where the data came from a directory.
    """

    INFINITE_CARDINALITY = INFINITE_CARDINALITY
    UNKNOWN_CARDINALITY = UNKNOWN_CARDINALITY
    AUTOTUNE = AUTOTUNE

    class_names: list[str] | None = None
    file_paths: list[str] | None = None

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError

    def _cardinality(self) -> int:
        return UNKNOWN_CARDINALITY

    def _inherit(self, child: "Dataset") -> "Dataset":
        child.class_names, child.file_paths = self.class_names, self.file_paths
        return child

    # Size.
    def cardinality(self) -> Cardinality:
        """The number of elements; ``INFINITE_CARDINALITY`` (-1) or ``UNKNOWN_CARDINALITY`` (-2) when not known."""
        return Cardinality(self._cardinality())

    def __len__(self) -> int:
        n = self._cardinality()
        if n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return n

    def __bool__(self) -> bool:
        return True

    # Reading.
    def as_numpy_iterator(self) -> Iterator[Any]:
        """The elements with every tensor as a NumPy array."""
        for element in self:
            yield to_numpy(element)

    @classmethod
    def from_tensor_slices(cls, tensors: Any) -> "Dataset":
        """A dataset of the slices of ``tensors`` (arrays, possibly nested) along their first axis."""
        return _SourceDataset(SliceSource(tensors), num_workers=0)

    # Stream verbs.
    def map(self, map_func: Callable, num_parallel_calls: int | None = None, deterministic: bool | None = None,
            name: str | None = None) -> "Dataset":
        """Apply ``map_func`` to each element (a tuple element is unpacked into arguments).

        Tensors are moved to ``config.device()`` first, so batched functions (augmentation layers, rescaling)
        run on the device. ``num_parallel_calls`` and ``deterministic`` are accepted for ``tf.data`` code and
        ignored: the function runs batch-wise already.
        """
        if not callable(map_func):
            raise TypeError(f"`map_func` must be callable. Received: map_func={map_func!r}")
        device = config.device()

        def apply(element):
            element = to_device(element, device)
            return map_func(*element) if isinstance(element, tuple) else map_func(element)

        return self._inherit(_Stream(self, lambda it: (apply(e) for e in it), self._cardinality()))

    def filter(self, predicate: Callable) -> "Dataset":
        """Keep the elements for which ``predicate`` is true (the length becomes unknown)."""
        def keep(element):
            out = predicate(*element) if isinstance(element, tuple) else predicate(element)
            return bool(out)
        return self._inherit(_Stream(self, lambda it: (e for e in it if keep(e)), UNKNOWN_CARDINALITY))

    def batch(self, batch_size: int, drop_remainder: bool = False, num_parallel_calls: int | None = None,
              deterministic: bool | None = None, name: str | None = None) -> "Dataset":
        """Group consecutive elements into batches of ``batch_size`` (the last one shorter unless dropped)."""
        batch_size = _positive_int(batch_size, "batch_size")

        def batches(it):
            buf = []
            for element in it:
                buf.append(element)
                if len(buf) == batch_size:
                    yield collate(buf)
                    buf = []
            if buf and not drop_remainder:
                yield collate(buf)

        n = self._cardinality()
        if n >= 0:
            n = n // batch_size if drop_remainder else -(-n // batch_size)
        return self._inherit(_Stream(self, batches, n))

    def unbatch(self, name: str | None = None) -> "Dataset":
        """Split every element into its samples along the first axis."""
        n = self._cardinality()
        return self._inherit(_Stream(self, lambda it: (s for e in it for s in unbatch_element(e)),
                                     INFINITE_CARDINALITY if n == INFINITE_CARDINALITY else UNKNOWN_CARDINALITY))

    def shuffle(self, buffer_size: int, seed: int | None = None, reshuffle_each_iteration: bool | None = None,
                name: str | None = None) -> "Dataset":
        """Shuffle elements through a buffer of ``buffer_size``, reshuffled each iteration unless told not to."""
        buffer_size = _positive_int(buffer_size, "buffer_size")
        base = seed if seed is not None else random.randrange(2 ** 31)
        epoch = [0]

        def shuffled(it):
            rng = random.Random(base + (epoch[0] if reshuffle_each_iteration is not False else 0))
            epoch[0] += 1
            buf = []
            for element in it:
                if len(buf) < buffer_size:
                    buf.append(element)
                    continue
                j = rng.randrange(buffer_size)
                yield buf[j]
                buf[j] = element
            rng.shuffle(buf)
            yield from buf

        return self._inherit(_Stream(self, shuffled, self._cardinality()))

    def take(self, count: int, name: str | None = None) -> "Dataset":
        """The first ``count`` elements (all of them when ``count`` is -1)."""
        count = int(count)
        if count < 0:
            return self
        n = self._cardinality()
        return self._inherit(_Stream(self, lambda it: (e for _, e in zip(range(count), it)),
                                     count if n in (INFINITE_CARDINALITY,) or n >= count else n))

    def skip(self, count: int, name: str | None = None) -> "Dataset":
        """All but the first ``count`` elements."""
        count = max(int(count), 0)

        def skipped(it):
            for i, element in enumerate(it):
                if i >= count:
                    yield element

        n = self._cardinality()
        return self._inherit(_Stream(self, skipped, max(n - count, 0) if n >= 0 else n))

    def repeat(self, count: int | None = None, name: str | None = None) -> "Dataset":
        """Iterate the dataset ``count`` times (forever when ``count`` is None or -1)."""
        count = None if count is None or int(count) < 0 else int(count)
        parent = self

        def repeated(_):
            i = 0
            while count is None or i < count:
                yield from parent
                i += 1

        n = self._cardinality()
        if count is None:
            card = INFINITE_CARDINALITY if n != 0 else 0
        else:
            card = n * count if n >= 0 else n
        return self._inherit(_Stream(None, repeated, card))

    def prefetch(self, buffer_size: int = AUTOTUNE, name: str | None = None) -> "Dataset":
        """Prepare up to ``buffer_size`` elements ahead in a background thread (``AUTOTUNE``: 2).

        A dataset read straight from its source is already prefetched by its ``DataLoader`` and is returned as is.
        """
        if isinstance(self, _SourceDataset):
            return self
        size = 2 if buffer_size is None or int(buffer_size) <= 0 else int(buffer_size)
        return self._inherit(_Stream(self, lambda it: _prefetched(it, size), self._cardinality()))

    def cache(self, filename: str = "", name: str | None = None) -> "Dataset":
        """Keep the elements in memory after the first complete pass and replay them afterwards.

        ``filename`` is accepted for ``tf.data`` code; the cache is always in memory.
        """
        store: dict = {}

        def cached(it):
            if "elements" in store:
                yield from store["elements"]
                return
            seen = []
            for element in it:
                seen.append(element)
                yield element
            store["elements"] = seen

        return self._inherit(_Stream(self, cached, self._cardinality()))

    def enumerate(self, start: int = 0, name: str | None = None) -> "Dataset":
        """Pair every element with its index: ``(i, element)``."""
        return self._inherit(_Stream(
            self, lambda it: ((torch.tensor(i, dtype=torch.int64), e) for i, e in enumerate(it, start)),
            self._cardinality()))

    def concatenate(self, dataset: "Dataset", name: str | None = None) -> "Dataset":
        """This dataset's elements, then ``dataset``'s."""
        first, second = self, dataset

        def chained(_):
            yield from first
            yield from second

        a, b = self._cardinality(), dataset._cardinality()
        card = a + b if a >= 0 and b >= 0 else (INFINITE_CARDINALITY if INFINITE_CARDINALITY in (a, b)
                                                else UNKNOWN_CARDINALITY)
        return self._inherit(_Stream(None, chained, card))

    @staticmethod
    def zip(*datasets: Any, name: str | None = None) -> "Dataset":
        """Elements of several datasets side by side: ``zip(a, b)`` or ``zip((a, b))`` yields ``(ea, eb)``."""
        if len(datasets) == 1 and isinstance(datasets[0], (tuple, list)):
            datasets = tuple(datasets[0])
        if not datasets or not all(isinstance(d, Dataset) for d in datasets):
            raise TypeError(f"`Dataset.zip` expects datasets. Received: {datasets!r:.200}")
        cards = [d._cardinality() for d in datasets]
        finite = [c for c in cards if c >= 0]
        card = min(finite) if finite else (INFINITE_CARDINALITY if all(c == INFINITE_CARDINALITY for c in cards)
                                           else UNKNOWN_CARDINALITY)
        if finite and UNKNOWN_CARDINALITY in cards:
            card = UNKNOWN_CARDINALITY
        return _Stream(None, lambda _: zip(*datasets), card)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} cardinality={self._cardinality()}>"


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, torch.Tensor)) or int(value) <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _prefetched(it: Iterator, size: int) -> Iterator:
    """Run ``it`` in a daemon thread ``size`` elements ahead; errors surface in the consumer, stopping stops it."""
    q: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()
    done = object()

    def produce():
        try:
            for element in it:
                while not stop.is_set():
                    try:
                        q.put((element, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((done, None))
        except BaseException as e:  # handed to the consumer
            q.put((done, e))

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            element, error = q.get()
            if element is done:
                if error is not None:
                    raise error
                return
            yield element
    finally:
        stop.set()


class _Stream(Dataset):
    """A dataset whose elements are ``transform(iter(parent))`` (``parent`` None: ``transform(None)``)."""

    def __init__(self, parent: Dataset | None, transform: Callable[[Any], Iterator], cardinality: int):
        self._parent, self._transform, self._card = parent, transform, cardinality

    def _cardinality(self) -> int:
        return self._card

    def __iter__(self) -> Iterator[Any]:
        return iter(self._transform(iter(self._parent) if self._parent is not None else None))


class _SourceDataset(Dataset):
    """A map-style source read through a ``DataLoader``: workers decode and batch, memory is pinned for CUDA.

    ``indices`` selects and orders the source's samples; ``shuffle`` permutes them anew each iteration (from
    ``seed`` when given); ``batch_size`` None yields single samples.
    """

    def __init__(self, source: Any, batch_size: int | None = None, drop_remainder: bool = False,
                 shuffle: bool = False, seed: int | None = None, num_workers: int = 0,
                 indices: np.ndarray | None = None, prefetch_factor: int = 2):
        self.source = source
        self.indices = np.arange(len(source), dtype=np.int64) if indices is None else indices
        self.batch_size, self.drop_remainder = batch_size, drop_remainder
        self.shuffle_samples, self.seed = shuffle, seed
        self.num_workers, self.prefetch_factor = int(num_workers), prefetch_factor
        self._loader: tud.DataLoader | None = None
        self._busy = False
        self._warned: set = set()

    def _copy(self, **changes) -> "_SourceDataset":
        kw = dict(batch_size=self.batch_size, drop_remainder=self.drop_remainder, shuffle=self.shuffle_samples,
                  seed=self.seed, num_workers=self.num_workers, indices=self.indices,
                  prefetch_factor=self.prefetch_factor)
        kw.update(changes)
        return self._inherit(_SourceDataset(self.source, **kw))

    def _cardinality(self) -> int:
        n = len(self.indices)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_remainder else -(-n // self.batch_size)

    # Verbs that fold into the sampler while the samples are still unbatched.
    def batch(self, batch_size: int, drop_remainder: bool = False, num_parallel_calls: int | None = None,
              deterministic: bool | None = None, name: str | None = None) -> Dataset:
        if self.batch_size is not None:
            return super().batch(batch_size, drop_remainder)
        return self._copy(batch_size=_positive_int(batch_size, "batch_size"), drop_remainder=drop_remainder)

    def shuffle(self, buffer_size: int, seed: int | None = None, reshuffle_each_iteration: bool | None = None,
                name: str | None = None) -> Dataset:
        """On unbatched samples: a full uniform shuffle of the index (what a buffer as large as the data gives)."""
        if self.batch_size is not None or self.shuffle_samples or reshuffle_each_iteration is False:
            return super().shuffle(buffer_size, seed, reshuffle_each_iteration)
        _positive_int(buffer_size, "buffer_size")
        return self._copy(shuffle=True, seed=seed)

    def take(self, count: int, name: str | None = None) -> Dataset:
        if self.batch_size is not None or self.shuffle_samples or int(count) < 0:
            return super().take(count)
        return self._copy(indices=self.indices[:int(count)])

    def skip(self, count: int, name: str | None = None) -> Dataset:
        if self.batch_size is not None or self.shuffle_samples:
            return super().skip(count)
        return self._copy(indices=self.indices[max(int(count), 0):])

    def _make_loader(self, persistent: bool) -> tud.DataLoader:
        view = _LoaderView(self.source, self.indices)
        generator = None
        if self.shuffle_samples:
            generator = torch.Generator()
            generator.manual_seed(self.seed if self.seed is not None else random.randrange(2 ** 62))
        workers = self.num_workers
        kwargs = dict(num_workers=workers, pin_memory=config.device().type == "cuda",
                      collate_fn=_identity)
        if workers > 0:
            kwargs.update(prefetch_factor=self.prefetch_factor, persistent_workers=persistent)
        return tud.DataLoader(view, batch_size=self.batch_size, drop_last=self.drop_remainder,
                              shuffle=self.shuffle_samples, generator=generator, **kwargs)

    def __iter__(self) -> Iterator[Any]:
        if self._busy:  # a second iteration at the same time gets its own loader
            loader = self._make_loader(persistent=False)
        else:
            if self._loader is None:
                self._loader = self._make_loader(persistent=True)
            loader = self._loader
        return self._iterate(loader, own=loader is self._loader)

    def _iterate(self, loader: tud.DataLoader, own: bool) -> Iterator[Any]:
        if own:
            self._busy = True
        try:
            for element, skipped in loader:
                if skipped:
                    self._warn(skipped)
                if element is not None:
                    yield element
        finally:
            if own:
                self._busy = False

    def _warn(self, skipped: list) -> None:
        new = [(p, r) for p, r in skipped if p not in self._warned]
        if new:
            self._warned.update(p for p, _ in new)
            listing = "; ".join(f"{p} ({r})" for p, r in new)
            warnings.warn(f"Skipped {len(new)} file(s) that could not be decoded: {listing}", stacklevel=3)


class SliceSource:
    """Samples that are slices of in-memory arrays (the source of ``Dataset.from_tensor_slices``)."""

    def __init__(self, tensors: Any):
        def conv(leaf):
            if isinstance(leaf, torch.Tensor):
                return leaf
            arr = np.asarray(leaf)
            return arr if arr.dtype.kind in "USO" else torch.from_numpy(np.ascontiguousarray(arr))

        if isinstance(tensors, list):  # as in tf.data, a list is one tensor (stacked), not a structure
            tensors = torch.stack(tensors) if tensors and isinstance(tensors[0], torch.Tensor) else np.asarray(tensors)
        self.tensors = tree.map_structure(conv, tensors)
        sizes = {int(t.shape[0]) for t in tree.flatten(self.tensors) if t is not None}
        if len(sizes) != 1:
            raise ValueError(f"All tensors passed to `from_tensor_slices` must have the same first dimension; "
                             f"received sizes {sorted(sizes)}.")
        self.n = sizes.pop()

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> Any:
        return tree.map_structure(lambda t: t[i] if t is not None else None, self.tensors)

    def get_batch(self, idx: np.ndarray) -> Any:
        index = torch.from_numpy(idx)
        return tree.map_structure(
            lambda t: None if t is None else (t[idx] if isinstance(t, np.ndarray) else t.index_select(0, index)),
            self.tensors)

