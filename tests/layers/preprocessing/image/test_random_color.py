"""RandomContrast and RandomBrightness against their formulas, with drawn factors inside the ranges."""
import numpy as np
import pytest

from cornu.layers.preprocessing.image.random_color import RandomBrightness, RandomContrast
from tests.helpers import assert_close, f64, random_array


def test_fixed_factors_follow_the_formulas():
    x = random_array((3, 4, 5, 2), low=-20, high=280)
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=(1, 2), keepdims=True)
    # factor (-0.5, 0.5): contrast drawn from U(1 + 0.5, 1 + 0.5) = 1.5
    assert_close(RandomContrast((-0.5, 0.5))(x), np.clip((x64 - mean) * 1.5 + mean, 0, 255), atol=1e-4)
    assert_close(RandomBrightness((0.3, 0.3), value_range=(-1, 1))(x / 255),
                 np.clip(x64 / 255 + 0.3 * 2, -1, 1), atol=1e-6)
    xc = np.transpose(x, (0, 3, 1, 2))
    out = RandomContrast((-0.5, 0.5), data_format="channels_first")(xc)
    assert_close(out, np.transpose(np.clip((x64 - mean) * 1.5 + mean, 0, 255), (0, 3, 1, 2)), atol=1e-4)


def test_drawn_factors_are_per_image_shared_by_channels_and_in_range():
    image = random_array((1, 3, 4, 2), low=50, high=150)
    x = np.repeat(image, 500, axis=0)
    out = f64(RandomContrast(0.4, seed=1)(x))
    mean = image.astype(np.float64).mean(axis=(1, 2), keepdims=True)
    ratio = (out - mean) / (image - mean)
    np.testing.assert_allclose(ratio, ratio[:, :1, :1, :1] * np.ones_like(ratio), rtol=1e-4)
    c = ratio[:, 0, 0, 0]
    assert c.min() >= 1 - 1e-4 and c.max() <= 1.4 + 1e-4 and abs(c.mean() - 1.2) < 0.02
    shift = f64(RandomBrightness((-0.1, 0.2), seed=2)(x)) - image
    np.testing.assert_allclose(shift, shift[:, :1, :1, :1] * np.ones_like(shift), atol=1e-4)
    d = shift[:, 0, 0, 0] / 255
    assert d.min() >= -0.1 - 1e-5 and d.max() <= 0.2 + 1e-5 and abs(d.mean() - 0.05) < 0.01


def test_inference_identity_integers_and_seeds():
    x = random_array((2, 3, 4, 2), low=0, high=255)
    np.testing.assert_array_equal(f64(RandomContrast(0.5)(x, training=False)), x)
    np.testing.assert_array_equal(f64(RandomBrightness(0.5)(x, training=False)), x)
    xi = np.array([[[[10], [20]], [[30], [250]]]], "int32")
    # 0.015 * 255 = 3.825, truncated to 3 in the image's integer dtype
    np.testing.assert_array_equal(f64(RandomBrightness((0.015, 0.015))(xi)), xi + 3)
    np.testing.assert_array_equal(f64(RandomBrightness((-0.015, -0.015))(xi)), xi - 3)
    np.testing.assert_array_equal(f64(RandomContrast(0.3, seed=4)(x)), f64(RandomContrast(0.3, seed=4)(x)))
    single = random_array((3, 4, 2), low=0, high=255)
    assert tuple(RandomBrightness(0.3)(single).shape) == (3, 4, 2)


def test_argument_errors_and_configs():
    with pytest.raises(ValueError, match="1.5"):
        RandomContrast(1.5)
    with pytest.raises(ValueError, match="-0.1"):
        RandomContrast(-0.1)
    with pytest.raises(ValueError, match="1.2"):
        RandomBrightness((1.2, 0.5))
    with pytest.raises(ValueError, match="value_range"):
        RandomBrightness(0.2, value_range=(1,))
    assert RandomContrast(0.2).get_config()["factor"] == (0, 0.2)
    assert RandomBrightness(-0.1, value_range=(255, 0)).get_config()["value_range"] == [0, 255]
    for layer in (RandomContrast((0.5, 0.2), seed=1), RandomBrightness((0.3, -0.3))):
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()
