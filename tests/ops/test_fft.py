"""FFT family, STFT/ISTFT, extract_sequences and logdet against float64 NumPy."""
import math

import numpy as np
import pytest
import torch

import cornu
from cornu import ops
from tests.helpers import assert_close, f64, seeded


def _pair(*shape, seed=0):
    rng = seeded(seed)
    return rng.normal(size=shape).astype("float32"), rng.normal(size=shape).astype("float32")


def _assert_complex(pair, ref, rtol=1e-4, atol=1e-4):
    assert_close(pair[0], ref.real, rtol=rtol, atol=atol)
    assert_close(pair[1], ref.imag, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", ["fft", "fft2", "ifft2"])
def test_complex_ffts(name):
    re, im = _pair(2, 4, 6)
    out = getattr(ops, name)((re, im))
    assert all(t.dtype == torch.float32 and tuple(t.shape) == (2, 4, 6) for t in out)
    _assert_complex(out, getattr(np.fft, name)(f64(re) + 1j * f64(im)))
    out64 = getattr(ops, name)((re.astype("float64"), im.astype("float64")))
    assert out64[0].dtype == torch.float64


def test_fft_input_errors():
    re, im = _pair(3, 4)
    with pytest.raises(ValueError, match="tuple of two"):
        ops.fft(re)
    with pytest.raises(ValueError, match="same shape"):
        ops.fft((re, im[:, :3]))
    with pytest.raises(ValueError, match="float"):
        ops.fft((re.astype("int32"), im.astype("int32")))


@pytest.mark.parametrize("n", [None, 6, 9])
def test_rfft_and_irfft(n):
    x = _pair(3, 8)[0]
    out = ops.rfft(x, fft_length=n)
    _assert_complex(out, np.fft.rfft(f64(x), n=n))
    re, im = _pair(3, 5, seed=1)
    assert_close(ops.irfft((re, im), fft_length=n), np.fft.irfft(f64(re) + 1j * f64(im), n=n), rtol=1e-4, atol=1e-5)
    assert ops.rfft(np.arange(4, dtype="int32"))[0].dtype == torch.float32


def _np_stft(x, length, stride, n_fft, window, center):
    if center:
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(n_fft // 2, n_fft // 2)], mode="reflect")
    left = (n_fft - length) // 2
    win = np.zeros(n_fft)
    win[left:left + length] = window
    count = (x.shape[-1] - n_fft) // stride + 1
    frames = np.stack([x[..., i * stride:i * stride + n_fft] for i in range(count)], axis=-2)
    return np.fft.rfft(frames * win, axis=-1)


def _hann(n):
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)  # periodic


@pytest.mark.parametrize("args,center", [((8, 4, 16), True), ((8, 3, 8), False), ((7, 2, 10), True)])
def test_stft_matches_framed_rfft(args, center):
    x = np.sin(np.arange(46) / 3.0 + np.arange(46) ** 1.3 / 7).reshape(2, 23).astype("float32")
    out = ops.stft(x, *args, center=center)
    _assert_complex(out, _np_stft(f64(x), *args, _hann(args[0]), center), atol=1e-4)
    out = ops.stft(x, *args, window=None, center=center)
    _assert_complex(out, _np_stft(f64(x), *args, np.ones(args[0]), center), atol=1e-4)


def test_stft_errors():
    x = np.zeros((2, 20), "float32")
    with pytest.raises(ValueError, match="window"):
        ops.stft(x, 8, 4, 16, window="bad")
    with pytest.raises(ValueError, match="window"):
        ops.stft(x, 8, 4, 16, window=np.ones(7, "float32"))
    with pytest.raises(ValueError, match="fft_length"):
        ops.stft(x, 16, 4, 8)
    with pytest.raises(TypeError, match="int32"):
        ops.stft(x.astype("int32"), 8, 4, 16)


@pytest.mark.parametrize("args", [(8, 4, 16), (8, 2, 8), (8, 4, 8)])
def test_istft_inverts_stft(args):
    x = np.sin(np.arange(64) / 3.0 + np.arange(64) ** 1.3 / 7).reshape(2, 32).astype("float32")
    back = ops.istft(ops.stft(x, *args), *args, length=32)
    assert tuple(back.shape) == (2, 32)
    assert_close(back, x, atol=1e-4)


def test_istft_without_window_is_plain_overlap_add():
    re, im = _pair(3, 5, seed=2)
    frames = np.fft.irfft(f64(re) + 1j * f64(im), n=8)
    ref = np.zeros(2 * 2 + 8)
    for i in range(3):
        ref[2 * i:2 * i + 8] += frames[i]
    assert_close(ops.istft((re, im), 8, 2, 8, window=None, center=False), ref, atol=1e-5)


def test_extract_sequences_and_logdet():
    x = np.arange(20, dtype="float32").reshape(2, 10)
    out = ops.extract_sequences(x, 4, 3)
    ref = np.stack([x[:, i:i + 4] for i in (0, 3, 6)], axis=1)
    assert_close(out, ref)
    a = seeded(0).normal(size=(2, 4, 4))
    spd = (a @ np.swapaxes(a, -1, -2) + 4 * np.eye(4)).astype("float32")
    assert_close(ops.logdet(spd), np.linalg.slogdet(f64(spd))[1], rtol=1e-5)


@pytest.mark.parametrize("name,reduce,empty", [("segment_min", np.min, np.inf), ("segment_max", np.max, -np.inf),
                                               ("segment_prod", np.prod, 1.0)])
def test_segment_reductions(name, reduce, empty):
    data = seeded(4).normal(size=(6, 2)).astype("float32")
    ids = np.array([0, 0, 2, 2, 2, 3])
    out = getattr(ops, name)(data, ids, num_segments=5)
    ref = np.stack([reduce(f64(data)[ids == s], 0) if (ids == s).any() else np.full(2, empty) for s in range(5)])
    assert_close(out, ref, rtol=1e-5)


def test_erfc_and_complex_views():
    x = np.linspace(-3, 8, 12).astype("float32")
    assert_close(ops.erfc(x), [math.erfc(v) for v in f64(x)], rtol=1e-5, atol=1e-30)
    pairs = seeded(5).normal(size=(3, 2)).astype("float32")
    z = ops.view_as_complex(pairs)
    assert z.dtype == torch.complex64
    np.testing.assert_allclose(z.numpy(), pairs[:, 0] + 1j * pairs[:, 1])
    assert_close(ops.view_as_real(z), pairs)
    with pytest.raises(ValueError, match="size 2"):
        ops.view_as_complex(np.ones((2, 3), "float32"))


def test_symbolic_shapes():
    x = cornu.Input((23,))
    re, im = ops.stft(x, 8, 4, 16)
    assert re.shape == (None, 6, 9) and im.dtype == "float32"
    assert ops.irfft(ops.rfft(x)).shape == (None, 22)
