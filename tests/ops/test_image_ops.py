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


def test_channel_counts():
    grey = random_array((2, 4, 5, 1))
    assert_close(image.rgb_to_grayscale(grey), grey)  # already one channel: unchanged, as Keras
    for fn in (image.rgb_to_grayscale, image.rgb_to_hsv, image.hsv_to_rgb):
        with pytest.raises(ValueError, match="channel"):
            fn(random_array((2, 4, 5, 4)))


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


def test_crop_and_pad_images():
    x = random_array((2, 5, 6, 3))
    assert_close(image.crop_images(x, 1, 2, target_height=3, target_width=2), f64(x)[:, 1:4, 2:4])
    assert_close(image.crop_images(x[0], None, None, 1, 2, target_height=3, target_width=2), f64(x)[0, 1:4, 2:4])
    cf = image.crop_images(_channels_first(x), 1, 2, 1, 1, data_format="channels_first")
    assert_close(cf, _channels_first(f64(x)[:, 1:4, 2:5]))
    padded = image.pad_images(x, 1, 2, target_height=8, target_width=9)
    expected = np.zeros((2, 8, 9, 3))
    expected[:, 1:6, 2:8] = f64(x)
    assert_close(padded, expected)
    assert_close(image.crop_images(padded, 1, 2, 2, 1), x)
    with pytest.raises(ValueError, match="exactly two"):
        image.pad_images(x, 1, 2)
    with pytest.raises(ValueError, match="bottom_padding"):
        image.pad_images(x, 1, 1, target_height=3, target_width=9)
    with pytest.raises(ValueError, match="top_cropping"):
        image.crop_images(x, -1, 2, target_height=3, target_width=2)
    with pytest.raises(ValueError, match="rank"):
        image.crop_images(x[0, 0], 1, 1, 1, 1)


def _patches_reference(x, size, strides):
    """(N, rows, cols, kh * kw * C) valid patches, features in (row, column, channel) order."""
    n, h, w, c = x.shape
    rows, cols = (h - size[0]) // strides[0] + 1, (w - size[1]) // strides[1] + 1
    out = np.zeros((n, rows, cols, size[0] * size[1] * c))
    for i in range(rows):
        for j in range(cols):
            top, left = i * strides[0], j * strides[1]
            out[:, i, j] = x[:, top:top + size[0], left:left + size[1]].reshape(n, -1)
    return out


@pytest.mark.parametrize("size,strides", [((2, 2), None), ((2, 3), (1, 2))])
def test_extract_patches_reference(size, strides):
    x = random_array((2, 5, 7, 3))
    expected = _patches_reference(f64(x), size, strides or size)
    assert_close(image.extract_patches(x, size, strides), expected)
    assert_close(image.extract_patches(x[0], size, strides), expected[0])
    out = image.extract_patches(_channels_first(x), size, strides, data_format="channels_first")
    assert_close(out, _channels_first(expected))


def test_extract_patches_same_padding_and_3d():
    x = random_array((1, 5, 6, 2))
    out = image.extract_patches(x, (2, 3), padding="same")
    assert tuple(out.shape) == (1, 3, 2, 12)
    padded = np.zeros((1, 6, 6, 2))
    padded[:, :5] = f64(x)  # 'same' puts the one extra row at the bottom
    assert_close(out, _patches_reference(padded, (2, 3), (2, 3)))
    v = random_array((2, 4, 4, 6, 2))
    patches = image.extract_patches_3d(v, 2)
    assert tuple(patches.shape) == (2, 2, 2, 3, 16)
    assert_close(patches[:, 1, 0, 2], f64(v)[:, 2:4, 0:2, 4:6].reshape(2, -1))
    assert tuple(image.extract_patches(v, (2, 2, 2)).shape) == (2, 2, 2, 3, 16)
    with pytest.raises(ValueError, match="rank"):
        image.extract_patches_3d(v[0, 0], 2)


def test_sobel_edges_formula():
    x = random_array((2, 5, 6, 3))
    padded = np.pad(f64(x), ((0, 0), (1, 1), (1, 1), (0, 0)))
    p = {(a, b): padded[:, 1 + a:6 + a, 1 + b:7 + b] for a in (-1, 0, 1) for b in (-1, 0, 1)}
    dy = (p[1, -1] + 2 * p[1, 0] + p[1, 1]) - (p[-1, -1] + 2 * p[-1, 0] + p[-1, 1])
    dx = (p[-1, 1] + 2 * p[0, 1] + p[1, 1]) - (p[-1, -1] + 2 * p[0, -1] + p[1, -1])
    assert_close(image.sobel_edges(x), np.stack([dy, dx], -1), atol=1e-5)
    cf = image.sobel_edges(_channels_first(x), data_format="channels_first")
    assert_close(cf, np.stack([_channels_first(dy), _channels_first(dx)], -1), atol=1e-5)


def _ssim_reference(a, b, max_val=1.0, size=11, sigma=1.5, k1=0.01, k2=0.03):
    t = np.arange(size) - (size - 1) / 2
    g = np.exp(-t ** 2 / (2 * sigma ** 2))
    g /= g.sum()
    window = np.outer(g, g)
    n, h, w, _ = a.shape
    rows, cols = h - size + 1, w - size + 1

    def blur(v):
        out = np.zeros((n, rows, cols, v.shape[-1]))
        for i in range(size):
            for j in range(size):
                out += window[i, j] * v[:, i:i + rows, j:j + cols]
        return out
    mu1, mu2 = blur(a), blur(b)
    var1, var2, cov = blur(a * a) - mu1 ** 2, blur(b * b) - mu2 ** 2, blur(a * b) - mu1 * mu2
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    s = (2 * mu1 * mu2 + c1) * (2 * cov + c2) / ((mu1 ** 2 + mu2 ** 2 + c1) * (var1 + var2 + c2))
    return s.mean(axis=(1, 2, 3))


