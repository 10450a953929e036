"""HashedCrossing: Keras's documented outputs, and the cross written out from the hash functions.

Keras's HashedCrossing needs TensorFlow even on its torch backend, so the oracle cannot run it here.
"""
import numpy as np
import pytest
import torch

import cornu
from cornu.layers.preprocessing._hash_functions import fingerprint64
from cornu.layers.preprocessing.hashed_crossing import fingerprint_cat64
from tests.helpers import assert_close

F1 = np.array(["A", "B", "A", "B", "A"])
F2 = np.array([101, 101, 101, 102, 102])


def test_keras_documented_examples():
    out = cornu.layers.HashedCrossing(num_bins=5)((F1, F2))
    assert out.dtype == torch.int64 and out.tolist() == [1, 4, 1, 1, 3]
    hot = cornu.layers.HashedCrossing(num_bins=5, output_mode="one_hot")((F1, F2))
    assert hot.dtype == torch.float32
    assert_close(hot, np.eye(5)[[1, 4, 1, 1, 3]])


def test_cross_of_three_features_written_out():
    f3 = np.array([-1, 0, 7, 7, 2**40])
    key = 0xDECAFCAFFE
    expected = []
    for a, b, c in zip(F1, F2, f3):
        h = fingerprint_cat64(key, fingerprint64(a.encode()))
        h = fingerprint_cat64(h, int(b))
        h = fingerprint_cat64(h, int(c) & 0xFFFFFFFFFFFFFFFF)
        expected.append(h % 11)
    out = cornu.layers.HashedCrossing(11)((F1[:, None], F2[:, None], f3[:, None]))
    assert out.shape == (5, 1) and out[:, 0].tolist() == expected
    assert cornu.layers.HashedCrossing(11)((list(F1), torch.tensor(F2), f3)).tolist() == expected


def test_shapes():
    layer = cornu.layers.HashedCrossing(4, output_mode="one_hot")
    assert tuple(layer((F1[:, None], F2[:, None])).shape) == (5, 4)
    assert tuple(layer((np.array("A"), np.array(3))).shape) == (4,)
    a, b = cornu.Input((1,), dtype="int32"), cornu.Input((1,), dtype="int32")
    out = cornu.layers.HashedCrossing(4)((a, b))
    assert tuple(out.shape) == (None, 1) and out.dtype == "int64"
    assert tuple(cornu.layers.HashedCrossing(4, output_mode="one_hot")((a, b)).shape) == (None, 4)


def test_errors_and_config():
    with pytest.raises(ValueError, match="output_mode"):
        cornu.layers.HashedCrossing(3, output_mode="multi_hot")
    with pytest.raises(ValueError, match="list or tuple"):
        cornu.layers.HashedCrossing(3)((F1,))
    with pytest.raises(ValueError, match="equal shape"):
        cornu.layers.HashedCrossing(3)((F1, F2[:3]))
    with pytest.raises(ValueError, match="shape"):
        cornu.layers.HashedCrossing(3)((np.zeros((2, 2), int), np.zeros((2, 2), int)))
    with pytest.raises(ValueError, match="dtype"):
        cornu.layers.HashedCrossing(3)((np.ones(2), np.ones(2)))
    cfg = cornu.layers.HashedCrossing(6, output_mode="one_hot", name="x").get_config()
    assert {k: cfg[k] for k in ("num_bins", "output_mode", "sparse")} == \
        {"num_bins": 6, "output_mode": "one_hot", "sparse": False}
    assert cornu.layers.HashedCrossing.from_config(cfg).get_config() == cfg
