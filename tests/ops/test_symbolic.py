"""keras.ops on KerasTensors: shape/dtype inference and graph nodes."""
import numpy as np
import pytest

from cornu import ops
from cornu.symbolic import KerasTensor


@pytest.fixture
def x():
    return KerasTensor((None, 3, 4))


def test_shapes_of_common_ops(x):
    assert ops.sum(x, axis=1).shape == (None, 4)
    assert ops.sum(x, axis=(1, 2), keepdims=True).shape == (None, 1, 1)
    assert ops.mean(x).shape == ()
    assert ops.reshape(x, (-1, 12)).shape == (None, 12)
    assert ops.reshape(x, (-1, 2, 6)).shape == (None, 2, 6)
    assert ops.transpose(x).shape == (4, 3, None)
    assert ops.transpose(x, (0, 2, 1)).shape == (None, 4, 3)
    assert ops.concatenate([x, x], axis=-1).shape == (None, 3, 8)
    assert ops.concatenate([x, x], axis=0).shape == (None, 3, 4)
    assert ops.matmul(x, ops.ones((4, 5))).shape == (None, 3, 5)
    assert ops.expand_dims(x, 1).shape == (None, 1, 3, 4)
    assert ops.squeeze(ops.expand_dims(x, -1)).shape == (None, 3, 4)
    assert ops.stack([x, x], axis=1).shape == (None, 2, 3, 4)
    assert ops.argmax(x, axis=-1).shape == (None, 3)
    assert ops.one_hot(ops.argmax(x, axis=-1), 7).shape == (None, 3, 7)
    assert ops.softmax(x).shape == (None, 3, 4)
    assert ops.pad(x, ((0, 0), (1, 1), (2, 0))).shape == (None, 5, 6)
    assert ops.tile(x, (1, 2, 1)).shape == (None, 6, 4)
    assert [p.shape for p in ops.split(x, 2, axis=-1)] == [(None, 3, 2), (None, 3, 2)]
    values, indices = ops.top_k(x, 2)
    assert values.shape == (None, 3, 2) and indices.dtype == "int64"


def test_indexing_and_operators(x):
    assert x[:, 0].shape == (None, 4)
    assert x[..., 1:3].shape == (None, 3, 2)
    assert x[:, None].shape == (None, 1, 3, 4)
    assert (x + 1).shape == (None, 3, 4)
    assert (1 - x).shape == (None, 3, 4)
    assert (x * x).shape == (None, 3, 4)
    assert (x @ ops.ones((4, 2))).shape == (None, 3, 2)
    assert (-x).shape == (None, 3, 4)
    assert abs(x).shape == (None, 3, 4)
    assert x.T.shape == (4, 3, None)
    assert x.reshape((-1, 4)).shape == (None, 4)


def test_result_dtypes(x):
    assert (x + 1).dtype == "float32"
    assert (x > 0).dtype == "bool"
    assert ops.cast(x, "int32").dtype == "int32"
    assert ops.argmax(x, axis=1).dtype == "int32"
    i = KerasTensor((None, 2), dtype="int32")
    assert (i + 1).dtype == "int32"
    assert (i + 1.5).dtype == "float32"
    assert ops.divide(i, 2).dtype == "float32"
    assert ops.sum(i).dtype == "int32"
    assert ops.mean(i).dtype == "float32"
    assert ops.logical_and(i > 0, i < 3).dtype == "bool"


def test_nn_shapes():
    img = KerasTensor((None, 8, 8, 3))
    assert ops.conv(img, ops.ones((3, 3, 3, 4)), strides=2, padding="same").shape == (None, 4, 4, 4)
    assert ops.conv(img, ops.ones((3, 3, 3, 4))).shape == (None, 6, 6, 4)
    assert ops.max_pool(img, 2).shape == (None, 4, 4, 3)
    assert ops.average_pool(img, 3, strides=2, padding="same").shape == (None, 4, 4, 3)
    assert ops.depthwise_conv(img, ops.ones((3, 3, 3, 2)), padding="same").shape == (None, 8, 8, 6)
    assert ops.conv_transpose(img, ops.ones((3, 3, 5, 3)), 2, "same").shape == (None, 16, 16, 5)


def test_op_records_a_node(x):
    import cornu

    cornu.backend.clear_session()
    y = ops.add(x, 1)
    assert y._node is not None
    assert y._node.input_tensors == [x]
    assert y._node.operation.name == "add"
    # Op objects are named as Keras names them: counted per name, and from the op class Keras builds.
    assert ops.add(x, 2)._node.operation.name == "add_1"
    assert ops.swish(x)._node.operation.name == "silu"


def test_shape_returns_static_shape_without_node(x):
    assert ops.shape(x) == (None, 3, 4)
    assert ops.ndim(x) == 3


def test_symbolic_errors(x):
    with pytest.raises(ValueError, match="Cannot reshape"):
        ops.reshape(x, (-1, 7, 0))
    with pytest.raises(ValueError, match="Cannot reshape"):
        ops.reshape(KerasTensor((2, 3)), (4, 2))
    with pytest.raises(ValueError, match="must match on all other axes"):
        ops.concatenate([x, KerasTensor((None, 5, 4))], axis=-1)
    with pytest.raises(ValueError, match="Incompatible shapes for matmul"):
        ops.matmul(x, ops.ones((3, 5)))
    with pytest.raises(TypeError, match="symbolic"):
        ops.convert_to_numpy(x)
    assert ops.where(x > 0).shape == (3, None)  # data-dependent count: unknown
    with pytest.raises(TypeError):
        np.asarray(x)


def test_unknown_batch_reshape_to_non_divisible_size():
    # (None, 3, 4) -> (-1, 5) is valid for batch sizes divisible by 5: the batch stays unknown.
    assert ops.reshape(KerasTensor((None, 3, 4)), (-1, 5)).shape == (None, 5)