def test_ssim_reference_and_identity():
    a = random_array((2, 14, 15, 3), low=0, high=1)
    b = np.clip(a + random_array(a.shape, seed=3, low=-0.2, high=0.2), 0, 1)
    assert_close(image.ssim(a, b), _ssim_reference(f64(a), f64(b)), atol=1e-5)
    assert_close(image.ssim(a, b, 2.0, 5, 1.0, 0.02, 0.05), _ssim_reference(f64(a), f64(b), 2.0, 5, 1.0, 0.02, 0.05),
                 atol=1e-5)
    assert_close(image.ssim(a[0], a[0]), 1.0)
    assert tuple(image.ssim(a[0], b[0]).shape) == ()
    with pytest.raises(ValueError, match="shape"):
        image.ssim(a, b[:, :8])


def test_perspective_transform_shift_and_homography():
    x = random_array((2, 5, 6, 3))
    corners = np.array([[0, 0], [5, 0], [0, 4], [5, 4]], "float32")
    assert_close(image.perspective_transform(x, corners, corners), x, atol=1e-5)
    # End points one column right of the start points: output column j reads input column j - 1.
    shifted = image.perspective_transform(x, corners, corners + [1, 0], fill_value=0.5)
    expected = np.full(x.shape, 0.5)
    expected[:, :, 1:] = f64(x)[:, :, :-1]
    assert_close(shifted, expected, atol=1e-5)
    end = corners + np.array([[1, 0.5], [-0.3, 0.2], [0.4, -0.6], [0.2, 0.1]], "float32")
    h = f64(image.homographies(image._points(corners, "s", "cpu"), image._points(end, "e", "cpu")))[0]
    for (xs, ys), (xe, ye) in zip(corners, end):  # each end point maps back onto its start point
        k = h[6] * xe + h[7] * ye + 1
        assert_close([(h[0] * xe + h[1] * ye + h[2]) / k, (h[3] * xe + h[4] * ye + h[5]) / k], [xs, ys], atol=1e-9)
    with pytest.raises(ValueError, match="start_points"):
        image.perspective_transform(x, corners[:3], end[:3])


def test_elastic_transform_statistics_and_seed():
    ramp = np.tile(np.arange(96, dtype="float32")[None, None, :, None], (2, 96, 1, 1))
    out = image.elastic_transform(ramp, alpha=2.0, sigma=3.0, seed=1)
    assert_close(out, image.elastic_transform(ramp, alpha=2.0, sigma=3.0, seed=1))
    shift = (f64(out) - ramp)[:, 16:-16, 16:-16]  # on a ramp the value change is the column displacement
    assert abs(shift.mean()) < 0.25  # a smooth field: about 70 independent samples
    assert 0.4 < shift.std() < 0.7  # about 0.28 * alpha
    lag = 3
    corr = np.corrcoef(shift[:, :, :-lag].ravel(), shift[:, :, lag:].ravel())[0, 1]
    assert abs(corr - np.exp(-lag ** 2 / (4 * 3.0 ** 2))) < 0.08  # Gaussian-smoothed noise
    assert_close(image.elastic_transform(ramp, alpha=0.0, seed=2), ramp)
    with pytest.raises(ValueError, match="foo"):
        image.elastic_transform(ramp, fill_mode="foo")


def test_scale_and_translate_linear_formula():
    x = np.arange(9, dtype="float32").reshape(3, 3)
    scale = np.array([2.0, 2.0], "float32")
    out = image.scale_and_translate(x, (5, 5), scale, -(scale / 2 - 0.5), (0, 1), "linear")
    assert_close(out, 1.5 * np.arange(5)[:, None] + 0.5 * np.arange(5)[None, :])
    # Downsampling by 2 with antialias averages a triangle over neighbours; without it, plain interpolation.
    row = np.arange(8, dtype="float32")[None, :]
    half = np.array([1.0, 0.5], "float32")
    plain = image.scale_and_translate(row, (1, 4), half, np.zeros(2, "float32"), (0, 1), "linear", antialias=False)
    assert_close(plain, (2 * np.arange(4) + 0.5)[None, :])
    with pytest.raises(ValueError, match="nearest"):
        image.scale_and_translate(row, (1, 4), half, np.zeros(2, "float32"), (0, 1), "nearest")


def test_symbolic_shapes():
    inputs = cornu.Input((8, 9, 3))
    transform = np.array([1, 0, 0, 0, 1, 0, 0, 0], "float32")
    corners = np.array([[0, 0], [8, 0], [0, 7], [8, 7]], "float32")
    assert image.affine_transform(inputs, transform).shape == (None, 8, 9, 3)
    assert image.perspective_transform(inputs, corners, corners).shape == (None, 8, 9, 3)
    assert image.elastic_transform(inputs).shape == (None, 8, 9, 3)
    assert image.crop_images(inputs, 1, 2, 1, 1).shape == (None, 6, 6, 3)
    assert image.pad_images(inputs, 1, 2, 1, 1).shape == (None, 10, 12, 3)
    assert image.extract_patches(inputs, 2).shape == (None, 4, 4, 12)
    assert image.sobel_edges(inputs).shape == (None, 8, 9, 3, 2)
    assert image.ssim(inputs, inputs, filter_size=3).shape == (None,)
