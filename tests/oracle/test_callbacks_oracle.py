"""Differential tests of TensorBoard, RemoteMonitor and SwapEMAWeights against real Keras 3 (torch backend).

Skipped when Keras is not installed; cornu never imports it.
"""
from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import types
import urllib.parse

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras_ref = pytest.importorskip("keras")
if keras_ref.backend.backend() != "torch":
    pytest.skip("the Keras oracle must run on its torch backend", allow_module_level=True)

import cornu  # noqa: E402
from tests.helpers import assert_close, random_array  # noqa: E402

CALLBACKS = ("TensorBoard", "RemoteMonitor", "SwapEMAWeights")


@pytest.mark.parametrize("name", CALLBACKS)
def test_constructor_signatures_match(name):
    ours = inspect.signature(getattr(cornu.callbacks, name).__init__).parameters
    ref = inspect.signature(getattr(keras_ref.callbacks, name).__init__).parameters
    assert [(p.name, p.default) for p in ours.values()] == [(p.name, p.default) for p in ref.values()]


@pytest.mark.parametrize("name, kwargs", [
    ("TensorBoard", {}),
    ("TensorBoard", {"update_freq": "batch", "histogram_freq": 2, "write_images": True}),
    ("TensorBoard", {"log_dir": "runs/a", "update_freq": 5, "embeddings_freq": 1,
                     "embeddings_metadata": {"emb": "meta.tsv"}, "write_steps_per_second": True}),
    ("RemoteMonitor", {}),
    ("RemoteMonitor", {"root": "http://h:1", "path": "/p", "field": "f", "headers": {"a": "b"},
                       "send_as_json": True}),
    ("SwapEMAWeights", {"swap_on_epoch": True}),
])
def test_public_attributes_match(name, kwargs):
    pytest.importorskip("tensorboard")
    ref = getattr(keras_ref.callbacks, name)(**kwargs)
    ours = getattr(cornu.callbacks, name)(**kwargs)
    public = {k: v for k, v in vars(ref).items() if not k.startswith("_") and k != "params"}
    assert public
    assert {k: getattr(ours, k) for k in public} == public


# ---------------------------------------------------------------- RemoteMonitor

@pytest.mark.parametrize("send_as_json", [False, True])
def test_remote_monitor_sends_what_keras_sends(monkeypatch, send_as_json):
    """Keras posts through ``requests`` (not installed here): capture its call, and cornu's real request."""
    posted = []
    fake_requests = types.SimpleNamespace(
        post=lambda url, data=None, json=None, headers=None: posted.append((url, data, json, headers)),
        exceptions=types.SimpleNamespace(RequestException=OSError))
    monkeypatch.setattr(sys.modules[keras_ref.callbacks.RemoteMonitor.__module__], "requests", fake_requests)
    sent = []

    class _Response:
        def __enter__(self):
            return self

        def __exit__(self, *args):
            return False

        def read(self):
            return b""

    def fake_urlopen(request, timeout=None):
        sent.append(request)
        return _Response()

    monkeypatch.setattr("urllib.request.urlopen", fake_urlopen)
    kwargs = {"root": "http://127.0.0.1:9", "path": "/x/", "field": "payload", "headers": {"H": "v"},
              "send_as_json": send_as_json}
    logs = {"loss": 0.5, "mae": 0.25, "val_loss": 0.125}
    keras_ref.callbacks.RemoteMonitor(**kwargs).on_epoch_end(2, logs)
    cornu.callbacks.RemoteMonitor(**kwargs).on_epoch_end(2, logs)
    ((url, data, json_body, headers),), (request,) = posted, sent
    assert request.full_url == url
    assert request.get_header("H") == headers["H"]
    if send_as_json:
        assert json.loads(request.data) == json_body
        assert request.get_header("Content-type") == "application/json"
    else:
        assert urllib.parse.parse_qs(request.data.decode()) == {k: [v] for k, v in data.items()}


# --------------------------------------------------------------- SwapEMAWeights

X = random_array((6, 3), seed=10)
Y = random_array((6, 1), seed=11)


def _ema_model(lib, weights):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, activation="tanh"), lib.layers.Dense(1)])
    model.set_weights(weights)
    model.compile(optimizer=lib.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.6), loss="mse")
    return model


@pytest.mark.parametrize("swap_on_epoch", [False, True])
def test_swap_ema_weights_matches_keras(swap_on_epoch):
    weights = [random_array(shape, seed=20 + i) for i, shape in enumerate([(3, 2), (2,), (2, 1), (1,)])]
    histories, finals, evaluated = [], [], []
    for lib in (keras_ref, cornu):
        model = _ema_model(lib, weights)
        history = model.fit(X, Y, epochs=3, batch_size=2, shuffle=False, validation_data=(X, Y), verbose=0,
                            callbacks=[lib.callbacks.SwapEMAWeights(swap_on_epoch=swap_on_epoch)])
        histories.append(history.history)
        finals.append(model.get_weights())
        model.set_weights([w + 1.0 for w in weights])  # evaluation must use the optimizer's EMA instead
        evaluated.append(model.evaluate(X, Y, verbose=0, callbacks=[lib.callbacks.SwapEMAWeights()]))
        assert_close(model.get_weights()[0], weights[0] + 1.0)
    assert_close(histories[1]["val_loss"], histories[0]["val_loss"], rtol=1e-5)
    assert_close(histories[1]["loss"], histories[0]["loss"], rtol=1e-5)
    for ours, ref in zip(finals[1], finals[0]):
        assert_close(ours, ref, rtol=1e-5)
    assert_close(evaluated[1], evaluated[0], rtol=1e-5)


