"""TensorBoard: event files read back with TensorBoard's own EventAccumulator."""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

import cornu as keras
from cornu.callbacks.tensorboard import weight_image
from tests.helpers import assert_close, random_array

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402


def _model(learning_rate: float = 0.1) -> keras.Model:
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="mse", metrics=["mae"])
    return model


def _data(n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    return random_array((n, 4), seed=1), random_array((n, 1), seed=2)


def _events(log_dir, run: str) -> EventAccumulator:
    acc = EventAccumulator(os.path.join(log_dir, run),
                           size_guidance={"tensors": 0, "scalars": 0, "histograms": 0, "images": 0})
    acc.Reload()
    return acc


def _scalars(acc: EventAccumulator, tag: str) -> tuple[list[int], list[float]]:
    events = acc.Scalars(tag)
    return [e.step for e in events], [e.value for e in events]


def test_epoch_scalars_equal_history(tmp_path):
    model = _model()
    x, y = _data()
    history = model.fit(x, y, epochs=3, batch_size=4, validation_data=(x, y), verbose=0,
                        callbacks=[keras.callbacks.TensorBoard(tmp_path)])
    train, val = _events(tmp_path, "train"), _events(tmp_path, "validation")
    assert set(train.Tags()["scalars"]) == {"epoch_loss", "epoch_mae", "epoch_learning_rate"}
    for name in ("loss", "mae"):
        steps, values = _scalars(train, f"epoch_{name}")
        assert steps == [0, 1, 2]
        assert_close(values, history.history[name])
        steps, values = _scalars(val, f"epoch_{name}")
        assert steps == [0, 1, 2]
        assert_close(values, history.history[f"val_{name}"])
    assert_close(_scalars(train, "epoch_learning_rate")[1], [0.1] * 3)


def test_evaluation_scalars_at_optimizer_iterations(tmp_path):
    model = _model()
    x, y = _data()
    callback = keras.callbacks.TensorBoard(tmp_path)
    history = model.fit(x, y, epochs=2, batch_size=4, validation_data=(x, y), verbose=0, callbacks=[callback])
    steps, values = _scalars(_events(tmp_path, "validation"), "evaluation_loss_vs_iterations")
    assert steps == [2, 4]  # two batches per epoch
    assert_close(values, history.history["val_loss"])
    loss, mae = model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[callback])
    val = _events(tmp_path, "validation")
    assert _scalars(val, "evaluation_loss_vs_iterations")[0][-1] == int(model.optimizer.iterations)
    assert_close(_scalars(val, "evaluation_loss_vs_iterations")[1][-1], loss)
    assert_close(_scalars(val, "evaluation_mae_vs_iterations")[1][-1], mae)


@pytest.mark.parametrize("update_freq, expected_steps", [(2, [2, 4, 6]), ("batch", [1, 2, 3, 4, 5, 6])])
def test_batch_scalars_follow_update_freq(tmp_path, update_freq, expected_steps):
    seen = {}

    def record(batch, logs):
        seen[len(seen) + 1] = logs["loss"]

    model = _model()
    x, y = _data(6)
    model.fit(x, y, epochs=2, batch_size=2, verbose=0,
              callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=record),
                         keras.callbacks.TensorBoard(tmp_path, update_freq=update_freq)])
    steps, values = _scalars(_events(tmp_path, "train"), "batch_loss")
    assert steps == expected_steps  # the global batch count over the fit, from 1
    assert_close(values, [seen[s] for s in expected_steps])


def test_default_update_freq_writes_no_batch_scalars(tmp_path):
    model = _model()
    x, y = _data()
    model.fit(x, y, epochs=1, batch_size=2, verbose=0, callbacks=[keras.callbacks.TensorBoard(tmp_path)])
    assert not [t for t in _events(tmp_path, "train").Tags()["scalars"] if t.startswith("batch_")]


def test_batch_counter_restarts_each_fit(tmp_path):
    model = _model()
    x, y = _data(4)
    callback = keras.callbacks.TensorBoard(tmp_path, update_freq=1)
    model.fit(x, y, epochs=1, batch_size=2, verbose=0, callbacks=[callback])
    model.fit(x, y, epochs=2, initial_epoch=1, batch_size=2, verbose=0, callbacks=[callback])
    steps, _ = _scalars(_events(tmp_path, "train"), "batch_loss")
    assert steps == [1, 2, 1, 2]


def test_batch_logging_syncs_only_on_recorded_steps(tmp_path, counting_tensor, sync_count):
    model = _model()
    model.build((None, 4))
    callbacks = keras.callbacks.CallbackList([keras.callbacks.TensorBoard(tmp_path, update_freq=3, write_graph=False)],
                                             model=model, epochs=1, steps=6, verbose=0)
    callbacks.on_train_begin()
    callbacks.on_epoch_begin(0)
    for batch in range(6):
        callbacks.on_train_batch_begin(batch)
        callbacks.on_train_batch_end(batch, {"loss": counting_tensor(float(batch)), "mae": counting_tensor(1.0)})
    assert sync_count() == 2  # one read-back per recorded step (3 and 6), none in between
    callbacks.on_train_end()
    steps, values = _scalars(_events(tmp_path, "train"), "batch_loss")
    assert steps == [3, 6]
    assert values == [2.0, 5.0]


