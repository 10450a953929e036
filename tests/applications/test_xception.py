"""Xception: input size limits, shortcut structure, output shapes."""
import pytest

from cornu import layers
from cornu.applications import xception
from tests.helpers import random_array


def test_shapes_and_residual_adds():
    model = xception.Xception(weights=None, include_top=False, pooling="avg", input_shape=(71, 71, 3))
    assert model.output_shape == (None, 2048)
    assert sum(isinstance(l, layers.Add) for l in model.layers) == 12  # 3 entry + 8 middle + 1 exit
    assert model.predict(random_array((1, 71, 71, 3)), verbose=0).shape == (1, 2048)


def test_too_small_input():
    with pytest.raises(ValueError, match="at least 71x71"):
        xception.Xception(weights=None, include_top=False, input_shape=(64, 64, 3))
