"""Shared by imdb and reuters: safe loading of word-index sequences and Keras's preprocessing of them.

Keras stores each dataset's sequences as a NumPy *object* array of Python
lists, which ``np.load`` can only read by unpickling, and unpickling can run
arbitrary code. Here the pickle is read by an unpickler that can build
nothing but NumPy arrays, dtypes and scalars (plus the lists and ints pickle
makes natively); any other object in the file is refused before it exists.
The result is then checked to be a 1-D array of lists of ints.
"""
from __future__ import annotations

import itertools
import json
import pickle
import zipfile
import zlib
from typing import Any

import numpy as np


def _numpy_core() -> Any:
    try:
        from numpy._core import multiarray  # NumPy >= 2
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core import multiarray
    return multiarray


_ALLOWED = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _numpy_core()._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _numpy_core()._reconstruct,
    ("numpy.core.multiarray", "scalar"): _numpy_core().scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_core().scalar,
}


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """An unpickler that can build NumPy arrays of builtin values and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        found = _ALLOWED.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only NumPy arrays of lists of ints "
                                         "are allowed in a dataset file")
        return found


def _read_member(archive: zipfile.ZipFile, key: str) -> np.ndarray:
    with archive.open(f"{key}.npy") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(f)
        if dtype.hasobject:
            array = _ArrayOnlyUnpickler(f, encoding="ASCII").load()
        else:
            data = np.frombuffer(f.read(), dtype=dtype, count=int(np.prod(shape)))
            array = data.reshape(shape, order="F" if fortran_order else "C")
    if not isinstance(array, np.ndarray) or tuple(array.shape) != tuple(shape):
        raise ValueError(f"array {key!r} does not hold what its header declares")
    return array


def load_sequence_arrays(path: str, sequence_keys: tuple[str, ...], label_keys: tuple[str, ...]
                         ) -> dict[str, np.ndarray]:
    """Read word-index sequences (object arrays of int lists) and integer labels from a Keras dataset npz.

    A file that is not such an archive, lacks a key, or holds anything else
    raises ``ValueError`` naming it, so the user knows which file to replace.
    """
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            found = sorted(n[:-4] for n in archive.namelist() if n.endswith(".npy"))
            missing = [k for k in sequence_keys + label_keys if k not in found]
            if missing:
                raise ValueError(f"missing arrays {missing} (found {found})")
            for key in sequence_keys + label_keys:
                arrays[key] = _read_member(archive, key)
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, pickle.UnpicklingError, ValueError, TypeError,
            AttributeError, IndexError, KeyError) as e:
        raise ValueError(f"Dataset file {path} is corrupt or not a valid Keras sequence dataset ({e}). "
                         "Delete it and load again.") from e
    for key in sequence_keys:
        _check_sequences(path, key, arrays[key])
    for key in label_keys:
        labels = arrays[key]
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise ValueError(f"Dataset file {path}: {key!r} must be a 1-D integer array; found dtype "
                             f"{labels.dtype} and shape {labels.shape}.")
    return arrays


def _check_sequences(path: str, key: str, seqs: np.ndarray) -> None:
    if seqs.ndim != 1 or seqs.dtype != object:
        raise ValueError(f"Dataset file {path}: {key!r} must be a 1-D object array of sequences; found dtype "
                         f"{seqs.dtype} and shape {seqs.shape}.")
    for i, seq in enumerate(seqs):
        if type(seq) is not list or not all(type(w) is int for w in seq):
            raise ValueError(f"Dataset file {path}: {key}[{i}] is not a list of ints ({type(seq).__name__}).")


def check_lengths(path: str, arrays: dict[str, np.ndarray], pairs: list[tuple[str, str]]) -> None:
    for x_key, y_key in pairs:
        if len(arrays[x_key]) != len(arrays[y_key]):
            raise ValueError(f"Dataset file {path} is inconsistent: {x_key} has {len(arrays[x_key])} sequences but "
                             f"{y_key} has {len(arrays[y_key])} labels.")


def shuffled(rng: np.random.RandomState, seqs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.arange(len(seqs))
    rng.shuffle(order)
    return seqs[order], labels[order]


def prepare(seqs: np.ndarray, labels: np.ndarray, *, maxlen, start_char, index_from):
    """Shift indices by ``index_from``, prepend ``start_char``, drop sequences of ``maxlen`` steps or more.

    Returns ``(flat, lengths, labels)``: all indices in one int64 array and each sequence's length.
    """
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    flat = np.fromiter(itertools.chain.from_iterable(seqs), dtype=np.int64, count=int(lengths.sum()))
    if index_from:
        flat = flat + index_from
    if start_char is not None:
        starts = np.cumsum(lengths) - lengths
        flat = np.insert(flat, starts, start_char)
        lengths = lengths + 1
    if maxlen:
        keep = lengths < maxlen
        flat = flat[np.repeat(keep, lengths)]
        lengths, labels = lengths[keep], labels[keep]
    return flat, lengths, labels


def limit_vocabulary(flat: np.ndarray, lengths: np.ndarray, num_words, skip_top: int, oov_char):
    """Replace (or, with ``oov_char=None``, drop) indices outside ``[skip_top, num_words)``.

    ``num_words`` None means the largest index present (which itself then counts as out of range, as in Keras).
    """
    if not num_words:
        num_words = int(flat.max()) if flat.size else 0
    inside = (flat >= skip_top) & (flat < num_words)
    if oov_char is not None:
        return np.where(inside, flat, oov_char), lengths
    owner = np.repeat(np.arange(len(lengths)), lengths)
    return flat[inside], np.bincount(owner[inside], minlength=len(lengths)).astype(np.int64)


def as_sequences(flat: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A 1-D object array of Python int lists, one per sequence."""
    out = np.empty(len(lengths), dtype=object)
    pieces = np.split(flat, np.cumsum(lengths)[:-1]) if len(lengths) else []
    for i, piece in enumerate(pieces):
        out[i] = piece.tolist()
    return out


def load_word_index(path: str) -> dict[str, int]:
    """The ``{word: index}`` JSON file at ``path``, checked to be that."""
    try:
        with open(path, encoding="utf-8") as f:
            index = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"Word index file {path} is corrupt ({e}). Delete it and load again.") from e
    if not isinstance(index, dict) or not all(isinstance(k, str) and type(v) is int for k, v in index.items()):
        raise ValueError(f"Word index file {path} is not a mapping of words to integer indices.")
    return index
