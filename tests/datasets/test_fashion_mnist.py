"""fashion_mnist.load_data on small fake gzipped IDX files in the cache."""
import gzip
import os

import numpy as np
import pytest

from cornu.datasets import fashion_mnist


def write_idx(path, array, magic):
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def populate(home, n_train=5, n_test=3):
    folder = home / "datasets" / "fashion-mnist"
    os.makedirs(folder)
    rng = np.random.default_rng(1)
    data = {
        "train-images-idx3-ubyte.gz": (rng.integers(0, 256, (n_train, 28, 28)), 0x0803),
        "train-labels-idx1-ubyte.gz": (rng.integers(0, 10, n_train), 0x0801),
        "t10k-images-idx3-ubyte.gz": (rng.integers(0, 256, (n_test, 28, 28)), 0x0803),
        "t10k-labels-idx1-ubyte.gz": (rng.integers(0, 10, n_test), 0x0801),
    }
    for name, (array, magic) in data.items():
        write_idx(folder / name, array, magic)
    return {name: array for name, (array, _) in data.items()}, folder


def test_loads_cached_idx_files(home, no_network):
    written, _ = populate(home)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (5, 28, 28) and y_train.shape == (5,)
    assert x_test.shape == (3, 28, 28) and y_test.shape == (3,)
    assert x_train.dtype == y_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train, written["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, written["t10k-labels-idx1-ubyte.gz"])


def test_wrong_magic_raises_naming_file(home, no_network):
    _, folder = populate(home)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(5), 0x0803)
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz"):
        fashion_mnist.load_data()


def test_truncated_file_raises(home, no_network):
    _, folder = populate(home)
    with gzip.open(folder / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(np.array([0x0803, 3, 28, 28], dtype=">u4").tobytes() + b"\x00" * 100)
    with pytest.raises(ValueError, match="truncated"):
        fashion_mnist.load_data()


def test_mismatched_counts_raise(home, no_network):
    _, folder = populate(home)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(4), 0x0801)
    with pytest.raises(ValueError, match="5 images but 4 labels"):
        fashion_mnist.load_data()
