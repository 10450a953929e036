"""The one-channel GEMM convolution gives the library convolution's numbers, and is used only where it applies."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import cornu as keras
from cornu.layers import conv_gemm

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_LAYER = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}


@pytest.mark.parametrize("rank, spatial, kernel, strides, dilation, padding", [
    (1, (40,), (5,), (1,), (1,), (0,)),
    (1, (41,), (3,), (2,), (1,), (1,)),
    (2, (28, 28), (3, 3), (1, 1), (1, 1), (0, 0)),
    (2, (17, 20), (3, 2), (2, 3), (1, 1), (1, 0)),
    (2, (15, 15), (3, 3), (1, 1), (2, 2), (2, 2)),
    (3, (7, 8, 9), (2, 3, 2), (1, 2, 1), (1, 1, 1), (0, 1, 1)),
])
@pytest.mark.parametrize("use_bias", [True, False])
def test_matches_library_convolution_in_float64(rank, spatial, kernel, strides, dilation, padding, use_bias):
    g = torch.Generator().manual_seed(rank)
    x = torch.randn(3, 1, *spatial, dtype=torch.float64, generator=g)
    w = torch.randn(32, 1, *kernel, dtype=torch.float64, generator=g, requires_grad=True)
    b = torch.randn(32, dtype=torch.float64, generator=g, requires_grad=True) if use_bias else None
    ref = _CONV[rank](x, w, b, strides, padding, dilation)
    got = conv_gemm.convolve(x, w, b, strides, padding, dilation)
    assert got.shape == ref.shape
    torch.testing.assert_close(got, ref, rtol=1e-12, atol=1e-12)
    upstream = torch.randn(ref.shape, dtype=torch.float64, generator=g)
    params = [w] if b is None else [w, b]
    ref_grads = torch.autograd.grad(ref, params, upstream)
    got_grads = torch.autograd.grad(got, params, upstream)
    for r, a in zip(ref_grads, got_grads):
        torch.testing.assert_close(a, r, rtol=1e-12, atol=1e-12)


def test_output_is_channels_last_in_memory():
    x = torch.randn(4, 1, 12, 12)
    y = conv_gemm.convolve(x, torch.randn(16, 1, 3, 3), torch.randn(16), (1, 1), (0, 0), (1, 1))
    assert y.shape == (4, 16, 10, 10)
    assert y.permute(0, 2, 3, 1).is_contiguous()


def test_applies_only_where_it_wins():
    w = torch.randn(32, 1, 3, 3)
    x = torch.randn(2, 1, 8, 8)
    assert conv_gemm.applies(x, w, 1)
    assert not conv_gemm.applies(torch.randn(2, 3, 8, 8), torch.randn(32, 3, 3, 3), 1)  # several channels
    assert not conv_gemm.applies(x, torch.randn(8, 1, 3, 3), 1)  # more taps than filters
    assert not conv_gemm.applies(x.clone().requires_grad_(), w, 1)  # the input needs its gradient
    with torch.no_grad():
        assert conv_gemm.applies(x.clone().requires_grad_(), w, 1)
    assert not conv_gemm.applies(x.to(torch.int32), w, 1)


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_layer_uses_it_and_matches_the_library_path(rank, padding, data_format, monkeypatch):
    """The layer's output and weight gradients equal those of the library convolution."""
    spatial = {1: (30,), 2: (14, 13), 3: (6, 7, 5)}[rank]
    shape = (2, *spatial, 1) if data_format == "channels_last" else (2, 1, *spatial)
    layer = _LAYER[rank](32, 3, padding=padding, strides=2 if rank == 2 else 1, data_format=data_format)
    x = torch.as_tensor(np.random.default_rng(rank).normal(size=shape).astype("float64"))
    layer.build(shape)
    for v in layer.weights:
        v.assign(np.random.default_rng(7).normal(size=v.shape))
    calls = []
    real = conv_gemm.convolve
    monkeypatch.setattr(conv_gemm, "convolve", lambda *a: calls.append(1) or real(*a))
    x32 = x.float()
    got = layer(x32)
    assert calls, "the one-channel GEMM path was not taken"
    grads = torch.autograd.grad(got.sum(), [layer.kernel.value, layer.bias.value])
    monkeypatch.setattr(conv_gemm, "applies", lambda *a: False)
    ref = layer(x32)
    ref_grads = torch.autograd.grad(ref.sum(), [layer.kernel.value, layer.bias.value])
    assert got.shape == ref.shape == tuple(layer.compute_output_shape(shape))
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)
    for a, r in zip(grads, ref_grads):
        torch.testing.assert_close(a, r, rtol=1e-4, atol=1e-4)


def test_tutorial_model_trains_the_same_either_way(monkeypatch):
    """Three Adam steps of the tutorial's first layers: the same weights with and without the GEMM path."""
    rng = np.random.default_rng(0)
    x = rng.random((16, 12, 12, 1)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 10, 16), 10)

    def train() -> list:
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Conv2D(32, 3, activation="relu"),
                                  keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="categorical_crossentropy")
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
        return model.get_weights()

    with_gemm = train()
    monkeypatch.setattr(conv_gemm, "applies", lambda *a: False)
    without = train()
    for a, b in zip(with_gemm, without):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
