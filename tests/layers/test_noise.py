import numpy as np
import pytest
import torch

from cornu.layers.noise import (ActivityRegularization, AlphaDropout, GaussianDropout, GaussianNoise,
                                SpatialDropout1D, SpatialDropout2D, SpatialDropout3D)
from cornu.layers.regularization import Dropout
from cornu.symbolic import KerasTensor


def _np(t):
    return t.detach().numpy()


ONES_3D = np.ones((64, 5, 32), "float32")


def test_spatial_dropout1d_drops_whole_channels():
    layer = SpatialDropout1D(0.25, seed=1)
    out = _np(layer(ONES_3D, training=True))
    per_channel = out.reshape(64, 5, 32)
    # Every (sample, channel) column is constant: all dropped or all scaled by 1/(1-rate).
    assert np.all(per_channel.max(axis=1) == per_channel.min(axis=1))
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((out[:, 0, :] == 0).mean() - 0.25) < 0.06
    np.testing.assert_array_equal(_np(layer(ONES_3D, training=False)), ONES_3D)


def test_spatial_dropout2d_channels_first_and_3d():
    x = np.ones((16, 8, 3, 3), "float32")
    out = _np(SpatialDropout2D(0.5, data_format="channels_first", seed=2)(x, training=True))
    flat = out.reshape(16, 8, 9)
    assert np.all(flat.max(axis=2) == flat.min(axis=2))
    assert 0 < (flat[:, :, 0] == 0).mean() < 1
    vol = np.ones((4, 2, 2, 2, 6), "float32")
    out3 = _np(SpatialDropout3D(0.5, seed=3)(vol, training=True)).reshape(4, 8, 6)
    assert np.all(out3.max(axis=1) == out3.min(axis=1))


def test_spatial_dropout_seed_reproducible_and_config():
    a = _np(SpatialDropout1D(0.5, seed=7)(ONES_3D, training=True))
    b = _np(SpatialDropout1D(0.5, seed=7)(ONES_3D, training=True))
    np.testing.assert_array_equal(a, b)
    layer = SpatialDropout2D(0.3, data_format="channels_first", seed=5)
    config = layer.get_config()
    assert "noise_shape" not in config and config["data_format"] == "channels_first"
    assert SpatialDropout2D.from_config(config).get_config() == config
    assert "data_format" not in SpatialDropout1D(0.1).get_config()
    assert SpatialDropout1D(0.1)(KerasTensor((None, 4, 3))).shape == (None, 4, 3)
    with pytest.raises(ValueError, match="expected ndim=4"):
        SpatialDropout2D(0.1)(ONES_3D)
    with pytest.raises(ValueError, match="rate"):
        SpatialDropout1D(1.5)


def test_gaussian_noise_statistics():
    x = np.zeros((200, 100), "float32")
    layer = GaussianNoise(0.5, seed=11)
    noise = _np(layer(x, training=True)).astype("float64")
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - 0.5) < 0.01
    np.testing.assert_array_equal(_np(layer(x, training=False)), x)
    np.testing.assert_array_equal(_np(GaussianNoise(0.5, seed=11)(x, training=True)), noise.astype("float32"))
    assert GaussianNoise.from_config(layer.get_config()).get_config() == layer.get_config()
    with pytest.raises(ValueError, match="stddev"):
        GaussianNoise(-0.1)


def test_gaussian_dropout_statistics():
    rate = 0.2
    x = np.full((200, 100), 2.0, "float32")
    layer = GaussianDropout(rate, seed=12)
    factor = _np(layer(x, training=True)).astype("float64") / 2.0
    assert abs(factor.mean() - 1.0) < 0.01
    assert abs(factor.std() - np.sqrt(rate / (1 - rate))) < 0.01
    np.testing.assert_array_equal(_np(layer(x, training=False)), x)
    assert GaussianDropout.from_config(layer.get_config()).rate == rate


def test_alpha_dropout_keeps_selu_statistics():
    rate = 0.3
    x = np.random.default_rng(5).standard_normal((400, 100)).astype("float32")
    layer = AlphaDropout(rate, seed=13)
    out = _np(layer(x, training=True)).astype("float64")
    assert abs(out.mean()) < 0.02 and abs(out.std() - 1.0) < 0.03
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
    b = -a * alpha_p * rate
    kept = np.isclose(out, a * x + b, atol=1e-5)
    dropped = np.isclose(out, a * alpha_p + b, atol=1e-5)
    assert np.all(kept | dropped) and abs(dropped.mean() - rate) < 0.01
    np.testing.assert_array_equal(_np(layer(x, training=False)), x)
    assert AlphaDropout.from_config(layer.get_config()).get_config() == layer.get_config()


def test_activity_regularization_adds_loss():
    x = np.array([[1.0, -2.0], [0.5, 3.0], [-1.0, 0.0]], "float32")
    layer = ActivityRegularization(l1=0.1, l2=0.01)
    out = layer(x)
    np.testing.assert_array_equal(_np(out), x)
    x64 = x.astype("float64")
    expected = (0.1 * np.abs(x64).sum() + 0.01 * (x64 ** 2).sum()) / x.shape[0]
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-6)
    config = layer.get_config()
    assert (config["l1"], config["l2"]) == (0.1, 0.01)
    assert ActivityRegularization.from_config(config).l2 == 0.01
    assert layer(KerasTensor((None, 2))).shape == (None, 2)
    layer(torch.zeros(3, 2))
    assert len(layer.losses) == 1 and float(layer.losses[0]) == 0.0


def test_non_numeric_rates_are_type_errors():
    for make in (lambda: GaussianNoise("a"), lambda: GaussianDropout(None), lambda: Dropout("0.5")):
        with pytest.raises(TypeError, match="Expected a float value between 0 and 1"):
            make()
