"""The color augmentation layers against float64 NumPy formulas, with pinned and drawn factors."""
import colorsys

import numpy as np
import pytest
import torch

from cornu.layers.preprocessing.image.auto_contrast import AutoContrast
from cornu.layers.preprocessing.image.equalization import Equalization
from cornu.layers.preprocessing.image.random_color import RandomBrightness, RandomContrast
from cornu.layers.preprocessing.image.random_color_jitter import RandomColorJitter
from cornu.layers.preprocessing.image.random_grayscale import RandomColorDegeneration, RandomGrayscale
from cornu.layers.preprocessing.image.random_hue_saturation import RandomHue, RandomSaturation
from cornu.layers.preprocessing.image.random_invert import RandomInvert
from cornu.layers.preprocessing.image.random_posterization import RandomPosterization
from cornu.layers.preprocessing.image.random_sharpness import RandomSharpness
from cornu.layers.preprocessing.image.solarization import Solarization
from tests.helpers import assert_close, f64, no_host_sync, random_array

LUMA = np.array([0.2989, 0.587, 0.114])


def _image(shape=(2, 5, 6, 3), seed=0, low=0.0, high=255.0):
    return random_array(shape, seed=seed, low=low, high=high)


def _repeat(image, n):
    return np.repeat(image[None], n, axis=0)


def test_invert_is_upper_bound_minus_x_with_a_drawn_probability():
    x = _image()
    assert_close(RandomInvert((1.0, 1.0))(x), 255.0 - f64(x))
    assert_close(RandomInvert((1.0, 1.0), value_range=(-1, 1))(x / 255), 1.0 - f64(x) / 255)
    np.testing.assert_array_equal(f64(RandomInvert((0.0, 0.0))(x)), x)
    np.testing.assert_array_equal(f64(RandomInvert((1.0, 1.0))(x, training=False)), x)
    many = _repeat(_image((2, 2, 3), seed=1), 4000)
    out = f64(RandomInvert((0.3, 0.3), seed=2)(many))
    inverted = np.all(np.isclose(out, 255.0 - many, atol=1e-4), axis=(1, 2, 3))
    kept = np.all(out == many, axis=(1, 2, 3))
    assert np.all(inverted | kept) and abs(inverted.mean() - 0.3) < 0.03
    out = f64(RandomInvert(0.8, seed=3)(many))  # p ~ U(0, 0.8): inverted with probability 0.4
    assert abs(np.all(out != many, axis=(1, 2, 3)).mean() - 0.4) < 0.03


def _posterize(x, bits, low=0.0, high=255.0):
    levels = np.trunc((f64(x) - low) / (high - low) * 255).astype(np.int64) & 255
    mask = (0xFF << (8 - bits)) & 0xFF
    return (levels & mask) / 255 * (high - low) + low


@pytest.mark.parametrize("bits", [1, 3, 8])
def test_posterization_masks_the_top_bits(bits):
    x = _image(low=-10, high=300)  # outside the range values wrap modulo 256, as a uint8 cast does
    assert_close(RandomPosterization((bits, bits))(x), _posterize(x, bits), atol=1e-4)
    xs = _image(seed=1, low=-1, high=1)
    assert_close(RandomPosterization((bits, bits), value_range=(-1, 1))(xs), _posterize(xs, bits, -1, 1), atol=1e-6)


def test_posterization_draws_integer_bits_in_a_half_open_range():
    image = np.array([[[255.0, 200.0, 100.0]]], "float32")  # 255 keeps a different value for every bit count
    out = f64(RandomPosterization((3, 6), seed=1)(_repeat(image, 600)))
    seen = []
    for row in out:
        matches = [b for b in (3, 4, 5) if np.allclose(row, _posterize(image, b), atol=1e-4)]
        assert len(matches) == 1
        seen += matches
    assert set(seen) == {3, 4, 5}
    assert RandomPosterization(4).get_config()["factor"] == (1, 4)
    with pytest.raises(TypeError, match="factor"):
        RandomPosterization((1, 2.5))(image[None])
    with pytest.raises(ValueError, match="9"):
        RandomPosterization(9)


