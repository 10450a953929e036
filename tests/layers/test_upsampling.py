"""UpSampling2D interpolations against float64 NumPy references of their resampling kernels.

All kernels sample the input at half-pixel positions ``(i + 0.5) / scale - 0.5``:
bicubic is Keys' cubic convolution with ``a = -0.75`` over four taps clamped at the border (torch's and
Keras-on-torch's); lanczos3/5 weight every pixel within ``a`` by ``sinc(x) sinc(x / a)`` and renormalise
(Keras on JAX/TensorFlow).
"""
import numpy as np
import pytest
import torch

import cornu
from cornu.layers import UpSampling2D
from tests.helpers import assert_close, f64, random_array


def _resample_axis(x, axis, matrix):
    """Apply an ``(out, in)`` resampling matrix along ``axis``."""
    return np.moveaxis(np.tensordot(matrix, np.moveaxis(x, axis, 0), axes=(1, 0)), 0, axis)


def cubic_matrix(n, scale, a=-0.75):
    def w(d):
        d = abs(d)
        if d <= 1:
            return ((a + 2) * d - (a + 3)) * d * d + 1
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a if d < 2 else 0.0

    m = np.zeros((n * scale, n))
    for i in range(n * scale):
        src = (i + 0.5) / scale - 0.5
        base = int(np.floor(src))
        for tap in range(base - 1, base + 3):
            m[i, min(max(tap, 0), n - 1)] += w(src - tap)
    return m


def lanczos_matrix(n, scale, radius):
    m = np.zeros((n * scale, n))
    for i in range(n * scale):
        src = (i + 0.5) / scale - 0.5
        for j in range(n):
            d = src - j
            m[i, j] = np.sinc(d) * np.sinc(d / radius) if abs(d) < radius else 0.0
        m[i] /= m[i].sum()
    return m


def linear_matrix(n, scale):
    m = np.zeros((n * scale, n))
    for i in range(n * scale):
        src = min(max((i + 0.5) / scale - 0.5, 0), n - 1)
        lo = int(np.floor(src))
        hi = min(lo + 1, n - 1)
        m[i, lo] += 1 - (src - lo)
        m[i, hi] += src - lo
    return m


_MATRICES = {"bilinear": linear_matrix, "bicubic": cubic_matrix,
             "lanczos3": lambda n, s: lanczos_matrix(n, s, 3), "lanczos5": lambda n, s: lanczos_matrix(n, s, 5),
             "nearest": lambda n, s: np.repeat(np.eye(n), s, axis=0)}


@pytest.mark.parametrize("interpolation", sorted(_MATRICES))
@pytest.mark.parametrize("size", [(2, 2), (3, 1), (1, 4), (5, 3)])
def test_matches_separable_reference(interpolation, size):
    x = random_array((2, 4, 6, 3), seed=size[0] * 10 + size[1])
    y = UpSampling2D(size, interpolation=interpolation)(x)
    rows, cols = _MATRICES[interpolation](4, size[0]), _MATRICES[interpolation](6, size[1])
    ref = _resample_axis(_resample_axis(f64(x), 1, rows), 2, cols)
    assert tuple(y.shape) == ref.shape
    assert_close(y, ref, rtol=1e-5, atol=1e-5)


def test_single_pixel_and_channels_first():
    x = random_array((1, 2, 1, 2), seed=3)  # channels_first, a 1x2 image of 2 channels
    for interpolation in ("bicubic", "lanczos5"):
        y = UpSampling2D((3, 2), data_format="channels_first", interpolation=interpolation)(x)
        rows, cols = _MATRICES[interpolation](1, 3), _MATRICES[interpolation](2, 2)
        ref = _resample_axis(_resample_axis(f64(x), 2, rows), 3, cols)
        assert_close(y, ref, rtol=1e-5, atol=1e-5)


def test_constant_image_stays_constant():
    x = np.full((1, 3, 4, 2), 0.25, "float32")
    for interpolation in ("bilinear", "bicubic", "lanczos3", "lanczos5"):
        assert_close(UpSampling2D(3, interpolation=interpolation)(x), np.full((1, 9, 12, 2), 0.25), atol=1e-6)


def test_float64_and_gradients():
    layer = UpSampling2D(2, interpolation="lanczos3", dtype="float64")
    x = torch.tensor(random_array((1, 3, 3, 1), seed=4, dtype="float64"), requires_grad=True)
    y = layer(x)
    assert y.dtype == torch.float64
    y.sum().backward()
    # Each output row of the resampling matrix sums to one; the gradient is its column sums.
    col = lanczos_matrix(3, 2, 3).sum(axis=0)
    assert_close(x.grad[0, :, :, 0], np.outer(col, col), rtol=1e-10, atol=1e-12)


def test_symbolic_shape_config_and_errors():
    layer = UpSampling2D((2, 3), interpolation="LANCZOS3")
    assert layer.interpolation == "lanczos3"
    assert tuple(layer(cornu.Input((None, 4, 2))).shape) == (None, None, 12, 2)
    config = layer.get_config()
    assert config["interpolation"] == "lanczos3" and config["size"] == (2, 3)
    assert UpSampling2D.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="interpolation"):
        UpSampling2D(interpolation="area")
    with pytest.raises(TypeError, match="interpolation"):
        UpSampling2D(interpolation=None)
    with pytest.raises(ValueError, match="size"):
        UpSampling2D(size=(2, 0))
