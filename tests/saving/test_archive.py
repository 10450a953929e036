"""The ``.keras`` archive: round trips, compile state and hostile archives."""
import json
import os
import re
import zipfile

import numpy as np
import pytest
import torch

import cornu as keras
from cornu.saving import archive, load_model, save_model


def _assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for x, y in zip(wa, wb):
        np.testing.assert_array_equal(x, y)


def _write_archive(path, members):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _members_of(path):
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_cnn_roundtrip_with_compile_state(tmp_path, make_cnn, images):
    x, y = images
    model = make_cnn()
    model.compile(keras.optimizers.Adam(2 ** -10), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=8, verbose=0)
    path = tmp_path / "cnn.keras"
    model.save(path)
    loaded = load_model(path)
    assert type(loaded) is keras.Sequential and [l.name for l in loaded.layers] == [l.name for l in model.layers]
    _assert_same_weights(model, loaded)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.compiled and type(loaded.optimizer) is keras.optimizers.Adam
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations)
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    torch.manual_seed(7)
    model.fit(x, y, batch_size=8, shuffle=False, verbose=0)
    torch.manual_seed(7)
    loaded.fit(x, y, batch_size=8, shuffle=False, verbose=0)
    _assert_same_weights(model, loaded)


def test_archive_members_and_metadata(tmp_path, make_mlp):
    model = make_mlp()
    model.compile("sgd", "mse", metrics=["mae"])
    save_model(model, tmp_path / "m.keras")
    members = _members_of(tmp_path / "m.keras")
    assert set(members) == {"metadata.json", "config.json", "model.weights.h5"}
    metadata = json.loads(members["metadata.json"])
    assert metadata["keras_version"] == keras.__version__
    assert re.fullmatch(r"\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d", metadata["date_saved"])
    config = json.loads(members["config.json"])
    assert (config["module"], config["class_name"]) == ("keras", "Sequential")
    assert config["compile_config"]["loss"] == "mse" and config["compile_config"]["metrics"] == ["mae"]
    assert config["compile_config"]["optimizer"]["class_name"] == "SGD"


def test_functional_shared_layer_roundtrip(tmp_path, vectors):
    x, _ = vectors
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    shared = keras.layers.Dense(3, name="shared")
    merged = keras.layers.Concatenate()([shared(a), shared(b)])
    model = keras.Model({"a": a, "b": b}, {"out": keras.layers.Dense(1, name="out")(merged),
                                           "diff": keras.layers.Subtract(name="diff")([shared(a), shared(b)])})
    model.save(tmp_path / "f.keras")
    loaded = load_model(tmp_path / "f.keras")
    _assert_same_weights(model, loaded)
    expected, got = model.predict({"a": x, "b": x[::-1]}, verbose=0), loaded.predict({"a": x, "b": x[::-1]}, verbose=0)
    for key in ("out", "diff"):
        np.testing.assert_array_equal(got[key], expected[key])


def test_nested_and_custom_layers_roundtrip(tmp_path, scaled_dense, vectors):
    x, _ = vectors
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="tanh")], name="inner")
    inp = keras.Input((4,))
    model = keras.Model(inp, scaled_dense(2, name="custom")(inner(inp)))
    model.get_layer("custom").scale.assign(np.float32(0.5))
    model.save(tmp_path / "n.keras")
    loaded = load_model(tmp_path / "n.keras")
    assert type(loaded.get_layer("custom")) is scaled_dense
    assert float(loaded.get_layer("custom").scale.numpy()) == 0.5
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_subclassed_registered_model_roundtrip_and_training(tmp_path, two_block_net, vectors):
    x, y = vectors
    model = two_block_net(hidden=6)
    model.compile(keras.optimizers.SGD(2 ** -4, momentum=0.5), "mse")
    model.fit(x, y, batch_size=8, verbose=0)
    model.save(tmp_path / "s.keras")
    loaded = load_model(tmp_path / "s.keras")
    assert type(loaded) is two_block_net and loaded.hidden == 6
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    model.fit(x, y, batch_size=8, shuffle=False, verbose=0)
    loaded.fit(x, y, batch_size=8, shuffle=False, verbose=0)
    _assert_same_weights(model, loaded)


