"""``keras.utils.split_dataset`` and the directory indexing every ``*_dataset_from_directory`` shares.

``index_directory`` lists files as Keras does (classes in sorted subdirectory order,
files sorted within each folder, folders walked top-down in sorted order,
extensions matched case-insensitively) and shuffles paths and labels with the same
NumPy ``RandomState`` draws, so the same folder and seed give Keras's order and
training/validation split.
"""
from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np
import torch

from cornu.utils import tree
from cornu.utils.dataset import Dataset, SliceSource, _SourceDataset

LABEL_MODES = ("int", "categorical", "binary", None)


def check_validation_split_arg(validation_split: float | None, subset: str | None, shuffle: bool,
                               seed: int | None) -> None:
    """Keras's checks of ``validation_split`` / ``subset`` / ``seed``, with its messages."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: {validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f'`subset` must be either "training", "validation" or "both", received: {subset}')
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide a `seed` argument, "
                         "to make sure that there is no overlap between the training and validation subset.")


def check_label_args(labels: Any, label_mode: str | None, what: str = "image") -> None:
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple)):
        raise ValueError(f"`labels` argument should be a list/tuple of integer labels, of the same size as the number "
                         f"of {what} files in the target directory. If you wish to infer the labels from the "
                         f"subdirectory names in the target directory, pass `labels=\"inferred\"`. If you wish to get "
                         f"a dataset that only contains {what}s (no labels), pass `labels=None`. Received: "
                         f"labels={labels}")
    if label_mode not in LABEL_MODES:
        raise ValueError(f'`label_mode` argument must be one of "int", "categorical", "binary", or None. '
                         f"Received: label_mode={label_mode}")


def _walk(directory: str, formats: tuple[str, ...], follow_links: bool) -> list[str]:
    """Files under ``directory`` with an allowed extension: each folder's files sorted, then its subfolders."""
    found = []
    for root, dirs, files in os.walk(directory, followlinks=follow_links):
        dirs.sort()
        found.extend(os.path.join(root, f) for f in sorted(files) if f.lower().endswith(formats))
    return found


def index_directory(directory: str, labels: Any, formats: Sequence[str], class_names: Sequence[str] | None = None,
                    shuffle: bool = True, seed: int | None = None, follow_links: bool = False,
                    verbose: bool = True) -> tuple[list[str], np.ndarray | list | None, list[str] | None]:
    """``(file_paths, labels, class_names)`` of the files in ``directory``, as Keras lists and shuffles them.

    ``labels="inferred"``: one class per subdirectory (``class_names`` may pick and order a subset); a list of
    integer labels: one per file in walk order; None: no labels.
    """
    if not os.path.isdir(directory):
        raise ValueError(f"Could not find directory {directory}")
    formats = tuple(f.lower() for f in formats)
    if labels == "inferred":
        subdirs = sorted(d for d in os.listdir(directory) if os.path.isdir(os.path.join(directory, d)))
        if class_names is not None:
            if not set(class_names) <= set(subdirs):
                raise ValueError(f"The `class_names` passed did not match the names of the subdirectories of the "
                                 f"target directory. Expected: {subdirs} (or a subset of it), but received: "
                                 f"class_names={list(class_names)}")
            subdirs = list(class_names)
        class_names = list(subdirs)
        paths, label_list = [], []
        for index, name in enumerate(subdirs):
            found = _walk(os.path.join(directory, name), formats, follow_links)
            paths.extend(found)
            label_list.extend([index] * len(found))
        label_array: Any = np.asarray(label_list, dtype="int32")
    else:
        paths = _walk(directory, formats, follow_links)
        label_array = None
        if labels is not None:
            if len(labels) != len(paths):
                raise ValueError(f"Expected the lengths of `labels` to match the number of files in the target "
                                 f"directory. len(labels) is {len(labels)} while we found {len(paths)} files in "
                                 f"directory {directory}.")
            label_array = list(labels)
            class_names = [str(c) for c in sorted(set(label_array))]
    if verbose:
        if labels is None:
            print(f"Found {len(paths)} files.")
        else:
            print(f"Found {len(paths)} files belonging to {len(class_names)} classes.")
    if shuffle:
        seed = np.random.randint(1e6) if seed is None else seed
        np.random.RandomState(seed).shuffle(paths)
        if label_array is not None:
            np.random.RandomState(seed).shuffle(label_array)
    return paths, label_array, class_names


