import numpy as np
import pytest
import torch

from cornu.layers.merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add,
                                  average, concatenate, dot, maximum, minimum, multiply, subtract)
from cornu.symbolic import KerasTensor

RNG = np.random.default_rng(0)


def _rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


ELEMENTWISE = [
    (Add, lambda xs: sum(xs)),
    (Multiply, lambda xs: np.prod(np.stack(xs), axis=0)),
    (Average, lambda xs: sum(xs) / len(xs)),
    (Maximum, lambda xs: np.max(np.stack(xs), axis=0)),
    (Minimum, lambda xs: np.min(np.stack(xs), axis=0)),
]


@pytest.mark.parametrize("cls,ref", ELEMENTWISE)
def test_elementwise_numerics_three_inputs(cls, ref):
    xs = [_rand(4, 5) for _ in range(3)]
    out = cls()(xs)
    np.testing.assert_allclose(out.numpy(), ref([x.astype("float64") for x in xs]), rtol=1e-5, atol=1e-6)


def test_subtract_numerics():
    a, b = _rand(3, 2), _rand(3, 2)
    np.testing.assert_allclose(Subtract()([a, b]).numpy(), a.astype("float64") - b, rtol=1e-6)


def test_broadcast_keeps_batch_axis_aligned():
    a, b = _rand(2, 3), _rand(2, 4, 3)
    out = Add()([a, b])
    np.testing.assert_allclose(out.numpy(), a[:, None, :].astype("float64") + b, rtol=1e-6)
    c = _rand(2, 1)
    np.testing.assert_allclose(Multiply()([b, c]).numpy(), b.astype("float64") * c[:, None, :], rtol=1e-6)


@pytest.mark.parametrize("fn", [add, multiply, average, maximum, minimum])
def test_functional_forms_symbolic(fn):
    out = fn([KerasTensor((None, 4, 3)), KerasTensor((None, 3)), KerasTensor((None, 1, 1))])
    assert isinstance(out, KerasTensor)
    assert out.shape == (None, 4, 3)


def test_symbolic_shape_with_unknown_dims_and_known_batch():
    out = Add()([KerasTensor((8, None, 3)), KerasTensor((None, 5, 1))])
    assert out.shape == (8, None, 3)
    assert subtract([KerasTensor((None, 2)), KerasTensor((None, 2))]).shape == (None, 2)


def test_incompatible_shapes_error_names_shapes():
    with pytest.raises(ValueError, match=r"\(None, 3\).*\(None, 4\)"):
        Add()([KerasTensor((None, 3)), KerasTensor((None, 4))])
    with pytest.raises(ValueError, match="incompatible shapes"):
        Maximum()([_rand(2, 3), _rand(2, 4)])


def test_different_batch_sizes_error():
    with pytest.raises(ValueError, match="different batch sizes"):
        Add()([KerasTensor((2, 3)), KerasTensor((5, 3))])


def test_not_a_list_error():
    with pytest.raises(ValueError, match="list of inputs"):
        Add()(_rand(2, 3))
    layer = Add()
    layer([_rand(2, 3), _rand(2, 3)])
    with pytest.raises(ValueError, match="list of inputs"):
        layer(torch.zeros(2, 3))


def test_subtract_needs_exactly_two_inputs():
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        Subtract()([_rand(2, 3)] * 3)


def test_merge_mask_is_logical_and():
    m1 = torch.tensor([[True, False, True]])
    m2 = torch.tensor([[True, True, False]])
    out = Add().compute_mask([torch.zeros(1, 3, 2)] * 2, [m1, m2])
    np.testing.assert_array_equal(out.numpy(), np.logical_and(m1.numpy(), m2.numpy()))
    assert Add().compute_mask([torch.zeros(1, 3)] * 2, None) is None


@pytest.mark.parametrize("cls", [Add, Subtract, Multiply, Average, Maximum, Minimum])
def test_config_round_trip(cls):
    layer = cls(name=f"merge_{cls.__name__.lower()}")
    clone = cls.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_concatenate_numerics_and_axis():
    a, b = _rand(2, 3, 4), _rand(2, 3, 5)
    np.testing.assert_array_equal(Concatenate()([a, b]).numpy(), np.concatenate([a, b], axis=-1))
    c = _rand(2, 1, 4)
    np.testing.assert_array_equal(concatenate([a, c], axis=1).numpy(), np.concatenate([a, c], axis=1))


def test_concatenate_symbolic_shapes():
    assert concatenate([KerasTensor((None, 3, 5)), KerasTensor((None, 3, 2))]).shape == (None, 3, 7)
    assert Concatenate(axis=1)([KerasTensor((None, None, 2)), KerasTensor((None, 4, 2))]).shape == (None, None, 2)
    assert Concatenate(axis=1)([KerasTensor((None, 3, None)), KerasTensor((None, 4, 2))]).shape == (None, 7, 2)


