"""Model.export and ExportArchive: ONNX files run in onnxruntime, .pt2 programs reload with torch.export.load."""
from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest
import torch

import cornu as keras
from cornu import layers
from cornu.export import ExportArchive
from tests.helpers import assert_close, random_array


def _cnn():
    """The tutorial CNN (examples/mnist_cnn.py), smaller."""
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(4, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(8, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])


def _lstm():
    return keras.Sequential([keras.Input((12,), dtype="int32"), layers.Embedding(50, 8), layers.LSTM(16),
                             layers.Dense(3)])


def _multi_input():
    a = keras.Input((5,), name="a")
    b = keras.Input((3,), name="b")
    h = layers.Concatenate()([layers.Dense(6, activation="tanh", name="hidden")(a), b])
    return keras.Model([a, b], layers.Dense(4)(h))


def _predict(model, *xs):
    with torch.no_grad():
        out = model(xs[0] if len(xs) == 1 else list(xs), training=False)
    return out.numpy()


def _onnx_run(path, feeds: dict) -> np.ndarray:
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0], [(i.name, i.shape) for i in session.get_inputs()]


needs_onnx = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("onnx", "onnxscript", "onnxruntime")),
    reason="needs the cornu[export] extra")


@needs_onnx
def test_cnn_onnx_matches_and_batch_is_dynamic(tmp_path, capsys):
    model = _cnn()
    path = tmp_path / "cnn.onnx"
    model.export(path, format="onnx")
    assert f"Saved artifact at '{path}'" in capsys.readouterr().out
    x = random_array((7, 28, 28, 1), seed=1, low=0, high=1)  # batch 7: not the example batch (2)
    out, inputs = _onnx_run(path, {inputs_name(path): x})
    assert_close(out, _predict(model, torch.from_numpy(x)), rtol=1e-5, atol=1e-6)
    assert inputs[0][1][1:] == [28, 28, 1] and not isinstance(inputs[0][1][0], int)


def inputs_name(path) -> str:
    ort = pytest.importorskip("onnxruntime")
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_inputs()[0].name


@needs_onnx
@pytest.mark.slow
def test_lstm_onnx_matches(tmp_path):
    model = _lstm()
    path = tmp_path / "lstm.onnx"
    model.export(path, format="onnx", verbose=False)
    x = np.random.default_rng(0).integers(0, 50, (5, 12)).astype("int32")
    out, _ = _onnx_run(path, {inputs_name(path): x})
    assert_close(out, _predict(model, torch.from_numpy(x)), rtol=1e-5, atol=1e-6)


@needs_onnx
@pytest.mark.slow
def test_multi_input_onnx_named_inputs_match(tmp_path):
    model = _multi_input()
    path = tmp_path / "multi.onnx"
    model.export(path, format="onnx", verbose=False, opset_version=18)
    xa, xb = random_array((6, 5), seed=2), random_array((6, 3), seed=3)
    out, inputs = _onnx_run(path, {"a": xa, "b": xb})
    assert [name for name, _ in inputs] == ["a", "b"]
    assert_close(out, _predict(model, torch.from_numpy(xa), torch.from_numpy(xb)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make, inputs", [
    (_cnn, lambda: [random_array((5, 28, 28, 1), seed=4)]),
    (_lstm, lambda: [np.random.default_rng(1).integers(0, 50, (3, 12)).astype("int32")]),
    (_multi_input, lambda: [random_array((9, 5), seed=5), random_array((9, 3), seed=6)]),
])
def test_torch_pt2_reloads_and_matches(tmp_path, capsys, make, inputs):
    model = make()
    path = tmp_path / "model.pt2"
    model.export(str(path), format="torch")
    assert "Saved PyTorch ExportedProgram" in capsys.readouterr().out
    program = torch.export.load(str(path))
    xs = [torch.from_numpy(x) for x in inputs()]
    with torch.no_grad():
        out = program.module()(*xs)
    assert_close(out, _predict(model, *xs), rtol=1e-5, atol=1e-6)


