"""Mixed precision: layers keep float32 variables and compute in float16/bfloat16; compile scales the loss.

References are float64 NumPy computations on inputs and weights rounded to the compute dtype, compared
within that dtype's rounding (8 significant bits for bfloat16, 11 for float16).
"""
import json
import os

import numpy as np
import pytest
import torch

import cornu as keras
from cornu import dtype_policies, layers
from cornu.dtype_policies import dtype_policy as dtype_policy_module
from cornu.saving.serialization import deserialize_keras_object, serialize_keras_object
from tests.helpers import random_array

MIXED = ["mixed_bfloat16", "mixed_float16"]
COMPUTE = {"mixed_bfloat16": torch.bfloat16, "mixed_float16": torch.float16}
TOL = {"mixed_bfloat16": 2e-2, "mixed_float16": 3e-3}


@pytest.fixture(autouse=True)
def no_global_policy(monkeypatch):
    monkeypatch.setattr(dtype_policy_module, "_GLOBAL_POLICY", None)


def f64(x):
    """A tensor of any float dtype (bfloat16 too, which NumPy lacks) or an array, as float64 NumPy."""
    if isinstance(x, torch.Tensor):
        return x.detach().double().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def rounded(x, policy):
    """``x`` rounded to the policy's compute dtype, as float64."""
    return f64(torch.as_tensor(np.asarray(x, dtype="float32")).to(COMPUTE[policy]))


def close(actual, expected, policy):
    expected = np.asarray(expected)
    np.testing.assert_allclose(f64(actual), expected, rtol=TOL[policy],
                               atol=TOL[policy] * max(1.0, float(np.abs(expected).max())))


@pytest.mark.parametrize("policy", MIXED)
def test_dense_variables_float32_computation_in_compute_dtype(policy):
    layer = layers.Dense(3, dtype=policy)
    x = random_array((4, 5), seed=1)
    y = layer(x)
    assert (layer.dtype, layer.variable_dtype, layer.compute_dtype) == ("float32", "float32", str(COMPUTE[policy])[6:])
    assert [w.dtype for w in layer.weights] == ["float32", "float32"]
    assert y.dtype == COMPUTE[policy]
    kernel, bias = layer.get_weights()
    close(y, rounded(x, policy) @ rounded(kernel, policy) + rounded(bias, policy), policy)


@pytest.mark.parametrize("policy", MIXED)
def test_conv2d_matches_a_loop_reference(policy):
    layer = layers.Conv2D(2, 3, dtype=policy, bias_initializer="glorot_uniform")
    x = random_array((2, 5, 6, 3), seed=2)
    y = layer(x)
    assert y.dtype == COMPUTE[policy] and [w.dtype for w in layer.weights] == ["float32", "float32"]
    kernel, bias = (rounded(w, policy) for w in layer.get_weights())
    xr = rounded(x, policy)
    expected = np.zeros((2, 3, 4, 2))
    for i in range(3):
        for j in range(4):
            expected[:, i, j] = np.einsum("bhwc,hwcf->bf", xr[:, i:i + 3, j:j + 3], kernel) + bias
    close(y, expected, policy)


@pytest.mark.parametrize("policy", MIXED)
def test_batch_normalization_keeps_float32_statistics(policy):
    layer = layers.BatchNormalization(dtype=policy, momentum=0.9)
    x = random_array((8, 3), seed=3, low=0.0, high=2.0)
    y = layer(x, training=True)
    assert y.dtype == COMPUTE[policy]
    assert [w.dtype for w in layer.weights] == ["float32"] * 4
    xr = rounded(x, policy)
    mean, var = xr.mean(0), xr.var(0)
    close(y, (xr - mean) / np.sqrt(var + 1e-3), policy)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.9 + 0.1 * var, rtol=1e-5)


@pytest.mark.parametrize("policy", MIXED)
def test_gradients_reach_float32_variables(policy):
    layer = layers.Dense(2, dtype=policy)
    x = random_array((6, 4), seed=4)
    layer(x).float().sum().backward()
    grad = layer.kernel.value.grad
    assert grad.dtype == torch.float32
    expected = np.repeat(rounded(x, policy).sum(0)[:, None], 2, axis=1)  # Keras layout (in, out)
    close(layer.kernel._to_keras(grad), expected, policy)


@pytest.mark.parametrize("make", [lambda p: layers.Activation("softmax", dtype=p), lambda p: layers.Softmax(dtype=p),
                                  lambda p: layers.LayerNormalization(dtype=p), lambda p: layers.Dropout(0.5, dtype=p),
                                  lambda p: layers.MaxPooling1D(dtype=p), lambda p: layers.Flatten(dtype=p)])
