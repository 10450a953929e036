"""Fashion-MNIST: 28x28 grayscale images of 10 clothing categories.

Same layout as MNIST (60,000 training, 10,000 test images). Labels:
0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
7 Sneaker, 8 Bag, 9 Ankle boot.
"""
from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

from cornu.utils.file_utils import get_file

BASE_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
CACHE_SUBDIR = os.path.join("datasets", "fashion-mnist")
FILE_HASHES = {
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
}
_LABELS_MAGIC = 0x0801
_IMAGES_MAGIC = 0x0803


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST as ``(x_train, y_train), (x_test, y_test)``.

    ``x``: uint8 ``(n, 28, 28)``; ``y``: uint8 labels 0-9 of shape ``(n,)``.
    The four gzipped IDX files are cached in ``~/.keras/datasets/fashion-mnist``.
    """
    paths = {
        name: get_file(name, origin=BASE_ORIGIN + name, cache_subdir=CACHE_SUBDIR, file_hash=digest)
        for name, digest in FILE_HASHES.items()
    }
    y_train = read_idx(paths["train-labels-idx1-ubyte.gz"], _LABELS_MAGIC)
    x_train = read_idx(paths["train-images-idx3-ubyte.gz"], _IMAGES_MAGIC)
    y_test = read_idx(paths["t10k-labels-idx1-ubyte.gz"], _LABELS_MAGIC)
    x_test = read_idx(paths["t10k-images-idx3-ubyte.gz"], _IMAGES_MAGIC)
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if len(x) != len(y):
            raise ValueError(
                f"Fashion-MNIST {split} files disagree: {len(x)} images but {len(y)} labels."
            )
    return (x_train, y_train), (x_test, y_test)


def read_idx(path: str, magic: int) -> np.ndarray:
    """Parse a gzipped IDX file of unsigned bytes, checking its header.

    The header is a big-endian uint32 magic (``0x08`` = ubyte, then the
    number of dimensions) followed by one big-endian uint32 per dimension.
    """
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"Dataset file {path} is corrupt or not gzipped ({e}).") from e
    ndim = magic & 0xFF
    header_size = 4 * (1 + ndim)
    if len(raw) < header_size:
        raise ValueError(f"Dataset file {path} is truncated: its IDX header is incomplete.")
    header = np.frombuffer(raw, dtype=">u4", count=1 + ndim)
    if int(header[0]) != magic:
        raise ValueError(
            f"Dataset file {path} has IDX magic {int(header[0]):#06x}, expected {magic:#06x}."
        )
    shape = tuple(int(d) for d in header[1:])
    data = np.frombuffer(raw, dtype=np.uint8, offset=header_size)
    if data.size != int(np.prod(shape)):
        raise ValueError(
            f"Dataset file {path} is truncated or padded: header says shape {shape} "
            f"but it holds {data.size} values."
        )
    return data.reshape(shape)
