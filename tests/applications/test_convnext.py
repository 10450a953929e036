"""ConvNeXt: LayerScale and StochasticDepth numbers and configs, the built-in input normalization, shapes."""
import numpy as np
import torch

from cornu.applications import convnext
from tests.helpers import assert_close, f64, random_array


def test_layer_scale_multiplies_the_last_axis():
    layer = convnext.LayerScale(0.5, 4, name="ls")
    x = random_array((2, 3, 4))
    assert_close(layer(x), f64(x) * 0.5)
    layer.set_weights([np.arange(4, dtype="float32")])
    assert_close(layer(x), f64(x) * np.arange(4))
    assert layer.get_config()["init_values"] == 0.5 and layer.get_config()["projection_dim"] == 4
    assert [w.name for w in layer.weights] == ["variable"]


def test_stochastic_depth_keeps_or_drops_whole_samples():
    layer = convnext.StochasticDepth(0.5, name="sd")
    x = torch.ones(64, 2, 2, 3)
    assert layer(x) is x or torch.equal(layer(x), x)  # inference: identity
    torch.manual_seed(0)
    y = f64(layer(x, training=True))
    per_sample = y.reshape(64, -1)
    assert set(np.unique(per_sample)) <= {0.0, 2.0}  # dropped, or kept and scaled by 1 / keep_prob
    assert np.all(per_sample.min(axis=1) == per_sample.max(axis=1))
    assert 0 < (per_sample[:, 0] == 0).sum() < 64
    assert layer.get_config()["drop_path_rate"] == 0.5


def test_prestem_normalization_and_shapes():
    model = convnext.ConvNeXtTiny(weights=None, include_top=False, input_shape=(32, 32, 3))
    norm = model.get_layer("convnext_tiny_prestem_normalization")
    x = random_array((1, 2, 2, 3), low=0.0, high=255.0)
    ref = (f64(x) - np.array([0.485, 0.456, 0.406]) * 255) / (np.array([0.229, 0.224, 0.225]) * 255)
    assert_close(norm(x), ref, rtol=1e-5)
    assert model.output_shape == (None, 1, 1, 768)
    assert convnext.preprocess_input(x) is x