def test_other_layers_output_the_compute_dtype(make):
    layer = make("mixed_bfloat16")
    assert layer(random_array((2, 4, 6), seed=5)).dtype == torch.bfloat16
    assert all(w.dtype == "float32" for w in layer.weights)


def test_embedding_output_in_compute_dtype():
    layer = layers.Embedding(5, 3, dtype="mixed_bfloat16")
    ids = np.array([[0, 4, 2]])
    y = layer(ids)
    assert y.dtype == torch.bfloat16 and layer.embeddings.dtype == "float32"
    close(y, rounded(layer.get_weights()[0][ids], "mixed_bfloat16"), "mixed_bfloat16")


def test_plain_16_bit_policy_has_16_bit_variables():
    layer = layers.Dense(2, dtype="bfloat16")
    y = layer(random_array((3, 4)))
    assert y.dtype == torch.bfloat16 and layer.kernel.value.dtype == torch.bfloat16 and layer.dtype == "bfloat16"


def test_dtype_argument_forms():
    config = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "mixed_float16"},
              "registered_name": None}
    for dtype in ("mixed_float16", dtype_policies.DTypePolicy("mixed_float16"), config,
                  {"class_name": "DTypePolicy", "config": {"name": "mixed_float16"}}):
        layer = layers.Dense(2, dtype=dtype)
        assert layer.dtype_policy == dtype_policies.DTypePolicy("mixed_float16")
        assert layer.get_config()["dtype"] == config
    with pytest.raises(ValueError, match="dtype=3"):
        layers.Dense(2, dtype=3)


def test_config_round_trips_keep_the_policy():
    layer = layers.Dense(2, dtype="mixed_bfloat16", name="d")
    clone = layers.Dense.from_config(layer.get_config())
    assert clone.dtype_policy == layer.dtype_policy
    loaded = deserialize_keras_object(json.loads(json.dumps(serialize_keras_object(layer))))
    assert loaded.dtype_policy == dtype_policies.DTypePolicy("mixed_bfloat16")
    old = {"class_name": "Dense", "config": {"name": "d2", "units": 2, "dtype": "float64"}}
    assert deserialize_keras_object(old).dtype_policy == dtype_policies.DTypePolicy("float64")


def test_setting_the_policy_of_a_layer():
    layer = layers.Dense(2)
    layer.dtype_policy = "mixed_bfloat16"
    assert layer.compute_dtype == "bfloat16" and layer(random_array((1, 3))).dtype == torch.bfloat16
    with pytest.raises(ValueError, match="'foo'"):
        layer.dtype_policy = "foo"


def test_policy_map_gives_a_layer_its_entry():
    policy_map = dtype_policies.DTypePolicyMap(policy_map={"dd": dtype_policies.DTypePolicy("mixed_bfloat16")})
    mapped, other = layers.Dense(2, dtype=policy_map, name="dd"), layers.Dense(2, dtype=policy_map, name="ee")
    assert mapped.dtype_policy is policy_map and mapped.compute_dtype == "bfloat16"
    assert other.compute_dtype == "float32"
    assert mapped.get_config()["dtype"]["class_name"] == "DTypePolicyMap"


def test_global_policy_reaches_models_and_a_float32_output_layer_stays_float32():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    inputs = keras.Input((4,))
    assert inputs.dtype == "float32"
    hidden = layers.Dense(3)(inputs)
    assert hidden.dtype == "bfloat16"
    outputs = layers.Activation("softmax", dtype="float32")(hidden)
    functional = keras.Model(inputs, outputs)
    sequential = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Activation("softmax", dtype="float32")])
    x = random_array((2, 4))
    for model in (functional, sequential):
        assert model.dtype_policy.name == "mixed_bfloat16"
        assert model(x).dtype == torch.float32
        assert all(w.dtype == "float32" for w in model.weights)
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    assert inner(x).dtype == torch.bfloat16


def test_subclassed_model_outputs_as_their_layers_made_them():
    class Head(keras.Model):
        def __init__(self, scale=None, **kwargs):
            super().__init__(**kwargs)
            self.scale = scale
            self.dense = layers.Dense(2)
            self.out = layers.Activation("softmax", dtype="float32")

        def call(self, x):
            return self.dense(x) * self.scale if self.scale else self.out(self.dense(x))

    x = random_array((2, 3))
    assert Head(dtype="mixed_float16")(x).dtype == torch.float32  # the float32 layer's output, as it made it
    assert Head(scale=2.0, dtype="mixed_float16")(x).dtype == torch.float32  # a model casts no outputs


