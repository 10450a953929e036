"""The ``grid_sample`` fast path of ``warp_affine`` / ``warp_projective`` against the per-neighbour gather path."""
import numpy as np
import pytest
import torch

from cornu.layers.preprocessing.image.random_affine import RandomRotation, RandomTranslation, RandomZoom
from cornu.ops import image as image_ops
from cornu.ops.image import affine_sources, sample_nchw, warp_affine, warp_projective
from tests.helpers import assert_close, random_array

FAST_MODES = [("constant", 0.0), ("constant", 0.7), ("reflect", 0.0), ("nearest", 0.0)]


def _random_case(trial: int, dtype: torch.dtype, reach: float):
    """A batch of random images and random (n, 2, 3) matrices whose translations reach ``reach`` image sizes out."""
    h, w = 5 + trial % 4, 7 + trial % 3
    x = torch.from_numpy(random_array((3, 2, h, w), seed=trial, low=0.0, high=1.0)).to(dtype)
    rng = np.random.default_rng(100 + trial)
    m = rng.normal(size=(3, 2, 3)) * np.array([1.5, 1.5, reach * max(h, w)])
    return x, torch.from_numpy(m)


def _gather(x, m, fill_mode, fill_value):
    return sample_nchw(x, *affine_sources(x, m), "bilinear", fill_mode, fill_value)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("fill_mode,fill_value", FAST_MODES)
def test_fast_path_equals_gather(dtype, fill_mode, fill_value):
    for trial in range(6):
        x, m = _random_case(trial, dtype, reach=1.0)
        fast = warp_affine(x, m, "bilinear", fill_mode, fill_value)
        assert fast.dtype == dtype and fast.shape == x.shape
        assert_close(fast, _gather(x, m, fill_mode, fill_value), rtol=0, atol=1e-5)


@pytest.mark.parametrize("fill_mode,fill_value", FAST_MODES)
def test_far_outside_points_float32_as_accurate_as_gather(fill_mode, fill_value):
    """Points several image sizes out: both float32 paths within 1e-5 of the float64 result."""
    for trial in range(6):
        x, m = _random_case(trial, torch.float64, reach=4.0)
        truth = _gather(x, m, fill_mode, fill_value)
        assert_close(warp_affine(x, m, "bilinear", fill_mode, fill_value), truth, rtol=0, atol=1e-10)
        x32 = x.float()
        assert_close(warp_affine(x32, m, "bilinear", fill_mode, fill_value), truth, rtol=0, atol=1e-5)
        assert_close(_gather(x32, m, fill_mode, fill_value), truth, rtol=0, atol=1e-5)


@pytest.mark.parametrize("fill_mode,fill_value", FAST_MODES)
def test_projective_fast_path_equals_gather(fill_mode, fill_value):
    x = torch.from_numpy(random_array((2, 3, 6, 8), seed=3, low=0.0, high=1.0)).double()
    t = torch.tensor([[1.1, 0.2, -1.5, -0.1, 0.9, 2.0, 0.01, -0.02], [0.8, -0.3, 3.0, 0.25, 1.2, -4.0, -0.03, 0.02]],
                     dtype=torch.float64)
    rows = torch.arange(6, dtype=torch.float64)[:, None]
    cols = torch.arange(8, dtype=torch.float64)
    k = t[:, 6, None, None] * cols + t[:, 7, None, None] * rows + 1
    src_x = (t[:, 0, None, None] * cols + t[:, 1, None, None] * rows + t[:, 2, None, None]) / k
    src_y = (t[:, 3, None, None] * cols + t[:, 4, None, None] * rows + t[:, 5, None, None]) / k
    expected = sample_nchw(x, src_x, src_y, "bilinear", fill_mode, fill_value)
    assert_close(warp_projective(x, t, "bilinear", fill_mode, fill_value), expected, rtol=0, atol=1e-10)


def test_dispatch_covers_only_exact_cases():
    f32, i32 = torch.zeros(1, dtype=torch.float32), torch.zeros(1, dtype=torch.int32)
    for fill_mode in ("constant", "reflect", "nearest"):
        assert image_ops._grid_samples(f32, "bilinear", fill_mode)
        assert not image_ops._grid_samples(f32, "nearest", fill_mode)
        assert not image_ops._grid_samples(i32, "bilinear", fill_mode)
    for fill_mode in ("wrap", "mirror"):
        assert not image_ops._grid_samples(f32, "bilinear", fill_mode)


def test_fast_path_does_not_gather(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("the gather path ran")

    monkeypatch.setattr(image_ops, "sample_nchw", forbidden)
    x, m = _random_case(0, torch.float32, reach=1.0)
    warp_affine(x, m, "bilinear", "reflect", 0.0)


LAYERS = [(RandomRotation, dict(factor=0.3)), (RandomZoom, dict(height_factor=(-0.4, 0.5), width_factor=0.3)),
          (RandomTranslation, dict(height_factor=0.3, width_factor=0.4))]


@pytest.mark.parametrize("cls,kwargs", LAYERS)
@pytest.mark.parametrize("fill_mode", ["constant", "reflect", "nearest"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layers_fast_path_both_data_formats(cls, kwargs, fill_mode, dtype):
    x = torch.from_numpy(random_array((4, 7, 9, 2), seed=5, low=0.0, high=1.0))
    last = cls(**kwargs, fill_mode=fill_mode, fill_value=0.5, seed=7, dtype=dtype)
    first = cls(**kwargs, fill_mode=fill_mode, fill_value=0.5, seed=7, dtype=dtype, data_format="channels_first")
    drawer = cls(**kwargs, fill_mode=fill_mode, fill_value=0.5, seed=7, dtype=dtype)
    y_last = last(x, training=True)
    y_first = first(x.permute(0, 3, 1, 2), training=True)
    assert y_last.dtype == getattr(torch, dtype)
    nchw = x.permute(0, 3, 1, 2).to(getattr(torch, dtype))
    m = drawer.matrices(4, 7, 9, x.device)
    expected = _gather(nchw, m, fill_mode, 0.5).permute(0, 2, 3, 1)
    assert_close(y_last, expected, rtol=0, atol=1e-5)
    assert_close(y_first.permute(0, 2, 3, 1), expected, rtol=0, atol=1e-5)
