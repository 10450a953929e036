"""Functional models to Keras 3 configs and back."""
import json

import numpy as np
import pytest

import cornu as keras
from cornu.saving import deserialize_keras_object
from cornu.saving.functional_config import functional_config, functional_from_config
from cornu.symbolic import symbolic_call


def _roundtrip(model):
    rebuilt = type(model).from_config(json.loads(json.dumps(model.get_config())))
    rebuilt.set_weights(model.get_weights())
    return rebuilt


def _two_input_shared():
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    shared = keras.layers.Dense(3, name="shared")
    merged = keras.layers.Concatenate(name="merge")([shared(a), shared(b)])
    return keras.Model([a, b], keras.layers.Dense(1, name="head")(merged), name="two_in")


def test_config_layout_follows_keras(vectors):
    model = _two_input_shared()
    config = json.loads(json.dumps(functional_config(model)))
    assert set(config) == {"name", "trainable", "layers", "input_layers", "output_layers"}
    assert config["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["output_layers"] == ["head", 0, 0]  # a single output tensor is written unwrapped, as Keras does
    shared = next(entry for entry in config["layers"] if entry["name"] == "shared")
    assert {"module", "class_name", "config", "registered_name", "name", "inbound_nodes"} <= set(shared)
    histories = [node["args"][0]["config"]["keras_history"] for node in shared["inbound_nodes"]]
    assert histories == [["a", 0, 0], ["b", 0, 0]]
    merge = next(entry for entry in config["layers"] if entry["name"] == "merge")
    assert [t["config"]["keras_history"] for t in merge["inbound_nodes"][0]["args"][0]] == \
        [["shared", 0, 0], ["shared", 1, 0]]
    assert next(e for e in config["layers"] if e["name"] == "a")["inbound_nodes"] == []


def test_shared_layer_roundtrip_predicts_identically(vectors):
    x, _ = vectors
    model = _two_input_shared()
    rebuilt = _roundtrip(model)
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    assert len(rebuilt.get_layer("shared")._inbound_nodes) == 2
    np.testing.assert_array_equal(rebuilt.predict([x, x[::-1]], verbose=0), model.predict([x, x[::-1]], verbose=0))


def test_layers_are_ordered_by_depth_like_keras():
    inp = keras.Input((4,), name="inp")
    short = keras.layers.Dense(2, name="short")(inp)
    long_a = keras.layers.Dense(2, name="long_a")(inp)
    long_b = keras.layers.Dense(2, name="long_b")(long_a)
    model = keras.Model(inp, keras.layers.Add(name="add")([short, long_b]))
    assert [entry["name"] for entry in functional_config(model)["layers"]] == \
        ["inp", "long_a", "short", "long_b", "add"]


def test_dict_and_single_structures_are_kept(vectors):
    x, _ = vectors
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    model = keras.Model({"a": a, "b": b}, {"sum": keras.layers.Add(name="sum")([a, b]),
                                           "dense": keras.layers.Dense(2, name="dense")(a)})
    config = functional_config(model)
    assert config["input_layers"] == {"a": ["a", 0, 0], "b": ["b", 0, 0]}
    assert config["output_layers"] == {"sum": ["sum", 0, 0], "dense": ["dense", 0, 0]}
    rebuilt = _roundtrip(model)
    expected, got = model.predict({"a": x, "b": x}, verbose=0), rebuilt.predict({"a": x, "b": x}, verbose=0)
    assert set(got) == {"sum", "dense"}
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key])
    single = keras.Model(a, keras.layers.Dense(2, name="only")(a))
    assert functional_config(single)["input_layers"] == ["a", 0, 0]  # unwrapped, as Keras writes it


def test_nested_model_roundtrip(vectors):
    x, _ = vectors
    inner_in = keras.Input((3,))
    inner = keras.Model(inner_in, keras.layers.Dense(2, name="inner_dense")(inner_in), name="inner")
    stack = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="stack_dense")], name="stack")
    inp = keras.Input((4,), name="x")
    model = keras.Model(inp, inner(stack(inp)), name="outer")
    rebuilt = _roundtrip(model)
    assert isinstance(rebuilt.get_layer("inner"), keras.models.Functional)
    assert isinstance(rebuilt.get_layer("stack"), keras.Sequential)
    np.testing.assert_array_equal(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0))


