"""``keras.ops.image``: each function against float64 NumPy references or written-out formulas."""
import colorsys

import numpy as np
import pytest

import cornu
from cornu.ops import image
from tests.helpers import assert_close, f64, random_array


def _channels_first(x):
    return np.moveaxis(x, -1, -3)


def test_rgb_to_grayscale_weights_both_formats():
    x = random_array((2, 4, 5, 3), low=0, high=1)
    expected = (f64(x) @ np.array([0.2989, 0.587, 0.114]))[..., None]
    assert_close(image.rgb_to_grayscale(x), expected)
    assert_close(image.rgb_to_grayscale(x[0]), expected[0])
    out = image.rgb_to_grayscale(_channels_first(x), data_format="channels_first")
    assert_close(out, _channels_first(expected))


def test_rgb_to_grayscale_keeps_integer_dtype():
    x = np.full((2, 2, 3), 7, dtype="int32")
    out = image.rgb_to_grayscale(x)
    assert str(out.dtype) == "torch.int32"
    assert (f64(out) == np.floor(7 * (0.2989 + 0.587 + 0.114))).all()


def test_rgb_hsv_against_colorsys():
    x = random_array((3, 4, 3), low=0, high=1)
    x[0, 0] = [0.5, 0.5, 0.5]
    x[0, 1] = [0.0, 0.0, 0.0]
    x[0, 2] = [0.2, 0.7, 0.7]
    expected = np.array([colorsys.rgb_to_hsv(*p) for p in f64(x).reshape(-1, 3)]).reshape(x.shape)
    assert_close(image.rgb_to_hsv(x), expected, atol=1e-6)
    assert_close(image.rgb_to_hsv(_channels_first(x), data_format="channels_first"), _channels_first(expected),
                 atol=1e-6)
    hsv = random_array((2, 3, 4, 3), seed=1, low=0, high=1)
    back = np.array([colorsys.hsv_to_rgb(*p) for p in f64(hsv).reshape(-1, 3)]).reshape(hsv.shape)
    assert_close(image.hsv_to_rgb(hsv), back, atol=1e-6)
    assert_close(image.hsv_to_rgb(image.rgb_to_hsv(x)), x, atol=1e-6)


def test_hsv_rejects_integer_images():
    with pytest.raises(ValueError, match="int32"):
        image.rgb_to_hsv(np.ones((2, 2, 3), dtype="int32"))
    with pytest.raises(ValueError, match="rank"):
        image.hsv_to_rgb(np.ones((3,), dtype="float32"))


