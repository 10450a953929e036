"""keras.dtype_policies: policy names and dtypes, get/serialize/deserialize, DTypePolicyMap, the global policy."""
import json

import numpy as np
import pytest
import torch

import cornu as keras
from cornu import dtype_policies
from cornu.dtype_policies import dtype_policy as dtype_policy_module
from cornu.saving.serialization import deserialize_keras_object, serialize_keras_object

P = dtype_policies.DTypePolicy


@pytest.fixture(autouse=True)
def no_global_policy(monkeypatch):
    """Each test starts with no global policy set (it follows floatx) and leaves none behind."""
    monkeypatch.setattr(dtype_policy_module, "_GLOBAL_POLICY", None)


@pytest.mark.parametrize("name,compute,variable", [
    ("float32", "float32", "float32"), ("float16", "float16", "float16"), ("bfloat16", "bfloat16", "bfloat16"),
    ("float64", "float64", "float64"), ("int32", "int32", "int32"), ("int", "int32", "int32"),
    ("mixed_float16", "float16", "float32"), ("mixed_bfloat16", "bfloat16", "float32")])
def test_policy_dtypes(name, compute, variable):
    policy = P(name)
    assert (policy.name, policy.compute_dtype, policy.variable_dtype) == (name, compute, variable)
    assert policy.quantization_mode is None
    assert policy.get_config() == {"name": name}
    assert repr(policy) == f'<DTypePolicy "{name}">'


@pytest.mark.parametrize("name", ["mixed_float32", "foo", "float", "Float32", "float32 ", "int4"])
def test_unknown_names_are_value_errors_naming_the_value(name):
    with pytest.raises(ValueError, match=repr(name).replace("(", r"\(")):
        P(name)
    with pytest.raises(ValueError, match=repr(name)):
        dtype_policies.get(name)
    with pytest.raises(ValueError, match=repr(name)):
        keras.mixed_precision.set_global_policy(name)
    with pytest.raises(ValueError, match=repr(name)):
        keras.layers.Dense(2, dtype=name)


def test_non_string_names():
    with pytest.raises(TypeError, match="name=1"):
        P(1)
    for bad in (1, 2.5, [1]):
        with pytest.raises(ValueError, match=f"dtype={bad!r}".replace("[", r"\[")):
            dtype_policies.get(bad)
        with pytest.raises(ValueError, match="policy="):
            keras.config.set_dtype_policy(bad)
    with pytest.raises(ValueError, match="policy=None"):
        keras.mixed_precision.set_global_policy(None)


def test_name_is_read_only():
    with pytest.raises(AttributeError):
        P("float32").name = "float16"


def test_get_accepts_names_dtypes_configs_and_policies():
    policy = P("mixed_float16")
    assert dtype_policies.get(policy) is policy
    assert dtype_policies.get("mixed_bfloat16") == P("mixed_bfloat16")
    assert dtype_policies.get(np.float64).name == "float64"
    assert dtype_policies.get(np.dtype("float16")).name == "float16"
    assert dtype_policies.get(torch.bfloat16).name == "bfloat16"
    assert dtype_policies.get({"class_name": "DTypePolicy", "config": {"name": "float16"}}) == P("float16")
    assert dtype_policies.get(None) is keras.config.dtype_policy()


def test_serialize_writes_keras_form_and_round_trips():
    policy = P("mixed_float16")
    config = dtype_policies.serialize(policy)
    assert config == {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "mixed_float16"},
                      "registered_name": None}
    assert dtype_policies.deserialize(json.loads(json.dumps(config))) == policy
    assert serialize_keras_object(policy) == config
    assert deserialize_keras_object(config) == policy
    assert dtype_policies.serialize("float32") == "float32"
    assert dtype_policies.deserialize("float32") == "float32"
    with pytest.raises(ValueError, match="Dense"):
        dtype_policies.deserialize({"class_name": "Dense", "config": {"units": 2}})


def test_float_dtype_policy_keeps_its_class_name_in_configs():
    policy = dtype_policies.FloatDTypePolicy("bfloat16")
    assert isinstance(policy, P) and repr(policy) == '<DTypePolicy "bfloat16">'
    config = dtype_policies.serialize(policy)
    assert config["class_name"] == "FloatDTypePolicy" and config["module"] == "keras"
    back = dtype_policies.get(config)
    assert type(back) is dtype_policies.FloatDTypePolicy and back.compute_dtype == "bfloat16"


