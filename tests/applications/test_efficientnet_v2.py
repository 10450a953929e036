"""EfficientNetV2: fused and plain MBConv stages, built-in preprocessing per variant, shapes."""
import numpy as np

from cornu import layers
from cornu.applications import efficientnet_v2
from tests.helpers import assert_close, random_array


def test_fused_stages_have_no_depthwise_convolutions():
    model = efficientnet_v2.EfficientNetV2B0(weights=None, include_top=False, input_shape=(32, 32, 3))
    depthwise = {l.name.split("_")[0] for l in model.layers if isinstance(l, layers.DepthwiseConv2D)}
    assert depthwise == {f"block{i}{c}" for i, n in ((4, 3), (5, 5), (6, 8)) for c in "abcdefgh"[:n]}
    assert model.get_layer("block1a_project_conv").kernel_size == (3, 3)
    assert model.output_shape == (None, 1, 1, 1280)


def test_preprocessing_depends_on_the_variant():
    b = efficientnet_v2.EfficientNetV2B1(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert any(isinstance(l, layers.Normalization) for l in b.layers)
    s = efficientnet_v2.EfficientNetV2S(weights=None, include_top=False, input_shape=(32, 32, 3))
    rescaling = [l for l in s.layers if isinstance(l, layers.Rescaling)]
    assert not any(isinstance(l, layers.Normalization) for l in s.layers)
    assert_close(rescaling[0](np.array([0.0, 128.0, 255.0], "float32")), [-1.0, 0.0, 127.0 / 128.0])


def test_predict():
    model = efficientnet_v2.EfficientNetV2B0(weights=None, input_shape=(32, 32, 3), classes=3)
    probs = model.predict(random_array((2, 32, 32, 3), low=0.0, high=255.0), verbose=0)
    assert_close(probs.sum(axis=1), np.ones(2), rtol=1e-5)
