"""Legacy ``.h5`` across libraries: Keras 3.15 writes, cornu reads (and back), with equal predictions."""
import warnings

import h5py
import numpy as np
import pytest

import cornu
from tests.helpers import assert_close, keras_oracle_module, random_array
from tests.saving import keras2_files as k2

keras = keras_oracle_module()


def _conv(k):
    return k.Sequential([k.Input((8, 8, 3)), k.layers.Conv2D(4, 3, activation="relu", name="conv"),
                         k.layers.BatchNormalization(name="bn"), k.layers.MaxPooling2D(name="pool"),
                         k.layers.Flatten(name="flat"), k.layers.Dense(3, activation="softmax", name="out")],
                        name="conv_net"), (8, 8, 3)


def _recurrent(k):
    inputs = k.Input((6,), name="tokens")
    x = k.layers.Embedding(12, 4, name="emb")(inputs)
    x = k.layers.LSTM(5, return_sequences=True, name="lstm")(x)
    x = k.layers.GRU(3, name="gru")(x)
    return k.Model(inputs, k.layers.Dense(2, name="out")(x), name="rnn_net"), (6,)


def _inputs(shape, seed=0):
    if shape == (6,):
        return np.random.default_rng(seed).integers(0, 12, (4, 6))
    return random_array((4, *shape), seed=seed)


def _randomize(model, seed):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(0.1, 1.0, w.shape).astype("float32") for w in model.get_weights()])


@pytest.mark.parametrize("build", [_conv, _recurrent])
def test_keras_writes_cornu_reads(tmp_path, build):
    model, shape = build(keras)
    _randomize(model, 1)
    model.compile(keras.optimizers.Adam(0.002), "mse")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(tmp_path / "k.h5")
    loaded = cornu.saving.load_model(tmp_path / "k.h5")
    x = _inputs(shape)
    assert_close(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    assert loaded.compiled and type(loaded.optimizer).__name__ == "Adam"
    assert np.isclose(float(loaded.optimizer.learning_rate), 0.002)


@pytest.mark.parametrize("build", [_conv, _recurrent])
def test_cornu_writes_keras_reads(tmp_path, build):
    model, shape = build(cornu)
    _randomize(model, 2)
    model.compile(cornu.optimizers.SGD(0.01), "mean_squared_error")  # Keras 3.15 cannot reload "mse" from .h5
    with pytest.warns(UserWarning, match="legacy"):
        model.save(tmp_path / "c.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = keras.saving.load_model(tmp_path / "c.h5")
    x = _inputs(shape)
    assert_close(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    assert loaded.compiled and type(loaded.optimizer).__name__ == "SGD"


def test_keras_weights_file_cornu_load_weights(tmp_path):
    from keras.src.legacy.saving import legacy_h5_format

    source, shape = _conv(keras)
    _randomize(source, 3)
    with h5py.File(tmp_path / "w.h5", "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, source)
    target, _ = _conv(cornu)
    target.load_weights(tmp_path / "w.h5")
    x = _inputs(shape)
    assert_close(target.predict(x, verbose=0), source.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    by_name, _ = _conv(cornu)
    by_name.load_weights(tmp_path / "w.h5", by_name=True)
    assert_close(by_name.predict(x, verbose=0), source.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_keras2_file_loads_alike(tmp_path):
    config = k2.sequential("seq", [k2.input_layer("input_1", [None, 6, 6, 2]), k2.conv2d("conv", 3, 3),
                                   k2.batch_norm("bn", 3), k2.flatten("flat"), k2.dense("dense", 2, "softmax")])
    rng = np.random.default_rng(0)

    def r(*s):
        return rng.uniform(0.1, 1.0, s).astype("float32")

    weights = [("conv", [("kernel", r(3, 3, 2, 3)), ("bias", r(3))]),
               ("bn", [("gamma", r(3)), ("beta", r(3)), ("moving_mean", r(3)), ("moving_variance", r(3))]),
               ("dense", [("kernel", r(48, 2)), ("bias", r(2))])]
    k2.write_model(tmp_path / "k2.h5", config, weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = cornu.saving.load_model(tmp_path / "k2.h5")
        theirs = keras.saving.load_model(tmp_path / "k2.h5")
    x = random_array((3, 6, 6, 2))
    assert_close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    assert ours.layers[1].get_config() == theirs.layers[1].get_config()


def test_mismatch_errors_alike(tmp_path):
    source, _ = _conv(keras)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        source.save(tmp_path / "k.h5")
    other = cornu.Sequential([cornu.Input((8, 8, 3)), cornu.layers.Conv2D(5, 3, name="conv"),
                              cornu.layers.BatchNormalization(name="bn"), cornu.layers.Flatten(name="flat"),
                              cornu.layers.Dense(3, name="out")])
    other_k = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(5, 3, name="conv"),
                                keras.layers.BatchNormalization(name="bn"), keras.layers.Flatten(name="flat"),
                                keras.layers.Dense(3, name="out")])
    with pytest.raises(ValueError) as theirs:
        other_k.load_weights(tmp_path / "k.h5")
    with pytest.raises(ValueError) as ours:
        other.load_weights(tmp_path / "k.h5")
    assert str(theirs.value).split("for weight")[0].strip() == str(ours.value).split("for weight")[0].strip()
