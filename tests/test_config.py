"""keras.config: floatx, epsilon, image format, device choice."""
import pytest
import torch

import cornu as keras


def test_defaults_follow_keras():
    assert keras.config.floatx() == "float32"
    assert keras.config.epsilon() == 1e-7
    assert keras.config.image_data_format() == "channels_last"
    assert keras.config.backend() == "torch"


def test_set_and_reject_values():
    with pytest.raises(ValueError, match="float8"):
        keras.config.set_floatx("float8")
    with pytest.raises(ValueError, match="channels_middle"):
        keras.config.set_image_data_format("channels_middle")


def test_device_choice():
    previous = keras.config.device()
    try:
        keras.config.set_device("cpu")
        assert keras.config.device() == torch.device("cpu")
        layer = keras.layers.Dense(2)
        layer.build((None, 3))
        assert layer.kernel.value.device.type == "cpu"
        if not torch.cuda.is_available():
            with pytest.raises(ValueError, match="cuda"):
                keras.config.set_device("cuda")
    finally:
        keras.config.set_device(previous)


@pytest.mark.parametrize("name", ["float", "double", "half", "long", "bool_", "cfloat", "qint8"])
def test_standardize_dtype_refuses_names_keras_does_not_know(name):
    from cornu.config import standardize_dtype

    with pytest.raises(ValueError, match=name):
        standardize_dtype(name)


@pytest.mark.parametrize("name", ["float", "double", "half", "long", "int", "uint16", "float8_e5m2", "bool_"])
def test_standardize_dtype_names_match_keras(keras_ref, name):
    from cornu.config import standardize_dtype

    try:
        expected = keras_ref.backend.standardize_dtype(name)
    except ValueError:
        with pytest.raises(ValueError):
            standardize_dtype(name)
    else:
        assert standardize_dtype(name) == expected