def test_subclassed_model_uses_its_build_shape_or_an_input_signature(tmp_path):
    class Doubled(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(3)

        def call(self, x):
            return self.dense(x) * 2.0

    model = Doubled()
    with pytest.raises(ValueError, match="never been called"):
        model.export(str(tmp_path / "a.pt2"), format="torch", verbose=False)
    spec = keras.InputSpec(shape=(None, 4), dtype="float32")
    model.export(str(tmp_path / "b.pt2"), format="torch", verbose=False, input_signature=[spec])
    x = torch.from_numpy(random_array((6, 4), seed=7))
    with torch.no_grad():
        got = torch.export.load(str(tmp_path / "b.pt2")).module()(x)
    kernel, bias = model.dense.get_weights()
    assert_close(got, 2.0 * (x.numpy().astype("float64") @ kernel + bias))


def test_format_errors(tmp_path):
    model = _multi_input()
    with pytest.raises(ValueError, match="bogus"):
        model.export(str(tmp_path / "m"), format="bogus")
    for fmt in ("tf_saved_model", "litert", "openvino"):
        with pytest.raises(NotImplementedError, match="onnx"):
            model.export(str(tmp_path / "m"), format=fmt)
    with pytest.raises(NotImplementedError, match="Supported formats"):
        model.export(str(tmp_path / "m"))  # Keras's default format needs TensorFlow
    with pytest.raises(ValueError, match=r"\.pt2"):
        model.export(str(tmp_path / "m.zip"), format="torch")


def test_missing_onnx_dependency_names_the_extra(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxscript" else real(name, *a))
    with pytest.raises(ImportError, match=r"cornu\[export\].*|onnxscript"):
        _multi_input().export(str(tmp_path / "m.onnx"), format="onnx")


def test_export_archive_endpoints_and_collections(tmp_path, capsys):
    model = _multi_input()
    archive = ExportArchive()
    archive.track(model)
    sig = [[keras.InputSpec(shape=(None, 5), dtype="float32"), keras.InputSpec(shape=(None, 3), dtype="float32")]]
    archive.add_endpoint("serve", lambda xs: model(xs, training=False), input_signature=sig)
    archive.add_endpoint("hidden", lambda xs: model.get_layer("hidden")(xs[0]), input_signature=sig)
    archive.add_variable_collection("my_weights", model.weights)
    xa, xb = torch.from_numpy(random_array((4, 5), seed=8)), torch.from_numpy(random_array((4, 3), seed=9))
    assert_close(archive.serve([xa, xb]), _predict(model, xa, xb))  # endpoints are callable before writing
    archive.write_out(str(tmp_path / "art"))
    assert "['serve', 'hidden']" in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path / "art")) == ["hidden.pt2", "serve.pt2", "variable_collections.pt"]
    with torch.no_grad():
        served = torch.export.load(str(tmp_path / "art" / "serve.pt2")).module()(xa, xb)  # flat inputs
        hidden = torch.export.load(str(tmp_path / "art" / "hidden.pt2")).module()(xa, xb)
    assert_close(served, _predict(model, xa, xb))
    kernel, bias = model.get_layer("hidden").get_weights()
    assert_close(hidden, np.tanh(xa.numpy().astype("float64") @ kernel + bias))
    saved = torch.load(str(tmp_path / "art" / "variable_collections.pt"))
    assert list(saved) == ["my_weights"]
    assert [tuple(t.shape) for t in saved["my_weights"].values()] == [tuple(w.shape) for w in model.get_weights()]
    for t, w in zip(saved["my_weights"].values(), model.get_weights()):
        assert_close(t, w)


def test_export_archive_track_and_add_endpoint_and_errors(tmp_path):
    archive = ExportArchive()
    with pytest.raises(ValueError, match="track"):
        archive.add_endpoint("serve", lambda x: x, input_signature=[keras.InputSpec(shape=(None, 2))])
    with pytest.raises(ValueError, match="Invalid resource type"):
        archive.track("not a layer")
    with pytest.raises(ValueError, match="not yet been built"):
        archive.track(layers.Dense(2))
    dense = layers.Dense(2)
    dense.build((None, 3))
    archive.track_and_add_endpoint("call", dense, [keras.InputSpec(shape=(None, 3))])
    with pytest.raises(ValueError, match="already taken"):
        archive.add_endpoint("call", dense, input_signature=[keras.InputSpec(shape=(None, 3))])
    with pytest.raises(ValueError, match="input_signature"):
        archive.add_endpoint("other", dense)
    with pytest.raises(ValueError, match="tracked layer"):
        archive.add_variable_collection("w", layers.Dense(1, name="loose").variables or [keras.Variable(1.0)])
    with pytest.raises(ValueError, match="No endpoints"):
        ExportArchive().write_out(str(tmp_path / "empty"))
    archive.write_out(str(tmp_path / "d"), verbose=False)
    x = torch.from_numpy(random_array((5, 3), seed=10))
    kernel, bias = dense.get_weights()
    with torch.no_grad():
        assert_close(torch.export.load(str(tmp_path / "d" / "call.pt2")).module()(x),
                     x.numpy().astype("float64") @ kernel + bias)


