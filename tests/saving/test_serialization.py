"""serialize_keras_object / deserialize_keras_object, registration and scopes."""
import importlib
import json
import os

import numpy as np
import pytest

import cornu as keras
from cornu.saving import (CustomObjectScope, custom_object_scope, deserialize_keras_object, get_custom_objects,
                          get_registered_name, get_registered_object, register_keras_serializable,
                          serialize_keras_object)
from cornu.saving.serialization import UnresolvedObjectError


class Unregistered(keras.layers.Layer):
    def __init__(self, factor: float = 2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_builtin_layer_uses_keras_module_and_build_config():
    layer = keras.layers.Dense(3, activation="relu", name="d")
    layer(keras.Input((4,)))
    config = serialize_keras_object(layer)
    assert (config["module"], config["class_name"], config["registered_name"]) == ("keras.layers", "Dense", None)
    assert tuple(config["build_config"]["input_shape"]) == (None, 4)
    rebuilt = deserialize_keras_object(json.loads(json.dumps(config)))
    assert isinstance(rebuilt, keras.layers.Dense) and rebuilt.built
    assert rebuilt.get_config() == layer.get_config()
    assert [v.shape for v in rebuilt.weights] == [(4, 3), (3,)]


def test_registered_layer_is_found_without_custom_objects(scaled_dense):
    ScaledDense = scaled_dense
    layer = ScaledDense(4, name="scaled")
    config = json.loads(json.dumps(serialize_keras_object(layer)))
    assert config["registered_name"] == "SavingTests>ScaledDense"
    assert get_registered_name(ScaledDense) == "SavingTests>ScaledDense"
    assert get_registered_object("SavingTests>ScaledDense") is ScaledDense
    assert get_custom_objects()["SavingTests>ScaledDense"] is ScaledDense
    rebuilt = deserialize_keras_object(config)
    assert type(rebuilt) is ScaledDense and rebuilt.units == 4 and rebuilt.name == "scaled"


def test_unregistered_class_needs_custom_objects():
    config = json.loads(json.dumps(serialize_keras_object(Unregistered(3.0))))
    with pytest.raises(TypeError, match=r"Could not locate class 'Unregistered'.*custom_objects"):
        deserialize_keras_object(config)
    assert deserialize_keras_object(config, custom_objects={"Unregistered": Unregistered}).factor == 3.0
    with custom_object_scope({"Unregistered": Unregistered}):
        assert isinstance(deserialize_keras_object(config), Unregistered)
    with pytest.raises(TypeError, match="Unregistered"):
        deserialize_keras_object(config)


def test_custom_object_scopes_nest_and_reject_non_dicts():
    with CustomObjectScope({"A": int}):
        with CustomObjectScope({"B": float}):
            assert get_registered_object("A") is int and get_registered_object("B") is float
        assert get_registered_object("B") is None
    with pytest.raises(TypeError, match="argument 0"):
        CustomObjectScope(["A"])


@pytest.mark.parametrize("config", [
    {"module": "os", "class_name": "system", "config": {"command": "touch pwned"}, "registered_name": None},
    {"module": "builtins", "class_name": "eval", "config": {}, "registered_name": None},
    {"module": "os", "class_name": "function", "config": "system", "registered_name": None},
    {"module": "builtins", "class_name": "function", "config": "eval", "registered_name": "eval"},
    {"module": "subprocess", "class_name": "Popen", "config": {"args": ["true"]}, "registered_name": "Popen"},
])
def test_configs_naming_dangerous_callables_are_refused(config, monkeypatch):
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a))
    real_import = importlib.import_module
    monkeypatch.setattr(importlib, "import_module", lambda name, *a: calls.append(name) or real_import(name, *a))
    with pytest.raises(UnresolvedObjectError, match=repr(config["config"] if config["class_name"] == "function"
                                                         else config["class_name"])):
        deserialize_keras_object(config)
    assert calls == []


def test_classes_are_never_imported_even_unsafe():
    config = {"module": "collections", "class_name": "OrderedDict", "config": {}, "registered_name": None}
    with pytest.raises(UnresolvedObjectError, match="never imports"):
        deserialize_keras_object(config, safe_mode=False)


def test_function_module_is_imported_only_when_unsafe():
    config = {"module": "math", "class_name": "function", "config": "sqrt", "registered_name": "sqrt"}
    with pytest.raises(UnresolvedObjectError, match="safe_mode=False"):
        deserialize_keras_object(config)
    import math

    assert deserialize_keras_object(config, safe_mode=False) is math.sqrt


def test_builtin_functions_and_family_disambiguation():
    relu = deserialize_keras_object({"module": "keras.activations", "class_name": "function", "config": "relu",
                                     "registered_name": "relu"})
    assert relu is keras.activations.relu
    metric = deserialize_keras_object({"module": "keras.metrics", "class_name": "MeanSquaredError",
                                       "config": {"name": "mse_metric"}, "registered_name": None})
    loss = deserialize_keras_object(serialize_keras_object(keras.losses.MeanSquaredError()))
    assert isinstance(metric, keras.metrics.MeanSquaredError) and metric.name == "mse_metric"
    assert isinstance(loss, keras.losses.MeanSquaredError)


def test_optimizer_roundtrip_keeps_config():
    optimizer = keras.optimizers.Adam(learning_rate=0.01, beta_1=0.8, clipnorm=1.0)
    config = json.loads(json.dumps(serialize_keras_object(optimizer)))
    assert config["module"] == "keras.optimizers" and config["class_name"] == "Adam"
    assert deserialize_keras_object(config).get_config() == optimizer.get_config()


def test_special_values_roundtrip_through_json():
    value = {"t": (1, 2), "a": np.arange(6, dtype="int16").reshape(2, 3), "b": b"raw", "s": slice(1, None, 2),
             "e": Ellipsis, "n": np.float32(1.5)}
    out = deserialize_keras_object(json.loads(json.dumps(serialize_keras_object(value))))
    assert out["t"] == [1, 2] and out["b"] == b"raw" and out["s"] == slice(1, None, 2) and out["e"] is Ellipsis
    np.testing.assert_array_equal(out["a"], value["a"])
    assert out["a"].dtype == np.int16 and out["n"] == 1.5


def test_keras_written_layer_config_with_dtype_policy_loads():
    config = {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
              "config": {"name": "dense_7", "trainable": True, "units": 5, "activation": "tanh", "use_bias": True,
                         "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                                   "registered_name": None},
                         "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                                                "config": {"seed": None}, "registered_name": None}},
              "build_config": {"input_shape": [None, 3]}}
    layer = deserialize_keras_object(config)
    assert layer.name == "dense_7" and layer.units == 5 and layer.dtype == "float32"
    assert layer.kernel.shape == (3, 5)


def test_register_validates_arguments():
    with pytest.raises(ValueError, match="package"):
        register_keras_serializable(package="a>b")
    with pytest.raises(ValueError, match="get_config"):
        register_keras_serializable(package="SavingTests")(type("NoConfig", (), {}))


def test_unserializable_object_raises_type_error():
    with pytest.raises(TypeError, match="get_config"):
        serialize_keras_object(object())
