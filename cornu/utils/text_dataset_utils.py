"""``keras.utils.text_dataset_from_directory``: a folder of ``.txt`` files as a cornu ``Dataset`` of string batches.

Files are indexed as Keras indexes them (same order, labels and split for the
same seed); each element's texts are a NumPy string array (``tf.data`` yields
bytes tensors), ready for ``TextVectorization``.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from cornu.utils import dataset_utils
from cornu.utils.dataset import Dataset, _SourceDataset

ALLOWLIST_FORMATS = (".txt",)


class TextSource:
    """Reads one file per index as UTF-8 text, truncated to ``max_length`` characters."""

    def __init__(self, paths: list[str], labels: np.ndarray | None, max_length: int | None):
        self.paths, self.labels, self.max_length = paths, labels, max_length

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> Any:
        with open(self.paths[i], "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
        if self.max_length is not None:
            text = text[:self.max_length]
        return text if self.labels is None else (text, self.labels[i])


def text_dataset_from_directory(directory: str, labels: Any = "inferred", label_mode: str | None = "int",
                                class_names: Sequence[str] | None = None, batch_size: int | None = 32,
                                max_length: int | None = None, shuffle: bool = True, seed: int | None = None,
                                validation_split: float | None = None, subset: str | None = None,
                                follow_links: bool = False, format: str = "torch", verbose: bool = True, *,
                                num_workers: int = 0) -> Dataset | tuple[Dataset, Dataset]:
    """A ``Dataset`` of ``(texts, labels)`` batches (texts alone when ``label_mode`` is None) from a folder.

    Labels are int32 (``"int"``), float32 one-hot (``"categorical"``) or float32 ``(batch, 1)`` (``"binary"``);
    ``subset="both"`` returns ``(training, validation)``; ``format="tf"`` returns the same batches as a
    ``tf.data.Dataset``.
    """
    dataset_utils.check_format(format)
    dataset_utils.check_label_args(labels, label_mode, "text")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, label_list, class_names = dataset_utils.index_directory(
        directory, labels, formats=ALLOWLIST_FORMATS, class_names=class_names, shuffle=shuffle, seed=seed,
        follow_links=follow_links, verbose=verbose)
    dataset_utils.check_binary(label_mode, class_names)
    if not paths:
        raise ValueError(f"No text files found in directory {directory}. Allowed format: .txt")
    num_classes = len(class_names) if class_names else 0

    def build(subset_paths: list, subset_labels: Any, is_training: bool) -> Dataset:
        encoded = dataset_utils.encode_labels(subset_labels, label_mode, num_classes)
        ds = _SourceDataset(TextSource(list(subset_paths), encoded, max_length), batch_size=batch_size,
                            shuffle=shuffle and is_training, seed=seed, num_workers=num_workers)
        ds.class_names, ds.file_paths = class_names, list(subset_paths)
        return ds

    result = dataset_utils.split_subsets(build, paths, label_list, validation_split, subset, verbose)
    return dataset_utils.in_format(result, format)
