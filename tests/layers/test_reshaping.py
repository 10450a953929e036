"""Reshape/Permute/RepeatVector, UpSampling and ZeroPadding/Cropping layers."""
import numpy as np
import pytest
import torch

from cornu.layers.padding_cropping import (Cropping1D, Cropping2D, Cropping3D, ZeroPadding1D, ZeroPadding2D,
                                           ZeroPadding3D)
from cornu.layers.reshaping import Permute, RepeatVector, Reshape
from cornu.layers.upsampling import UpSampling1D, UpSampling2D, UpSampling3D
from cornu.symbolic import KerasTensor

RNG = np.random.default_rng(2)


def _rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


def _np(t):
    return t.detach().numpy()


def _round_trip(layer):
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    return clone


# ---------------------------------------------------------------- Reshape
def test_reshape_numerics_and_minus_one():
    x = _rand(2, 3, 4)
    np.testing.assert_array_equal(_np(Reshape((4, 3))(x)), x.reshape(2, 4, 3))
    np.testing.assert_array_equal(_np(Reshape((-1, 2))(x)), x.reshape(2, 6, 2))
    np.testing.assert_array_equal(_np(Reshape((-1,))(np.zeros((0, 3, 4), "float32"))), np.zeros((0, 12)))


def test_reshape_symbolic_shapes():
    assert Reshape((-1, 2))(KerasTensor((None, 3, 4))).shape == (None, 6, 2)
    assert Reshape((4, -1))(KerasTensor((None, None, 4))).shape == (None, 4, None)
    assert Reshape((2, 6))(KerasTensor((None, 3, 4))).shape == (None, 2, 6)


def test_reshape_errors():
    with pytest.raises(ValueError, match="total size of the tensor must be unchanged"):
        Reshape((5,))(KerasTensor((None, 3, 4)))
    with pytest.raises(ValueError, match="total size"):
        Reshape((-1, 5))(KerasTensor((None, 3, 4)))
    with pytest.raises(ValueError, match="at most one unknown dimension"):
        Reshape((-1, -1))
    layer = _round_trip(Reshape((3, -1)))
    assert layer.target_shape == (3, -1)


def test_permute():
    x = _rand(2, 3, 4, 5)
    layer = Permute((3, 1, 2))
    np.testing.assert_array_equal(_np(layer(x)), np.transpose(x, (0, 3, 1, 2)))
    assert layer(KerasTensor((None, 3, None, 5))).shape == (None, 5, 3, None)
    assert _round_trip(layer).dims == (3, 1, 2)
    with pytest.raises(ValueError, match="consecutive and start from 1"):
        Permute((0, 1))
    with pytest.raises(ValueError, match="expected ndim=4"):
        Permute((2, 1, 3))(_rand(2, 3))


def test_repeat_vector():
    x = _rand(2, 3)
    layer = RepeatVector(4)
    np.testing.assert_array_equal(_np(layer(x)), np.repeat(x[:, None, :], 4, axis=1))
    assert layer(KerasTensor((None, 3))).shape == (None, 4, 3)
    assert _round_trip(layer).n == 4
    with pytest.raises(TypeError, match="integer value for `n`"):
        RepeatVector(2.5)
    with pytest.raises(ValueError, match="expected ndim=2"):
        layer(_rand(2, 3, 4))


# ---------------------------------------------------------------- UpSampling
def test_upsampling1d():
    x = _rand(2, 3, 4)
    layer = UpSampling1D(size=3)
    np.testing.assert_array_equal(_np(layer(x)), np.repeat(x, 3, axis=1))
    assert layer(KerasTensor((None, 5, 4))).shape == (None, 15, 4)
    assert layer(KerasTensor((None, None, 4))).shape == (None, None, 4)
    assert _round_trip(layer).size == 3


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_upsampling2d_nearest(data_format):
    x = _rand(2, 3, 4, 5)
    layer = UpSampling2D(size=(2, 3), data_format=data_format)
    axes = (1, 2) if data_format == "channels_last" else (2, 3)
    ref = np.repeat(np.repeat(x, 2, axis=axes[0]), 3, axis=axes[1])
    np.testing.assert_array_equal(_np(layer(x)), ref)
    expected = (None, 6, 12, 5) if data_format == "channels_last" else (None, 3, 8, 15)
    assert layer(KerasTensor((None, 3, 4, 5))).shape == expected


