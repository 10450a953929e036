"""MobileNet: widths by alpha, depthwise multiplier, the convolutional classifier, imagenet argument checks."""
import numpy as np
import pytest

from cornu.applications import mobilenet
from tests.helpers import assert_close, random_array


def test_widths_and_classifier():
    model = mobilenet.MobileNet(weights=None, input_shape=(32, 32, 3), alpha=0.5, depth_multiplier=2, classes=6)
    assert model.name == "mobilenet_0.50_32"
    assert model.get_layer("conv1").filters == 16
    assert model.get_layer("conv_pw_13").filters == 512
    assert model.get_layer("conv_dw_13").depth_multiplier == 2
    assert [l.name for l in model.layers[-4:]] == ["dropout", "conv_preds", "reshape_2", "predictions"]
    probs = model.predict(random_array((2, 32, 32, 3)), verbose=0)
    assert probs.shape == (2, 6)
    assert_close(probs.sum(axis=1), np.ones(2), rtol=1e-5)


def test_imagenet_checks():
    with pytest.raises(ValueError, match="depth_multiplier=2"):
        mobilenet.MobileNet(weights="imagenet", depth_multiplier=2)
    with pytest.raises(ValueError, match="alpha=0.3"):
        mobilenet.MobileNet(weights="imagenet", alpha=0.3)
