"""keras.config.set_max_epochs / max_epochs / set_max_steps_per_epoch / max_steps_per_epoch."""
import inspect

import pytest

import cornu as keras
from cornu import config

_ENV = ("CORNU_MAX_EPOCHS", "KERAS_MAX_EPOCHS", "CORNU_MAX_STEPS_PER_EPOCH", "KERAS_MAX_STEPS_PER_EPOCH")


@pytest.fixture(autouse=True)
def _fresh_limits(monkeypatch):
    """Each test starts with no environment override and nothing set, and leaves the settings as they were."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(config, "_MAX_EPOCHS", config._UNSET)
    monkeypatch.setattr(config, "_MAX_STEPS_PER_EPOCH", config._UNSET)


def test_no_limit_by_default():
    assert keras.config.max_epochs() is None
    assert keras.config.max_steps_per_epoch() is None


@pytest.mark.parametrize("setter, getter", [("set_max_epochs", "max_epochs"),
                                            ("set_max_steps_per_epoch", "max_steps_per_epoch")])
def test_set_then_get_then_clear(setter, getter):
    getattr(keras.config, setter)(3)
    assert getattr(keras.config, getter)() == 3
    getattr(keras.config, setter)(None)
    assert getattr(keras.config, getter)() is None


@pytest.mark.parametrize("getter, keras_name, cornu_name", [
    ("max_epochs", "KERAS_MAX_EPOCHS", "CORNU_MAX_EPOCHS"),
    ("max_steps_per_epoch", "KERAS_MAX_STEPS_PER_EPOCH", "CORNU_MAX_STEPS_PER_EPOCH"),
])
def test_environment_variables(monkeypatch, getter, keras_name, cornu_name):
    monkeypatch.setenv(keras_name, "4")
    assert getattr(keras.config, getter)() == 4
    monkeypatch.setattr(config, "_" + getter.upper(), config._UNSET)
    monkeypatch.setenv(cornu_name, "2")
    assert getattr(keras.config, getter)() == 2  # cornu's own name wins over Keras's


def test_setter_overrides_environment(monkeypatch):
    monkeypatch.setenv("KERAS_MAX_EPOCHS", "4")
    keras.config.set_max_epochs(None)
    assert keras.config.max_epochs() is None


def test_bad_environment_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("KERAS_MAX_STEPS_PER_EPOCH", "many")
    with pytest.raises(ValueError, match="KERAS_MAX_STEPS_PER_EPOCH='many'"):
        keras.config.max_steps_per_epoch()


_NAMES = ("set_max_epochs", "max_epochs", "set_max_steps_per_epoch", "max_steps_per_epoch")


@pytest.mark.parametrize("name", _NAMES)
def test_signatures_match_keras(keras_ref, name):
    assert list(inspect.signature(getattr(keras.config, name)).parameters) == \
        list(inspect.signature(getattr(keras_ref.config, name)).parameters)


@pytest.mark.parametrize("value", [None, 1, 7])
def test_round_trip_matches_keras(keras_ref, value):
    before = (keras_ref.config.max_epochs(), keras_ref.config.max_steps_per_epoch())
    try:
        for module in (keras, keras_ref):
            module.config.set_max_epochs(value)
            module.config.set_max_steps_per_epoch(value)
        assert keras.config.max_epochs() == keras_ref.config.max_epochs()
        assert keras.config.max_steps_per_epoch() == keras_ref.config.max_steps_per_epoch()
    finally:
        keras_ref.config.set_max_epochs(before[0])
        keras_ref.config.set_max_steps_per_epoch(before[1])
