import warnings

import numpy as np
import pytest
import torch

from cornu.layers.activations import ELU, PReLU, ReLU, LeakyReLU, Softmax
from cornu.symbolic import KerasTensor

RNG = np.random.default_rng(4)
X = (3 * RNG.standard_normal((4, 6))).astype("float32")


def _np(t):
    return t.detach().numpy()


def _np_relu(x, max_value=None, negative_slope=0.0, threshold=0.0):
    x = x.astype("float64")
    y = np.where(x >= threshold, x, negative_slope * (x - threshold))
    return y if max_value is None else np.minimum(y, max_value)


@pytest.mark.parametrize("kwargs", [{}, {"max_value": 6.0}, {"negative_slope": 0.1},
                                    {"threshold": 0.5}, {"max_value": 2.0, "negative_slope": 0.2, "threshold": 1.0}])
def test_relu_variants(kwargs):
    np.testing.assert_allclose(_np(ReLU(**kwargs)(X)), _np_relu(X, **kwargs), rtol=1e-6, atol=1e-6)


def test_relu_errors_and_config():
    for kwargs in ({"max_value": -1.0}, {"negative_slope": -0.1}, {"threshold": None}):
        with pytest.raises(ValueError, match="cannot be None or a negative value"):
            ReLU(**kwargs)
    layer = ReLU(max_value=6.0, negative_slope=0.1, threshold=0.2)
    clone = ReLU.from_config(layer.get_config())
    assert (clone.max_value, clone.negative_slope, clone.threshold) == (6.0, 0.1, 0.2)
    assert layer(KerasTensor((None, 3, 2))).shape == (None, 3, 2)


def test_leaky_relu():
    np.testing.assert_allclose(_np(LeakyReLU()(X)), np.where(X >= 0, X, 0.3 * X.astype("float64")), rtol=1e-6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1 and any("deprecated" in str(w.message) for w in caught)
    assert LeakyReLU.from_config(LeakyReLU(0.05).get_config()).negative_slope == 0.05
    with pytest.raises(ValueError, match="negative_slope"):
        LeakyReLU(negative_slope=-1)


def test_prelu_shared_axes_numerics_and_gradient():
    x = RNG.standard_normal((2, 3, 4, 5)).astype("float32")
    layer = PReLU(shared_axes=[1, 2])
    layer.build(x.shape)
    assert layer.alpha.shape == (1, 1, 5)
    np.testing.assert_array_equal(layer.get_weights()[0], np.zeros((1, 1, 5)))
    alpha = RNG.uniform(0.1, 0.5, (1, 1, 5)).astype("float32")
    layer.set_weights([alpha])
    out = layer(x)
    np.testing.assert_allclose(_np(out), np.where(x > 0, x, x * alpha.astype("float64")), rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(layer.alpha.value.grad.numpy(),
                               np.minimum(x, 0).astype("float64").sum(axis=(0, 1, 2)).reshape(1, 1, 5), rtol=1e-5)


def test_prelu_config_symbolic_and_errors():
    layer = PReLU(alpha_initializer="ones", shared_axes=1)
    assert layer(KerasTensor((None, 3, 4))).shape == (None, 3, 4)
    assert layer.alpha.shape == (1, 4)
    clone = PReLU.from_config(layer.get_config())
    assert clone.shared_axes == [1]
    with pytest.raises(ValueError, match="expected axis 2 of input shape to have value 4"):
        layer(np.zeros((2, 3, 5), "float32"))
    with pytest.raises(ValueError, match="defined"):
        PReLU()(KerasTensor((None, None, 4)))


def test_elu():
    x64 = X.astype("float64")
    np.testing.assert_allclose(_np(ELU(alpha=0.5)(X)), np.where(x64 > 0, x64, 0.5 * (np.exp(x64) - 1)),
                               rtol=1e-5, atol=1e-6)
    assert ELU.from_config(ELU(alpha=0.5).get_config()).alpha == 0.5


def _np_softmax(x, axis):
    x = x.astype("float64")
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_softmax_axes():
    x = RNG.standard_normal((2, 3, 4)).astype("float32")
    np.testing.assert_allclose(_np(Softmax()(x)), _np_softmax(x, -1), rtol=1e-5)
    np.testing.assert_allclose(_np(Softmax(axis=1)(x)), _np_softmax(x, 1), rtol=1e-5)
    np.testing.assert_allclose(_np(Softmax(axis=(1, 2))(x)), _np_softmax(x, (1, 2)), rtol=1e-5)
    assert Softmax.from_config(Softmax(axis=(1, 2)).get_config()).axis == (1, 2)
    assert Softmax()(KerasTensor((None, 5))).shape == (None, 5)


def test_softmax_mask():
    x = RNG.standard_normal((2, 4)).astype("float32")
    mask = np.array([[True, True, False, True], [False, False, False, False]])
    out = _np(Softmax()(x, mask=torch.tensor(mask)))
    row = np.where(mask[0], x[0], -np.inf)
    np.testing.assert_allclose(out[0], _np_softmax(row[None], -1)[0], rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(out[1], np.zeros(4))