@needs_onnx
@pytest.mark.slow
def test_export_archive_onnx(tmp_path):
    dense = layers.Dense(2, name="d")
    dense.build((None, 3))
    archive = ExportArchive()
    archive.track_and_add_endpoint("serve", dense, [keras.InputSpec(shape=(None, 3), name="x")])
    archive.write_out(str(tmp_path / "o"), format="onnx", verbose=False)
    x = random_array((4, 3), seed=11)
    out, inputs = _onnx_run(tmp_path / "o" / "serve.onnx", {"x": x})
    kernel, bias = dense.get_weights()
    assert_close(out, x.astype("float64") @ kernel + bias)


def test_export_torch_matches_keras(tmp_path, keras_ref):
    """Differential: the same weights exported by Keras and by cornu give the same program outputs."""
    k_model = keras_ref.Sequential([keras_ref.Input((4,)), keras_ref.layers.Dense(3, activation="relu"),
                                    keras_ref.layers.Dense(2)])
    c_model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="relu"), layers.Dense(2)])
    c_model.set_weights(k_model.get_weights())
    k_model.export(str(tmp_path / "k.pt2"), format="torch", verbose=False)
    c_model.export(str(tmp_path / "c.pt2"), format="torch", verbose=False)
    x = torch.from_numpy(random_array((1, 4), seed=12))  # Keras's torch program is traced for batch 1 only
    with torch.no_grad():
        k_out = torch.export.load(str(tmp_path / "k.pt2")).module()(x)
        c_out = torch.export.load(str(tmp_path / "c.pt2")).module()(x)
    assert_close(c_out, k_out, rtol=1e-5)
    for fmt, path, error in (("bogus", "m", ValueError), ("torch", "m.zip", ValueError)):
        with pytest.raises(error):
            k_model.export(str(tmp_path / path), format=fmt)
        with pytest.raises(error):
            c_model.export(str(tmp_path / path), format=fmt)


@needs_onnx
@pytest.mark.slow
def test_onnx_matches_keras_onnx(tmp_path, keras_ref):
    """Differential: Keras's and cornu's ONNX files of the same CNN weights give the same outputs."""
    k_model = keras_ref.Sequential([keras_ref.Input((28, 28, 1)), keras_ref.layers.Conv2D(4, 3, activation="relu"),
                                    keras_ref.layers.MaxPooling2D(2), keras_ref.layers.Flatten(),
                                    keras_ref.layers.Dense(10, activation="softmax")])
    c_model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(4, 3, activation="relu"),
                                layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(10, activation="softmax")])
    c_model.set_weights(k_model.get_weights())
    x = random_array((3, 28, 28, 1), seed=13, low=0, high=1)
    k_model.predict(x, verbose=0)  # Keras exports only models that have been called
    k_model.export(str(tmp_path / "k.onnx"), format="onnx", verbose=False)
    c_model.export(str(tmp_path / "c.onnx"), format="onnx", verbose=False)
    k_out, _ = _onnx_run(tmp_path / "k.onnx", {inputs_name(tmp_path / "k.onnx"): x})
    c_out, _ = _onnx_run(tmp_path / "c.onnx", {inputs_name(tmp_path / "c.onnx"): x})
    assert_close(c_out, k_out, rtol=1e-5)


def test_dict_inputs_and_a_fixed_time_axis_warning(tmp_path):
    a, b = keras.Input((5,), name="a"), keras.Input((3,), name="b")
    model = keras.Model({"a": a, "b": b}, layers.Dense(2)(layers.Concatenate()([a, b])))
    model.export(str(tmp_path / "d.pt2"), format="torch", verbose=False)
    xa, xb = torch.from_numpy(random_array((4, 5), seed=14)), torch.from_numpy(random_array((4, 3), seed=15))
    with torch.no_grad():
        assert_close(torch.export.load(str(tmp_path / "d.pt2")).module()(xa, xb),  # flat, in the inputs' order
                     model({"a": xa, "b": xb}).numpy())
    rnn = keras.Sequential([keras.Input((None, 3)), layers.SimpleRNN(2)])  # a Python loop over the time steps
    with pytest.warns(UserWarning, match="axis 1 of input 0"):
        rnn.export(str(tmp_path / "r.pt2"), format="torch", verbose=False)