def test_unregistered_subclassed_model_needs_custom_objects(tmp_path, vectors):
    x, _ = vectors

    class Plain(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    model = Plain()
    model(x)
    model.save(tmp_path / "p.keras")
    with pytest.raises(TypeError, match=r"'Plain'.*custom_objects"):
        load_model(tmp_path / "p.keras")
    loaded = load_model(tmp_path / "p.keras", custom_objects={"Plain": Plain})
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_compile_false_skips_compile_state(tmp_path, make_mlp):
    model = make_mlp()
    model.compile("adam", "mse")
    model.save(tmp_path / "m.keras")
    assert not load_model(tmp_path / "m.keras", compile=False).compiled


def test_load_weights_from_archive(tmp_path, make_mlp, vectors):
    x, _ = vectors
    model = make_mlp()
    model.save(tmp_path / "m.keras")
    other = make_mlp()
    other.load_weights(tmp_path / "m.keras")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("name,match", [("m.weights.h5", "save_weights"),
                                        ("m.txt", r"\.keras")])
def test_extension_checks(tmp_path, make_mlp, name, match):
    with pytest.raises(ValueError, match=match):
        make_mlp().save(tmp_path / name)
    with pytest.raises(ValueError, match="save_format"):
        make_mlp().save(tmp_path / "m.keras", save_format="tf")


def test_member_outside_archive_is_refused(tmp_path, make_mlp):
    make_mlp().save(tmp_path / "good.keras")
    members = _members_of(tmp_path / "good.keras")
    work = tmp_path / "work"
    work.mkdir()
    for evil in ("../evil", "/abs/evil", "assets/..\\evil"):
        _write_archive(work / "bad.keras", {**members, evil: b"pwned"})
        with pytest.raises(ValueError, match="unsafe member path"):
            load_model(work / "bad.keras")
    assert not (tmp_path / "evil").exists() and sorted(os.listdir(work)) == ["bad.keras"]


def test_zip_bomb_is_refused(tmp_path, make_mlp):
    make_mlp().save(tmp_path / "good.keras")
    members = _members_of(tmp_path / "good.keras")
    _write_archive(tmp_path / "bomb.keras", {**members, "config.json": b" " * (8 * 1024 * 1024)})
    with pytest.raises(ValueError, match="zip bomb"):
        load_model(tmp_path / "bomb.keras")


def test_config_naming_os_system_executes_nothing(tmp_path, make_mlp, monkeypatch):
    make_mlp().save(tmp_path / "good.keras")
    members = _members_of(tmp_path / "good.keras")
    evil = {"module": "os", "class_name": "system", "config": {"command": "echo pwned"}, "registered_name": None}
    _write_archive(tmp_path / "evil.keras", {**members, "config.json": json.dumps(evil)})
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a))
    with pytest.raises(TypeError, match="'system'"):
        load_model(tmp_path / "evil.keras")
    with pytest.raises(TypeError, match="'system'"):
        load_model(tmp_path / "evil.keras", safe_mode=False)
    assert calls == []


def test_broken_archives_are_clear_errors(tmp_path, make_mlp):
    make_mlp().save(tmp_path / "good.keras")
    data = (tmp_path / "good.keras").read_bytes()
    (tmp_path / "cut.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.keras.*not a valid `\.keras` archive"):
        load_model(tmp_path / "cut.keras")
    (tmp_path / "plain.keras").write_text("hello")
    with pytest.raises(ValueError, match=r"plain\.keras"):
        load_model(tmp_path / "plain.keras")
    _write_archive(tmp_path / "empty.keras", {"metadata.json": b"{}"})
    with pytest.raises(ValueError, match="config.json"):
        load_model(tmp_path / "empty.keras")
    members = _members_of(tmp_path / "good.keras")
    _write_archive(tmp_path / "badjson.keras", {**members, "config.json": b"{not json"})
    with pytest.raises(ValueError, match="not valid JSON"):
        load_model(tmp_path / "badjson.keras")
    _write_archive(tmp_path / "badh5.keras", {**members, "model.weights.h5": b"\x89HDF garbage"})
    with pytest.raises(ValueError, match=r"model\.weights\.h5.*badh5\.keras"):
        load_model(tmp_path / "badh5.keras")
    with pytest.raises(ValueError, match="File not found"):
        load_model(tmp_path / "missing.keras")


def test_failed_save_keeps_previous_archive(tmp_path, make_mlp, monkeypatch):
    path = tmp_path / "m.keras"
    make_mlp().save(path)
    before = path.read_bytes()

    def failing_writestr(self, name, data, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    with pytest.raises(OSError, match="disk full"):
        make_mlp().save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.keras"]
    monkeypatch.undo()
    assert archive.load_model(path).get_weights()[0].shape == (4, 3)


def test_multi_output_compile_config_roundtrip(tmp_path, vectors):
    x, y = vectors
    inp = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(3)(inp)
    model = keras.Model(inp, {"reg": keras.layers.Dense(1, name="reg")(hidden),
                              "cls": keras.layers.Dense(2, activation="softmax", name="cls")(hidden)})
    model.compile(keras.optimizers.RMSprop(2 ** -8),
                  loss={"reg": keras.losses.MeanSquaredError(), "cls": "sparse_categorical_crossentropy"},
                  loss_weights={"reg": 0.5, "cls": 2.0},
                  metrics={"reg": [keras.metrics.MeanAbsoluteError()], "cls": ["accuracy"]})
    targets = {"reg": y, "cls": (y[:, 0] > 0.5).astype("int64")}
    model.fit(x, targets, batch_size=8, verbose=0)
    model.save(tmp_path / "multi.keras")
    loaded = load_model(tmp_path / "multi.keras")
    expected = model.evaluate(x, targets, verbose=0, return_dict=True)
    assert loaded.evaluate(x, targets, verbose=0, return_dict=True) == expected
    assert "reg_mean_absolute_error" in expected
