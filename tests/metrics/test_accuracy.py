"""Accuracy functions and streaming classes vs NumPy."""
import numpy as np
import pytest

from cornu import metrics

RNG = np.random.default_rng(2)


def test_accuracy_function_and_class():
    y = np.array([[1], [2], [3], [4]])
    p = np.array([[0], [2], [3], [4]])
    np.testing.assert_array_equal(metrics.accuracy(y, p).numpy(), [0, 1, 1, 1])
    m = metrics.Accuracy()
    m.update_state(y, p)
    m.update_state(y, p, sample_weight=[1, 1, 0, 0])
    assert m.result().item() == pytest.approx((3 + 1) / (4 + 2))


def test_binary_accuracy_threshold_and_streaming():
    y1, p1 = RNG.integers(0, 2, (6, 1)), RNG.uniform(size=(6, 1))
    y2, p2 = RNG.integers(0, 2, (5, 1)), RNG.uniform(size=(5, 1))
    w2 = RNG.uniform(size=5)
    m = metrics.BinaryAccuracy(threshold=0.3)
    m.update_state(y1, p1)
    m.update_state(y2, p2, sample_weight=w2)
    hits = np.concatenate([(p1 > 0.3) == y1, (p2 > 0.3) == y2])[:, 0]
    w = np.concatenate([np.ones(6), w2])
    assert m.result().item() == pytest.approx((hits * w).sum() / w.sum(), rel=1e-6)
    np.testing.assert_array_equal(metrics.binary_accuracy(y1, p1).numpy(), ((p1 > 0.5) == y1).astype("float32"))


def test_categorical_accuracy():
    y = np.eye(4)[RNG.integers(0, 4, 10)]
    p = RNG.uniform(size=(10, 4))
    expected = (y.argmax(-1) == p.argmax(-1)).astype(float)
    np.testing.assert_array_equal(metrics.categorical_accuracy(y, p).numpy(), expected)
    m = metrics.CategoricalAccuracy()
    m.update_state(y[:6], p[:6])
    m.update_state(y[6:], p[6:])
    assert m.result().item() == pytest.approx(expected.mean(), rel=1e-6)


@pytest.mark.parametrize("column", [False, True])
def test_sparse_categorical_accuracy(column):
    labels = RNG.integers(0, 3, 8)
    p = RNG.uniform(size=(8, 3))
    expected = (labels == p.argmax(-1)).astype(float)
    y = labels[:, None].astype(np.float32) if column else labels
    out = metrics.sparse_categorical_accuracy(y, p).numpy()
    np.testing.assert_array_equal(out, expected)
    w = RNG.uniform(size=8)
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(y[:5], p[:5], sample_weight=w[:5])
    m.update_state(y[5:], p[5:], sample_weight=w[5:])
    assert m.result().item() == pytest.approx((expected * w).sum() / w.sum(), rel=1e-6)


def _np_in_top_k(labels, p, k):
    return np.array([p[i, labels[i]] >= np.sort(p[i])[::-1][k - 1] for i in range(len(labels))], dtype=float)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracies(k):
    labels = RNG.integers(0, 5, 12)
    p = RNG.uniform(size=(12, 5))
    expected = _np_in_top_k(labels, p, k)
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy(labels, p, k=k).numpy(), expected)
    np.testing.assert_array_equal(metrics.top_k_categorical_accuracy(np.eye(5)[labels], p, k=k).numpy(), expected)
    m = metrics.SparseTopKCategoricalAccuracy(k=k)
    m.update_state(labels[:7, None], p[:7])
    m.update_state(labels[7:, None], p[7:])
    assert m.result().item() == pytest.approx(expected.mean(), rel=1e-6)
    m2 = metrics.TopKCategoricalAccuracy(k=k)
    assert m2(np.eye(5)[labels], p).item() == pytest.approx(expected.mean(), rel=1e-6)


def test_top_k_ties_count_as_hits_and_sorted_ids():
    p = np.array([[0.5, 0.5, 0.0]])
    assert metrics.sparse_top_k_categorical_accuracy([1], p, k=1).item() == 1.0
    sorted_ids = np.array([[2, 0, 1], [1, 2, 0]])
    out = metrics.sparse_top_k_categorical_accuracy([0, 0], sorted_ids, k=2, from_sorted_ids=True).numpy()
    np.testing.assert_array_equal(out, [1.0, 0.0])


def test_reset_and_config():
    m = metrics.BinaryAccuracy(name="acc", threshold=0.7)
    m.update_state([[1]], [[0.9]])
    m.reset_state()
    m.update_state([[1]], [[0.6]])
    assert m.result().item() == 0.0
    assert m.get_config() == {"name": "acc", "dtype": "float32", "threshold": 0.7}
    clone = metrics.BinaryAccuracy.from_config(m.get_config())
    assert clone([[1]], [[0.75]]).item() == 1.0
