"""Issue 11 item 7: ops that differed from Keras 3.15 when tried as a new user would, one differential test each."""
import numpy as np
import pytest
import torch

from tests.helpers import keras_oracle_module

keras_ref = keras_oracle_module()

import cornu  # noqa: E402


def both(fn):
    """``fn(lib)`` for Keras and for cornu."""
    return fn(keras_ref), fn(cornu)


def same(fn):
    """Equal dtype names, shapes and values (rtol 1e-5) from Keras and cornu, for one output or a list."""
    ref, ours = both(fn)
    refs = ref if isinstance(ref, (list, tuple)) else [ref]
    ourss = ours if isinstance(ours, (list, tuple)) else [ours]
    assert type(ourss) is type(refs) or not isinstance(ref, (list, tuple))
    assert len(ourss) == len(refs)
    for r, o in zip(refs, ourss):
        assert cornu.ops.dtype(o) == keras_ref.ops.dtype(r)
        r, o = keras_ref.ops.convert_to_numpy(r), cornu.ops.convert_to_numpy(o)
        assert o.shape == r.shape
        np.testing.assert_allclose(o, r, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fill", [7, 7.5, True, np.int64(3)])
def test_full_dtype(fill):
    same(lambda k: k.ops.full((2, 3), fill))
    same(lambda k: k.ops.full((2, 3), fill, dtype="int32"))


@pytest.mark.parametrize("dtype", ["int32", "int8", "uint8", "int64", "bool", "float16", "float64"])
@pytest.mark.parametrize("bounds", [(1, 7), (1.5, 7.5), (1, 7.5), (np.float32(1.5), 7), (np.int8(1), 7)])
def test_clip_of_ints_with_float_bounds(dtype, bounds):
    same(lambda k: k.ops.clip(k.ops.cast(k.ops.convert_to_tensor(np.array([1, 5, 9])), dtype), *bounds))


def test_int8_matmul_and_cumsum():
    a = np.arange(6, dtype="int8").reshape(2, 3)
    same(lambda k: k.ops.matmul(a, a.T))
    for dtype in ["int8", "uint8", "int16", "bool", "int64"]:
        same(lambda k: k.ops.cumsum(np.array([1, 0, 1, 1]).astype(dtype)))
        same(lambda k: k.ops.cumprod(np.array([1, 2, 1, 3]).astype(dtype)))


@pytest.mark.parametrize("dtype", ["int32", "int8", "uint8", "bool", "float16", "float32"])
def test_trunc(dtype):
    same(lambda k: k.ops.trunc(np.array([-1.5, 0, 2.7]).astype(dtype)))


def test_size():
    same(lambda k: k.ops.size(np.ones((2, 3))))


def test_top_k_indices():
    same(lambda k: k.ops.top_k(np.array([[3.0, 1, 2], [0, 5, 4]], "float32"), 2))


def test_segment_max_of_an_empty_segment():
    for data in (np.array([1.0, 2, 3], "float32"), np.array([1, 2, 3], "int32")):
        same(lambda k: k.ops.segment_max(data, np.array([0, 0, 2]), num_segments=3))


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_multi_hot_axis(axis):
    same(lambda k: k.ops.multi_hot(np.array([[0, 2], [1, 3]]), 4, axis=axis))
    same(lambda k: k.ops.multi_hot(np.array([0, 2]), 4, axis=axis if axis != 1 else -1))


@pytest.mark.parametrize("strides,kernel,output_padding", [(2, 3, 1), (2, 2, 1), (2, 4, 1), (3, 5, 2), (3, 3, 0),
                                                           (4, 4, 3), (4, 7, 3), (2, 3, None)])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_strided_conv_transpose_with_output_padding(strides, kernel, output_padding, padding):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 5, 5, 2)).astype("float32")
    w = rng.normal(size=(kernel, kernel, 4, 2)).astype("float32")
    same(lambda k: k.ops.conv_transpose(x, w, strides=strides, padding=padding, output_padding=output_padding))


def test_one_argument_where_and_nonzero_structure():
    x = np.array([[1, 0, 3], [0, 2, 0]])
    ref, ours = both(lambda k: k.ops.where(x))
    assert type(ours) is type(ref) is torch.Tensor
    same(lambda k: k.ops.where(x))
    same(lambda k: k.ops.nonzero(x))
    np.testing.assert_array_equal(cornu.ops.convert_to_numpy(x[tuple(cornu.ops.nonzero(x))]), [1, 3, 2])


@pytest.mark.parametrize("value", [np.ones(2), np.ones(2, "float16"), torch.ones(2, dtype=torch.float64),
                                   [1.0, 2.0], 3.0, np.float64(2.0)])
def test_variable_without_a_name(value):
    ref, ours = both(lambda k: k.Variable(value))
    assert ours.dtype == ref.dtype
    assert ours.name.startswith("variable") and ref.name.startswith("variable")
    assert ours.path == ours.name and ref.path == ref.name
    assert ours.trainable == ref.trainable


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint32", "uint64"])
def test_unsigned_creation_dtypes_as_keras(dtype, keras_ref):
    """Keras's torch backend widens uint16/uint32 (torch has no arithmetic on them) and refuses uint64."""
    try:
        want = keras_ref.ops.zeros((2,), dtype=dtype).dtype
    except ValueError:
        with pytest.raises(ValueError, match=dtype):
            cornu.ops.zeros((2,), dtype=dtype)
        return
    assert cornu.ops.zeros((2,), dtype=dtype).dtype == want
