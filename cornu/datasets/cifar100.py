"""CIFAR-100: 32x32 colour images in 100 fine classes grouped into 20 coarse ones."""
from __future__ import annotations

import os

import numpy as np

from cornu.datasets._cifar import batches_dir, load_batch, to_image_layout
from cornu.utils.file_utils import get_file

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
FILE_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
DIRNAME = "cifar-100-python-target"

Split = tuple[np.ndarray, np.ndarray]


def load_data(label_mode: str = "fine") -> tuple[Split, Split]:
    """Load CIFAR-100 as ``(x_train, y_train), (x_test, y_test)``.

    ``label_mode="fine"`` gives labels 0-99, ``"coarse"`` the 20 superclasses.
    ``x``: uint8 ``(n, 32, 32, 3)`` (channels_last); ``y``: uint8 ``(n, 1)``.
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            f'`label_mode` must be one of "fine", "coarse". Received: label_mode={label_mode!r}.'
        )
    path = get_file(fname=DIRNAME, origin=ORIGIN, extract=True, file_hash=FILE_HASH)
    path = batches_dir(path, "cifar-100-python")
    label_key = f"{label_mode}_labels"
    x_train, y_train = load_batch(os.path.join(path, "train"), label_key=label_key)
    x_test, y_test = load_batch(os.path.join(path, "test"), label_key=label_key)
    return (to_image_layout(x_train), y_train.reshape(-1, 1)), (
        to_image_layout(x_test),
        y_test.reshape(-1, 1),
    )
