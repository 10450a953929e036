"""InceptionResNetV2: the scaled residual layer's formula and config, block errors."""
import pytest

from cornu.applications import inception_resnet_v2
from tests.helpers import assert_close, f64, random_array


def test_custom_scale_layer_formula_and_config():
    layer = inception_resnet_v2.CustomScaleLayer(0.17, name="scale")
    a, b = random_array((2, 3, 3, 4), seed=1), random_array((2, 3, 3, 4), seed=2)
    assert_close(layer([a, b]), f64(a) + 0.17 * f64(b))
    assert layer.get_config()["scale"] == 0.17


def test_unknown_block_type():
    from cornu import layers

    with pytest.raises(ValueError, match="block_type=block99"):
        inception_resnet_v2.inception_resnet_block(layers.Input((8, 8, 32)), 0.1, "block99", 1)
