"""Saved configs compared with Keras 3.15.1: functional and Sequential configs, legacy h5 include_top errors,
and ``keras.src.applications`` layers in `.keras` files read across libraries."""
import json

import numpy as np
import pytest

import cornu
from cornu.saving import legacy_h5
from tests.helpers import assert_close, random_array


def _resnet_block(k):
    layers = k.layers
    x0 = k.Input((8, 8, 3), name="img")
    x = layers.Conv2D(4, 3, padding="same", name="c1")(x0)
    x = layers.BatchNormalization(name="bn1")(x)
    x = layers.Activation("relu", name="a1")(x)
    y = layers.Conv2D(4, 3, padding="same", name="c2")(x)
    y = layers.BatchNormalization(name="bn2")(y)
    x = layers.Add(name="add")([x, y])
    x = layers.MaxPooling2D(name="mp")(x)
    x = layers.Dropout(0.1, name="dr")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return k.Model(x0, layers.Dense(3, name="d")(x), name="resnet_block")


def _mlp(k):
    x0 = k.Input((4,), name="inp")
    h = k.layers.Dense(5, activation="relu", name="h")(x0)
    h = k.layers.Flatten(name="f")(h)
    return k.Model(x0, k.layers.Dense(2, name="o")(h), name="mlp")


def _two_in_two_out(k):
    a, b = k.Input((4,), name="a"), k.Input((3,), name="b")
    c = k.layers.Concatenate(name="cat")([a, b])
    return k.Model([a, b], [k.layers.Dense(2, name="o1")(c), k.layers.Dense(1, name="o2")(c)], name="two")


def _attention(k):
    q = k.Input((2, 4), name="q")
    m = k.layers.MultiHeadAttention(2, 2, name="mha")(q, q)
    m = k.layers.GaussianNoise(0.1, name="noise")(m)
    m = k.layers.LayerNormalization(name="ln")(m)
    return k.Model(q, k.layers.Flatten(name="fl")(m), name="att")


def _dumps(config):
    return json.dumps(config, sort_keys=True)


@pytest.mark.parametrize("build", [_resnet_block, _mlp, _two_in_two_out, _attention])
def test_functional_config_equals_keras(keras_ref, build):
    assert _dumps(build(cornu).get_config()) == _dumps(build(keras_ref).get_config())


@pytest.mark.parametrize("build", [_resnet_block, _mlp, _two_in_two_out])
def test_keras_config_rebuilds_in_cornu(keras_ref, build):
    config = json.loads(_dumps(build(keras_ref).get_config()))
    rebuilt = cornu.Model.from_config(config)
    assert _dumps(rebuilt.get_config()) == _dumps(config)


@pytest.mark.parametrize("make", [
    lambda k: k.layers.Activation("relu", name="l"), lambda k: k.layers.Dropout(0.2, name="l"),
    lambda k: k.layers.MaxPooling1D(name="l"), lambda k: k.layers.GlobalMaxPooling1D(name="l"),
    lambda k: k.layers.Reshape((12,), name="l"), lambda k: k.layers.Flatten(name="l"),
    lambda k: k.layers.UpSampling1D(name="l"), lambda k: k.layers.Dense(2, name="l"),
    lambda k: k.layers.LeakyReLU(name="l"), lambda k: k.layers.SpatialDropout1D(0.1, name="l"),
])
def test_build_config_presence_matches_keras(keras_ref, make):
    def entry(k):
        x0 = k.Input((4, 3), name="x")
        model = k.Model(x0, make(k)(x0), name="m")
        return next(e for e in model.get_config()["layers"] if e["name"] == "l")

    ours, theirs = entry(cornu), entry(keras_ref)
    assert ("build_config" in ours) == ("build_config" in theirs)
    assert _dumps(ours["inbound_nodes"]) == _dumps(theirs["inbound_nodes"])


