"""Legacy HDF5 (``.h5``): Keras 2 files built here with h5py load with their weights; cornu writes and reads it."""
import base64
import json
import marshal
import warnings

import h5py
import numpy as np
import pytest

import cornu as keras
from cornu.saving import legacy_h5, load_model, save_model
from tests.helpers import assert_close, f64, random_array
from tests.saving import keras2_files as k2


def _r(*shape, seed=0):
    return random_array(shape, seed=seed)


def _conv_model_files(path, class_name="Conv2D"):
    config = k2.sequential("seq", [
        k2.input_layer("input_1", [None, 6, 6, 2]), k2.conv2d("conv", 3, 3, class_name=class_name),
        k2.batch_norm("bn", 3), k2.flatten("flat"), k2.dense("out", 2, "softmax")])
    weights = [("conv", [("kernel", _r(3, 3, 2, 3, seed=1)), ("bias", _r(3, seed=2))]),
               ("bn", [("gamma", _r(3, seed=3)), ("beta", _r(3, seed=4)), ("moving_mean", _r(3, seed=5)),
                       ("moving_variance", 1.5 + _r(3, seed=6))]),
               ("out", [("kernel", _r(48, 2, seed=7)), ("bias", _r(2, seed=8))])]
    training = {"loss": "categorical_crossentropy", "metrics": ["accuracy"], "weighted_metrics": None,
                "loss_weights": None, "optimizer_config": {"class_name": "Adam",
                                                           "config": {"name": "Adam", "lr": 0.01, "decay": 0.0}}}
    k2.write_model(path, config, weights, training_config=training)
    return [v for _, values in weights for _, v in values]


def _reference_conv_model(values):
    model = keras.Sequential([keras.Input((6, 6, 2)), keras.layers.Conv2D(3, 3, activation="relu"),
                              keras.layers.BatchNormalization(axis=3), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    model.set_weights(values)
    return model


@pytest.mark.parametrize("class_name", ["Conv2D", "Convolution2D"])
def test_keras2_sequential_conv_bn(tmp_path, class_name):
    values = _conv_model_files(tmp_path / "m.h5", class_name)
    model = load_model(tmp_path / "m.h5")
    assert type(model) is keras.Sequential and [layer.name for layer in model.layers] == ["conv", "bn", "flat", "out"]
    for got, want in zip(model.get_weights(), values):
        np.testing.assert_array_equal(got, want)
    x = _r(4, 6, 6, 2, seed=9)
    assert_close(model.predict(x, verbose=0), _reference_conv_model(values).predict(x, verbose=0))
    assert model.layers[1].axis in (3, -1) or list(model.layers[1].axis) == [3]
    assert model.compiled and type(model.optimizer) is keras.optimizers.Adam
    assert np.isclose(float(model.optimizer.learning_rate), 0.01)
    assert not load_model(tmp_path / "m.h5", compile=False).compiled


def test_keras2_dense_matches_numpy(tmp_path):
    # Keras 2.2 style: the Sequential config is a bare list, the first layer carries batch_input_shape.
    config = {"class_name": "Sequential", "config": [k2.dense("h", 3, "tanh", batch_input_shape=[None, 4]),
                                                     k2.dense("o", 2)]}
    w1, b1, w2, b2 = _r(4, 3, seed=1), _r(3, seed=2), _r(3, 2, seed=3), _r(2, seed=4)
    k2.write_model(tmp_path / "m.h5", config, [("h", [("kernel", w1), ("bias", b1)]),
                                               ("o", [("kernel", w2), ("bias", b2)])])
    with pytest.warns(UserWarning, match="No training configuration"):
        model = load_model(tmp_path / "m.h5")
    x = _r(5, 4, seed=5)
    expected = np.tanh(f64(x) @ f64(w1) + f64(b1)) @ f64(w2) + f64(b2)
    assert_close(model.predict(x, verbose=0), expected)


def test_keras2_functional_embedding_lstm(tmp_path):
    config = k2.functional("net", [
        (k2.input_layer("tokens", [None, 5]), []), (k2.embedding("emb", 10, 4), ["tokens"]),
        (k2.lstm("lstm", 3), ["emb"]), (k2.dense("out", 2), ["lstm"])], ["tokens"], ["out"], class_name="Model")
    values = [_r(10, 4, seed=1), _r(4, 12, seed=2), _r(3, 12, seed=3), _r(12, seed=4), _r(3, 2, seed=5),
              _r(2, seed=6)]
    weights = [("emb", [("embeddings", values[0])]),
               ("lstm", [("kernel", values[1]), ("recurrent_kernel", values[2]), ("bias", values[3])]),
               ("out", [("kernel", values[4]), ("bias", values[5])])]
    k2.write_model(tmp_path / "m.h5", config, weights, cell={"lstm": "lstm_cell"})
    model = load_model(tmp_path / "m.h5", compile=False)
    inputs = keras.Input((5,), name="tokens")
    x = keras.layers.Embedding(10, 4)(inputs)
    reference = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.LSTM(3)(x)))
    reference.set_weights(values)
    tokens = np.random.default_rng(0).integers(0, 10, (3, 5))
    assert_close(model.predict(tokens, verbose=0), reference.predict(tokens, verbose=0))


