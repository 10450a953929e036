"""fit/evaluate/predict semantics that follow Keras 3.15 to the letter (plain tests + the Keras oracle)."""
import math
import warnings

import numpy as np
import pytest
import torch

import cornu
from cornu import layers
from tests.helpers import f64, random_array


def small_model(lib, units=1):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(units)])
    return model


def data(n=20, seed=0):
    return random_array((n, 3), seed=seed, low=0, high=1), random_array((n, 1), seed=seed + 1, low=0, high=1)


def test_train_and_test_on_batch_return_that_batch_only():
    x, y = data()
    model = small_model(cornu)
    model.compile(optimizer=cornu.optimizers.SGD(0.0), loss="mse", metrics=["mae"])
    first = model.train_on_batch(x[:5], y[:5])
    second = model.train_on_batch(x[5:10], y[5:10])
    pred = model.predict(x[5:10], verbose=0)
    np.testing.assert_allclose(second[0], np.mean((pred - y[5:10]) ** 2), rtol=1e-5)
    np.testing.assert_allclose(second[1], np.mean(np.abs(pred - y[5:10])), rtol=1e-5)
    assert first[0] != second[0]
    test = model.test_on_batch(x[:5], y[:5])
    np.testing.assert_allclose(test[0], first[0], rtol=1e-5)


def test_using_a_model_before_compile_is_a_value_error():
    x, y = data()
    model = small_model(cornu)
    for call in (lambda: model.fit(x, y, verbose=0), lambda: model.evaluate(x, y, verbose=0),
                 lambda: model.train_on_batch(x, y), lambda: model.test_on_batch(x, y)):
        with pytest.raises(ValueError, match="compile"):
            call()


def test_batch_size_must_be_an_integer():
    x, y = data()
    model = small_model(cornu)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match="batch_size='32'"):
        model.fit(x, y, batch_size="32", verbose=0)


def test_nan_loss_goes_on_with_one_warning_naming_epoch_and_batch():
    x, y = data()
    y[13] = np.nan
    model = small_model(cornu)
    model.compile(optimizer="sgd", loss="mse")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, batch_size=2, epochs=2, verbose=0, shuffle=False)
    assert len(history.history["loss"]) == 2 and all(math.isnan(v) for v in history.history["loss"])
    messages = [str(w.message) for w in caught if "loss became" in str(w.message)]
    assert len(messages) == 1 and "epoch 1, batch 6" in messages[0]


def test_terminate_on_nan_still_stops():
    x, y = data()
    y[0] = np.nan
    model = small_model(cornu)
    model.compile(optimizer="sgd", loss="mse")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = model.fit(x, y, batch_size=2, epochs=3, verbose=0, shuffle=False,
                            callbacks=[cornu.callbacks.TerminateOnNaN()])
    assert len(history.history["loss"]) == 1


def test_compute_loss_override_without_training_argument():
    class M(cornu.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)
            self.calls = 0

        def call(self, x):
            return self.dense(x)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
            self.calls += 1
            return torch.mean((y_pred - y) ** 2)

    x, y = data()
    model = M()
    model.compile(optimizer="sgd")
    model.fit(x, y, batch_size=10, epochs=1, verbose=0)
    assert model.calls == 2


def test_losses_from_add_loss_alone_train_the_model():
    class Penalised(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            self.add_loss(torch.sum(self.w ** 2))
            return x * self.w

    x, _ = data()
    model = cornu.Sequential([cornu.Input((3,)), Penalised()])
    model.compile(optimizer=cornu.optimizers.SGD(0.1))
    history = model.fit(x, epochs=3, batch_size=20, verbose=0)
    # d/dw sum(w^2) = 2w: w <- w (1 - 0.2) each step.
    np.testing.assert_allclose(model.weights[0].numpy(), 0.8 ** 3 * np.ones(3), rtol=1e-5)
    np.testing.assert_allclose(history.history["loss"], [3.0, 3 * 0.64, 3 * 0.64 ** 2], rtol=1e-5)


def test_loss_scale_factor_scales_the_loss_not_only_the_gradients():
    x, y = data()
    results = []
    for factor in (None, 128.0):
        model = small_model(cornu)
        model.set_weights([np.ones((3, 1), "float32"), np.zeros(1, "float32")])
        model.compile(optimizer=cornu.optimizers.SGD(0.1, loss_scale_factor=factor), loss="mse")
        model.fit(x, y, batch_size=20, epochs=1, verbose=0)
        results.append(model.get_weights()[0])
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5)
    assert not np.allclose(results[0], 1.0)