def test_losses_and_metrics_upcast_16_bit_predictions():
    y_true = np.eye(3, dtype="float32")[[0, 2, 1, 2]]
    probs = torch.softmax(torch.as_tensor(random_array((4, 3), seed=8)), -1).to(torch.bfloat16)
    p = f64(probs)
    loss = keras.losses.CategoricalCrossentropy()(y_true, probs)
    assert loss.dtype == torch.float32
    np.testing.assert_allclose(f64(loss), -np.mean(np.sum(y_true * np.log(p / p.sum(-1, keepdims=True)), -1)),
                               rtol=1e-5)
    metric = keras.metrics.CategoricalAccuracy()
    metric.update_state(y_true, probs)
    assert metric.result().dtype == torch.float32
    assert float(metric.result()) == np.mean(p.argmax(-1) == y_true.argmax(-1))


# ---------------------------------------------------------------- compile / fit
def _model():
    return keras.Sequential([keras.Input((3,)), layers.Dense(1, use_bias=False)])


def test_compile_wraps_the_optimizer_under_mixed_float16():
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = _model()
    sgd = keras.optimizers.SGD()
    model.compile(optimizer=sgd, loss="mse")
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.optimizer.inner_optimizer is sgd and model.optimizer.name == "loss_scale_optimizer"
    scaled = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD())
    model.compile(optimizer=scaled, loss="mse")
    assert model.optimizer is scaled  # never wrapped twice
    model.compile(optimizer="sgd", loss="mse", auto_scale_loss=False)
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    keras.mixed_precision.set_global_policy("float32")
    model.compile(optimizer="sgd", loss="mse")  # the model's own policy decides, not the global one now
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    for policy in ("mixed_bfloat16", "float32"):
        keras.mixed_precision.set_global_policy(policy)
        other = _model()
        other.compile(optimizer="sgd", loss="mse")
        assert isinstance(other.optimizer, keras.optimizers.SGD)


def test_mixed_float16_fit_step_applies_the_unscaled_gradient():
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = _model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    x, y = random_array((8, 3), seed=6), random_array((8, 1), seed=7)
    w0 = model.get_weights()[0]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    xr, wr = rounded(x, "mixed_float16"), rounded(w0, "mixed_float16")
    pred = rounded(xr @ wr, "mixed_float16")
    grad = 2.0 / 8 * xr.T @ (pred - y)
    close(model.get_weights()[0] - w0, -0.1 * grad, "mixed_float16")
    assert int(model.optimizer.iterations.numpy()) == 1
    assert float(model.optimizer.dynamic_scale.numpy()) == 2.0 ** 15  # finite gradients: the scale stays


def _tutorial_cnn():
    return keras.models.Sequential([
        layers.Conv2D(filters=32, kernel_size=(3, 3), activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(units=128, activation="relu"),
        layers.Dropout(rate=0.5), layers.Dense(units=10, activation="softmax")])


def test_tutorial_cnn_trains_under_mixed_bfloat16_as_well_as_float32():
    """The tutorial's CNN, 1 epoch on 6000 MNIST images: mixed_bfloat16 within 2 points of float32."""
    # The Keras cache, else the project's shared copy (beside the repository, as in CI).
    candidates = [os.path.join(os.path.expanduser("~"), ".keras", "datasets", "mnist.npz"),
                  os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist.npz")]
    path = next((os.path.abspath(p) for p in candidates if os.path.exists(p)), None)
    if path is None:
        pytest.skip("MNIST is neither in the Keras cache nor in ../shared/data")
    (x, y), (xt, yt) = keras.datasets.mnist.load_data(path=path)
    x, xt = (x[:6000, ..., None] / 255.0).astype("float32"), (xt[:2000, ..., None] / 255.0).astype("float32")
    y, yt = keras.utils.to_categorical(y[:6000], 10), keras.utils.to_categorical(yt[:2000], 10)
    accuracy = {}
    for policy in ("float32", "mixed_bfloat16"):
        keras.mixed_precision.set_global_policy(policy)
        keras.utils.set_random_seed(0)
        model = _tutorial_cnn()
        model.compile(loss=keras.losses.categorical_crossentropy, optimizer=keras.optimizers.Adam(),
                      metrics=["accuracy"])
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        accuracy[policy] = model.evaluate(xt, yt, verbose=0)[1]
        assert all(w.dtype == "float32" for w in model.weights)
        assert model(xt[:2]).dtype == (torch.bfloat16 if policy == "mixed_bfloat16" else torch.float32)
    assert accuracy["float32"] > 0.85
    assert abs(accuracy["mixed_bfloat16"] - accuracy["float32"]) < 0.02, accuracy
