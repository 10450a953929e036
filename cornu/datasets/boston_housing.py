"""Boston Housing prices: 506 samples of 13 attributes, target in k$.

This dataset has an ethical problem (its "B" attribute); use it only to
illustrate such issues.
"""
from __future__ import annotations

import numpy as np

from cornu.datasets._npz import check_pairs, load_npz_arrays
from cornu.utils.file_utils import get_file_at

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz"
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(
    path: str = "boston_housing.npz", test_split: float = 0.2, seed: int = 113
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Boston Housing as ``(x_train, y_train), (x_test, y_test)``.

    Rows are shuffled with ``np.random.RandomState(seed)`` before the last
    ``test_split`` fraction is held out, so the split matches Keras's.
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"`test_split` must be in [0, 1). Received: test_split={test_split}")
    path = get_file_at(path, origin=ORIGIN, file_hash=FILE_HASH)
    arrays = load_npz_arrays(path, ("x", "y"))
    check_pairs(path, arrays, [("x", "y")])
    x, y = arrays["x"], arrays["y"]
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    n_train = int(len(x) * (1 - test_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