def test_every_hook_gets_a_logs_dict():
    seen = []

    class Rec(cornu.callbacks.Callback):
        pass

    for name in ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
                 "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
                 "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end"):
        def hook(self, *args, _name=name, **kwargs):
            logs = kwargs.get("logs", args[-1] if args else None)
            seen.append((_name, None if logs is None else sorted(logs)))
        setattr(Rec, name, hook)

    x, y = data()
    model = small_model(cornu)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.fit(x, y, batch_size=10, epochs=1, validation_data=(x, y), verbose=0, callbacks=[Rec()])
    model.predict(x, batch_size=10, verbose=0, callbacks=[Rec()])
    assert all(logs is not None for _, logs in seen)
    assert ("on_train_batch_end", ["loss", "mae"]) in seen
    assert ("on_epoch_end", ["loss", "mae", "val_loss", "val_mae"]) in seen
    assert ("on_predict_batch_end", ["outputs"]) in seen and ("on_train_begin", []) in seen


def test_epoch_line_shows_learning_rate_added_by_callbacks(capsys):
    x, y = data()
    model = small_model(cornu)
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, epochs=1, verbose=2, callbacks=[cornu.callbacks.ReduceLROnPlateau()])
    assert "learning_rate: 0.0100" in capsys.readouterr().out
    assert history.history["learning_rate"] == [pytest.approx(0.01)]


