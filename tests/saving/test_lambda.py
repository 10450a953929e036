"""Functions in configs: references, lambda bytecode, and safe mode."""
import json

import numpy as np
import pytest

import cornu as keras
from cornu.saving import (deserialize_keras_object, enable_unsafe_deserialization, load_model,
                          register_keras_serializable, serialize_keras_object)
from cornu.saving import serialization
from cornu.saving.lambda_serialization import deserialize_function, serialize_function


@register_keras_serializable(package="SavingTests")
def shifted_square(x):
    return x * x + 1.0


def _lambda_model(offset: float) -> keras.Model:
    return keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x * offset - 1.0),
                             keras.layers.Dense(2)])


@pytest.fixture(autouse=True)
def _restore_global_safe_mode(monkeypatch):
    monkeypatch.setattr(serialization, "_GLOBAL_UNSAFE", False)


def test_named_functions_are_saved_by_reference(tmp_path, vectors):
    x, _ = vectors
    model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(keras.activations.relu),
                              keras.layers.Lambda(shifted_square)])
    configs = [layer["config"]["function"] for layer in model.get_config()["layers"][1:]]
    assert configs[0] == {"module": "keras.activations", "class_name": "function", "config": "relu",
                          "registered_name": "relu"}
    assert configs[1]["registered_name"] == "SavingTests>shifted_square"
    model.save(tmp_path / "named.keras")
    loaded = load_model(tmp_path / "named.keras")
    assert loaded.layers[1].function is shifted_square
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_lambda_is_refused_in_safe_mode(tmp_path):
    path = tmp_path / "lambda.keras"
    _lambda_model(3.0).save(path)
    with pytest.raises(ValueError, match=r"arbitrary code.*safe_mode=False"):
        load_model(path)


def test_lambda_loads_with_safe_mode_false(tmp_path, vectors):
    x, _ = vectors
    model = _lambda_model(3.0)
    model.save(tmp_path / "lambda.keras")
    config = json.loads(json.dumps(model.get_config()))
    assert config["layers"][1]["config"]["function"]["class_name"] == "__lambda__"
    assert config["layers"][1]["config"]["function"]["config"]["closure"] == [3.0]
    loaded = load_model(tmp_path / "lambda.keras", safe_mode=False)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_enable_unsafe_deserialization_opts_in_globally(tmp_path):
    path = tmp_path / "lambda.keras"
    _lambda_model(2.0).save(path)
    enable_unsafe_deserialization()
    loaded = load_model(path)
    out = loaded.layers[0](np.ones((1, 4), dtype="float32"))
    np.testing.assert_allclose(out.numpy(), np.ones((1, 4)))


def test_safe_mode_scope_reaches_nested_lambda():
    config = serialize_keras_object(keras.layers.Lambda(lambda x: x + 2.0))
    with pytest.raises(ValueError, match="safe_mode=False"):
        deserialize_keras_object(config)
    layer = deserialize_keras_object(config, safe_mode=False)
    assert float(layer.function(np.float32(1.0))) == 3.0


def test_generic_lambda_value_format_roundtrips():
    config = serialize_keras_object(lambda a, b=4: a * b)
    assert set(config["config"]) == {"value"}
    with pytest.raises(ValueError, match="safe_mode=False"):
        deserialize_keras_object(config)
    assert deserialize_keras_object(json.loads(json.dumps(config)), safe_mode=False)(3) == 12


def test_closure_over_unserializable_value_fails_at_save():
    handle = object()
    with pytest.raises(ValueError, match="closure variable 'handle'"):
        serialize_function(lambda x: (x, handle))


def test_corrupt_bytecode_is_a_clear_error():
    config = {"class_name": "__lambda__", "config": {"code": "bm90IGJ5dGVjb2Rl", "defaults": None, "closure": None}}
    with pytest.raises(ValueError, match="bytecode"):
        deserialize_function(config, safe_mode=False)


def test_unknown_named_function_needs_registration():
    config = {"module": "my_project.ops", "class_name": "function", "config": "secret", "registered_name": "secret"}
    with pytest.raises(TypeError, match=r"Could not locate function 'secret'.*custom_objects"):
        deserialize_function(config)


def test_lambda_bytecode_config_is_keras_s(keras_ref):
    """The same function's config, byte for byte: base64 in 76-column lines, as Keras writes it."""
    fn = lambda x: x * 3 + 1  # noqa: E731
    mine = keras.layers.Lambda(fn, name="l").get_config()["function"]
    theirs = keras_ref.layers.Lambda(fn, name="l").get_config()["function"]
    assert mine == theirs
    assert "\n" in mine["config"]["code"]
    assert deserialize_function(mine, safe_mode=False)(2) == 7
