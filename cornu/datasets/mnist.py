"""MNIST handwritten digits: 60,000 training and 10,000 test 28x28 images."""
from __future__ import annotations

import numpy as np

from cornu.datasets._npz import check_pairs, load_npz_arrays
from cornu.utils.file_utils import get_file_at

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
_KEYS = ("x_train", "y_train", "x_test", "y_test")

Split = tuple[np.ndarray, np.ndarray]


def load_data(path: str = "mnist.npz") -> tuple[Split, Split]:
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``.

    ``x`` arrays are uint8 of shape ``(n, 28, 28)``; ``y`` arrays are uint8
    digit labels 0-9 of shape ``(n,)``. ``path`` is relative to
    ``~/.keras/datasets`` (or ``$KERAS_HOME/datasets``), or absolute. A file
    already there is used as is; otherwise it is downloaded and verified.
    """
    path = get_file_at(path, origin=ORIGIN, file_hash=FILE_HASH)
    arrays = load_npz_arrays(path, _KEYS)
    check_pairs(path, arrays, [("x_train", "y_train"), ("x_test", "y_test")])
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