def test_steps_per_execution_runs_batch_hooks_per_execution():
    calls = []

    class Rec(cornu.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            calls.append(("begin", batch))

        def on_train_batch_end(self, batch, logs=None):
            calls.append(("end", batch))

        def on_test_batch_end(self, batch, logs=None):
            calls.append(("test_end", batch))

    x, y = data()
    model = small_model(cornu)
    model.compile(optimizer=cornu.optimizers.SGD(0.1), loss="mse", steps_per_execution=3)
    model.fit(x, y, batch_size=2, epochs=1, verbose=0, shuffle=False, callbacks=[Rec()])
    # 10 batches in groups of 3: hooks at group boundaries, the short last group numbered by its full size
    # (Keras 3.15 on JAX/TensorFlow does the same).
    assert calls == [("begin", 0), ("end", 2), ("begin", 3), ("end", 5), ("begin", 6), ("end", 8),
                     ("begin", 9), ("end", 11)]
    calls.clear()
    model.evaluate(x, y, batch_size=2, verbose=0, callbacks=[Rec()])
    assert calls == [("test_end", 2), ("test_end", 5), ("test_end", 8), ("test_end", 11)]
    # Every step still trains: the same weights as one step per execution.
    reference = small_model(cornu)
    reference.set_weights([np.ones((3, 1), "float32"), np.zeros(1, "float32")])
    model.set_weights(reference.get_weights())
    reference.compile(optimizer=cornu.optimizers.SGD(0.1), loss="mse")
    model.compile(optimizer=cornu.optimizers.SGD(0.1), loss="mse", steps_per_execution=4)
    for m in (model, reference):
        m.fit(x, y, batch_size=2, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=0)  # Keras fails when a loop runs
    with pytest.raises(ValueError, match="steps_per_execution"):
        model.fit(x, y, verbose=0)
    model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    assert model.run_eagerly is True


def _two_output_model(lib, dict_outputs):
    i = lib.Input((3,))
    a = lib.layers.Dense(1, name="a")(i)
    b = lib.layers.Dense(2, name="b")(i)
    if dict_outputs:
        model = lib.Model(i, {"b": b, "a": a})
        model.compile("sgd", {"a": "mse", "b": "mae"}, metrics={"b": ["mse", "mae"], "a": ["mae"]})
    else:
        model = lib.Model(i, [a, b])
        model.compile("sgd", ["mse", "mae"], metrics=[["mae"], ["mse", "mae"]])
    return model


@pytest.mark.parametrize("dict_outputs", [False, True])
def test_multi_output_evaluate_order_matches_keras(keras_ref, dict_outputs):
    x, y = data()
    targets = {"a": y, "b": np.hstack([y, 2 * y])} if dict_outputs else [y, np.hstack([y, 2 * y])]
    ref, ours = _two_output_model(keras_ref, dict_outputs), _two_output_model(cornu, dict_outputs)
    for layer_name in ("a", "b"):
        ours.get_layer(layer_name).set_weights(ref.get_layer(layer_name).get_weights())
    ref_values = ref.evaluate(x, targets, verbose=0)
    np.testing.assert_allclose(ours.evaluate(x, targets, verbose=0), ref_values, rtol=1e-5)
    assert sorted(ours.evaluate(x, targets, verbose=0, return_dict=True)) == sorted(
        ref.evaluate(x, targets, verbose=0, return_dict=True))


def test_train_on_batch_matches_keras(keras_ref):
    x, y = data()
    ref, ours = small_model(keras_ref), small_model(cornu)
    ours.set_weights(ref.get_weights())
    for m, lib in ((ref, keras_ref), (ours, cornu)):
        m.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    for lo in (0, 5, 10):
        np.testing.assert_allclose(ours.train_on_batch(x[lo:lo + 5], y[lo:lo + 5]),
                                   ref.train_on_batch(x[lo:lo + 5], y[lo:lo + 5]), rtol=1e-5)
    np.testing.assert_allclose(ours.test_on_batch(x[:5], y[:5]), ref.test_on_batch(x[:5], y[:5]), rtol=1e-5)


def test_error_classes_match_keras(keras_ref):
    x, y = data()
    for lib in (keras_ref, cornu):
        model = small_model(lib)
        with pytest.raises(ValueError):
            model.fit(x, y, verbose=0)
        model.compile(optimizer="sgd", loss="mse")
        with pytest.raises(TypeError):
            model.fit(x, y, batch_size="32", verbose=0)


def test_nan_history_matches_keras(keras_ref):
    x, y = data()
    y[13] = np.nan
    histories = []
    for lib in (keras_ref, cornu):
        model = small_model(lib)
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            histories.append(model.fit(x, y, batch_size=2, epochs=2, verbose=0).history)
    assert histories[0].keys() == histories[1].keys()
    assert all(math.isnan(v) for h in histories for vs in h.values() for v in vs)


def test_add_loss_only_training_matches_keras(keras_ref):
    def build(lib):
        class Penalised(lib.layers.Layer):
            def build(self, input_shape):
                self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

            def call(self, x):
                self.add_loss(lib.ops.sum(self.w ** 2))
                return x * self.w

        model = lib.Sequential([lib.Input((3,)), Penalised()])
        model.compile(optimizer=lib.optimizers.SGD(0.1))
        return model

    x, _ = data()
    h_ref = build(keras_ref).fit(x, epochs=2, batch_size=10, verbose=0).history
    h_ours = build(cornu).fit(x, epochs=2, batch_size=10, verbose=0).history
    np.testing.assert_allclose(h_ours["loss"], h_ref["loss"], rtol=1e-5)


def _guide_model(lib):
    """keras.io's "customizing what happens in fit" (PyTorch) pattern: subclass, then build functionally."""

    class CustomModel(lib.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    inputs = lib.Input(shape=(3,))
    outputs = lib.layers.Dense(1)(inputs)
    return CustomModel(inputs, outputs), CustomModel


def test_subclass_called_with_inputs_and_outputs_is_functional():
    model, cls = _guide_model(cornu)
    assert isinstance(model, cls) and isinstance(model, cornu.Model) and type(model).__name__ == "CustomModel"
    assert len(model.layers) == 2 and model.count_params() == 4
    model.compile(optimizer=cornu.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    x, y = data()
    history = model.fit(x, y, epochs=3, verbose=0)
    assert set(history.history) == {"loss", "mae"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    by_keyword = cls(inputs=model.inputs, outputs=model.outputs)
    assert isinstance(by_keyword, cls) and by_keyword.count_params() == 4


def test_functional_inputs_may_differ_by_a_trailing_unit_axis():
    i = cornu.Input((28, 28, 1))
    model = cornu.Model(i, layers.Flatten()(i))
    assert model.predict(np.zeros((2, 28, 28), "float32"), verbose=0).shape == (2, 784)
    j = cornu.Input((1,))
    dense = cornu.Model(j, layers.Dense(2)(j))
    assert tuple(dense(np.zeros((2,), "float32")).shape) == (2, 2)
    seq = cornu.Sequential([cornu.Input((28, 28, 1)), layers.Flatten()])
    assert seq.predict(np.zeros((2, 28, 28), "float32"), verbose=0).shape == (2, 784)
    with pytest.raises(ValueError):
        dense(np.zeros((2, 3, 4), "float32"))


def test_guide_pattern_matches_keras(keras_ref):
    x, y = data()
    (ref, _), (ours, _) = _guide_model(keras_ref), _guide_model(cornu)
    ours.set_weights(ref.get_weights())
    for m, lib in ((ref, keras_ref), (ours, cornu)):
        m.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    h_ref = ref.fit(x, y, epochs=2, batch_size=5, shuffle=False, verbose=0).history
    h_ours = ours.fit(x, y, epochs=2, batch_size=5, shuffle=False, verbose=0).history
    assert h_ref.keys() == h_ours.keys()
    for k in h_ref:
        np.testing.assert_allclose(h_ours[k], h_ref[k], rtol=1e-5)


def _summary_lines(model):
    lines = []
    model.summary(print_fn=lambda text, *a, **k: lines.extend(text.split("\n")))
    return [l.strip() for l in lines if "params" in l]


def test_summary_counts_optimizer_variables_after_training():
    x, y = data()
    model = small_model(cornu)
    model.compile(optimizer="adam", loss="mse")
    assert _summary_lines(model)[0].startswith("Total params: 4 ")
    model.fit(x, y, epochs=1, verbose=0)
    lines = _summary_lines(model)
    optimizer_params = sum(int(np.prod(v.shape)) for v in model.optimizer.variables)
    assert lines[0].startswith(f"Total params: {4 + optimizer_params} ")
    assert lines[-1].startswith(f"Optimizer params: {optimizer_params} ")


def test_summary_param_counts_match_keras(keras_ref):
    x, y = data()
    counts = []
    for lib in (keras_ref, cornu):
        model = small_model(lib)
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, epochs=1, verbose=0)
        counts.append([l.split("(")[0].strip() for l in _summary_lines(model)])
    assert counts[0] == counts[1]


@pytest.mark.parametrize("lib_name", ["cornu", "keras"])
def test_max_epochs_and_steps_caps(request, lib_name):
    lib = cornu if lib_name == "cornu" else request.getfixturevalue("keras_ref")
    x, y = data(40)
    batches = []

    class Count(lib.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            batches.append(batch)

    model = small_model(lib)
    model.compile(optimizer="sgd", loss="mse")
    lib.config.set_max_epochs(2)
    lib.config.set_max_steps_per_epoch(3)
    try:
        history = model.fit(x, y, batch_size=4, epochs=5, verbose=0, callbacks=[Count()])
        predicted = model.predict(x, batch_size=4, verbose=0)
    finally:
        lib.config.set_max_epochs(None)
        lib.config.set_max_steps_per_epoch(None)
    assert len(history.history["loss"]) == 2 and batches == [0, 1, 2, 0, 1, 2]
    assert predicted.shape == (12, 1)


def test_compute_loss_without_training_matches_keras(keras_ref):
    def build(lib):
        class M(lib.Model):
            def __init__(self):
                super().__init__()
                self.dense = lib.layers.Dense(1)

            def call(self, x):
                return self.dense(x)

            def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
                return lib.ops.mean((y_pred - y) ** 2)

        model = M()
        model.compile(optimizer=lib.optimizers.SGD(0.1))
        return model

    x, y = data()
    ref, ours = build(keras_ref), build(cornu)
    ref(x[:1])
    ours(x[:1])
    ours.set_weights(ref.get_weights())
    h_ref = ref.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0).history
    h_ours = ours.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0).history
    np.testing.assert_allclose(h_ours["loss"], h_ref["loss"], rtol=1e-5)


def test_trailing_unit_axis_matches_keras(keras_ref):
    outs = []
    for lib in (keras_ref, cornu):
        i = lib.Input((4, 1))
        model = lib.Model(i, lib.layers.Flatten()(i))
        j = lib.Input((1,))
        dense = lib.Model(j, lib.layers.Dense(2)(j))
        outs.append((model.predict(np.ones((2, 4), "float32"), verbose=0).shape,
                     dense.predict(np.ones((3,), "float32"), verbose=0).shape))
    assert outs[0] == outs[1]


def test_hook_logs_match_keras(keras_ref):
    def record(lib):
        seen = []

        class Rec(lib.callbacks.Callback):
            pass

        for name in ("on_train_begin", "on_epoch_begin", "on_train_batch_begin", "on_train_batch_end",
                     "on_test_begin", "on_test_batch_end", "on_test_end", "on_epoch_end", "on_train_end"):
            def hook(self, *args, _name=name, **kwargs):
                logs = kwargs.get("logs", args[-1] if args else None)
                seen.append((_name, None if logs is None else sorted(logs)))
            setattr(Rec, name, hook)
        x, y = data()
        model = small_model(lib)
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        model.fit(x, y, batch_size=10, epochs=1, validation_data=(x, y), verbose=0, callbacks=[Rec()])
        return seen

    assert record(cornu) == record(keras_ref)


def test_metric_function_shapes_match_keras(keras_ref):
    rng = np.random.default_rng(0)
    names = ["binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
             "sparse_top_k_categorical_accuracy", "top_k_categorical_accuracy", "mean_squared_error",
             "binary_crossentropy", "hinge", "kl_divergence", "poisson", "log_cosh", "categorical_hinge"]
    for name in names:
        for shape in ((4, 3), (4, 1)):
            if "top_k" in name and shape[1] == 1:
                continue
            yt = (rng.random(shape) > 0.5).astype("float32")
            yp = rng.random(shape).astype("float32")
            if "sparse" in name:
                yt = rng.integers(0, 3, (4,) if shape[1] == 3 else (4, 1))
                yp = rng.random((4, 3)).astype("float32")
            kwargs = {"k": 2} if "top_k" in name else {}
            ours = getattr(cornu.metrics, name)(yt, yp, **kwargs)
            ref = getattr(keras_ref.metrics, name)(yt, yp, **kwargs)
            assert tuple(ours.shape) == tuple(ref.shape), (name, shape)
            np.testing.assert_allclose(f64(ours), f64(ref.detach()), rtol=1e-5, err_msg=name)


def test_loss_scale_factor_matches_keras(keras_ref):
    x, y = data()
    ref, ours = small_model(keras_ref), small_model(cornu)
    ours.set_weights(ref.get_weights())
    for m, lib in ((ref, keras_ref), (ours, cornu)):
        m.compile(optimizer=lib.optimizers.SGD(0.1, loss_scale_factor=64.0), loss="mse")
        m.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5)


def test_learning_rate_logs_match_keras(keras_ref):
    x, y = data()
    keys = []
    for lib in (keras_ref, cornu):
        model = small_model(lib)
        model.compile(optimizer="sgd", loss="mse")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            history = model.fit(x, y, epochs=1, verbose=0, callbacks=[lib.callbacks.ReduceLROnPlateau()])
        keys.append(sorted(history.history))
    assert keys[0] == keys[1]