def _sequential(k, how):
    if how == "input":
        return k.Sequential([k.Input((4,), name="in"), k.layers.Dense(2, name="d")], name="s")
    model = k.Sequential([k.layers.Dense(3, name="d1"), k.layers.Dropout(0.2, name="dr"),
                          k.layers.Dense(2, name="d2")], name="s")
    if how == "built":
        model.build((None, 4))
    return model


@pytest.mark.parametrize("how", ["unbuilt", "built", "input"])
def test_sequential_config_equals_keras(keras_ref, how):
    ours, theirs = _sequential(cornu, how).get_config(), _sequential(keras_ref, how).get_config()
    if how == "built":  # Keras names the InputLayer its build() creates with a global counter
        for config in (ours, theirs):
            config["layers"][0]["config"].pop("name")
    assert _dumps(ours) == _dumps(theirs)
    rebuilt = cornu.Sequential.from_config(json.loads(_dumps(theirs)))
    assert rebuilt.built == (how != "unbuilt")


def _head_model(k, top):
    x0 = k.Input((4,), name="x")
    x = k.layers.Dense(3, name="features")(x0)
    if top:
        x = k.layers.Dense(2, name="predictions")(x)
    return k.Model(x0, x)


@pytest.mark.parametrize("saved_top", [True, False])
def test_legacy_h5_include_top_mismatch(keras_ref, tmp_path, saved_top):
    path = str(tmp_path / "m.h5")
    _head_model(keras_ref, saved_top).save(path)
    with pytest.raises(ValueError):
        _head_model(keras_ref, not saved_top).load_weights(path)
    with pytest.raises(ValueError, match="predictions"):
        _head_model(cornu, not saved_top).load_weights(path)
    with pytest.warns(UserWarning):
        legacy_h5.save_model(_head_model(cornu, saved_top), str(tmp_path / "c.h5"))
    with pytest.raises(ValueError):
        _head_model(keras_ref, not saved_top).load_weights(str(tmp_path / "c.h5"))


def _application_layers(k, src):
    from importlib import import_module

    if src:
        convnext = import_module("keras.src.applications.convnext")
        irv2 = import_module("keras.src.applications.inception_resnet_v2")
    else:
        convnext = import_module("cornu.applications.convnext")
        irv2 = import_module("cornu.applications.inception_resnet_v2")
    x0 = k.Input((3, 3, 4), name="x")
    y = convnext.LayerScale(0.5, 4, name="ls")(x0)
    y = convnext.StochasticDepth(0.1, name="sd")(y)
    return k.Model(x0, irv2.CustomScaleLayer(0.2, name="cs")([x0, y]), name="app")


def test_application_layers_config_and_files_across_libraries(keras_ref, tmp_path):
    ours, theirs = _application_layers(cornu, False), _application_layers(keras_ref, True)
    assert _dumps(ours.get_config()) == _dumps(theirs.get_config())
    x = random_array((2, 3, 3, 4), seed=2)
    theirs.save(str(tmp_path / "k.keras"))
    loaded = cornu.saving.load_model(str(tmp_path / "k.keras"))
    assert_close(loaded.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5)
    ours.save(str(tmp_path / "c.keras"))
    back = keras_ref.saving.load_model(str(tmp_path / "c.keras"))
    assert_close(back.predict(x, verbose=0), ours.predict(x, verbose=0), rtol=1e-5)


@pytest.mark.slow
def test_keras_saved_convnext_tiny_loads_in_cornu(keras_ref, tmp_path):
    reference = keras_ref.applications.ConvNeXtTiny(weights=None, include_top=False, input_shape=(32, 32, 3))
    reference.save(str(tmp_path / "k.keras"))
    x = np.random.RandomState(0).rand(2, 32, 32, 3).astype("float32")
    loaded = cornu.saving.load_model(str(tmp_path / "k.keras"))
    assert_close(loaded.predict(x, verbose=0), reference.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    loaded.save(str(tmp_path / "c.keras"))
    back = keras_ref.saving.load_model(str(tmp_path / "c.keras"))
    assert_close(back.predict(x, verbose=0), reference.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