def _blur_reference(x, kernel_size, sigma):
    """Zero-padded correlation of each channel (NHWC) with outer(k_y(size[1], sigma[1]), k_x(size[0], sigma[0]))."""
    def k1(n, s):
        t = np.arange(n) - (n - 1) / 2
        k = np.exp(-t ** 2 / (2 * s ** 2))
        return k / k.sum()
    kernel = np.outer(k1(kernel_size[1], sigma[1]), k1(kernel_size[0], sigma[0]))
    kh, kw = kernel.shape
    n, h, w, c = x.shape
    padded = np.zeros((n, h + kh - 1, w + kw - 1, c))
    padded[:, (kh - 1) // 2:(kh - 1) // 2 + h, (kw - 1) // 2:(kw - 1) // 2 + w] = x
    out = np.zeros((n, h, w, c))
    for i in range(kh):
        for j in range(kw):
            out += kernel[i, j] * padded[:, i:i + h, j:j + w]
    return out


@pytest.mark.parametrize("kernel_size,sigma", [((3, 3), (1.0, 2.0)), ((5, 3), (0.7, 1.3))])
def test_gaussian_blur_reference(kernel_size, sigma):
    x = random_array((2, 6, 7, 3))
    expected = _blur_reference(f64(x), kernel_size, sigma)
    assert_close(image.gaussian_blur(x, kernel_size, sigma), expected)
    assert_close(image.gaussian_blur(x[1], kernel_size, sigma), expected[1])
    out = image.gaussian_blur(_channels_first(x), kernel_size, sigma, data_format="channels_first")
    assert_close(out, _channels_first(expected))


def test_colour_ops_symbolic_shapes():
    inputs = cornu.Input((8, 9, 3))
    assert image.rgb_to_grayscale(inputs).shape == (None, 8, 9, 1)
    assert image.rgb_to_hsv(inputs).shape == (None, 8, 9, 3)
    assert image.hsv_to_rgb(inputs).shape == (None, 8, 9, 3)
    assert image.gaussian_blur(inputs).shape == (None, 8, 9, 3)


def test_affine_transform_identity_and_translation():
    x = random_array((2, 5, 6, 3))
    identity = np.array([1, 0, 0, 0, 1, 0, 0, 0], "float32")
    assert_close(image.affine_transform(x, identity), x)
    # Output (x, y) reads input (x + 2, y - 1): a shift left by 2 and down by 1, zeros where nothing is read.
    shift = np.array([[1, 0, 2, 0, 1, -1, 0, 0]] * 2, "float32")
    expected = np.zeros_like(f64(x))
    expected[:, 1:, :4] = f64(x)[:, :4, 2:]
    assert_close(image.affine_transform(x, shift), expected)
    out = image.affine_transform(_channels_first(x), shift, data_format="channels_first")
    assert_close(out, _channels_first(expected))


def test_affine_transform_integer_images_round_half_even():
    x = np.array([0, 50, 101, 150], "uint8").reshape(1, 4, 1)
    half = np.array([1, 0, 0.5, 0, 1, 0, 0, 0], "float32")
    out = image.affine_transform(x, half, fill_mode="nearest")
    assert str(out.dtype) == "torch.uint8"
    assert f64(out).ravel().tolist() == [25, 76, 126, 150]  # 25.0, 75.5 -> 76, 125.5 -> 126, 150


def test_affine_transform_bad_arguments():
    x = random_array((5, 6, 3))
    identity = np.eye(3, dtype="float32").ravel()[:8]
    with pytest.raises(ValueError, match="bicubic"):
        image.affine_transform(x, identity, interpolation="bicubic")
    with pytest.raises(ValueError, match="foo"):
        image.affine_transform(x, identity, fill_mode="foo")
    with pytest.raises(ValueError, match="transform"):
        image.affine_transform(x, identity.reshape(1, 1, 8))


SCIPY_MODES = {"constant": "grid-constant", "nearest": "nearest", "wrap": "grid-wrap", "mirror": "mirror",
               "reflect": "reflect"}


@pytest.mark.parametrize("fill_mode", sorted(SCIPY_MODES))
@pytest.mark.parametrize("order", [0, 1])
def test_map_coordinates_against_scipy(fill_mode, order):
    ndimage = pytest.importorskip("scipy.ndimage")
    v = random_array((4, 5, 6))
    coords = random_array((3, 7, 2), seed=1, low=-3, high=9)
    if order == 0:
        coords = np.round(coords) + 0.25  # away from .5 ties, where rounding conventions differ
    expected = ndimage.map_coordinates(f64(v), f64(coords), order=order, mode=SCIPY_MODES[fill_mode], cval=0.5)
    assert_close(image.map_coordinates(v, coords, order, fill_mode, 0.5), expected, atol=1e-5)


def test_map_coordinates_errors():
    with pytest.raises(ValueError, match="rank"):
        image.map_coordinates(np.ones(6, "float32"), np.zeros((2, 3), "float32"), 1)
    with pytest.raises(NotImplementedError):
        image.map_coordinates(np.ones(6, "float32"), np.zeros((1, 3), "float32"), 3)
    with pytest.raises(ValueError, match="foo"):
        image.map_coordinates(np.ones(6, "float32"), np.zeros((1, 3), "float32"), 1, fill_mode="foo")