def training_or_validation_split(samples: list, labels: Any, validation_split: float | None, subset: str | None,
                                 verbose: bool = True) -> tuple[list, Any]:
    """The last ``validation_split`` fraction is the validation subset, the rest the training one (Keras's rule)."""
    if not validation_split:
        return samples, labels
    num_val = int(validation_split * len(samples))
    if subset == "training":
        if verbose:
            print(f"Using {len(samples) - num_val} files for training.")
        return samples[:-num_val], (labels[:-num_val] if labels is not None else None)
    if subset == "validation":
        if verbose:
            print(f"Using {num_val} files for validation.")
        return samples[-num_val:], (labels[-num_val:] if labels is not None else None)
    raise ValueError(f"`subset` must be either \"training\" or \"validation\", received: {subset}")


def encode_labels(labels: Any, label_mode: str | None, num_classes: int) -> np.ndarray | None:
    """Integer labels as Keras yields them: int32 for ``"int"``, float32 one-hot or ``(n, 1)`` 0/1 otherwise."""
    if label_mode is None or labels is None:
        return None
    labels = np.asarray(labels, dtype="int64")
    if label_mode == "int":
        return labels.astype("int32")
    if label_mode == "binary":
        return labels.astype("float32").reshape(-1, 1)
    return np.eye(num_classes, dtype="float32")[labels] if len(labels) else np.zeros((0, num_classes), "float32")


def check_binary(label_mode: str | None, class_names: list | None) -> None:
    if label_mode == "binary" and class_names is not None and len(class_names) != 2:
        raise ValueError(f'When passing `label_mode="binary"`, there must be exactly 2 class_names. Received: '
                         f"class_names={class_names}")


