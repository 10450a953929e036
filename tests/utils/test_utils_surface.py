"""keras.utils names: registration/serialization exports, Config, Sequence, logging switch, dtype helpers,
pack/unpack, get_source_inputs, is_keras_tensor."""
from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

import cornu as keras
from cornu import utils
from cornu.utils import io_utils


def test_saving_names_are_the_saving_objects():
    for name in ("register_keras_serializable", "get_custom_objects", "custom_object_scope", "CustomObjectScope",
                 "serialize_keras_object", "deserialize_keras_object", "get_registered_name",
                 "get_registered_object"):
        assert getattr(utils, name) is getattr(keras.saving, name)
        assert name in dir(utils)
    with pytest.raises(AttributeError):
        utils.no_such_name  # noqa: B018


def test_register_and_round_trip_through_utils():
    @utils.register_keras_serializable(package="SurfaceTest")
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    assert utils.get_registered_name(Scale) == "SurfaceTest>Scale"
    assert utils.get_registered_object("SurfaceTest>Scale") is Scale
    assert utils.get_custom_objects()["SurfaceTest>Scale"] is Scale
    restored = utils.deserialize_keras_object(utils.serialize_keras_object(Scale(3.0, name="s")))
    assert isinstance(restored, Scale) and restored.factor == 3.0


def test_sequence_is_pydataset_and_config():
    assert utils.Sequence is utils.PyDataset
    c = utils.Config(a=1, b=2)
    c.c = 3
    c["d"] = 4
    assert c.as_dict() == {"a": 1, "b": 2, "c": 3, "d": 4} and c.a == 1 and c["b"] == 2 and len(c) == 4
    assert c.to_json() == '{"a": 1, "b": 2, "c": 3, "d": 4}' and list(c) == ["a", "b", "c", "d"] and "a" in c
    c.freeze()
    assert c.frozen
    with pytest.raises(ValueError, match="frozen"):
        c.e = 5
    with pytest.raises(ValueError, match="frozen"):
        c.update(a=3)
    c.unfreeze()
    assert c.pop("d") == 4
    with pytest.raises(AttributeError, match="zz"):
        c.zz  # noqa: B018


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_interactive_logging_switch_routes_progbar_to_logging(capsys):
    assert utils.is_interactive_logging_enabled()
    logger, handler = logging.getLogger("cornu"), _Records()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    utils.disable_interactive_logging()
    try:
        assert not keras.config.is_interactive_logging_enabled()
        bar = utils.Progbar(3, verbose=2)
        bar.update(3, values=[("loss", 0.5)], finalize=True)
        assert capsys.readouterr().out == ""
        assert any("loss: 0.5000" in m for m in handler.messages)
    finally:
        utils.enable_interactive_logging()
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert keras.config.is_interactive_logging_enabled()
    io_utils.print_msg("hello")
    assert capsys.readouterr().out == "hello\n"


def test_pack_unpack_source_inputs_is_keras_tensor():
    assert utils.pack_x_y_sample_weight(1) == 1 and utils.pack_x_y_sample_weight(1, 2, 3) == (1, 2, 3)
    assert utils.pack_x_y_sample_weight((1,)) == ((1,),) and utils.pack_x_y_sample_weight(1, None, 3) == 1
    assert utils.unpack_x_y_sample_weight((1, 2)) == (1, 2, None) and utils.unpack_x_y_sample_weight(1) == (
        1, None, None)
    with pytest.raises(ValueError):
        utils.unpack_x_y_sample_weight((1, 2, 3, 4))
    a = keras.Input((2,), name="a")
    model = keras.Model(a, keras.layers.Dense(3)(a))
    b = keras.Input((2,), name="b")
    assert utils.get_source_inputs(model.output) == [a]
    assert utils.get_source_inputs(model(b)) == [b]
    c = keras.Input((3,), name="c")
    assert utils.get_source_inputs(keras.layers.Concatenate()([keras.layers.Dense(3)(b), c])) == [b, c]
    assert utils.is_keras_tensor(a) and not utils.is_keras_tensor(torch.ones(2))
    assert not utils.is_keras_tensor(np.ones(2))


def test_standardize_dtype():
    assert utils.standardize_dtype(np.float64) == "float64"
    assert utils.standardize_dtype(torch.int8) == "int8"
    assert utils.standardize_dtype("bfloat16") == "bfloat16"
    with pytest.raises(ValueError):
        utils.standardize_dtype("foo")


def test_matches_keras(keras_ref):
    ku = keras_ref.utils
    for dtype in ("float32", np.float64, torch.int8, "bool", "uint8", "bfloat16"):
        assert utils.standardize_dtype(dtype) == ku.standardize_dtype(dtype)
    for err_input in ("foo",):
        with pytest.raises(ValueError):
            ku.standardize_dtype(err_input)
        with pytest.raises(ValueError):
            utils.standardize_dtype(err_input)
    for args in ((1,), (1, 2), (1, 2, 3), (1, None, 3), ((1,),), ([1, 2],)):
        assert utils.pack_x_y_sample_weight(*args) == ku.pack_x_y_sample_weight(*args)
    for data in ((1,), (1, 2), [1, 2], (1, 2, 3), 5, [1], {"a": 1}):
        assert utils.unpack_x_y_sample_weight(data) == ku.unpack_x_y_sample_weight(data)
    with pytest.raises(ValueError):
        ku.unpack_x_y_sample_weight((1, 2, 3, 4))
    kc, cc = ku.Config(a=1, b=[2]), utils.Config(a=1, b=[2])
    assert kc.as_dict() == cc.as_dict() and kc.to_json() == cc.to_json() and list(kc) == list(cc)
    assert sorted(m for m in dir(kc) if not m.startswith("_")) == sorted(m for m in dir(cc) if not m.startswith("_"))
    kc.freeze()
    cc.freeze()
    for c in (kc, cc):
        with pytest.raises(ValueError):
            c.x = 1
        with pytest.raises(AttributeError):
            c.zz  # noqa: B018
    assert ku.is_keras_tensor(keras_ref.Input((2,))) and utils.is_keras_tensor(keras.Input((2,)))
    assert ku.Sequence is ku.PyDataset and utils.Sequence is utils.PyDataset
    k_in = keras_ref.Input((2,), name="a")
    k_model = keras_ref.Model(k_in, keras_ref.layers.Dense(3)(k_in))
    k_src = ku.get_source_inputs(k_model(keras_ref.Input((2,), name="z")))
    c_in = keras.Input((2,), name="a")
    c_model = keras.Model(c_in, keras.layers.Dense(3)(c_in))
    c_src = utils.get_source_inputs(c_model(keras.Input((2,), name="z")))
    assert [t.shape for t in k_src] == [t.shape for t in c_src] and [t.name for t in c_src] == ["z"]
