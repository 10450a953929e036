"""Differential tests against real Keras 3 (torch backend): same weights in, same numbers out.

Skipped when Keras is not installed (``pip install keras``); cornu never imports it.
"""
import warnings

import numpy as np
import pytest

from tests.helpers import keras_oracle_module

keras_ref = keras_oracle_module()

import cornu  # noqa: E402


def build_cnn(lib, dropout=True):
    L = lib.layers
    return lib.Sequential([
        lib.Input((28, 28, 1)),
        L.Conv2D(filters=8, kernel_size=(3, 3), activation="relu"),
        L.MaxPooling2D((2, 2)),
        L.Flatten(),
        L.Dense(units=16, activation="relu"),
        L.Dropout(rate=0.5 if dropout else 0.0),
        L.Dense(units=10, activation="softmax"),
    ])


def data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    y = np.eye(10, dtype="float32")[rng.integers(0, 10, n)]
    return x, y


def test_same_weight_shapes_and_predictions():
    ref, ours = build_cnn(keras_ref), build_cnn(cornu)
    ref_w = ref.get_weights()
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in ref_w]
    ours.set_weights(ref_w)
    x, _ = data()
    np.testing.assert_allclose(ours.predict(x, verbose=0), ref.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    assert ours.count_params() == ref.count_params()


@pytest.mark.parametrize("optimizer", ["adam", "sgd_momentum"])
def test_same_training_steps(optimizer):
    def make_opt(lib):
        if optimizer == "adam":
            return lib.optimizers.Adam(learning_rate=0.01)
        return lib.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True)

    ref, ours = build_cnn(keras_ref, dropout=False), build_cnn(cornu, dropout=False)
    ours.set_weights(ref.get_weights())
    for model, lib in ((ref, keras_ref), (ours, cornu)):
        model.compile(optimizer=make_opt(lib), loss=lib.losses.categorical_crossentropy, metrics=["accuracy"])
    x, y = data(32)
    h_ref = ref.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h_ours = ours.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert list(h_ours.history) == list(h_ref.history)
    for key in h_ref.history:
        np.testing.assert_allclose(h_ours.history[key], h_ref.history[key], rtol=2e-4, atol=1e-5)
    # Adam divides by sqrt(v): float32 noise in a near-zero gradient can move one weight by ~lr * 1e-2.
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-4)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), ref.evaluate(x, y, verbose=0), rtol=1e-4)


@pytest.mark.parametrize("name", ["categorical_crossentropy", "binary_crossentropy", "mean_squared_error",
                                  "mean_absolute_error", "kl_divergence", "huber", "poisson"])
def test_same_loss_values_including_extreme_probabilities(name):
    rng = np.random.default_rng(1)
    y_true = rng.random((6, 5)).astype("float32")
    y_pred = rng.random((6, 5)).astype("float32")
    y_pred[0] = [1.0, 0.0, 0.0, 0.0, 0.0]
    if name == "categorical_crossentropy":
        y_true = np.eye(5, dtype="float32")[rng.integers(0, 5, 6)]
        y_pred[1] = [0.0, 0.0, 0.0, 1.0, 0.0]  # an all-zero row is no distribution (NaN in Keras too)
    else:
        y_pred[1, :] = 0.0
    if name == "binary_crossentropy":
        y_true = (y_true > 0.5).astype("float32")
    ref = np.asarray(keras_ref.ops.convert_to_numpy(getattr(keras_ref.losses, name)(y_true, y_pred)))
    ours = getattr(cornu.losses, name)(y_true, y_pred).detach().cpu().numpy()
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


def test_multi_output_history_keys_match_keras():
    def build(lib):
        a = lib.Input((4,), name="a")
        h = lib.layers.Dense(8, activation="relu")(a)
        outs = {"out_a": lib.layers.Dense(3, activation="softmax", name="out_a")(h),
                "out_b": lib.layers.Dense(1, name="out_b")(h)}
        model = lib.Model(a, outs)
        model.compile(optimizer="adam", loss={"out_a": "sparse_categorical_crossentropy", "out_b": "mse"},
                      loss_weights={"out_a": 1.0, "out_b": 0.5},
                      metrics={"out_a": ["accuracy"], "out_b": ["mae"]})
        return model

    rng = np.random.default_rng(2)
    x = rng.random((32, 4)).astype("float32")
    y = {"out_a": rng.integers(0, 3, 32), "out_b": rng.random((32, 1)).astype("float32")}
    keys = [list(build(lib).fit(x, y, epochs=1, verbose=0, validation_split=0.25).history)
            for lib in (keras_ref, cornu)]
    assert keys[1] == keys[0]


def test_progress_line_format_matches_keras(capfd):
    x, y = data(32)
    lines = []
    for lib in (keras_ref, cornu):
        model = build_cnn(lib)
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(x, y, batch_size=16, epochs=1, verbose=2)
        lines.append([l for l in capfd.readouterr().out.splitlines() if l.strip()])
    shape = lambda l: [part.split(":")[0].strip() for part in l.split(" - ")[3:]]  # noqa: E731
    assert len(lines[1]) == len(lines[0]) == 1  # no "Epoch 1/1" header for a single epoch, as in Keras
    assert shape(lines[1][0]) == shape(lines[0][0]) == ["accuracy", "loss"]
    assert lines[1][0].startswith("2/2 - ") and lines[0][0].startswith("2/2 - ")


def test_shape_error_after_softmax_names_the_same_layer_and_shape():
    messages = []
    for lib in (keras_ref, cornu):
        lib.backend.clear_session() if hasattr(lib.backend, "clear_session") else None
        model = lib.Sequential([lib.Input((28, 28, 1)), lib.layers.Flatten(),
                                lib.layers.Dense(10, activation="softmax")])
        with pytest.raises(ValueError) as err:
            model.add(lib.layers.Conv2D(32, (3, 3), activation="relu"))
        messages.append(str(err.value))
    for msg in messages:
        assert "conv2d" in msg and "ndim=4" in msg and "found ndim=2" in msg and "(None, 10)" in msg
