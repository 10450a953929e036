"""Saved-config details written as Keras 3.15 writes them, and read back in both the new and the older form."""
import json

import numpy as np
import pytest

import cornu as keras
from cornu.applications.convnext import LayerScale, StochasticDepth
from cornu.applications.inception_resnet_v2 import CustomScaleLayer
from cornu.saving import legacy_h5
from cornu.saving.functional_config import functional_config, functional_from_config
from cornu.saving.serialization import deserialize_keras_object, serialize_keras_object
from tests.helpers import assert_close, random_array


def _block():
    x0 = keras.Input((8, 8, 3), name="img")
    x = keras.layers.Conv2D(4, 3, padding="same", name="c1")(x0)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Activation("relu", name="act")(x)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.Dropout(0.1, name="drop")(x)
    x = keras.layers.Flatten(name="flat")(x)
    return keras.Model(x0, keras.layers.Dense(2, name="out")(x), name="block")


def _entries(config):
    return {entry["name"]: entry for entry in config["layers"]}


def test_single_input_and_output_are_unwrapped_and_both_forms_load():
    model = _block()
    config = json.loads(json.dumps(functional_config(model)))
    assert config["input_layers"] == ["img", 0, 0]
    assert config["output_layers"] == ["out", 0, 0]
    x = random_array((2, 8, 8, 3), seed=0)
    expected = model.predict(x, verbose=0)
    older = {**config, "input_layers": [config["input_layers"]], "output_layers": [config["output_layers"]]}
    for cfg in (config, older):
        rebuilt = functional_from_config(cfg)
        rebuilt.set_weights(model.get_weights())
        assert_close(rebuilt.predict(x, verbose=0), expected)


def test_recorded_call_kwargs():
    entries = _entries(functional_config(_block()))
    assert entries["bn"]["inbound_nodes"][0]["kwargs"] == {"mask": None}
    assert entries["drop"]["inbound_nodes"][0]["kwargs"] == {"training": False}
    for name in ("c1", "act", "pool", "flat", "out"):
        assert entries[name]["inbound_nodes"][0]["kwargs"] == {}


def test_explicit_call_kwargs_are_kept():
    x0 = keras.Input((4,), name="x")
    y = keras.layers.Dropout(0.5, name="drop")(x0, training=True)
    entries = _entries(functional_config(keras.Model(x0, y)))
    assert entries["drop"]["inbound_nodes"][0]["kwargs"] == {"training": True}


def test_layers_built_at_init_have_no_build_config():
    entries = _entries(functional_config(_block()))
    for name in ("act", "pool", "drop"):
        assert "build_config" not in entries[name]
    assert entries["flat"]["build_config"] == {"input_shape": (None, 4, 4, 4)}
    assert entries["bn"]["build_config"] == {"input_shape": (None, 8, 8, 4)}


def test_sequential_config_has_dtype_and_build_input_shape():
    def make():
        return keras.Sequential([keras.layers.Dense(3, name="d1"), keras.layers.Dense(2, name="d2")], name="s")

    unbuilt = make().get_config()
    assert unbuilt["dtype"]["config"]["name"] == "float32"
    assert "build_input_shape" not in unbuilt
    model = make()
    model.build((None, 4))
    config = model.get_config()
    assert config["build_input_shape"] == (None, 4)
    rebuilt = keras.Sequential.from_config(json.loads(json.dumps(config)))
    assert rebuilt.built
    assert json.dumps(rebuilt.get_config(), sort_keys=True) == json.dumps(config, sort_keys=True)
    started = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2, name="d")], name="s2")
    assert started.get_config()["build_input_shape"] == (None, 5)


def _head_model(top):
    x0 = keras.Input((4,), name="x")
    x = keras.layers.Dense(3, name="features")(x0)
    if top:
        x = keras.layers.Dense(2, name="predictions")(x)
    return keras.Model(x0, x)


@pytest.mark.parametrize("saved_top", [True, False])
def test_legacy_h5_include_top_mismatch_names_the_layer(tmp_path, saved_top):
    path = str(tmp_path / "m.h5")
    with pytest.warns(UserWarning):
        legacy_h5.save_model(_head_model(saved_top), path)
    with pytest.raises(ValueError, match="predictions"):
        _head_model(not saved_top).load_weights(path)


def test_application_layers_use_keras_module_names():
    cases = [(LayerScale(1e-6, 4, name="ls"), "convnext"), (StochasticDepth(0.1, name="sd"), "convnext"),
             (CustomScaleLayer(0.17, name="cs"), "inception_resnet_v2")]
    for layer, module in cases:
        config = serialize_keras_object(layer)
        assert config["module"] == f"keras.src.applications.{module}"
        assert config["registered_name"] == type(layer).__name__
        rebuilt = deserialize_keras_object(json.loads(json.dumps(config)))
        assert type(rebuilt) is type(layer) and rebuilt.get_config() == layer.get_config()


def test_model_with_layer_scale_roundtrips_without_custom_objects(tmp_path):
    x0 = keras.Input((3, 3, 4), name="x")
    y = LayerScale(0.5, 4, name="ls")(x0)
    model = keras.Model(x0, CustomScaleLayer(0.2, name="cs")([x0, y]))
    path = str(tmp_path / "m.keras")
    model.save(path)
    x = random_array((2, 3, 3, 4), seed=1)
    loaded = keras.saving.load_model(path)
    assert_close(loaded.predict(x, verbose=0), x + 0.2 * 0.5 * x.astype(np.float64))
