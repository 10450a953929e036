"""mnist.load_data on the real (repacked) file, offline, and through a verified download."""
import hashlib
import os
import shutil
import urllib.error
import urllib.request

import numpy as np
import pytest

from cornu.datasets import mnist

REAL = "/work/shared/data/mnist.npz"
needs_real = pytest.mark.skipif(not os.path.isfile(REAL), reason=f"{REAL} not present")


def check_mnist(data):
    (x_train, y_train), (x_test, y_test) = data
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    assert x_train.max() == 255 and x_train.min() == 0


@needs_real
def test_load_by_absolute_path(home, no_network):
    check_mnist(mnist.load_data(REAL))


@needs_real
def test_load_from_keras_home_cache(home, no_network):
    os.makedirs(home / "datasets")
    shutil.copy(REAL, home / "datasets" / "mnist.npz")
    check_mnist(mnist.load_data())


def test_offline_with_empty_cache_names_path(home, monkeypatch):
    def unreachable(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable")
    monkeypatch.setattr(urllib.request, "urlopen", unreachable)
    with pytest.raises(Exception, match="URL fetch failure") as err:
        mnist.load_data()
    assert mnist.ORIGIN in str(err.value)
    assert str(home / "datasets" / "mnist.npz") in str(err.value)


def fake_npz(path, **arrays):
    np.savez(path, **arrays)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def small_mnist():
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "y_train": np.arange(6, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        "y_test": np.arange(2, dtype=np.uint8),
    }


def test_download_is_verified_then_cached(home, tmp_path, monkeypatch):
    arrays = small_mnist()
    served = tmp_path / "served.npz"
    digest = fake_npz(served, **arrays)
    monkeypatch.setattr(mnist, "ORIGIN", served.as_uri())
    monkeypatch.setattr(mnist, "FILE_HASH", "0" * 64)
    with pytest.raises(ValueError, match=digest):
        mnist.load_data()
    assert not (home / "datasets" / "mnist.npz").exists()
    monkeypatch.setattr(mnist, "FILE_HASH", digest)
    (x_train, y_train), _ = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    served.unlink()
    (_, y_again), _ = mnist.load_data()
    np.testing.assert_array_equal(y_again, y_train)


def test_corrupt_file_raises_naming_it(home, no_network):
    bad = home / "datasets" / "mnist.npz"
    os.makedirs(bad.parent)
    bad.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match="mnist.npz"):
        mnist.load_data()


def test_missing_keys_raise(home, tmp_path, no_network):
    arrays = small_mnist()
    del arrays["y_test"]
    path = tmp_path / "partial.npz"
    fake_npz(path, **arrays)
    with pytest.raises(ValueError, match="y_test"):
        mnist.load_data(str(path))


def test_pickled_arrays_are_refused(tmp_path, no_network):
    arrays = small_mnist()
    arrays["y_test"] = np.array([object()] * 2)
    path = tmp_path / "pickled.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="pickled.npz"):
        mnist.load_data(str(path))