def default_num_workers() -> int:
    """Decoding workers when none are asked for: half the CPUs, at most 8 (the model needs the rest)."""
    return max(1, min(8, (os.cpu_count() or 2) // 2))


def split_subsets(build, paths: list, labels: Any, validation_split: float | None, subset: str | None,
                  verbose: bool) -> Any:
    """``build(paths, labels)`` for the asked subset, or a ``(training, validation)`` pair for ``"both"``."""
    if subset == "both":
        train = training_or_validation_split(paths, labels, validation_split, "training", verbose)
        val = training_or_validation_split(paths, labels, validation_split, "validation", verbose)
        return build(*train, True), build(*val, False)
    paths, labels = training_or_validation_split(paths, labels, validation_split, subset, verbose)
    return build(paths, labels, subset != "validation")


FORMATS = ("torch", "tf")


def check_format(format: str) -> None:
    """``format`` is ``"torch"`` (a cornu ``Dataset``) or ``"tf"`` (a ``tf.data.Dataset``; TensorFlow must import)."""
    if format not in FORMATS:
        raise ValueError(f"`format` should be one of {FORMATS}. Received: format={format!r}")
    if format == "tf":
        tensorflow()


def tensorflow() -> Any:
    try:
        import tensorflow as tf
    except ImportError as e:
        raise ImportError("`format=\"tf\"` returns a `tf.data.Dataset` and requires the tensorflow module "
                          "(`pip install tensorflow`); the default `format=\"torch\"` returns a cornu Dataset "
                          "without it.") from e
    return tf


def to_tf_dataset(dataset: Dataset) -> Any:
    """The same elements as a ``tf.data.Dataset`` (read through cornu's pipeline), with its length and names."""
    tf = tensorflow()
    first = next(dataset.as_numpy_iterator())

    def spec(leaf):
        arr = np.asarray(leaf)
        dtype = tf.string if arr.dtype.kind in "USO" else tf.as_dtype(arr.dtype)
        return tf.TensorSpec(shape=[None] * arr.ndim, dtype=dtype)

    signature = tree.map_structure(spec, first)
    tf_ds = tf.data.Dataset.from_generator(dataset.as_numpy_iterator, output_signature=signature)
    if dataset.cardinality() >= 0:
        tf_ds = tf_ds.apply(tf.data.experimental.assert_cardinality(int(dataset.cardinality())))
    tf_ds.class_names, tf_ds.file_paths = dataset.class_names, dataset.file_paths
    return tf_ds


def in_format(result: Any, format: str) -> Any:
    """``result`` (a dataset or a pair of them) as ``format`` asks."""
    if format != "tf":
        return result
    return tuple(map(to_tf_dataset, result)) if isinstance(result, tuple) else to_tf_dataset(result)


def _resolve_size(size: Any, name: str, total: int) -> int | None:
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, (int, float, np.integer, np.floating)):
        raise TypeError(f"Invalid `{name}` Type. Expected: int or float or None, Received: "
                        f"type({name})={type(size)}.")
    if (isinstance(size, (int, np.integer)) and not 0 < size < total) or (
            isinstance(size, (float, np.floating)) and not 0 <= size <= 1):
        raise ValueError(f"`{name}` should be either a positive integer smaller than {total}, or a float within "
                         f"the range `[0, 1]`. Received: {name}={size}")
    return int(size) if isinstance(size, (int, np.integer)) else int(round(size * total))


def split_dataset(dataset: Any, left_size: int | float | None = None, right_size: int | float | None = None,
                  shuffle: bool = False, seed: int | None = None,
                  preferred_backend: str | None = None) -> tuple[Dataset, Dataset]:
    """Split a dataset (arrays, a tuple of arrays, a torch map-style ``Dataset`` or a cornu ``Dataset``) in two.

    Sizes are counts or fractions; the missing one is the complement, and two given sizes must add up to the
    whole dataset (``ValueError`` otherwise, as Keras on torch). The left part takes the first samples
    (after a seeded shuffle when ``shuffle``), the right part the next ones. Returns two cornu ``Dataset``s.
    """
    if left_size is None and right_size is None:
        raise ValueError(f"At least one of the `left_size` or `right_size` must be specified. Received: "
                         f"left_size={left_size} and right_size={right_size}")
    if isinstance(dataset, _SourceDataset) and dataset.batch_size is None and not dataset.shuffle_samples:
        source, order = dataset.source, dataset.indices
    elif isinstance(dataset, Dataset):
        source = _ListSource(list(dataset))
        order = np.arange(len(source.items), dtype=np.int64)
    elif isinstance(dataset, torch.utils.data.Dataset):
        source, order = dataset, np.arange(len(dataset), dtype=np.int64)
    elif isinstance(dataset, (np.ndarray, torch.Tensor, list, tuple)):
        source = SliceSource(dataset)
        order = np.arange(len(source), dtype=np.int64)
    else:
        raise TypeError(f"The `dataset` argument must be a NumPy array, a list/tuple of arrays, a torch Dataset or "
                        f"a cornu Dataset. Received: dataset={dataset!r:.100} of type {type(dataset).__name__}")
    total = len(order)
    left = _resolve_size(left_size, "left_size", total)
    right = _resolve_size(right_size, "right_size", total)
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(f"The sum of `left_size` and `right_size` should be smaller than the {total}. Received: "
                         f"left_size + right_size = {float(left + right)}and total_length = {total}")
    if left == 0 or right == 0:
        raise ValueError(f"Both `left_size` and `right_size` should be non-zero. Received: left_size={left} and "
                         f"right_size={right} of {total} samples.")
    if left + right != total:
        # Keras 3.15 on torch splits with ``random_split``, which needs the two parts to cover the dataset.
        raise ValueError(f"Sum of input lengths does not equal the length of the input dataset! Received: "
                         f"left_size={left} + right_size={right} for {total} samples.")
    if shuffle:
        order = order.copy()
        np.random.RandomState(np.random.randint(1e6) if seed is None else seed).shuffle(order)
    return (_SourceDataset(source, indices=order[:left]), _SourceDataset(source, indices=order[left:left + right]))


class _ListSource:
    """Samples held in a list (a materialized dataset)."""

    def __init__(self, items: list):
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Any:
        return self.items[i]
