"""keras.ops core: conversion, dtypes, casting, indexing, slicing, scatter."""
import numpy as np
import pytest
import torch

from cornu import config
from cornu import ops
from cornu.symbolic import KerasTensor
from cornu.variables import Variable

RNG = np.random.default_rng(0)


def _np(x):
    return ops.convert_to_numpy(x)


def test_convert_to_tensor_dtype_rules():
    assert ops.convert_to_tensor(1.5).dtype == torch.float32
    assert ops.convert_to_tensor(3).dtype == torch.int32
    assert ops.convert_to_tensor(True).dtype == torch.bool
    assert ops.convert_to_tensor([1, 2]).dtype == torch.int32
    assert ops.convert_to_tensor([1, 2.5]).dtype == torch.float32
    arr = RNG.normal(size=(2, 3))
    t = ops.convert_to_tensor(arr)
    assert t.dtype == torch.float64
    np.testing.assert_array_equal(_np(t), arr)
    assert ops.convert_to_tensor(np.arange(3)).dtype == torch.int64
    assert ops.convert_to_tensor(arr, dtype="float16").dtype == torch.float16
    assert t.device.type == config.device().type


def test_convert_list_of_tensors_stacks():
    out = ops.convert_to_tensor([torch.ones(2), torch.zeros(2)])
    np.testing.assert_array_equal(_np(out), [[1, 1], [0, 0]])


def test_convert_rejects_strings():
    with pytest.raises(TypeError, match="Cannot convert"):
        ops.convert_to_tensor(["a", "b"])


def test_convert_variable_keeps_gradient():
    param = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    v = Variable(param, name="v")
    out = ops.sum(ops.multiply(v, v))
    out.backward()
    np.testing.assert_allclose(_np(param.grad), [2.0, 4.0])


def test_convert_to_numpy():
    arr = RNG.normal(size=(3,)).astype(np.float32)
    t = torch.tensor(arr, requires_grad=True)
    np.testing.assert_array_equal(ops.convert_to_numpy(t), arr)
    bf = ops.convert_to_numpy(torch.ones(2, dtype=torch.bfloat16))
    assert bf.dtype == np.float32
    with pytest.raises(TypeError, match="symbolic"):
        ops.convert_to_numpy(KerasTensor((None, 2)))


def test_cast_shape_dtype_is_tensor():
    x = ops.cast(np.array([1.7, -2.2]), "int32")
    assert x.dtype == torch.int32
    np.testing.assert_array_equal(_np(x), [1, -2])
    assert ops.shape(np.zeros((2, 5))) == (2, 5)
    assert ops.shape(torch.zeros(4, 1)) == (4, 1)
    assert ops.dtype(torch.zeros(1, dtype=torch.float16)) == "float16"
    assert ops.is_tensor(torch.zeros(1)) and not ops.is_tensor(np.zeros(1))


def test_stop_gradient():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = ops.sum(ops.stop_gradient(x) * x)
    y.backward()
    np.testing.assert_allclose(_np(x.grad), [1.0, 2.0])


@pytest.mark.parametrize(
    "key",
    [
        (slice(None), 0),
        (0, slice(1, 3)),
        (Ellipsis, -1),
        (None, slice(None, None, 2)),
        (slice(None), [0, 2]),
        np.array([1, 0]),
        2,
    ],
)
def test_getitem_matches_numpy(key):
    a = RNG.normal(size=(3, 4, 5))
    np.testing.assert_array_equal(ops.convert_to_numpy(ops.core._getitem(a, key)), a[key])
    np.testing.assert_array_equal(ops.convert_to_numpy(ops.get_item(a, key)), a[key])


def test_getitem_boolean_mask():
    a = RNG.normal(size=(6,))
    mask = a > 0
    np.testing.assert_array_equal(_np(ops.core._getitem(a, mask)), a[mask])


def test_slice_and_slice_update():
    a = RNG.normal(size=(4, 5, 6))
    out = ops.slice(a, (1, 2, 0), (2, 3, 6))
    np.testing.assert_array_equal(_np(out), a[1:3, 2:5, 0:6])
    out_t = ops.slice(a, torch.tensor([1, 2, 0]), (2, 3, 6))
    np.testing.assert_array_equal(_np(out_t), a[1:3, 2:5, 0:6])
    upd = RNG.normal(size=(2, 2, 2))
    res = ops.slice_update(a, (1, 0, 3), upd)
    expected = a.copy()
    expected[1:3, 0:2, 3:5] = upd
    np.testing.assert_array_equal(_np(res), expected)
    with pytest.raises(ValueError, match="start_indices"):
        ops.slice(a, (0, 0), (1, 1, 1))


def test_scatter_and_scatter_update():
    idx = np.array([[0, 1], [2, 3], [0, 1]])
    vals = np.array([1.0, 2.0, 5.0])
    out = ops.scatter(idx, vals, (3, 4))
    expected = np.zeros((3, 4))
    np.add.at(expected, (idx[:, 0], idx[:, 1]), vals)
    np.testing.assert_array_equal(_np(out), expected)
    base = RNG.normal(size=(3, 4))
    upd = ops.scatter_update(base, np.array([[1, 1], [2, 0]]), np.array([7.0, 8.0]))
    expected = base.copy()
    expected[1, 1], expected[2, 0] = 7.0, 8.0
    np.testing.assert_array_equal(_np(upd), expected)


def test_unstack():
    a = RNG.normal(size=(2, 3))
    parts = ops.unstack(a, axis=1)
    assert len(parts) == 3
    for i, p in enumerate(parts):
        np.testing.assert_array_equal(_np(p), a[:, i])
    with pytest.raises(ValueError, match="num"):
        ops.unstack(a, num=5)
