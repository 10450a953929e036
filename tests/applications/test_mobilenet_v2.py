"""MobileNetV2: width rounding, stride-2 padding, naming by alpha and rows, residual blocks, shapes."""
import pytest

from cornu import layers
from cornu.applications import imagenet_utils, mobilenet_v2
from tests.helpers import random_array


def test_make_divisible_rounds_to_multiples_within_ten_percent():
    assert imagenet_utils.make_divisible(32 * 0.35, 8) == 16  # never below the divisor
    assert imagenet_utils.make_divisible(1280 * 1.4, 8) == 1792
    assert imagenet_utils.make_divisible(20, 8) == 24
    assert imagenet_utils.make_divisible(44, 8) == 48
    assert imagenet_utils.make_divisible(19, 16) == 32  # 16 would be more than 10% below 19


def test_correct_pad_even_odd_and_unknown():
    assert imagenet_utils.correct_pad(layers.Input((16, 16, 3)), 3) == ((0, 1), (0, 1))
    assert imagenet_utils.correct_pad(layers.Input((15, 16, 3)), 3) == ((1, 1), (0, 1))
    assert imagenet_utils.correct_pad(layers.Input((None, None, 3)), 5) == ((1, 2), (1, 2))


def test_name_shapes_and_residual_blocks():
    model = mobilenet_v2.MobileNetV2(weights=None, input_shape=(96, 96, 3), alpha=0.5, classes=3)
    assert model.name == "mobilenetv2_0.50_96"
    assert model.output_shape == (None, 3)
    adds = [l.name for l in model.layers if isinstance(l, layers.Add)]
    assert adds == [f"block_{i}_add" for i in (2, 4, 5, 7, 8, 9, 11, 12, 14, 15)]
    assert model.get_layer("Conv_1").filters == 1280
    assert model.predict(random_array((2, 96, 96, 3)), verbose=0).shape == (2, 3)


def test_imagenet_alpha_is_checked():
    with pytest.raises(ValueError, match="alpha=0.6"):
        mobilenet_v2.MobileNetV2(weights="imagenet", alpha=0.6)
    with pytest.raises(ValueError, match="classes=7"):
        mobilenet_v2.MobileNetV2(weights="imagenet", classes=7)
