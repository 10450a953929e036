"""to_categorical and normalize against NumPy references."""
import numpy as np
import pytest
import torch

from cornu.utils.numerical_utils import normalize, to_categorical


def test_to_categorical_matches_eye():
    labels = np.array([3, 0, 2, 2, 1])
    out = to_categorical(labels, num_classes=5)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.eye(5)[labels])


def test_to_categorical_infers_num_classes_and_squeezes_column():
    labels = np.array([[1], [4], [0]])
    out = to_categorical(labels)
    assert out.shape == (3, 5)
    np.testing.assert_array_equal(out, np.eye(5)[labels[:, 0]])


def test_to_categorical_keeps_leading_dims():
    labels = np.array([[0, 1, 2], [2, 1, 0]])
    out = to_categorical(labels, 3)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.argmax(-1), labels)


def test_to_categorical_accepts_lists_and_whole_floats():
    np.testing.assert_array_equal(to_categorical([1.0, 0.0]), np.eye(2)[[1, 0]])


def test_to_categorical_torch_in_torch_out():
    out = to_categorical(torch.tensor([2, 0]), 3)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    assert out.tolist() == np.eye(3)[[2, 0]].tolist()


def test_to_categorical_indexes_like_numpy():
    """Fractions truncate, negative labels count from the end, labels past the end raise IndexError."""
    np.testing.assert_array_equal(to_categorical([1.7, 0.2], 3), np.eye(3)[[1, 0]])
    np.testing.assert_array_equal(to_categorical([-1, 1]), np.eye(2)[[-1, 1]])
    np.testing.assert_array_equal(to_categorical([0, 2], num_classes=0), np.eye(3)[[0, 2]])
    with pytest.raises(IndexError, match="5"):
        to_categorical([0, 5, 1], 5)
    with pytest.raises(ValueError):
        to_categorical([])
    assert to_categorical([], 3).shape == (0, 3)


def test_to_categorical_bad_num_classes_type():
    with pytest.raises(TypeError, match="num_classes"):
        to_categorical([0, 1], num_classes=2.0)


def test_normalize_l2_and_l1():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 6)).astype("float32")
    out = normalize(x)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(out, x / np.linalg.norm(x, axis=-1, keepdims=True), rtol=1e-6)
    out1 = normalize(x, axis=1, order=1)
    np.testing.assert_allclose(np.abs(out1).sum(axis=1), 1.0, rtol=1e-6)
    out_t = normalize(torch.tensor(x), axis=0, order=1)
    np.testing.assert_allclose(np.abs(out_t.numpy()).sum(axis=0), 1.0, rtol=1e-6)


def test_normalize_zero_rows_stay_zero():
    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(normalize(x), [[0.0, 0.0], [0.6, 0.8]])


def test_normalize_torch_matches_numpy():
    x = torch.randn(3, 5)
    np.testing.assert_allclose(normalize(x).numpy(), normalize(x.numpy()), rtol=1e-6)


def test_normalize_bad_order():
    with pytest.raises(ValueError, match="order"):
        normalize(torch.ones(3), order=0)
    with pytest.raises(ValueError, match="order"):
        normalize([1.0, 2.0], order=1.5)


def test_normalize_numpy_follows_keras_numpy_path():
    """Any NumPy norm order; 1-D input comes back 2-D; axis=0 norms are divided along the last axis."""
    x = np.array([[3.0, 4.0], [1.0, 0.0]])
    np.testing.assert_allclose(normalize(np.array([3.0, 4.0])), [[0.6, 0.8]])
    np.testing.assert_allclose(normalize(x, order=np.inf), x / np.abs(x).max(axis=1, keepdims=True))
    norms0 = np.linalg.norm(x, axis=0)
    np.testing.assert_allclose(normalize(x, axis=0), x / norms0[:, None])
    assert normalize(np.array([[3, 4]])).dtype == np.float64
    assert normalize(np.array([[3.0, 4.0]], "float32")).dtype == np.float32


def test_normalize_list_gives_a_float32_tensor():
    out = normalize([3, 4])
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32 and out.shape == (2,)
    np.testing.assert_allclose(out.numpy(), [0.6, 0.8], rtol=1e-6)
