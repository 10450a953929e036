"""RandomRotation / RandomZoom / RandomTranslation against a float64 NumPy resampler with fixed parameters."""
import math

import numpy as np
import pytest
import torch

from cornu.layers.preprocessing.image.random_affine import RandomRotation, RandomTranslation, RandomZoom
from tests.helpers import assert_close, f64, random_array


def _fill_index(i: int, n: int, mode: str):
    if 0 <= i < n:
        return i
    if mode == "constant":
        return None
    if mode == "nearest":
        return min(max(i, 0), n - 1)
    if mode == "wrap":
        return i % n
    r = i % (2 * n)  # reflect: d c b a | a b c d | d c b a
    return r if r < n else 2 * n - 1 - r


def _warp_ref(x: np.ndarray, inverse: np.ndarray, mode: str, interpolation: str, fill: float) -> np.ndarray:
    """Output pixel (col, row) reads input ``inverse @ (col, row, 1)``; every neighbour filled on its own."""
    x = x.astype(np.float64)
    _, h, w, _ = x.shape
    out = np.zeros_like(x)

    def read(b, r, c):
        rr, cc = _fill_index(r, h, mode), _fill_index(c, w, mode)
        return np.full(x.shape[-1], fill) if rr is None or cc is None else x[b, rr, cc]

    for b in range(x.shape[0]):
        for r in range(h):
            for c in range(w):
                sx, sy = inverse @ np.array([c, r, 1.0])
                if interpolation == "nearest":
                    out[b, r, c] = read(b, int(np.round(sy)), int(np.round(sx)))
                    continue
                y0, x0 = math.floor(sy), math.floor(sx)
                wy, wx = sy - y0, sx - x0
                out[b, r, c] = ((1 - wy) * ((1 - wx) * read(b, y0, x0) + wx * read(b, y0, x0 + 1))
                                + wy * ((1 - wx) * read(b, y0 + 1, x0) + wx * read(b, y0 + 1, x0 + 1)))
    return out


def _about_centre(a: np.ndarray, h: int, w: int, shift=(0.0, 0.0)) -> np.ndarray:
    centre = np.array([(w - 1) / 2, (h - 1) / 2])
    return np.concatenate([a, (centre - a @ centre + np.array(shift))[:, None]], axis=1)


@pytest.mark.parametrize("mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_fixed_parameters_match_numpy_warp(mode, interpolation):
    x = random_array((2, 5, 6, 2))
    kw = dict(fill_mode=mode, interpolation=interpolation, fill_value=-0.5)
    t = 0.15 * 2 * math.pi
    rot = _about_centre(np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]]), 5, 6)
    assert_close(RandomRotation((0.15, 0.15), **kw)(x), _warp_ref(x, rot, mode, interpolation, -0.5), atol=1e-5)
    zoom = _about_centre(np.diag([1 - 0.3, 1 + 0.4]), 5, 6)
    assert_close(RandomZoom((0.4, 0.4), (-0.3, -0.3), **kw)(x), _warp_ref(x, zoom, mode, interpolation, -0.5),
                 atol=1e-5)
    shift = _about_centre(np.eye(2), 5, 6, shift=(-0.25 * 6, 0.3 * 5))
    assert_close(RandomTranslation((-0.3, -0.3), (0.25, 0.25), **kw)(x),
                 _warp_ref(x, shift, mode, interpolation, -0.5), atol=1e-5)


def test_half_turn_and_integer_shift_are_exact():
    x = random_array((2, 5, 7, 3))
    assert_close(RandomRotation((0.5, 0.5), interpolation="nearest")(x), x[:, ::-1, ::-1], atol=1e-6)
    out = RandomTranslation((0.4, 0.4), (-2 / 7, -2 / 7), fill_mode="wrap", interpolation="nearest")(x)
    assert_close(out, np.roll(x, (2, -2), axis=(1, 2)))


def test_inference_identity_unbatched_and_channels_first():
    x = random_array((3, 6, 6, 2))
    for layer in (RandomRotation(0.3), RandomZoom(0.3), RandomTranslation(0.2, 0.2)):
        np.testing.assert_array_equal(f64(layer(x, training=False)), x)
    single = random_array((5, 6, 2))
    assert_close(RandomRotation((0.5, 0.5))(single), single[::-1, ::-1], atol=1e-5)
    xc = np.transpose(x, (0, 3, 1, 2))
    assert_close(RandomRotation((0.5, 0.5), data_format="channels_first")(xc), xc[:, :, ::-1, ::-1], atol=1e-5)


def test_drawn_parameters_cover_the_factor_range_and_seeds_repeat():
    matrices = RandomRotation((-0.1, 0.2), seed=1).matrices(2000, 8, 8, torch.device("cpu"))
    turns = f64(torch.atan2(matrices[:, 1, 0], matrices[:, 0, 0])) / (2 * math.pi)
    assert turns.min() >= -0.1 - 1e-6 and turns.max() <= 0.2 + 1e-6
    assert abs(turns.mean() - 0.05) < 0.01 and turns.min() < -0.09 and turns.max() > 0.19
    zooms = f64(RandomZoom(0.25, seed=2).matrices(2000, 8, 8, torch.device("cpu"))[:, 1, 1])
    assert zooms.min() >= 0.75 - 1e-6 and zooms.max() <= 1.25 + 1e-6 and abs(zooms.mean() - 1) < 0.02
    x = random_array((4, 6, 6, 1))
    np.testing.assert_array_equal(f64(RandomZoom(0.3, seed=5)(x)), f64(RandomZoom(0.3, seed=5)(x)))


def test_argument_errors_and_config_round_trip():
    with pytest.raises(ValueError, match="1.5"):
        RandomRotation(1.5)
    with pytest.raises(ValueError, match="-1.0"):
        RandomZoom(-1.0)
    with pytest.raises(ValueError, match="1.2"):
        RandomTranslation(0.1, (0.2, 1.2))
    with pytest.raises(NotImplementedError, match="foo"):
        RandomRotation(0.1, fill_mode="foo")
    with pytest.raises(NotImplementedError, match="bicubic"):
        RandomZoom(0.1, interpolation="bicubic")
    for layer in (RandomRotation((0.3, 0.1), seed=1), RandomZoom(0.2, (0.1, 0.3)), RandomTranslation(0.1, 0.2)):
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()
