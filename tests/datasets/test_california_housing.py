"""california_housing.load_data on a small fake npz: versions, seeded split, argument checks."""
import inspect
import os

import numpy as np
import pytest

from cornu.datasets import california_housing


@pytest.fixture
def fake(home):
    os.makedirs(home / "datasets")
    x = np.arange(1000 * 8, dtype="float32").reshape(1000, 8)
    y = np.arange(1000, dtype="float32") * 100.0
    np.savez(home / "datasets" / "california_housing.npz", x=x, y=y)
    return x, y


@pytest.mark.parametrize("version,total", [("large", 1000), ("small", 600)])
def test_versions_split_and_keep_rows(fake, no_network, version, total):
    x, y = fake
    (x_train, y_train), (x_test, y_test) = california_housing.load_data(version=version, test_split=0.25)
    n_train = int(total * 0.75)
    assert x_train.shape == (n_train, 8) and x_test.shape == (total - n_train, 8)
    rows = np.concatenate([x_train, x_test])
    np.testing.assert_array_equal(np.sort(rows[:, 0]), x[:total, 0])
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), rows[:, 0] / 8 * 100.0)
    order = np.arange(total)
    np.random.RandomState(113).shuffle(order)
    np.testing.assert_array_equal(x_train, x[order[:n_train]])


def test_arguments_and_signature():
    with pytest.raises(ValueError, match="version"):
        california_housing.load_data(version="medium")
    with pytest.raises(ValueError, match="test_split"):
        california_housing.load_data(test_split=1.0)
    params = inspect.signature(california_housing.load_data).parameters
    assert [(p.name, p.default) for p in params.values()] == [
        ("version", "large"), ("path", "california_housing.npz"), ("test_split", 0.2), ("seed", 113)]
