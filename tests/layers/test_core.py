"""Dense, Activation, Flatten, Dropout: numerics, layouts, config, errors."""
import numpy as np
import pytest
import torch

from cornu.layers import Activation, Dense, Dropout, Flatten
from cornu.symbolic import KerasTensor


def test_dense_matches_float64_reference_and_layout():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 6))
    layer = Dense(3, activation="tanh")
    layer(x.astype("float32"))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (6, 3) and bias.shape == (3,)
    assert tuple(layer.kernel.value.shape) == (3, 6)  # torch layout (out, in)
    bias = rng.normal(size=3).astype("float32")
    layer.set_weights([kernel, bias])
    y = layer(x.astype("float32")).detach().numpy()
    np.testing.assert_allclose(y, np.tanh(x @ kernel.astype("float64") + bias), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(layer.kernel.value.detach().numpy(), kernel.T)


def test_dense_on_rank3_and_symbolic_shape():
    layer = Dense(5)
    assert layer(torch.ones(2, 3, 4)).shape == (2, 3, 5)
    assert Dense(7)(KerasTensor((None, 3, 4))).shape == (None, 3, 7)
    assert layer.compute_output_shape((None, 3, 4)) == (None, 3, 5)


def test_dense_glorot_uniform_default_init_and_zero_bias():
    torch.manual_seed(0)
    layer = Dense(200)
    layer.build((None, 300))
    k, b = layer.get_weights()
    limit = np.sqrt(6 / (300 + 200))
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.9 * limit
    assert np.all(b == 0)


def test_dense_config_round_trip():
    layer = Dense(4, activation="relu", use_bias=False, name="my_dense")
    clone = Dense.from_config(layer.get_config())
    assert clone.units == 4 and not clone.use_bias and clone.name == "my_dense"
    assert clone(torch.ones(1, 2)).shape == (1, 4)


def test_set_weights_errors_name_the_shapes():
    layer = Dense(2)
    layer.build((None, 3))
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        layer.set_weights([np.zeros((2, 3)), np.zeros(2)])
    with pytest.raises(ValueError, match="expecting 2 weights"):
        layer.set_weights([np.zeros((3, 2))])


def test_dense_input_dim_mismatch_and_bad_units():
    layer = Dense(2)
    layer(torch.ones(1, 3))
    with pytest.raises(ValueError, match="axis -1 of input shape to have value 3"):
        layer(torch.ones(1, 4))
    with pytest.raises(ValueError, match="units"):
        Dense(-1)


def test_activation_layer_and_unknown_name():
    x = torch.tensor([[-1.0, 2.0]])
    np.testing.assert_allclose(Activation("relu")(x).numpy(), [[0.0, 2.0]])
    with pytest.raises(ValueError, match="nonexistent"):
        Activation("nonexistent")


def test_flatten_keeps_keras_channels_last_order():
    x = np.arange(2 * 3 * 4 * 5, dtype="float32").reshape(2, 3, 4, 5)
    np.testing.assert_array_equal(Flatten()(x).numpy(), x.reshape(2, -1))
    assert Flatten()(KerasTensor((None, 13, 13, 32))).shape == (None, 5408)


def test_dropout_only_in_training_and_scales():
    torch.manual_seed(0)
    layer = Dropout(0.25)
    x = torch.ones(1000, 10)
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    y = layer(x, training=True).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    assert abs(kept.mean() - 0.75) < 0.02
    with pytest.raises(ValueError, match="rate"):
        Dropout(1.5)


def test_dropout_seed_is_reproducible_and_noise_shape_broadcasts():
    x = torch.ones(4, 3, 8)
    a = Dropout(0.5, seed=3)(x, training=True)
    b = Dropout(0.5, seed=3)(x, training=True)
    torch.testing.assert_close(a, b)
    y = Dropout(0.5, noise_shape=(None, 1, 8), seed=1)(x, training=True)
    assert torch.all(y == y[:, :1, :])


def test_lambda_mask_function_and_constant():
    from cornu.layers import Lambda, Masking

    x = torch.tensor([[[0.0], [1.0], [2.0]]])
    masked = Masking()(x)
    out = Lambda(lambda t: t * 2, mask=lambda inputs, mask: mask & (inputs[..., 0] < 1.5))(masked)
    np.testing.assert_array_equal(out._keras_mask.numpy(), [[False, True, False]])
    const = Lambda(lambda t: t, mask=torch.tensor([[True, False, True]]))
    assert const.supports_masking and not Lambda(lambda t: t).supports_masking
    np.testing.assert_array_equal(const.compute_mask(x, None).numpy(), [[True, False, True]])
    assert Lambda(lambda t: t).compute_mask(x, torch.ones(1, 3, dtype=torch.bool)) is None
    assert "mask" not in Lambda(lambda t: t).get_config() and "output_shape" not in Lambda(lambda t: t).get_config()


def test_dense_compute_output_shape_keeps_unknown_dims_and_builds_nothing():
    layer = Dense(5)
    assert layer.compute_output_shape((None, None, 3)) == (None, None, 5)
    assert not layer.built
