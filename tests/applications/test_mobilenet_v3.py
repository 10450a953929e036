"""MobileNetV3: the hard-sigmoid gate, minimalistic variant, built-in rescaling, shapes, imagenet checks."""
import numpy as np
import pytest

from cornu import layers
from cornu.applications import mobilenet_v3
from tests.helpers import assert_close, f64, random_array


def test_hard_sigmoid_is_relu6_of_x_plus_3_over_6():
    inputs = layers.Input((5,))
    from cornu.models import Functional

    model = Functional(inputs, mobilenet_v3.hard_sigmoid(inputs))
    x = np.linspace(-5, 5, 10, dtype="float32").reshape(2, 5)
    assert_close(model.predict(x, verbose=0), np.clip(f64(x) + 3.0, 0.0, 6.0) / 6.0)


def test_variants_and_shapes():
    full = mobilenet_v3.MobileNetV3Small(weights=None, input_shape=(32, 32, 3), classes=5)
    assert full.name == "MobileNetV3Small"
    assert any("squeeze_excite" in l.name for l in full.layers)
    assert full.predict(random_array((2, 32, 32, 3), low=0.0, high=255.0), verbose=0).shape == (2, 5)
    mini = mobilenet_v3.MobileNetV3Small(weights=None, minimalistic=True, include_top=False, pooling="max",
                                         input_shape=(32, 32, 3), include_preprocessing=False)
    assert not any("squeeze_excite" in l.name for l in mini.layers)
    assert not any(isinstance(l, layers.Rescaling) for l in mini.layers)
    assert mini.output_shape == (None, 576)


def test_input_checks():
    with pytest.raises(ValueError, match="at least 32x32"):
        mobilenet_v3.MobileNetV3Large(weights=None, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="alpha"):
        mobilenet_v3.MobileNetV3Large(weights="imagenet", alpha=0.5)
