"""Conv layers against a float64 NumPy reference, both paddings, strides, dilation; weight layouts."""
import math

import numpy as np
import pytest
import torch

from cornu.layers import Conv1D, Conv2D
from cornu.symbolic import KerasTensor


def conv2d_ref(x, k, b, strides, padding, dilation=(1, 1)):
    """Direct NHWC convolution in float64 with Keras/TF 'same' padding (extra on bottom/right)."""
    n, h, w, c = x.shape
    kh, kw, _, o = k.shape
    sh, sw = strides
    dh, dw = dilation
    ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if padding == "same":
        oh, ow = math.ceil(h / sh), math.ceil(w / sw)
        ph = max((oh - 1) * sh + ekh - h, 0)
        pw = max((ow - 1) * sw + ekw - w, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    else:
        oh, ow = (h - ekh) // sh + 1, (w - ekw) // sw + 1
    out = np.zeros((n, oh, ow, o))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * sh: i * sh + ekh: dh, j * sw: j * sw + ekw: dw, :]
            out[:, i, j, :] = np.tensordot(patch, k, axes=([1, 2, 3], [0, 1, 2]))
    return out + b


@pytest.mark.parametrize("padding,strides,dilation,size", [
    ("valid", (1, 1), (1, 1), (9, 8)),
    ("same", (1, 1), (1, 1), (9, 8)),
    ("same", (2, 2), (1, 1), (9, 8)),   # asymmetric 'same' padding
    ("valid", (2, 1), (1, 1), (10, 7)),
    ("same", (1, 1), (2, 2), (9, 9)),
])
def test_conv2d_matches_float64_reference(padding, strides, dilation, size):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, *size, 3))
    layer = Conv2D(4, (3, 2), strides=strides, padding=padding, dilation_rate=dilation)
    y = layer(x.astype("float32"))
    k, b = layer.get_weights()
    assert k.shape == (3, 2, 3, 4) and b.shape == (4,)
    b = rng.normal(size=4).astype("float32")
    layer.set_weights([k, b])
    y = layer(x.astype("float32")).detach().numpy()
    ref = conv2d_ref(x, k.astype("float64"), b.astype("float64"), strides, padding, dilation)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)
    assert layer.compute_output_shape((None, *size, 3)) == (None, *ref.shape[1:])


def test_conv2d_weight_layout_round_trip_and_torch_storage():
    layer = Conv2D(5, 3)
    layer(np.zeros((1, 6, 6, 2), "float32"))
    keras_k = np.arange(3 * 3 * 2 * 5, dtype="float32").reshape(3, 3, 2, 5)
    layer.set_weights([keras_k, np.zeros(5, "float32")])
    np.testing.assert_array_equal(layer.get_weights()[0], keras_k)
    stored = layer.kernel.value.detach().numpy()
    assert stored.shape == (5, 2, 3, 3)  # torch (out, in, kh, kw)
    np.testing.assert_array_equal(stored, keras_k.transpose(3, 2, 0, 1))
    assert layer.kernel.value.is_contiguous(memory_format=torch.channels_last)


def test_conv2d_output_is_channels_last_view_without_copy():
    layer = Conv2D(8, 3, padding="same")
    x = torch.randn(2, 7, 7, 3)
    y = layer(x)
    assert y.shape == (2, 7, 7, 8) and y.is_contiguous()


def test_conv2d_activation_and_no_bias():
    layer = Conv2D(2, 1, activation="relu", use_bias=False)
    x = np.random.default_rng(1).normal(size=(1, 4, 4, 3)).astype("float32")
    y = layer(x).detach().numpy()
    k = layer.get_weights()[0]
    assert len(layer.weights) == 1
    np.testing.assert_allclose(y, np.maximum(conv2d_ref(x, k, 0.0, (1, 1), "valid"), 0), atol=1e-5)


def test_conv1d_causal_matches_reference():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 6, 3)).astype("float32")
    layer = Conv1D(2, 3, padding="causal")
    y = layer(x).detach().numpy()
    k, b = layer.get_weights()
    xp = np.pad(x, ((0, 0), (2, 0), (0, 0)))
    ref = np.stack([np.tensordot(xp[:, t:t + 3], k, axes=([1, 2], [0, 1])) for t in range(6)], 1) + b
    np.testing.assert_allclose(y, ref, atol=1e-5)


def test_conv2d_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="filters"):
        Conv2D(0, 3)
    with pytest.raises(ValueError, match="padding"):
        Conv2D(2, 3, padding="full")
    with pytest.raises(ValueError, match="kernel_size"):
        Conv2D(2, (3, 3, 3))
    layer = Conv2D(2, 3)
    with pytest.raises(ValueError, match=r'layer "conv2d.*expected ndim=4, found ndim=2'):
        layer(KerasTensor((None, 10)))
    with pytest.raises(ValueError, match="zero or negative"):
        Conv2D(2, 5)(KerasTensor((None, 3, 3, 1)))


@pytest.mark.parametrize("eager", [True, False])
def test_empty_output_is_a_value_error_with_keras_message(eager):
    import cornu

    layer = cornu.layers.Conv2D(2, 3)
    message = r"Computed output size would be zero or negative.*kernel shape=\(3, 3, 1, 2\)"
    with pytest.raises(ValueError, match=message):
        if eager:
            layer(np.zeros((1, 2, 2, 1), "float32"))
        else:
            cornu.Sequential([cornu.Input((2, 2, 1)), layer])


def test_empty_output_error_class_matches_keras(keras_ref):
    with pytest.raises(ValueError, match="Computed output size would be zero or negative"):
        keras_ref.layers.Conv2D(2, 3)(np.zeros((1, 2, 2, 1), "float32"))


def test_conv_lora_update_is_a_kernel_shaped_low_rank_product():
    layer = Conv1D(4, 3, lora_rank=2, lora_alpha=4.0)
    x = torch.as_tensor(np.random.default_rng(0).standard_normal((2, 6, 3)).astype("float32"))
    layer(x)
    rng = np.random.default_rng(1)
    kernel, bias, a, b = (rng.standard_normal(w.shape).astype("float32") for w in layer.get_weights())
    layer.set_weights([kernel, bias, a, b])
    merged = kernel.astype(np.float64) + (a.astype(np.float64) @ b) * (4.0 / 2)
    windows = np.stack([x.numpy()[:, i:i + 3, :] for i in range(4)], axis=1)  # (batch, out_steps, k, in)
    expected = np.einsum("btki,kio->bto", windows, merged) + bias
    np.testing.assert_allclose(layer(x).detach().numpy(), expected, rtol=1e-4, atol=1e-5)
    assert not layer.kernel.trainable and layer.get_config()["lora_alpha"] == 4.0