def test_solarization_formula_and_drawn_threshold_and_addition():
    x = _image()
    assert_close(Solarization()(x), 255.0 - f64(x), atol=1e-4)
    xs = x / 255 * 2 - 1
    assert_close(Solarization(value_range=(-1, 1))(xs), -f64(xs), atol=1e-6)
    levels = np.linspace(0, 255, 18).reshape(1, 1, 18, 1).astype("float32")
    many = np.repeat(levels, 300, 0)
    # Threshold 0: every pixel is reflected after adding one a ~ U(0, 0.2 * 255) per image.
    out = f64(Solarization(addition_factor=0.2, seed=4)(many))[:, 0, :, 0]
    added = 255.0 - out[:, 0]
    assert_close(out, np.clip(255.0 - (levels.ravel() + added[:, None]), 0, 255), atol=1e-3)
    assert added.min() >= 0 and added.max() <= 51 + 1e-3 and abs(added.mean() - 25.5) < 3
    # No addition: one threshold t ~ U(0, 127.5) per image splits kept levels from reflected ones.
    out = f64(Solarization(threshold_factor=(0.5, 0.5), seed=5)(many))[:, 0, :, 0]
    kept = np.isclose(out, levels.ravel(), atol=1e-3)
    assert np.allclose(out[~kept], 255.0 - np.broadcast_to(levels.ravel(), out.shape)[~kept], atol=1e-3)
    first_reflected = np.argmin(kept, axis=1)
    assert np.all(kept == (np.arange(18) < first_reflected[:, None]))
    assert levels.ravel()[first_reflected].max() <= 127.5 + 15 + 1e-3
    xi = x.astype("uint8")
    assert str(Solarization()(xi, training=False).dtype) == "torch.float32"
    with pytest.raises(ValueError, match="addition_factor"):
        Solarization(addition_factor=(-0.1, 0.5))
    assert Solarization(0.2, (0.3, 0.1)).get_config()["threshold_factor"] == (0.1, 0.3)


