"""Subclassed models and custom layers: tracking, custom train_step, add_weight/add_loss, Lambda."""
import numpy as np
import pytest
import torch

import cornu as keras
from cornu import layers


class MLP(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = [layers.Dense(8, activation="relu"), layers.Dense(8, activation="relu")]
        self.heads = {"out": layers.Dense(1)}
        self.dropout = layers.Dropout(0.1)

    def call(self, inputs, training=None):
        x = inputs
        for layer in self.hidden:
            x = layer(x)
        return self.heads["out"](self.dropout(x, training=training))


def regression_data(n=128, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype("float32")


def test_layers_in_lists_and_dicts_are_tracked_and_model_trains():
    keras.utils.set_random_seed(0)
    model = MLP()
    x, y = regression_data()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    hist = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert len(model.layers) == 4
    assert len(model.trainable_weights) == 6
    assert model.count_params() == (3 * 8 + 8) + (8 * 8 + 8) + (8 + 1)
    assert set(hist.history) == {"loss", "mae"}
    assert hist.history["loss"][-1] < 0.2 * hist.history["loss"][0]
    assert model.predict(x[:4], verbose=0).shape == (4, 1)


def test_build_with_input_shape_then_summary(capsys):
    model = MLP()
    model.build((None, 3))
    assert model.built and model.count_params() == (3 * 8 + 8) + (8 * 8 + 8) + (8 + 1)
    model.summary()
    assert "Total params: 113" in capsys.readouterr().out


class CustomStepModel(keras.Model):
    """train_step written the way Keras documents for the PyTorch backend."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.steps_seen = 0

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = torch.mean((y - y_pred) ** 2)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        self.steps_seen += 1
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


def test_custom_train_step_drives_fit():
    keras.utils.set_random_seed(0)
    model = CustomStepModel()
    model.compile(optimizer=keras.optimizers.SGD(0.05))
    x, y = regression_data(64)
    hist = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert model.count_params() == 3 + 1
    assert model.predict(x[:2], verbose=0).shape == (2, 1)
    assert model.steps_seen == 5 * 4
    assert set(hist.history) == {"loss", "mae"}
    assert hist.history["loss"][-1] < 0.3 * hist.history["loss"][0]


class ComputeLossModel(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1)

    def call(self, x):
        return self.dense(x)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return torch.mean(torch.abs(y - y_pred)) * 2.0


def test_overridden_compute_loss_is_used():
    model = ComputeLossModel()
    model.compile(optimizer="sgd")
    x, y = regression_data(32)
    loss = model.evaluate(x, y, verbose=0)
    ref = 2.0 * np.mean(np.abs(y - model.predict(x, verbose=0)))
    assert loss == pytest.approx(ref, rel=1e-5)


class ScaledDense(layers.Layer):
    """A custom layer: add_weight in build, an activity loss with add_loss, get_config."""

    def __init__(self, units, penalty=0.1, **kwargs):
        super().__init__(**kwargs)
        self.units, self.penalty = units, penalty

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform", name="w",
                                 regularizer=keras.regularizers.L2(0.01))
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale", trainable=False)

    def call(self, inputs, training=None, mask=None):
        out = (inputs @ self.w) * self.scale
        self.add_loss(self.penalty * torch.mean(out ** 2))
        return out

    def get_config(self):
        return {**super().get_config(), "units": self.units, "penalty": self.penalty}


def test_custom_layer_in_sequential_functional_and_subclassed():
    x, y = regression_data(64)
    for model in (
        keras.Sequential([keras.Input((3,)), ScaledDense(4), layers.Dense(1)]),
        keras.Model(inp := keras.Input((3,)), layers.Dense(1)(ScaledDense(4)(inp))),
    ):
        custom = [l for l in model.layers if isinstance(l, ScaledDense)][0]
        assert custom.built and [v.name for v in custom.weights] == ["w", "scale"]
        assert [v.name for v in custom.non_trainable_weights] == ["scale"]
        assert model.count_params() == (3 * 4 + 1) + (4 + 1)
        assert model.output_shape == (None, 1)
        model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
        hist = model.fit(x, y, epochs=5, verbose=0)
        assert list(hist.history) == ["loss"]
        assert hist.history["loss"][-1] < hist.history["loss"][0]
        # evaluate's loss = mse + activity loss + L2 penalty, all from the last call
        pred = model.predict(x, verbose=0)
        loss = model.evaluate(x, y, batch_size=64, verbose=0)
        h = (torch.as_tensor(x) @ custom.w.keras_value.detach()).numpy()
        w = custom.w.numpy()
        ref = np.mean((pred - y) ** 2) + 0.1 * np.mean(h ** 2) + 0.01 * np.sum(w ** 2)
        assert loss == pytest.approx(ref, rel=1e-4)
    clone = ScaledDense.from_config(ScaledDense(4, penalty=0.5, name="sd").get_config())
    assert clone.units == 4 and clone.penalty == 0.5 and clone.name == "sd"


def test_losses_reset_each_call_and_built_flag():
    layer = ScaledDense(2)
    assert not layer.built
    layer(torch.ones(3, 2))
    layer(torch.ones(3, 2))
    assert layer.built and len(layer.losses) == 2  # one activity loss + one regularizer


def test_lambda_layer_in_models():
    x = keras.Input((3,))
    y = layers.Lambda(lambda t: t * 2.0)(x)
    model = keras.Model(x, y)
    np.testing.assert_allclose(model.predict(np.ones((2, 3), "float32"), verbose=0), 2.0)
    with pytest.raises(TypeError, match="callable"):
        layers.Lambda(3)


class TrackedMetricModel(keras.Model):
    """A metric held as an attribute joins model.metrics and is reset at each epoch."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1)
        self.epoch_tracker = keras.metrics.Mean(name="epoch_value")
        self.value = 0.0

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        self.epoch_tracker.update_state(self.value)
        return {"epoch_value": self.epoch_tracker.result()}


class SetValue(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.model.value = float(epoch)


def test_attribute_metrics_are_tracked_and_reset_each_epoch():
    model = TrackedMetricModel()
    model.compile(optimizer="sgd")
    assert model.epoch_tracker in model.metrics
    x, y = regression_data(32)
    hist = model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[SetValue()])
    assert hist.history["epoch_value"] == [0.0, 1.0, 2.0]  # not running means across epochs


class CountingTestStep(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1)
        self.tests = 0

    def call(self, x):
        return self.dense(x)

    def test_step(self, data):
        self.tests += 1
        return super().test_step(data)


def test_overridden_test_step_drives_evaluate_and_validation():
    model = CountingTestStep()
    model.compile(optimizer="sgd", loss="mse")
    x, y = regression_data(32)
    model.fit(x, y, batch_size=8, epochs=1, validation_data=(x, y), verbose=0)
    assert model.tests == 4
    model.evaluate(x, y, batch_size=16, verbose=0)
    assert model.tests == 6


class NonNegDense(layers.Layer):
    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], 1), initializer="ones", name="w",
                                 constraint=keras.constraints.NonNeg())

    def call(self, x):
        return x @ self.w


def test_add_weight_constraint_is_applied_after_each_update():
    model = keras.Sequential([keras.Input((3,)), NonNegDense()])
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    x, y = regression_data(32)
    model.fit(x, -10 * np.abs(y), epochs=2, verbose=0)  # pushes weights negative
    w = model.layers[0].w.numpy()
    assert (w >= 0).all() and (w == 0).any()