def test_ops_calls_are_serialized_and_rebuilt(vectors):
    x, _ = vectors
    keras.backend.clear_session()  # op objects are named from one session-wide count, as in Keras
    inp = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(4, name="d")(inp)
    out = keras.ops.concatenate([hidden + inp, hidden[:, 1:3] * 2.0], axis=-1)
    model = keras.Model(inp, out)
    config = json.loads(json.dumps(functional_config(model)))
    ops_entries = [e for e in config["layers"] if e["module"].startswith("keras.src.ops.")]
    assert sorted(e["class_name"] for e in ops_entries) == ["Add", "Concatenate", "GetItem", "Multiply"]
    assert next(e for e in ops_entries if e["class_name"] == "Concatenate")["config"] == {"name": "concatenate",
                                                                                          "axis": -1}
    assert len({e["name"] for e in config["layers"]}) == len(config["layers"])
    rebuilt = _roundtrip(model)
    np.testing.assert_array_equal(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0))


def test_private_operation_is_not_implemented():
    inp = keras.Input((4,))
    out = symbolic_call(lambda t: t * 3, (inp,), {}, name="triple")
    with pytest.raises(NotImplementedError, match="'triple'"):
        functional_config(keras.Model(inp, out))


def test_inconsistent_config_is_a_clear_error():
    config = json.loads(json.dumps(functional_config(_two_input_shared())))
    head = next(e for e in config["layers"] if e["name"] == "head")
    head["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["merge", 5, 0]
    with pytest.raises(ValueError, match="'head'"):
        functional_from_config(config)
    head["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["nowhere", 0, 0]
    with pytest.raises(ValueError, match="nowhere"):
        functional_from_config(config)


def _keras_tensor(history, shape):
    return {"class_name": "__keras_tensor__", "config": {"shape": shape, "dtype": "float32", "keras_history": history}}


def test_loads_a_keras3_style_functional_config(vectors):
    x, _ = vectors
    policy = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}
    config = {
        "module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional",
        "config": {
            "name": "from_keras", "trainable": True,
            "layers": [
                {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None, "name": "in",
                 "config": {"batch_shape": [None, 4], "dtype": "float32", "sparse": False, "ragged": False,
                            "name": "in", "optional": False}, "inbound_nodes": []},
                {"module": "keras.layers", "class_name": "Dense", "registered_name": None, "name": "hidden",
                 "config": {"name": "hidden", "trainable": True, "dtype": policy, "units": 3, "activation": "relu",
                            "use_bias": True, "lora_rank": None, "quantization_config": None},
                 "build_config": {"input_shape": [None, 4]},
                 "inbound_nodes": [{"args": [_keras_tensor(["in", 0, 0], [None, 4])], "kwargs": {}}]},
                {"module": "keras.layers", "class_name": "Dense", "registered_name": None, "name": "out",
                 "config": {"name": "out", "trainable": True, "dtype": policy, "units": 1},
                 "build_config": {"input_shape": [None, 3]},
                 "inbound_nodes": [{"args": [_keras_tensor(["hidden", 0, 0], [None, 3])], "kwargs": {}}]},
            ],
            "input_layers": [["in", 0, 0]], "output_layers": [["out", 0, 0]]},
    }
    model = deserialize_keras_object(json.loads(json.dumps(config)))
    assert isinstance(model, keras.models.Functional) and model.name == "from_keras"
    hidden, out = model.get_layer("hidden"), model.get_layer("out")
    expected = np.maximum(x @ hidden.kernel.numpy() + hidden.bias.numpy(), 0) @ out.kernel.numpy() + out.bias.numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5)
    config["config"]["layers"][1]["config"]["quantization_config"] = {"mode": "int8"}
    with pytest.raises(ValueError, match="quantization_config"):
        deserialize_keras_object(config)


def test_keras2_inbound_node_format_is_accepted(vectors):
    x, _ = vectors
    model = _two_input_shared()
    config = json.loads(json.dumps(functional_config(model)))
    for entry in config["layers"]:
        legacy = []
        for node in entry["inbound_nodes"]:
            arg = node["args"][0]
            tensors = arg if isinstance(arg, list) else [arg]
            legacy.append([t["config"]["keras_history"] + [{}] for t in tensors])
        entry["inbound_nodes"] = legacy
    rebuilt = functional_from_config(config)
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_array_equal(rebuilt.predict([x, x], verbose=0), model.predict([x, x], verbose=0))