def test_auto_contrast_stretches_each_channel_always():
    x = _image((3, 4, 5, 2))
    x[1, ..., 1] = 70.0
    x64 = f64(x)
    lo, hi = x64.min(axis=(1, 2), keepdims=True), x64.max(axis=(1, 2), keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.where(hi > lo, (x64 - lo) / (hi - lo) * 2 - 1, x64)
    layer = AutoContrast(value_range=(-1, 1))
    assert_close(layer(x), expected, atol=1e-5)
    assert_close(layer(x, training=False), expected, atol=1e-5)
    assert_close(layer(x[0]), expected[0], atol=1e-5)
    assert str(AutoContrast()(x.astype("uint8")).dtype) == "torch.float32"


def _equalize(x, bins=256, low=0.0, high=255.0):
    """Histogram equalization per channel, the histogram pooling the batch (as Keras's torch backend does)."""
    x = f64(x)
    out = np.empty_like(x)
    for c in range(x.shape[-1]):
        v = x[..., c]
        b = np.clip(np.floor((v - low) / (high - low) * (bins - 1)), 0, bins - 1).astype(int)
        cdf = np.cumsum(np.bincount(b.ravel(), minlength=bins))
        cdf_min = cdf[b.min()]
        if v.size == cdf_min:
            out[..., c] = v
            continue
        lut = np.round((cdf - cdf_min) / (v.size - cdf_min) * 255)
        out[..., c] = lut[b] / 255 * (high - low) + low
    return out


@pytest.mark.parametrize("bins,value_range", [(256, (0, 255)), (16, (0, 255)), (64, (0, 1)), (7, (-1, 1))])
def test_equalization_matches_a_numpy_reference(bins, value_range):
    low, high = value_range
    x = np.floor(_image((2, 8, 8, 3), seed=3) * 0.6) / 255 * (high - low) + low
    x[..., 2] = low + 0.25 * (high - low)
    x = x.astype("float32")
    layer = Equalization(value_range=value_range, bins=bins)
    assert_close(layer(x), _equalize(x, bins, low, high), atol=1e-6 * (high - low))
    np.testing.assert_array_equal(f64(layer(x, training=False)), x)
    xc = np.transpose(x, (0, 3, 1, 2)).copy()
    out = Equalization(value_range=value_range, bins=bins, data_format="channels_first")(xc)
    assert_close(out, np.transpose(_equalize(x, bins, low, high), (0, 3, 1, 2)), atol=1e-6 * (high - low))


def _blur(x):
    """Zero-padded correlation with [[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13 over the two spatial axes."""
    x = f64(x)
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    h, w = x.shape[1:3]
    total = sum(padded[:, i:i + h, j:j + w] for i in range(3) for j in range(3))
    return (total + 4 * x) / 13


@pytest.mark.parametrize("factor", [0.0, 0.5, 0.8, 1.0])
def test_sharpness_blends_with_the_smoothed_image(factor):
    x = _image(seed=4)
    expected = np.clip(_blur(x) + 2 * factor * (f64(x) - _blur(x)), 0, 255)
    assert_close(RandomSharpness((factor, factor))(x), expected, atol=1e-4)
    xc = np.transpose(x, (0, 3, 1, 2)).copy()
    assert_close(RandomSharpness((factor, factor), data_format="channels_first")(xc),
                 np.transpose(expected, (0, 3, 1, 2)), atol=1e-4)


def test_color_degeneration_and_grayscale_move_to_the_luma():
    x = _image(seed=5)
    gray = (f64(x) * LUMA).sum(-1, keepdims=True)
    assert_close(RandomColorDegeneration((0.3, 0.3))(x), f64(x) + 0.3 * (gray - f64(x)), atol=1e-4)
    assert_close(RandomColorDegeneration((-1.0, -1.0))(x), np.clip(2 * f64(x) - gray, 0, 255), atol=1e-4)
    one = x[..., :1]
    np.testing.assert_array_equal(f64(RandomColorDegeneration((1.0, 1.0))(one)), one)
    assert_close(RandomGrayscale(1.0)(x), np.repeat(gray, 3, -1), atol=1e-4)
    np.testing.assert_array_equal(f64(RandomGrayscale(0.0)(x)), x)
    xi = x.astype("uint8")
    out = RandomGrayscale(1.0)(xi)
    assert str(out.dtype) == "torch.uint8"
    np.testing.assert_array_equal(f64(out), np.repeat(np.trunc((f64(xi) * LUMA).sum(-1, keepdims=True)), 3, -1))
    many = _repeat(_image((2, 2, 3), seed=6), 3000)
    changed = np.any(f64(RandomGrayscale(0.3, seed=1)(many)) != many, axis=(1, 2, 3))
    assert abs(changed.mean() - 0.3) < 0.03
    with pytest.raises(ValueError, match="channel"):
        RandomGrayscale(1.0)(x[..., :2])
    with pytest.raises(ValueError, match="1.5"):
        RandomGrayscale(1.5)
    assert RandomColorDegeneration(0.4).get_config()["factor"] == (-0.4, 0.4)


def _hsv(x):
    return np.array([colorsys.rgb_to_hsv(*p) for p in f64(x).reshape(-1, 3)])


def _rgb(hsv, shape):
    return np.array([colorsys.hsv_to_rgb(*p) for p in hsv]).reshape(shape)


@pytest.mark.parametrize("factor,value_range", [(0.0, (0, 255)), (0.25, (0, 255)), (0.6, (0, 255)),
                                                (0.75, (0, 1))])
def test_saturation_scales_the_hsv_saturation(factor, value_range):
    x = _image(seed=7) / 255 * value_range[1]
    hsv = _hsv(x)
    hsv[:, 1] = np.clip(hsv[:, 1] * factor / (1 - factor + 1e-7), *value_range)
    assert_close(RandomSaturation((factor, factor), value_range=value_range)(x), _rgb(hsv, x.shape),
                 rtol=1e-4, atol=1e-4 * value_range[1])
    with pytest.raises(ValueError, match="dtype"):
        RandomSaturation((factor, factor))(x.astype("int32"))
    assert str(RandomSaturation((factor, factor))(x.astype("int32"), training=False).dtype) == "torch.int32"


def test_hue_rotates_by_half_the_drawn_factor_either_way():
    x = _image(seed=8, low=-1, high=1)
    hsv = _hsv((x + 1) / 2)
    hsv[:, 0] = (hsv[:, 0] + 0.5) % 1
    assert_close(RandomHue((1.0, 1.0), value_range=(-1, 1))(x), _rgb(hsv, x.shape) * 2 - 1, atol=1e-5)
    image = _image((1, 1, 3), seed=9)
    out = f64(RandomHue((0.4, 0.4), seed=1)(_repeat(image, 400))).reshape(400, 3)
    shift = (_hsv(out / 255)[:, 0] - _hsv(image / 255)[0, 0] + 0.5) % 1 - 0.5
    assert np.allclose(np.abs(shift), 0.2, atol=1e-4)
    assert abs((shift > 0).mean() - 0.5) < 0.1


def test_color_jitter_applies_its_steps_in_order():
    x = _image(seed=10)
    factors = {"brightness_factor": (0.1, 0.1), "contrast_factor": (-0.2, 0.2), "saturation_factor": (0.7, 0.7),
               "hue_factor": (1.0, 1.0)}
    expected = x
    for layer in (RandomBrightness((0.1, 0.1)), RandomContrast((-0.2, 0.2)), RandomSaturation((0.7, 0.7)),
                  RandomHue((1.0, 1.0))):
        expected = layer(expected)
    jitter = RandomColorJitter(**factors, seed=1)
    assert_close(jitter(x), expected, atol=1e-4)
    np.testing.assert_array_equal(f64(jitter(x, training=False)), x)
    assert jitter.get_config()["saturation_factor"] == (0.7, 0.7)
    assert RandomColorJitter.from_config(jitter.get_config()).get_config() == jitter.get_config()
    np.testing.assert_array_equal(f64(RandomColorJitter()(x)), x)


@pytest.mark.parametrize("make", [lambda **k: RandomInvert(0.5, **k), lambda **k: RandomPosterization(5, **k),
                                  lambda **k: Solarization(0.3, 0.6, **k), lambda **k: RandomSharpness(0.9, **k),
                                  lambda **k: RandomColorDegeneration(0.9, **k), lambda **k: RandomGrayscale(**k),
                                  lambda **k: RandomSaturation(0.9, **k), lambda **k: RandomHue(0.9, **k),
                                  lambda **k: RandomColorJitter(brightness_factor=0.3, hue_factor=0.5, **k)])
def test_seeded_layers_repeat_and_draw_per_image(make):
    x = _repeat(_image((4, 5, 3), seed=11), 16)
    first, second = f64(make(seed=7)(x)), f64(make(seed=7)(x))
    np.testing.assert_array_equal(first, second)
    assert tuple(make(seed=7)(x[0]).shape) == x[0].shape
    assert len({row.tobytes() for row in first.astype(np.float32)}) > 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_color_layers_make_no_host_sync_on_cuda():
    x = torch.tensor(_image((4, 16, 16, 3)), device="cuda")
    layers = [RandomInvert(0.5, seed=1), RandomPosterization((2, 6), seed=1), Solarization(0.3, 0.6, seed=1),
              AutoContrast(), Equalization(), RandomSharpness(0.9, seed=1), RandomColorDegeneration(0.9, seed=1),
              RandomGrayscale(seed=1), RandomSaturation(0.9, seed=1), RandomHue(0.9, seed=1),
              RandomColorJitter(brightness_factor=0.3, contrast_factor=0.3, saturation_factor=0.3, hue_factor=0.3,
                                seed=1)]
    for layer in layers:
        layer(x)  # first call: the generator is created and seeded
        with no_host_sync():
            out = layer(x)
        assert out.device.type == "cuda" and out.shape == x.shape
        if isinstance(layer, (AutoContrast, Equalization)):  # not random: the CPU computes the same numbers
            assert_close(out.cpu(), layer(x.cpu()), atol=1e-4)