def test_equality_by_name_and_unhashable():
    assert P("float32") == P("float32") == dtype_policies.FloatDTypePolicy("float32")
    assert P("float32") != P("bfloat16")
    assert P("mixed_float16") != "mixed_float16"
    with pytest.raises(TypeError):
        hash(P("float32"))


def test_policy_map_lookups():
    policy_map = dtype_policies.DTypePolicyMap(policy_map={"dense.*": P("bfloat16"), "dense_1.*": P("float16"),
                                                           "x": P("float64")})
    assert policy_map["x"] == P("float64")  # an exact key
    assert policy_map["dense_2/kernel"] == P("bfloat16")  # a key as a regex matching the whole path
    assert policy_map["model/dense"] == policy_map.default_policy == P("float32")  # no key: the default
    with pytest.raises(ValueError, match="dense_1/kernel"):
        policy_map["dense_1/kernel"]  # two keys match
    assert "x" in policy_map and "dense_2" not in policy_map
    assert list(policy_map) == ["dense.*", "dense_1.*", "x"] and len(policy_map) == 3
    with pytest.raises(ValueError, match="already exist"):
        policy_map["x"] = P("float16")
    with pytest.raises(ValueError, match="'foo'"):
        policy_map["y"] = "foo"
    del policy_map["x"]
    assert "x" not in policy_map


def test_policy_map_default_and_arguments():
    policy_map = dtype_policies.DTypePolicyMap(default_policy="mixed_bfloat16")
    assert policy_map.name == "map_mixed_bfloat16"
    assert (policy_map.compute_dtype, policy_map.variable_dtype) == ("bfloat16", "float32")
    keras.config.set_dtype_policy("mixed_float16")
    assert dtype_policies.DTypePolicyMap().default_policy == P("mixed_float16")
    with pytest.raises(TypeError, match="policy_map"):
        dtype_policies.DTypePolicyMap(policy_map=[1])
    with pytest.raises(ValueError, match="DTypePolicyMap"):
        dtype_policies.DTypePolicyMap(default_policy=dtype_policies.DTypePolicyMap())


def test_policy_map_serializes_and_round_trips():
    policy_map = dtype_policies.DTypePolicyMap(default_policy=P("mixed_float16"), policy_map={"a": P("bfloat16")})
    config = dtype_policies.serialize(policy_map)
    policy_config = {"module": "keras", "class_name": "DTypePolicy", "registered_name": None}
    assert config == {"module": "keras.dtype_policies", "class_name": "DTypePolicyMap", "registered_name": None,
                      "config": {"default_policy": {**policy_config, "config": {"name": "mixed_float16"}},
                                 "policy_map": {"a": {**policy_config, "config": {"name": "bfloat16"}}}}}
    for back in (dtype_policies.deserialize(json.loads(json.dumps(config))), deserialize_keras_object(config)):
        assert isinstance(back, dtype_policies.DTypePolicyMap)
        assert back == policy_map and back["a"] == P("bfloat16") and back["b"] == P("mixed_float16")


def test_global_policy_follows_floatx_until_set(monkeypatch):
    monkeypatch.setattr(keras.config, "_FLOATX", "float64")
    assert keras.mixed_precision.global_policy() == P("float64")
    assert keras.layers.Dense(2).dtype_policy == P("float64")
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    assert keras.config.floatx() == "float64"  # setting a policy leaves floatx alone
    assert keras.config.dtype_policy() is keras.mixed_precision.global_policy()
    assert keras.config.dtype_policy() == P("mixed_bfloat16")


def test_global_policy_applies_to_new_layers_only():
    before = keras.layers.Dense(2)
    keras.config.set_dtype_policy(P("mixed_float16"))
    after = keras.layers.Dense(2)
    assert before.dtype_policy == P("float32") and after.dtype_policy == P("mixed_float16")
    assert keras.layers.Dense(2, dtype="float64").dtype_policy == P("float64")  # an explicit dtype wins
    keras.mixed_precision.set_global_policy("float32")
    assert after.dtype_policy == P("mixed_float16") and keras.layers.Dense(2).dtype_policy == P("float32")


def test_mixed_precision_namespace():
    mp = keras.mixed_precision
    assert mp.Policy is mp.DTypePolicy is P
    assert mp.LossScaleOptimizer is keras.optimizers.LossScaleOptimizer
    assert mp.set_global_policy is mp.set_dtype_policy and mp.global_policy is mp.dtype_policy
    assert keras.dtype_policies is dtype_policies
