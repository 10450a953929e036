"""RandomCrop: windows of the input with uniformly drawn offsets, one per batch; identity at inference."""
from collections import Counter

import numpy as np

import cornu
from cornu.layers.preprocessing.image.random_crop import RandomCrop
from cornu.ops import image as image_ops
from tests.helpers import assert_close, f64, random_array


def _offset(window: np.ndarray, image: np.ndarray) -> tuple:
    h, w = window.shape[:2]
    matches = [(t, l) for t in range(image.shape[0] - h + 1) for l in range(image.shape[1] - w + 1)
               if np.array_equal(image[t:t + h, l:l + w], window)]
    assert len(matches) == 1
    return matches[0]


def test_windows_share_one_uniform_offset_per_batch():
    image = random_array((6, 7, 2))
    x = np.repeat(image[None], 3, axis=0)
    layer = RandomCrop(3, 4, seed=11)
    counts = Counter()
    for _ in range(240):
        out = f64(layer(x))
        offsets = {_offset(o, image.astype(np.float64)) for o in out}
        assert len(offsets) == 1
        counts.update(offsets)
    assert set(counts) == {(t, l) for t in range(4) for l in range(4)}
    assert max(counts.values()) < 3 * 240 / 16


def test_inference_identity_unbatched_channels_first_and_seeds():
    x = random_array((2, 6, 7, 3))
    np.testing.assert_array_equal(f64(RandomCrop(3, 4)(x, training=False)), x)
    assert str(RandomCrop(3, 4)(x.astype("float64"), training=False).dtype) == "torch.float64"
    assert str(RandomCrop(3, 4)(x.astype("float64")).dtype) == "torch.float32"
    single = random_array((6, 7, 3))
    _offset(f64(RandomCrop(3, 4, seed=1)(single)), single.astype(np.float64))
    xc = np.transpose(x, (0, 3, 1, 2))
    out = f64(RandomCrop(3, 4, seed=2, data_format="channels_first")(xc))
    _offset(np.transpose(out[0], (1, 2, 0)), x[0].astype(np.float64))
    np.testing.assert_array_equal(f64(RandomCrop(3, 4, seed=9)(x)), f64(RandomCrop(3, 4, seed=9)(x)))


def test_short_axes_are_resized_and_symbolic_shape():
    x = random_array((2, 3, 4, 1))
    assert_close(RandomCrop(5, 5, seed=0)(x), image_ops.resize(x, (5, 5)))
    out = f64(RandomCrop(2, 5, seed=0)(x))
    candidates = [f64(image_ops.resize(x[:, t:t + 2], (2, 5))) for t in range(2)]
    assert any(np.allclose(out, c) for c in candidates)
    assert tuple(RandomCrop(3, 4)(cornu.Input((None, None, 3))).shape) == (None, 3, 4, 3)


def test_config_names_a_seed_and_round_trips():
    layer = RandomCrop(3, 4)
    assert isinstance(layer.get_config()["seed"], int)
    assert RandomCrop.from_config(layer.get_config()).get_config() == layer.get_config()
