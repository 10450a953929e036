"""VGG16/VGG19: parameter counts from the layer formula, shapes, top and pooling options."""
import pytest

from cornu.applications import vgg16, vgg19
from tests.helpers import random_array


def _conv_params(convs_per_block):
    total, c_in = 0, 3
    for filters, convs in zip((64, 128, 256, 512, 512), convs_per_block):
        for _ in range(convs):
            total += 9 * c_in * filters + filters
            c_in = filters
    return total


@pytest.mark.parametrize("fn,convs", [(vgg16.VGG16, (2, 2, 3, 3, 3)), (vgg19.VGG19, (2, 2, 4, 4, 4))])
def test_parameter_count_and_shapes(fn, convs):
    features = fn(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert features.count_params() == _conv_params(convs)
    assert features.output_shape == (None, 1, 1, 512)
    assert features.layers[-1].name == "block5_pool"
    pooled = fn(weights=None, include_top=False, pooling="max", input_shape=(64, 64, 3))
    assert pooled.predict(random_array((2, 64, 64, 3)), verbose=0).shape == (2, 512)


def test_top_is_flatten_fc1_fc2_predictions():
    model = vgg16.VGG16(weights=None, input_shape=(32, 32, 3), classes=5)
    assert [l.name for l in model.layers[-4:]] == ["flatten", "fc1", "fc2", "predictions"]
    assert model.count_params() == _conv_params((2, 2, 3, 3, 3)) + 512 * 4096 + 4096 + 4096 * 4096 + 4096 \
        + 4096 * 5 + 5
    assert model.output_shape == (None, 5)
