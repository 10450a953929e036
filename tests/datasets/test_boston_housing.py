"""boston_housing.load_data on a small fake npz: seeded split, argument checks."""
import os

import numpy as np
import pytest

from cornu.datasets import boston_housing


@pytest.fixture
def fake(home):
    os.makedirs(home / "datasets")
    x = np.arange(50 * 13, dtype="float64").reshape(50, 13)
    y = np.arange(50, dtype="float64") + 10.0
    np.savez(home / "datasets" / "boston_housing.npz", x=x, y=y)
    return x, y


def test_split_sizes_and_rows_kept(fake, no_network):
    x, y = fake
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data(test_split=0.2)
    assert x_train.shape == (40, 13) and x_test.shape == (10, 13)
    assert y_train.shape == (40,) and y_test.shape == (10,)
    rows = np.concatenate([x_train, x_test])
    np.testing.assert_array_equal(np.sort(rows[:, 0]), x[:, 0])
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), rows[:, 0] / 13 + 10.0)


def test_seed_controls_shuffle(fake, no_network):
    (a, _), _ = boston_housing.load_data(seed=1)
    (b, _), _ = boston_housing.load_data(seed=1)
    (c, _), _ = boston_housing.load_data(seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("split", [-0.1, 1.0])
def test_bad_test_split(split):
    with pytest.raises(ValueError, match="test_split"):
        boston_housing.load_data(test_split=split)