def _np_bilinear_axis(x, scale, axis):
    """Half-pixel-centre linear interpolation along one axis, edges clamped."""
    n = x.shape[axis]
    src = np.clip((np.arange(n * scale) + 0.5) / scale - 0.5, 0, n - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    w = (src - lo).reshape([-1 if d == axis else 1 for d in range(x.ndim)])
    return np.take(x, lo, axis=axis) * (1 - w) + np.take(x, hi, axis=axis) * w


def test_upsampling2d_bilinear_matches_half_pixel_reference():
    x = _rand(2, 3, 4, 2)
    out = _np(UpSampling2D(size=(2, 3), interpolation="bilinear")(x))
    ref = _np_bilinear_axis(_np_bilinear_axis(x.astype("float64"), 2, 1), 3, 2)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_upsampling_config_and_errors():
    layer = _round_trip(UpSampling2D(size=2, interpolation="bilinear"))
    assert layer.size == (2, 2) and layer.interpolation == "bilinear"
    with pytest.raises(ValueError, match="interpolation"):
        UpSampling2D(interpolation="cubic-ish")
    with pytest.raises(ValueError, match="size"):
        UpSampling2D(size=(2, 0))


def test_upsampling3d():
    x = _rand(1, 2, 3, 2, 2)
    layer = UpSampling3D(size=(2, 1, 3))
    ref = np.repeat(np.repeat(x, 2, axis=1), 3, axis=3)
    np.testing.assert_array_equal(_np(layer(x)), ref)
    assert layer(KerasTensor((None, 2, 3, 2, 4))).shape == (None, 4, 3, 6, 4)
    assert "interpolation" not in _round_trip(layer).get_config()


# ---------------------------------------------------------------- Padding / cropping
def test_zero_padding1d():
    x = _rand(2, 3, 4)
    layer = ZeroPadding1D(padding=(1, 2))
    np.testing.assert_array_equal(_np(layer(x)), np.pad(x, ((0, 0), (1, 2), (0, 0))))
    assert ZeroPadding1D(2)(KerasTensor((None, 5, 4))).shape == (None, 9, 4)
    assert _round_trip(layer).padding == (1, 2)


@pytest.mark.parametrize("padding,pairs", [(1, ((1, 1), (1, 1))), ((1, 2), ((1, 1), (2, 2))),
                                           (((0, 1), (2, 3)), ((0, 1), (2, 3)))])
def test_zero_padding2d(padding, pairs):
    x = _rand(2, 3, 4, 5)
    layer = ZeroPadding2D(padding)
    assert layer.padding == pairs
    np.testing.assert_array_equal(_np(layer(x)), np.pad(x, ((0, 0),) + pairs + ((0, 0),)))
    h, w = 3 + sum(pairs[0]), 4 + sum(pairs[1])
    assert layer(KerasTensor((None, 3, 4, 5))).shape == (None, h, w, 5)
    cf = ZeroPadding2D(padding, data_format="channels_first")
    np.testing.assert_array_equal(_np(cf(x)), np.pad(x, ((0, 0), (0, 0)) + pairs))


def test_zero_padding3d_and_errors():
    x = _rand(1, 2, 2, 2, 3)
    layer = ZeroPadding3D(((1, 0), (0, 1), (2, 2)))
    np.testing.assert_array_equal(_np(layer(x)), np.pad(x, ((0, 0), (1, 0), (0, 1), (2, 2), (0, 0))))
    assert _round_trip(layer).padding == ((1, 0), (0, 1), (2, 2))
    with pytest.raises(ValueError, match="should have 2 elements"):
        ZeroPadding2D((1, 2, 3))
    with pytest.raises(ValueError, match="non-negative"):
        ZeroPadding1D(-1)


def test_cropping1d():
    x = _rand(2, 6, 3)
    layer = Cropping1D((1, 2))
    np.testing.assert_array_equal(_np(layer(x)), x[:, 1:4])
    assert layer(KerasTensor((None, 6, 3))).shape == (None, 3, 3)
    assert layer(KerasTensor((None, None, 3))).shape == (None, None, 3)
    assert "data_format" not in _round_trip(layer).get_config()


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_cropping2d(data_format):
    x = _rand(2, 6, 7, 8)
    layer = Cropping2D(((1, 2), (0, 3)), data_format=data_format)
    ref = x[:, 1:4, 0:4] if data_format == "channels_last" else x[:, :, 1:5, 0:5]
    np.testing.assert_array_equal(_np(layer(x)), ref)
    expected = (None, 3, 4, 8) if data_format == "channels_last" else (None, 6, 4, 5)
    assert layer(KerasTensor((None, 6, 7, 8))).shape == expected
    assert _round_trip(layer).cropping == ((1, 2), (0, 3))


def test_cropping3d_and_errors():
    x = _rand(1, 4, 5, 6, 2)
    np.testing.assert_array_equal(_np(Cropping3D()(x)), x[:, 1:3, 1:4, 1:5])
    with pytest.raises(ValueError, match="should be smaller than the corresponding spatial dimension"):
        Cropping2D(((2, 2), (0, 0)))(KerasTensor((None, 4, 4, 1)))
    with pytest.raises(ValueError, match="smaller"):
        Cropping1D((3, 3))(torch.zeros(1, 5, 2))