def test_swap_ema_weights_error_matches_keras():
    errors = []
    for lib in (keras_ref, cornu):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(1)])
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
        with pytest.raises(Exception) as info:
            model.evaluate(X, Y, verbose=0, callbacks=[lib.callbacks.SwapEMAWeights()])
        errors.append(info.value)
    assert type(errors[1]) is type(errors[0]) is ValueError
    assert "use_ema=False" in str(errors[0]) and "use_ema=False" in str(errors[1])


# ------------------------------------------------------------------ TensorBoard

# Keras 3.15's TensorBoard writes through ``tensorflow.summary``, which is not installed here. This
# script runs Keras in a fresh interpreter with a stand-in ``tensorflow`` module that records each
# summary call (with TF's semantics: written only inside a default writer and when the innermost
# ``record_if`` condition holds), so the test can compare Keras's runs, tags, steps and values
# with the event files cornu writes.
_KERAS_SCRIPT = r'''
import json, os, sys, types
os.environ["KERAS_BACKEND"] = "torch"
import keras
import numpy as np

records, writers, conditions = [], [], []


class _Context:
    def __init__(self, enter, leave):
        self._enter, self._leave = enter, leave

    def __enter__(self):
        self._enter()
        return self

    def __exit__(self, *args):
        self._leave()
        return False


class _Writer:
    def __init__(self, path, *args, **kwargs):
        self.run = os.path.basename(path)

    def as_default(self, step=None):
        return _Context(lambda: writers.append(self.run), writers.pop)

    def flush(self):
        pass

    def close(self):
        pass


def _recorder(kind):
    def write(name, data, step=None, **kwargs):
        condition = conditions[-1] if conditions else True
        if callable(condition):
            condition = condition()
        if not writers or not bool(condition):
            return False
        values = np.asarray(data, dtype=np.float64)
        records.append([writers[-1], kind, name, int(step), float(values.sum())])
        return True
    return write


class _Module(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return type(name, (), {})


summary = _Module("tensorflow.summary")
summary.create_file_writer = _Writer
summary.record_if = lambda condition: _Context(lambda: conditions.append(condition), conditions.pop)
summary.scalar = _recorder("scalar")
summary.histogram = _recorder("histogram")
tf = _Module("tensorflow")
tf.summary = summary
sys.modules["tensorflow"] = tf
sys.modules["tensorflow.summary"] = summary

spec = json.loads(sys.argv[1])
inputs = keras.Input((4,))
model = keras.Model(inputs, keras.layers.Dense(1, name="d2")(keras.layers.Dense(3, name="d1")(inputs)))
model.set_weights([np.asarray(w, "float32") for w in spec["weights"]])
model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
x, y = np.asarray(spec["x"], "float32"), np.asarray(spec["y"], "float32")
callback = keras.callbacks.TensorBoard(spec["log_dir"], **spec["kwargs"])
model.fit(x, y, epochs=2, batch_size=2, shuffle=False, validation_data=(x, y), verbose=0, callbacks=[callback])
model.evaluate(x, y, batch_size=2, verbose=0, callbacks=[callback])
print("RECORDS" + json.dumps(records))
'''


def _cornu_records(log_dir) -> list:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = []
    for run in ("train", "validation"):
        acc = EventAccumulator(os.path.join(log_dir, run), size_guidance={"scalars": 0, "histograms": 0})
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            out.extend([run, "scalar", tag, e.step, e.value] for e in acc.Scalars(tag))
        for tag in acc.Tags()["histograms"]:
            out.extend([run, "histogram", tag, e.step, e.histogram_value.sum] for e in acc.Histograms(tag))
    return out


def test_tensorboard_writes_keras_runs_tags_steps_and_values(tmp_path):
    pytest.importorskip("tensorboard")
    weights = [random_array((4, 3), seed=30), random_array((3,), seed=31), random_array((3, 1), seed=32),
               random_array((1,), seed=33)]
    x, y = random_array((8, 4), seed=34), random_array((8, 1), seed=35)
    kwargs = {"update_freq": 2, "histogram_freq": 1, "write_graph": False, "write_steps_per_second": True}
    spec = {"weights": [w.tolist() for w in weights], "x": x.tolist(), "y": y.tolist(),
            "log_dir": str(tmp_path / "keras"), "kwargs": kwargs}
    env = dict(os.environ, KERAS_BACKEND="torch", OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", _KERAS_SCRIPT, json.dumps(spec)], capture_output=True, text=True,
                          timeout=300, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    ref = json.loads(done.stdout.split("RECORDS", 1)[1])

    inputs = cornu.Input((4,))
    model = cornu.Model(inputs, cornu.layers.Dense(1, name="d2")(cornu.layers.Dense(3, name="d1")(inputs)))
    model.set_weights(weights)
    model.compile(optimizer=cornu.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    callback = cornu.callbacks.TensorBoard(tmp_path / "cornu", **kwargs)
    model.fit(x, y, epochs=2, batch_size=2, shuffle=False, validation_data=(x, y), verbose=0, callbacks=[callback])
    model.evaluate(x, y, batch_size=2, verbose=0, callbacks=[callback])
    callback._close_writers()
    ours = _cornu_records(tmp_path / "cornu")

    def key(record):
        return tuple(record[:4])

    assert sorted(map(key, ours)) == sorted(map(key, ref))
    ref_values = {key(r): r[4] for r in ref}
    for record in ours:
        if "steps_per_second" not in record[2]:
            assert_close(record[4], ref_values[key(record)], rtol=1e-5, atol=1e-6)
