"""RandomFlip: flips are exact reversals, about half the images flip, identity at inference, seeds repeat."""
import numpy as np
import pytest

import cornu
from cornu.layers.preprocessing.image.random_flip import RandomFlip
from tests.helpers import f64, random_array


def _classify(out: np.ndarray, x: np.ndarray) -> list:
    """For each image: which of the four flips of ``x`` it equals (h, v)."""
    kinds = []
    for o, i in zip(out, x):
        options = {(h, v): i[::-1 if v else 1, ::-1 if h else 1] for h in (0, 1) for v in (0, 1)}
        kinds.append(next(k for k, ref in options.items() if np.array_equal(o, ref)))
    return kinds


@pytest.mark.parametrize("mode,allowed", [("horizontal", {(0, 0), (1, 0)}), ("vertical", {(0, 0), (0, 1)}),
                                          ("horizontal_and_vertical", {(0, 0), (1, 0), (0, 1), (1, 1)})])
def test_flips_are_reversals_with_probability_one_half(mode, allowed):
    x = np.repeat(random_array((1, 4, 5, 2)), 400, axis=0)
    kinds = _classify(f64(RandomFlip(mode, seed=3)(x)), x.astype(np.float64))
    assert set(kinds) == allowed
    h = np.mean([k[0] for k in kinds])
    v = np.mean([k[1] for k in kinds])
    assert abs(h - (0.5 if "horizontal" in mode else 0.0)) < 0.1
    assert abs(v - (0.5 if "vertical" in mode else 0.0)) < 0.1


def test_inference_identity_and_default_training():
    x = np.repeat(random_array((1, 4, 5, 2)), 16, axis=0)
    np.testing.assert_array_equal(f64(RandomFlip(seed=1)(x, training=False)), x)
    assert not np.array_equal(f64(RandomFlip(seed=1)(x)), x)  # no training flag anywhere: augments, as Keras
    inputs = cornu.Input((4, 5, 2))
    model = cornu.Model(inputs, RandomFlip(seed=1)(inputs))
    for _ in range(2):  # the graph must not record a training flag: predict (eager, then compiled) is identity
        np.testing.assert_allclose(model.predict(x, verbose=0), x)
    assert not np.array_equal(f64(model(x)), x)


def test_seeded_runs_repeat_and_unbatched_channels_first():
    x = np.repeat(random_array((1, 4, 5, 2)), 16, axis=0)
    np.testing.assert_array_equal(f64(RandomFlip(seed=7)(x)), f64(RandomFlip(seed=7)(x)))
    single = random_array((4, 5, 2))
    out = f64(RandomFlip("horizontal", seed=0)(single))
    assert np.array_equal(out, single) or np.array_equal(out, single[:, ::-1])
    xc = np.transpose(x, (0, 3, 1, 2))
    out = f64(RandomFlip("horizontal", seed=2, data_format="channels_first")(xc))
    assert all(np.array_equal(o, i) or np.array_equal(o, i[:, :, ::-1]) for o, i in zip(out, xc))
    assert str(RandomFlip()(np.zeros((2, 3, 3, 1), "int32")).dtype) == "torch.float32"


def test_config_and_errors():
    layer = RandomFlip("vertical", seed=4)
    assert RandomFlip.from_config(layer.get_config()).get_config() == layer.get_config()
    with pytest.raises(ValueError, match="rank"):
        RandomFlip()(np.zeros((3, 4), "float32"))
