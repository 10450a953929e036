"""Masks in functional configs: an ``Embedding(mask_zero=True)`` or ``Masking`` mask is an op node of the graph, and
the layers that consume it record it as their ``mask`` argument, as Keras 3.15 writes them."""
from __future__ import annotations

import json

import numpy as np
import pytest

import cornu as keras
from tests.helpers import random_array


def masked_models(k) -> dict:
    """The same functional models in ``k`` (cornu or Keras), every layer named."""
    L = k.layers
    models = {}
    ids = k.Input((6,), dtype="int32", name="ids")
    e = L.Embedding(12, 4, mask_zero=True, name="emb")(ids)
    models["embedding_lstm"] = k.Model(ids, L.Dense(2, name="out")(L.LSTM(3, name="lstm")(e)), name="m1")

    ids = k.Input((6,), dtype="int32", name="ids")
    e = L.Embedding(12, 4, mask_zero=True, name="emb")(ids)
    h = L.LSTM(3, return_sequences=True, name="lstm_a")(L.Dropout(0.1, name="drop")(e))
    h = L.LSTM(3, name="lstm_b")(L.Dense(5, name="proj")(h))
    models["stacked_through_dense"] = k.Model(ids, h, name="m2")

    ids = k.Input((6,), dtype="int32", name="ids")
    e = L.Embedding(12, 4, mask_zero=True, name="emb")(ids)
    models["pooling"] = k.Model(ids, L.GlobalAveragePooling1D(name="pool")(e), name="m3")

    x = k.Input((5, 3), name="x")
    m = L.Masking(mask_value=0.0, name="masking")(x)
    models["masking_gru"] = k.Model(x, L.GRU(2, name="gru")(m), name="m4")

    ids = k.Input((6,), dtype="int32", name="ids")
    e = L.Embedding(12, 4, mask_zero=True, name="emb")(ids)
    bi = L.Bidirectional(L.LSTM(2, name="inner"), name="bi")(e)
    models["bidirectional"] = k.Model(ids, bi, name="m5")

    ids = k.Input((6,), dtype="int32", name="ids")
    e = L.Embedding(12, 4, mask_zero=True, name="emb")(ids)
    explicit = k.ops.not_equal(ids, 0)
    models["explicit_mask"] = k.Model(ids, L.LSTM(3, name="lstm")(e, mask=explicit), name="m6")

    ids = k.Input((6,), dtype="int32", name="ids")
    e = L.Embedding(12, 4, mask_zero=False, name="emb")(ids)
    models["no_mask"] = k.Model(ids, L.LSTM(3, name="lstm")(e), name="m7")
    return models


def model_inputs(name: str) -> np.ndarray:
    if name == "masking_gru":
        x = random_array((4, 5, 3), seed=1)
        x[:, 3:] = 0.0
        return x
    ids = np.random.default_rng(2).integers(1, 12, (4, 6)).astype("int32")
    ids[:, 4:] = 0
    ids[1, :] = 0  # a fully masked row
    return ids


NAMES = list(masked_models(keras))


def _configs(k, name):
    k.backend.clear_session()  # op and layer names count from zero in both libraries
    k.utils.set_random_seed(0)
    model = masked_models(k)[name]
    return model, json.loads(json.dumps(model.get_config()))


def test_embedding_mask_is_a_not_equal_node():
    model, config = _configs(keras, "embedding_lstm")
    layers = {entry["name"]: entry for entry in config["layers"]}
    assert [entry["name"] for entry in config["layers"]] == ["ids", "emb", "not_equal", "lstm", "out"]
    node = layers["not_equal"]
    assert (node["module"], node["class_name"]) == ("keras.src.ops.numpy", "NotEqual")
    assert node["inbound_nodes"][0]["args"][1] == 0
    mask = layers["lstm"]["inbound_nodes"][0]["kwargs"]["mask"]
    assert mask["config"]["keras_history"] == ["not_equal", 0, 0] and mask["config"]["dtype"] == "bool"
    assert [layer.name for layer in model.layers] == ["ids", "emb", "lstm", "out"]  # ops are not layers


@pytest.mark.parametrize("name", NAMES)
def test_masked_models_round_trip(name):
    model, config = _configs(keras, name)
    rebuilt = keras.Model.from_config(config)
    rebuilt.set_weights(model.get_weights())
    x = model_inputs(name)
    np.testing.assert_allclose(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-6)
    assert json.loads(json.dumps(rebuilt.get_config())) == config


def test_mask_node_follows_the_mask_not_the_explicit_argument():
    _, config = _configs(keras, "explicit_mask")
    lstm = next(entry for entry in config["layers"] if entry["name"] == "lstm")
    assert lstm["inbound_nodes"][0]["kwargs"].keys() == {"mask"}  # a caller's keyword: nothing filled in
    _, config = _configs(keras, "no_mask")
    lstm = next(entry for entry in config["layers"] if entry["name"] == "lstm")
    assert lstm["inbound_nodes"][0]["kwargs"] == {"training": False, "mask": None}


@pytest.mark.parametrize("name", NAMES)
def test_configs_equal_keras(keras_ref, name):
    _, ours = _configs(keras, name)
    _, theirs = _configs(keras_ref, name)
    assert ours == theirs


@pytest.mark.parametrize("name", NAMES)
def test_files_move_both_ways(keras_ref, name, tmp_path):
    x = model_inputs(name)
    ours, _ = _configs(keras, name)
    ours.save(tmp_path / "cornu.keras")
    theirs = keras_ref.saving.load_model(tmp_path / "cornu.keras")
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    original, _ = _configs(keras_ref, name)
    original.save(tmp_path / "keras.keras")
    loaded = keras.saving.load_model(tmp_path / "keras.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), np.asarray(original.predict(x, verbose=0)),
                               rtol=1e-5, atol=1e-6)


def test_nested_sequential_records_by_its_input_dtype(keras_ref):
    """A Sequential model converts its inputs to its input layer's dtype (int32 here), so a call on an int32
    tensor is recorded with the values Keras fills in, as Keras records it."""
    def config(k):
        k.backend.clear_session()
        inner = k.Sequential([k.Input((4,), dtype="int32"), k.layers.Dense(2, name="d")], name="inner")
        x = k.Input((4,), dtype="int32", name="x")
        return json.loads(json.dumps(k.Model(x, inner(x), name="outer").get_config()))

    ours = config(keras)
    assert next(e for e in ours["layers"] if e["name"] == "inner")["inbound_nodes"][0]["kwargs"] == {"mask": None}
    assert ours == config(keras_ref)


def test_uncompiled_model_writes_an_empty_compile_config(tmp_path, keras_ref):
    """Keras writes ``"compile_config": {}`` for a model that was never compiled (top level and nested); loading
    it compiles nothing."""
    import zipfile

    for k, path in ((keras, tmp_path / "ours.keras"), (keras_ref, tmp_path / "theirs.keras")):
        k.Sequential([k.Input((4,)), k.layers.Dense(2)]).save(path)
    ours, theirs = (json.loads(zipfile.ZipFile(p).read("config.json")) for p in
                    (tmp_path / "ours.keras", tmp_path / "theirs.keras"))
    assert ours["compile_config"] == theirs["compile_config"] == {}
    assert not keras.saving.load_model(tmp_path / "theirs.keras").compiled
