import numpy as np
import pytest
import torch

import cornu
from tests.helpers import assert_close, f64, random_array


def test_scale_and_offset_match_formula():
    x = random_array((4, 3), seed=1, low=0, high=255)
    layer = cornu.layers.Rescaling(1 / 127.5, offset=-1.0)
    assert_close(layer(x), f64(x) / 127.5 - 1.0)


def test_integer_inputs_become_float32():
    x = np.arange(12, dtype="int64").reshape(3, 4)
    y = cornu.layers.Rescaling(0.5)(x)
    assert y.dtype == torch.float32
    assert_close(y, f64(x) * 0.5)


def test_per_channel_scale_broadcasts_on_last_axis():
    x = random_array((2, 5, 3), seed=2)
    scale, offset = [1.0, 2.0, 3.0], [0.0, 1.0, 2.0]
    assert_close(cornu.layers.Rescaling(scale, offset)(x), f64(x) * np.array(scale) + np.array(offset))


def test_config_round_trip_and_symbolic_shape():
    layer = cornu.layers.Rescaling(2.0, offset=0.5, name="r")
    cfg = layer.get_config()
    assert cfg["scale"] == 2.0 and cfg["offset"] == 0.5
    again = cornu.layers.Rescaling.from_config(cfg)
    assert again.get_config() == cfg
    out = layer(cornu.Input((7, 3)))
    assert tuple(out.shape) == (None, 7, 3)


def test_unknown_keyword_is_rejected():
    with pytest.raises(ValueError):
        cornu.layers.Rescaling(1.0, bogus=1)
