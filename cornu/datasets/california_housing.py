"""California Housing (1990 census): 20,640 block groups of 8 features, target the median house value in $."""
from __future__ import annotations

import numpy as np

from cornu.datasets._npz import check_pairs, load_npz_arrays
from cornu.utils.file_utils import get_file_at

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/california_housing.npz"
FILE_HASH = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"
SMALL_SIZE = 600


def load_data(
    version: str = "large", path: str = "california_housing.npz", test_split: float = 0.2, seed: int = 113
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load California Housing as ``(x_train, y_train), (x_test, y_test)``.

    ``version="small"`` keeps the first 600 samples (a stand-in for boston_housing), ``"large"`` all
    20,640. Rows are then shuffled with ``np.random.RandomState(seed)`` and the last ``test_split``
    fraction is held out. Features: MedInc, HouseAge, AveRooms, AveBedrms, Population, AveOccup,
    Latitude, Longitude.
    """
    if version not in ("small", "large"):
        raise ValueError(f'Argument `version` must be one of "small", "large". Received: version={version}')
    if not 0 <= test_split < 1:
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between 0 and 1 "
                         "(exclusive of 1).")
    path = get_file_at(path, origin=ORIGIN, file_hash=FILE_HASH)
    arrays = load_npz_arrays(path, ("x", "y"))
    check_pairs(path, arrays, [("x", "y")])
    x, y = arrays["x"], arrays["y"]
    if version == "small":
        x, y = x[:SMALL_SIZE], y[:SMALL_SIZE]
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    n_train = int(len(x) * (1 - test_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