def test_histograms_every_histogram_freq(tmp_path):
    model = _model()
    x, y = _data()
    model.fit(x, y, epochs=3, batch_size=4, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(tmp_path, histogram_freq=2)])
    train = _events(tmp_path, "train")
    assert set(train.Tags()["histograms"]) == {f"{w.path}/histogram" for w in model.weights}
    for weight in model.weights:
        events = train.Histograms(f"{weight.path}/histogram")
        assert [e.step for e in events] == [0, 2]
        last = events[-1].histogram_value  # written after the last epoch: the final weights
        values = weight.numpy().astype(np.float64)
        assert last.num == values.size
        assert_close(last.sum, values.sum(), rtol=1e-5, atol=1e-5)
        assert_close([last.min, last.max], [values.min(), values.max()])


def test_weight_images(tmp_path):
    model = _model()
    x, y = _data()
    model.fit(x, y, epochs=1, batch_size=4, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(tmp_path, histogram_freq=1, write_images=True)])
    images = set(_events(tmp_path, "train").Tags()["images"])
    # every weight with more than one value is drawn; the last Dense's bias is a single number
    expected = {f"{w.path}/image" for w in model.weights if np.size(w.numpy()) > 1}
    assert images == expected


def test_weight_image_layouts():
    vector = np.arange(3.0)
    assert_close(weight_image(vector), vector.reshape(1, 3, 1, 1))
    tall = np.arange(12.0).reshape(4, 3)
    assert_close(weight_image(tall), tall.T.reshape(1, 3, 4, 1))
    wide = np.arange(15.0).reshape(3, 5)
    assert_close(weight_image(wide), wide.reshape(1, 3, 5, 1))
    column = np.arange(5.0).reshape(5, 1)
    assert_close(weight_image(column), column.reshape(1, 5, 1, 1))
    conv = np.arange(24.0).reshape(3, 2, 1, 4)  # (kh, kw, in=1, out)
    image = weight_image(conv)
    assert image.shape == (4, 3, 2, 1)
    assert_close(image[..., 0], np.transpose(conv[:, :, 0, :], (2, 0, 1)))
    assert weight_image(np.zeros((2, 3, 4, 2))) is None
    assert weight_image(np.zeros((1,))) is None


def test_model_config_written_as_keras_graph(tmp_path):
    model = _model()
    x, y = _data()
    model.fit(x, y, epochs=1, batch_size=4, verbose=0, callbacks=[keras.callbacks.TensorBoard(tmp_path)])
    train = _events(tmp_path, "train")
    assert list(train.PluginTagToContent("graph_keras_model")) == ["keras"]
    (event,) = train.Tensors("keras")
    assert event.step == 0
    assert json.loads(event.tensor_proto.string_val[0]) == json.loads(model.to_json())


def test_write_graph_false_writes_no_config(tmp_path):
    model = _model()
    x, y = _data()
    model.fit(x, y, epochs=1, batch_size=4, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(tmp_path, write_graph=False)])
    assert _events(tmp_path, "train").Tags()["tensors"] == []


def test_steps_per_second(tmp_path):
    model = _model()
    x, y = _data()
    model.fit(x, y, epochs=2, batch_size=4, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(tmp_path, update_freq=1, write_steps_per_second=True)])
    train = _events(tmp_path, "train")
    assert _scalars(train, "batch_steps_per_second")[0] == [1, 2, 3, 4]
    steps, values = _scalars(train, "epoch_steps_per_second")
    assert steps == [0, 1]
    assert all(v > 0 for v in values)


def test_embeddings_projector_config_and_checkpoints(tmp_path):
    model = keras.Sequential([keras.Input((3,), dtype="int32"), keras.layers.Embedding(10, 2, name="emb"),
                              keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.arange(12, dtype="int32").reshape(4, 3) % 10
    y = np.zeros((4, 1), "float32")
    model.fit(x, y, epochs=2, batch_size=2, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(tmp_path, embeddings_freq=1,
                                                     embeddings_metadata={"emb": "meta.tsv"})])
    config = (tmp_path / "projector_config.pbtxt").read_text()
    assert config == ('embeddings {\n  tensor_name: "layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE"\n'
                      '  metadata_path: "meta.tsv"\n}\n')
    for epoch in (0, 1):
        assert (tmp_path / "train" / f"keras_embedding.ckpt-{epoch}.weights.h5").exists()


def test_get_config_round_trip(tmp_path):
    callback = keras.callbacks.TensorBoard(tmp_path, histogram_freq=2, update_freq="batch")
    config = callback.get_config()
    assert config["log_dir"] == str(tmp_path)
    assert config["update_freq"] == 1
    assert keras.callbacks.TensorBoard.from_config(config).get_config() == config


@pytest.mark.parametrize("kwargs, match", [
    ({"profile_batch": 2}, "profile_batch=2"),
    ({"update_freq": "step"}, "update_freq='step'"),
    ({"update_freq": 0}, "update_freq=0"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras.callbacks.TensorBoard(**kwargs)


def test_missing_tensorboard_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ImportError, match="pip install tensorboard"):
        keras.callbacks.TensorBoard()