def _keras2_lambda_file(path, sentinel):
    code = compile(f"lambda x: (open({str(sentinel)!r}, 'w').close(), x)[1]", "<k2>", "eval")
    fn = eval(code)
    payload = base64.b64encode(marshal.dumps(fn.__code__)).decode()
    layer = {"class_name": "Lambda", "config": {"name": "lam", "trainable": True, "dtype": "float32",
                                                "function": [payload, None, None], "function_type": "lambda",
                                                "module": "__main__", "output_shape": None,
                                                "output_shape_type": "raw", "output_shape_module": None,
                                                "arguments": {}}}
    k2.write_model(path, k2.sequential("seq", [k2.input_layer("in", [None, 4]), layer]), [])


def test_lambda_refused_in_safe_mode(tmp_path):
    sentinel = tmp_path / "ran"
    _keras2_lambda_file(tmp_path / "lam.h5", sentinel)
    with pytest.raises(ValueError, match="safe_mode=False"):
        load_model(tmp_path / "lam.h5")
    assert not sentinel.exists()
    model = load_model(tmp_path / "lam.h5", safe_mode=False, compile=False)
    x = _r(2, 4)
    assert_close(model(x), x)
    assert sentinel.exists()


def _mlp(units=(3, 2), names=("first", "second")):
    return keras.Sequential([keras.Input((4,))] + [keras.layers.Dense(u, name=n) for u, n in zip(units, names)])


def test_roundtrip_with_compile_and_optimizer(tmp_path):
    model = _mlp()
    model.compile(keras.optimizers.Adam(0.005), "mse", metrics=["mae"])
    x, y = _r(16, 4, seed=1), _r(16, 2, seed=2)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    with pytest.warns(UserWarning, match="considered legacy"):
        model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5") as f:
        assert json.loads(f.attrs["model_config"])["class_name"] == "Sequential"
        assert [n.decode() for n in f["model_weights"].attrs["layer_names"]] == ["first", "second"]
        assert "optimizer_weights" in f
    loaded = load_model(tmp_path / "m.h5")
    assert_close(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.compiled and loaded.optimizer.get_config() == model.optimizer.get_config()
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations)
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(f64(a.numpy()), f64(b.numpy()))


def test_hdf5_suffix_and_save_model(tmp_path):
    model = _mlp()
    with pytest.warns(UserWarning):
        save_model(model, tmp_path / "m.hdf5", include_optimizer=False)
    x = _r(3, 4)
    assert_close(load_model(tmp_path / "m.hdf5", compile=False).predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(FileExistsError):
        save_model(model, tmp_path / "m.hdf5", overwrite=False)


def _weights_file(path, model):
    k2.write_weights(path, [(layer.name, [(w.name, w.numpy()) for w in layer.weights]) for layer in model.layers])


def test_load_weights_topological_and_by_name(tmp_path):
    source = _mlp(names=("a", "b"))
    _weights_file(tmp_path / "w.h5", source)
    target = _mlp(names=("x", "y"))
    target.load_weights(tmp_path / "w.h5")
    x = _r(3, 4)
    assert_close(target.predict(x, verbose=0), source.predict(x, verbose=0))
    partial = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="a"), keras.layers.Dense(7, name="z")])
    before = partial.layers[1].get_weights()
    partial.load_weights(tmp_path / "w.h5", by_name=True)
    np.testing.assert_array_equal(partial.layers[0].get_weights()[0], source.layers[0].get_weights()[0])
    np.testing.assert_array_equal(partial.layers[1].get_weights()[0], before[0])


