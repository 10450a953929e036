"""Activations vs their NumPy (float64) formulas, plus name resolution."""
import math

import numpy as np
import pytest
import torch

from cornu import activations

X = np.linspace(-6.0, 6.0, 49)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x):
    return np.log1p(np.exp(x))


_ERF = np.vectorize(math.erf)

CASES = {
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "linear": lambda x: x,
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (np.exp(x) - 1)),
    "gelu": lambda x: 0.5 * x * (1 + _ERF(x / np.sqrt(2))),
    "softplus": _softplus,
    "softsign": lambda x: x / (1 + np.abs(x)),
    "swish": lambda x: x * _sigmoid(x),
    "silu": lambda x: x * _sigmoid(x),
    "exponential": np.exp,
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "relu6": lambda x: np.clip(x, 0, 6),
    "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "hard_silu": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "hard_swish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "mish": lambda x: x * np.tanh(_softplus(x)),
    "celu": lambda x: np.maximum(x, 0) + np.minimum(0, np.exp(x) - 1),
    "log_sigmoid": lambda x: np.log(_sigmoid(x)),
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "tanh_shrink": lambda x: x - np.tanh(x),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0),
    "soft_shrink": lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)),
    "squareplus": lambda x: (x + np.sqrt(x * x + 4)) / 2,
    "sparse_plus": lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
    "sparse_sigmoid": lambda x: np.clip((x + 1) / 2, 0, 1),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_elementwise_matches_numpy(name):
    fn = activations.get(name)
    out = fn(torch.tensor(X, dtype=torch.float64))
    np.testing.assert_allclose(out.numpy(), CASES[name](X), rtol=1e-6, atol=1e-9)


def test_relu_with_slope_ceiling_threshold():
    out = activations.relu(torch.tensor(X), negative_slope=0.1, max_value=3.0, threshold=1.0).numpy()
    expected = np.where(X > 1.0, np.clip(X, 0, 3.0), 0.1 * (X - 1.0))
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_gelu_approximate_uses_tanh_formula():
    out = activations.gelu(torch.tensor(X), approximate=True).numpy()
    expected = 0.5 * X * (1 + np.tanh(np.sqrt(2 / np.pi) * (X + 0.044715 * X**3)))
    np.testing.assert_allclose(out, expected, rtol=1e-7, atol=1e-12)


def test_elu_alpha_and_leaky_slope():
    np.testing.assert_allclose(activations.elu(torch.tensor(X), alpha=0.5).numpy(),
                               np.where(X > 0, X, 0.5 * (np.exp(X) - 1)), rtol=1e-12)
    np.testing.assert_allclose(activations.leaky_relu(torch.tensor(X), negative_slope=0.3).numpy(),
                               np.where(X > 0, X, 0.3 * X), rtol=1e-12)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax(axis):
    x = np.random.default_rng(0).normal(size=(3, 4, 5)) * 10
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    expected = e / e.sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(activations.softmax(torch.tensor(x), axis=axis).numpy(), expected, rtol=1e-10)
    log_expected = x - x.max(axis=axis, keepdims=True) - np.log(e.sum(axis=axis, keepdims=True))
    np.testing.assert_allclose(activations.log_softmax(torch.tensor(x), axis=axis).numpy(), log_expected,
                               rtol=1e-10)


def test_glu_and_threshold():
    x = np.random.default_rng(1).normal(size=(2, 6))
    np.testing.assert_allclose(activations.glu(torch.tensor(x)).numpy(), x[:, :3] * _sigmoid(x[:, 3:]), rtol=1e-12)
    np.testing.assert_allclose(activations.threshold(torch.tensor(x), 0.2, -1.0).numpy(),
                               np.where(x > 0.2, x, -1.0), rtol=1e-12)


def test_numpy_input_becomes_floatx_tensor():
    out = activations.relu([-1.0, 2.0])
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    assert out.tolist() == [0.0, 2.0]


@pytest.mark.parametrize("name", ["relu", "relu6", "hard_tanh"])
def test_clipping_activations_keep_integer_dtypes(name):
    ref = {"relu": lambda x: np.maximum(x, 0), "relu6": lambda x: np.clip(x, 0, 6),
           "hard_tanh": lambda x: np.clip(x, -1, 1)}[name]
    values = np.array([-3, 0, 2, 9])
    fn = activations.get(name)
    out = fn(values)
    assert out.dtype == torch.int64 and out.tolist() == ref(values).tolist()
    assert fn([-3, 0, 2, 9]).dtype == torch.int32
    assert fn(torch.tensor(values, dtype=torch.int16)).dtype == torch.int16
    assert activations.threshold(values, 1, -5).tolist() == np.where(values > 1, values, -5).tolist()


def test_sparsemax_projects_each_slice_onto_the_simplex():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4, 5))
    for axis in (-1, 1):
        out = activations.sparsemax(torch.tensor(x), axis=axis).numpy()
        np.testing.assert_allclose(out.sum(axis=axis), 1.0, rtol=1e-12)
        z = np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
        want = []
        for row in z:  # reference: tau solves sum(max(row - tau, 0)) = 1, by bisection
            lo, hi = row.min() - 1, row.max()
            for _ in range(200):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if np.maximum(row - mid, 0).sum() > 1 else (lo, mid)
            want.append(np.maximum(row - lo, 0))
        want = np.moveaxis(np.array(want).reshape(np.moveaxis(x, axis, -1).shape), -1, axis)
        np.testing.assert_allclose(out, want, atol=1e-9)


def test_get_none_callable_and_aliases():
    assert activations.get(None) is activations.linear
    fn = lambda x: x * 2  # noqa: E731
    assert activations.get(fn) is fn
    assert activations.get("swish") is activations.silu
    assert activations.get("hard_swish") is activations.hard_silu


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="relu") as err:
        activations.get("not_an_activation")
    assert "not_an_activation" in str(err.value)


def test_non_callable_identifier_raises():
    with pytest.raises(ValueError):
        activations.get(42)


@pytest.mark.parametrize("name", ["relu", "softmax", "gelu", "linear", "silu", "hard_sigmoid"])
def test_serialize_roundtrip(name):
    fn = activations.get(name)
    assert activations.serialize(fn) == name
    assert activations.deserialize(activations.serialize(fn)) is fn


def test_deserialize_custom_object():
    def my_act(x):
        return x + 1

    assert activations.deserialize("my_act", custom_objects={"my_act": my_act}) is my_act
