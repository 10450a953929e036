"""EfficientNet: width/depth scaling, stochastic-depth rates, built-in input scaling, shapes."""
import math

import numpy as np

from cornu import layers
from cornu.applications import efficientnet, imagenet_utils
from tests.helpers import assert_close, random_array

REPEATS = (1, 2, 2, 3, 3, 4, 1)


def test_depth_scaling_sets_the_number_of_blocks_and_drop_rates():
    model = efficientnet.EfficientNetB1(weights=None, include_top=False, input_shape=(32, 32, 3))
    blocks = sorted({l.name.split("_")[0] for l in model.layers if l.name.startswith("block")})
    counts = [math.ceil(1.1 * r) for r in REPEATS]
    assert len(blocks) == sum(counts)
    drops = [l for l in model.layers if isinstance(l, layers.Dropout)]
    total = float(sum(counts))
    # the first block of each stage has no residual (stride or width change), so no dropout
    firsts = np.cumsum([0] + counts[:-1])
    expected = [r for b, r in enumerate(0.2 * np.arange(sum(counts)) / total) if b not in set(firsts.tolist())]
    assert_close([d.rate for d in drops], expected)


def test_width_scaling_of_the_head():
    model = efficientnet.EfficientNetB3(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert model.get_layer("top_conv").filters == 1536  # 1280 * 1.2, a multiple of 8
    assert model.get_layer("stem_conv").filters == 40  # 32 * 1.2 = 38.4, rounded to 40


def test_outputs_and_identity_preprocessing():
    model = efficientnet.EfficientNetB0(weights=None, input_shape=(32, 32, 3), classes=4)
    x = random_array((2, 32, 32, 3), low=0.0, high=255.0)
    probs = model.predict(x, verbose=0)
    assert probs.shape == (2, 4)
    assert_close(probs.sum(axis=1), np.ones(2), rtol=1e-5)
    assert efficientnet.preprocess_input(x) is x


def test_imagenet_weights_add_the_std_rescaling(monkeypatch):
    monkeypatch.setattr(imagenet_utils, "load_weights", lambda *args, **kwargs: None)
    model = efficientnet.EfficientNetB0(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    rescalings = [l for l in model.layers if isinstance(l, layers.Rescaling)]
    assert len(rescalings) == 2
    assert_close(rescalings[1].scale, [1 / math.sqrt(s) for s in (0.229, 0.224, 0.225)])
