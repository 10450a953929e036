"""compile / fit / evaluate / predict on small data: results, History, callbacks, errors."""
import re

import numpy as np
import pytest
import torch

import cornu as keras
from cornu import layers


def blobs(n=256, d=4, classes=3, seed=0):
    """Linearly separable Gaussian blobs."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=4.0, size=(classes, d))
    y = rng.integers(0, classes, n)
    x = (centers[y] + rng.normal(size=(n, d))).astype("float32")
    return x, y


def mlp(d=4, classes=3):
    return keras.Sequential([keras.Input((d,)), layers.Dense(16, activation="relu"),
                             layers.Dense(classes, activation="softmax")])


def test_fit_learns_and_history_has_keras_keys():
    keras.utils.set_random_seed(0)
    x, y = blobs()
    model = mlp()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, keras.utils.to_categorical(y, 3), batch_size=32, epochs=10, verbose=0,
                     validation_split=0.25)
    assert list(hist.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert hist.epoch == list(range(10))
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert hist.history["val_accuracy"][-1] > 0.85
    assert model.history is hist


def test_evaluate_returns_loss_then_accuracy_computed_like_the_formula():
    keras.utils.set_random_seed(1)
    x, y = blobs(n=100)
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, acc = model.evaluate(x, y, batch_size=7, verbose=0)
    p = model.predict(x, batch_size=13, verbose=0).astype("float64")
    assert p.shape == (100, 3) and isinstance(p, np.ndarray)
    ref_loss = -np.mean(np.log(np.clip(p[np.arange(100), y], 1e-7, 1 - 1e-7)))
    ref_acc = np.mean(p.argmax(1) == y)
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    assert acc == pytest.approx(ref_acc)
    d = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(d) == {"loss", "accuracy"}


def test_accuracy_resolution_follows_targets():
    x, y = blobs(n=64)
    for loss, target, expected in [
        ("categorical_crossentropy", keras.utils.to_categorical(y, 3), "CategoricalAccuracy"),
        ("sparse_categorical_crossentropy", y, "SparseCategoricalAccuracy"),
    ]:
        model = mlp()
        model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
        model.fit(x, target, epochs=1, verbose=0)
        assert type(model._compile_metrics.metrics[0]).__name__ == expected
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, (y > 0).astype("float32"), epochs=1, verbose=0)
    assert type(model._compile_metrics.metrics[0]).__name__ == "BinaryAccuracy"


def test_same_seed_same_training_run():
    x, y = blobs()
    runs = []
    for _ in range(2):
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"), layers.Dropout(0.3),
                                  layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        runs.append(model.fit(x, y, epochs=2, verbose=0).history["loss"])
    assert runs[0] == runs[1]


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(f"epoch_begin{epoch}")

    def on_train_batch_end(self, batch, logs=None):
        assert isinstance(logs["loss"], float)
        self.events.append("batch")

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(f"epoch_end{epoch}:{sorted(logs)}")

    def on_train_end(self, logs=None):
        self.events.append("train_end")


def test_callback_hooks_order_initial_epoch_and_steps():
    x, y = blobs(n=40)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rec = Recorder()
    hist = model.fit(x, y, batch_size=16, epochs=3, initial_epoch=1, verbose=0, callbacks=[rec],
                     validation_data=(x, y))
    assert hist.epoch == [1, 2]
    assert rec.events == ["train_begin", "epoch_begin1", "batch", "batch", "batch",
                          "epoch_end1:['loss', 'val_loss']", "epoch_begin2", "batch", "batch", "batch",
                          "epoch_end2:['loss', 'val_loss']", "train_end"]


def test_progress_bar_prints_one_keras_line_per_epoch_when_not_a_tty(capsys):
    x, y = blobs(n=64)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=2, verbose=1, validation_data=(x, y))
    lines = [l for l in capsys.readouterr().out.splitlines() if l.strip()]
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    pattern = (r"^2/2 ━{20} \d+s \d+(ms|us|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4} "
               r"- val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}$")
    assert re.match(pattern, lines[1]), lines[1]
    assert len(lines) == 4


def test_verbose_zero_prints_nothing(capsys):
    x, y = blobs(n=32)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_shuffle_false_is_deterministic_order_and_last_partial_batch_counts():
    x, y = blobs(n=10)
    seen = []

    class Sizes(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(batch)

    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0, callbacks=[Sizes()])
    assert seen == [0, 1, 2]


def test_x_y_length_mismatch_is_a_clear_error():
    model = mlp()
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"'x' sizes: 10.*'y' sizes: 9"):
        model.fit(np.zeros((10, 4)), np.zeros((9, 3)), verbose=0)


def test_wrong_input_rank_is_a_clear_error():
    model = mlp()
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"expected (ndim|shape)"):
        model.fit(np.zeros((10, 4, 2)), np.zeros((10, 3)), verbose=0)


def test_non_numeric_data_is_a_clear_error():
    model = mlp()
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="numeric"):
        model.fit(np.array([["a"] * 4] * 3), np.zeros((3, 3)), verbose=0)


@pytest.mark.parametrize("kind,kwargs", [("loss", {"loss": "no_such_loss"}),
                                         ("optimizer", {"optimizer": "no_such_opt", "loss": "mse"})])
def test_unknown_strings_list_valid_names(kind, kwargs):
    model = mlp()
    with pytest.raises(ValueError) as err:  # as in Keras, an unknown loss is reported by the first fit
        model.compile(**kwargs)
        model.fit(np.zeros((2, 4)), np.zeros((2, 3)), verbose=0)
    assert "no_such" in str(err.value)
    valid = "categorical_crossentropy" if kind == "loss" else "adam"
    assert valid in str(err.value)


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError) as err:
        layers.Dense(2, activation="no_such_act")
    assert "no_such_act" in str(err.value) and "relu" in str(err.value)


def test_fit_before_compile_is_an_error():
    with pytest.raises(ValueError, match="compile"):
        mlp().fit(np.zeros((2, 4)), np.zeros((2, 3)), verbose=0)


def test_confident_softmax_predictions_give_finite_loss_and_gradients():
    model = keras.Sequential([keras.Input((2,)), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.set_weights([np.array([[200.0, -200.0], [0.0, 0.0]], "float32"), np.zeros(2, "float32")])
    x = np.array([[1.0, 0.0], [1.0, 0.0]], "float32")
    y = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")  # second sample: confidently wrong
    hist = model.fit(x, y, epochs=1, batch_size=2, verbose=0)
    assert np.isfinite(hist.history["loss"][0])
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_train_test_predict_on_batch():
    x, y = blobs(n=16)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, acc = model.train_on_batch(x, y)
    assert np.isfinite(loss) and 0 <= acc <= 1
    assert model.predict_on_batch(x).shape == (16, 3)
    assert set(model.test_on_batch(x, y, return_dict=True)) == {"loss", "accuracy"}


def test_sample_weight_and_class_weight_change_the_loss():
    x, y = blobs(n=32)
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    base = model.evaluate(x, y, verbose=0)
    double = model.evaluate(x, y, sample_weight=np.full(32, 2.0), verbose=0)
    assert double == pytest.approx(2 * base, rel=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_training_on_cuda_keeps_weights_there_and_learns():
    previous = keras.config.device()
    keras.config.set_device("cuda")
    try:
        keras.utils.set_random_seed(0)
        x, y = blobs()
        model = mlp()
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        hist = model.fit(x, y, epochs=10, verbose=0)
        assert all(v.value.device.type == "cuda" for v in model.weights)
        assert hist.history["accuracy"][-1] > 0.85
        assert model.predict(x[:4], verbose=0).shape == (4, 3)
    finally:
        keras.config.set_device(previous)


def test_first_step_updates_a_lazily_built_model():
    model = keras.Sequential([layers.Dense(2)])  # no input shape: built by the first batch
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x = np.ones((4, 3), "float32")
    model.train_on_batch(x, np.zeros((4, 2), "float32"))
    assert model.optimizer.iterations == 1