def test_load_weights_mismatches(tmp_path):
    _weights_file(tmp_path / "w.h5", _mlp())
    wider = _mlp(units=(3, 5))
    with pytest.raises(ValueError, match=r"Shape mismatch in layer #1 \(named second\)"):
        wider.load_weights(tmp_path / "w.h5")
    before = wider.layers[1].get_weights()
    with pytest.warns(UserWarning, match="Skipping loading weights for layer #1"):
        wider.load_weights(tmp_path / "w.h5", skip_mismatch=True)
    np.testing.assert_array_equal(wider.layers[1].get_weights()[0], before[0])
    with pytest.raises(ValueError, match=r"Shape mismatch in layer #0 \(named second\)"):
        wider.load_weights(tmp_path / "w.h5", by_name=True)
    no_bias = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="first", use_bias=False),
                                keras.layers.Dense(2, name="second")])
    with pytest.raises(ValueError, match=r"Weight count mismatch for layer #0 \(named first"):
        no_bias.load_weights(tmp_path / "w.h5")
    deeper = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(5, name="mid"),
                               keras.layers.Dense(2)])
    with pytest.raises(ValueError, match=r"Layer count mismatch.*layer #1 \(named mid"):
        deeper.load_weights(tmp_path / "w.h5")


def test_load_weights_from_whole_model_file_and_helpers(tmp_path):
    values = _conv_model_files(tmp_path / "m.h5")
    target = _reference_conv_model([np.zeros_like(v) for v in values])
    target.load_weights(tmp_path / "m.h5")
    for got, want in zip(target.get_weights(), values):
        np.testing.assert_array_equal(got, want)
    other = _reference_conv_model([np.zeros_like(v) for v in values])
    with h5py.File(tmp_path / "m.h5") as f:
        legacy_h5.load_weights_from_hdf5_group(f["model_weights"], other.layers)
        legacy_h5.load_weights_from_hdf5_group_by_name(f["model_weights"], other)
    for got, want in zip(other.get_weights(), values):
        np.testing.assert_array_equal(got, want)


def test_argument_errors(tmp_path):
    model = _mlp()
    _weights_file(tmp_path / "w.h5", model)
    with pytest.raises(ValueError, match="Invalid keyword arguments"):
        model.load_weights(tmp_path / "w.h5", foo=1)
    model.save_weights(tmp_path / "a.weights.h5")
    with pytest.raises(ValueError, match="by_name"):
        model.load_weights(tmp_path / "a.weights.h5", by_name=True)
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        model.save_weights(tmp_path / "w2.h5")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.h5")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(OSError, match="junk.h5"):
        load_model(tmp_path / "junk.h5")
    with h5py.File(tmp_path / "empty.h5", "w"):
        pass
    with pytest.raises(ValueError, match="No model config"):
        load_model(tmp_path / "empty.h5")


def test_long_name_lists_are_chunked(tmp_path):
    names = [f"layer_{i:05d}_" + "x" * 40 for i in range(2000)]
    with h5py.File(tmp_path / "a.h5", "w") as f:
        legacy_h5.write_name_list(f, "layer_names", names)
        assert "layer_names" not in f.attrs and "layer_names0" in f.attrs
        assert legacy_h5.read_name_list(f, "layer_names") == names


def test_keras3_legacy_config_converted():
    config = legacy_h5.convert_config(k2.sequential("s", [k2.input_layer("i", [None, 3, 2]), k2.batch_norm("bn", 2),
                                                          k2.lstm("l", 2)]))
    layers = config["config"]["layers"]
    assert layers[0]["config"]["batch_shape"] == [None, 3, 2] and "batch_input_shape" not in layers[0]["config"]
    old_input = {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 3], "input_dtype": "int32",
                                                        "sparse": False, "name": "tokens"}}
    layer = keras.saving.deserialize_keras_object(legacy_h5.convert_config(old_input))
    assert layer.batch_shape == (None, 3) and layer.dtype == "int32"
    assert layers[1]["config"]["axis"] == 2
    assert "time_major" not in layers[2]["config"] and "implementation" not in layers[2]["config"]
    bad = k2.lstm("l", 2)
    bad["config"]["time_major"] = True
    with pytest.raises(ValueError, match="time_major"):
        legacy_h5.convert_config(bad)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        keras.saving.deserialize_keras_object(config)
