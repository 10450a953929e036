"""CIFAR-10: 50,000 training and 10,000 test 32x32 colour images, 10 classes.

Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog,
7 horse, 8 ship, 9 truck.
"""
from __future__ import annotations

import os

import numpy as np

from cornu.datasets._cifar import batches_dir, load_batch, to_image_layout
from cornu.utils.file_utils import get_file

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
DIRNAME = "cifar-10-batches-py-target"
_TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load CIFAR-10 as ``(x_train, y_train), (x_test, y_test)``.

    ``x``: uint8 ``(n, 32, 32, 3)`` (``(n, 3, 32, 32)`` under
    ``channels_first``); ``y``: uint8 labels 0-9 of shape ``(n, 1)``. The
    archive is extracted to ``~/.keras/datasets/cifar-10-batches-py-target``.
    """
    path = get_file(fname=DIRNAME, origin=ORIGIN, extract=True, file_hash=FILE_HASH)
    path = batches_dir(path, "cifar-10-batches-py")
    parts = [load_batch(os.path.join(path, name)) for name in _TRAIN_BATCHES]
    x_train = np.concatenate([x for x, _ in parts])
    y_train = np.concatenate([y for _, y in parts])
    x_test, y_test = load_batch(os.path.join(path, "test_batch"))
    return (to_image_layout(x_train), y_train.reshape(-1, 1)), (
        to_image_layout(x_test),
        y_test.reshape(-1, 1),
    )