def test_concatenate_errors():
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        Concatenate()([KerasTensor((None, 3, 5)), KerasTensor((None, 4, 2))])
    with pytest.raises(ValueError, match="matching shapes"):
        Concatenate()([KerasTensor((None, 3)), KerasTensor((None, 4, 2))])
    with pytest.raises(ValueError, match="list of at least 1 input"):
        Concatenate()(_rand(2, 3))


def test_concatenate_mask():
    m1 = torch.tensor([[True, False, True]])
    m2 = torch.tensor([[False, False, True]])
    over_time = Concatenate(axis=1).compute_mask([torch.zeros(1, 3, 2), torch.zeros(1, 4, 2)], [m1, None])
    np.testing.assert_array_equal(over_time.numpy(), np.concatenate([m1.numpy(), np.ones((1, 4), bool)], axis=1))
    over_features = Concatenate().compute_mask([torch.zeros(1, 3, 2), torch.zeros(1, 3, 4)], [m1, m2])
    np.testing.assert_array_equal(over_features.numpy(), np.logical_or(m1.numpy(), m2.numpy()))


def test_concatenate_config_round_trip():
    layer = Concatenate(axis=1)
    clone = Concatenate.from_config(layer.get_config())
    assert clone.axis == 1 and clone.get_config() == layer.get_config()


def _np_batch_dot(x, y, a1, a2):
    x64, y64 = x.astype("float64"), y.astype("float64")
    return np.stack([np.tensordot(x64[i], y64[i], axes=(a1 - 1, a2 - 1)) for i in range(x.shape[0])])


def test_dot_rank2_gives_column():
    x, y = _rand(4, 3), _rand(4, 3)
    out = Dot(axes=1)([x, y]).numpy()
    assert out.shape == (4, 1)
    np.testing.assert_allclose(out[:, 0], np.sum(x.astype("float64") * y, axis=1), rtol=1e-5)


def test_dot_rank3_axes_pair():
    x, y = _rand(2, 3, 5), _rand(2, 4, 3)
    out = Dot(axes=(1, 2))([x, y]).numpy()
    np.testing.assert_allclose(out, _np_batch_dot(x, y, 1, 2), rtol=1e-5, atol=1e-6)
    out2 = dot([x, y.transpose(0, 2, 1)], axes=(1, 1)).numpy()
    np.testing.assert_allclose(out2, _np_batch_dot(x, y.transpose(0, 2, 1), 1, 1), rtol=1e-5, atol=1e-6)


def test_dot_negative_axes_and_mixed_rank():
    x, y = _rand(2, 3, 5), _rand(2, 5)
    out = Dot(axes=-1)([x, y]).numpy()
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out, _np_batch_dot(x, y, 2, 1), rtol=1e-5, atol=1e-6)


def test_dot_normalize_is_cosine_similarity():
    x, y = _rand(5, 4), _rand(5, 4)
    out = Dot(axes=1, normalize=True)([x, y]).numpy()[:, 0]
    x64, y64 = x.astype("float64"), y.astype("float64")
    cos = np.sum(x64 * y64, 1) / (np.linalg.norm(x64, axis=1) * np.linalg.norm(y64, axis=1))
    np.testing.assert_allclose(out, cos, rtol=1e-5)


def test_dot_symbolic_shapes():
    assert Dot(axes=(1, 2))([KerasTensor((None, 3, 5)), KerasTensor((None, 4, 3))]).shape == (None, 5, 4)
    assert dot([KerasTensor((None, 3)), KerasTensor((None, 3))], axes=1).shape == (None, 1)


def test_dot_errors():
    with pytest.raises(ValueError, match=r"axis values 3 \(at axis 1\) != 4 \(at axis 1\)"):
        Dot(axes=1)([KerasTensor((None, 3)), KerasTensor((None, 4))])
    with pytest.raises(ValueError, match="list of 2 inputs"):
        Dot(axes=1)([KerasTensor((None, 3))] * 3)
    with pytest.raises(TypeError, match="list or an int"):
        Dot(axes="1")
    with pytest.raises(ValueError, match="two elements"):
        Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match="batch axis"):
        Dot(axes=0)([_rand(2, 3), _rand(2, 3)])


def test_dot_config_round_trip_and_gradient():
    layer = Dot(axes=(1, 2), normalize=True)
    clone = Dot.from_config(layer.get_config())
    assert clone.axes == (1, 2) and clone.normalize is True
    x = torch.tensor(_rand(2, 3), requires_grad=True)
    y = torch.tensor(_rand(2, 3))
    Dot(axes=1)([x, y]).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.numpy(), rtol=1e-6)
