"""Conv1D/2D/3DTranspose against a direct-loop float64 NumPy transposed convolution, Keras's output-length
rule, weight layouts, symbolic shapes, argument errors and a weights-file round trip."""
import itertools

import numpy as np
import pytest
import torch

import cornu
from cornu.layers import Conv1DTranspose, Conv2DTranspose, Conv3DTranspose
from tests.helpers import assert_close, f64, random_array

_CLASSES = {1: Conv1DTranspose, 2: Conv2DTranspose, 3: Conv3DTranspose}


def keras_length(n, k, s, d, padding, output_padding):
    """Keras's output length: ``n*s (+ max(extent - s, 0) when valid)`` or, with ``output_padding``,
    ``(n - 1)*s + extent - 2*pad + output_padding`` where ``pad = extent // 2`` for 'same'."""
    extent = (k - 1) * d + 1
    if output_padding is None:
        return n * s + (max(extent - s, 0) if padding == "valid" else 0)
    return (n - 1) * s + extent - 2 * (extent // 2 if padding == "same" else 0) + output_padding


def conv_transpose_ref(x, kernel, bias, strides, dilation, padding, output_padding):
    """Channels-last transposed convolution by loops over input positions and kernel taps.

    Each input pixel scatters ``kernel[tap] @ x`` to ``position * stride + tap * dilation`` of the full
    output; Keras then keeps ``out`` positions starting at ``max(full - out, 0) // 2`` (zeros past the end).
    """
    rank = x.ndim - 2
    spatial, ksize = x.shape[1:-1], kernel.shape[:rank]
    full_shape = [(n - 1) * s + (k - 1) * d + 1 for n, k, s, d in zip(spatial, ksize, strides, dilation)]
    full = np.zeros((x.shape[0], *full_shape, kernel.shape[-2]))
    for pos in itertools.product(*(range(n) for n in spatial)):
        for tap in itertools.product(*(range(k) for k in ksize)):
            at = tuple(p * s + t * d for p, t, s, d in zip(pos, tap, strides, dilation))
            full[(slice(None),) + at] += x[(slice(None),) + pos] @ kernel[tap].T
    ops = output_padding or (None,) * rank
    out_shape = [keras_length(n, k, s, d, padding, op)
                 for n, k, s, d, op in zip(spatial, ksize, strides, dilation, ops)]
    out = np.zeros((x.shape[0], *out_shape, kernel.shape[-2]))
    src, dst = [slice(None)], [slice(None)]
    for f, o in zip(full_shape, out_shape):
        start = max(f - o, 0) // 2
        n = min(o, f - start)
        src.append(slice(start, start + n))
        dst.append(slice(0, n))
    out[tuple(dst)] = full[tuple(src)]
    return out + bias


def _run(layer, x):
    layer(x)
    kernel, bias = layer.get_weights()
    bias = random_array(bias.shape, seed=9)
    layer.set_weights([kernel, bias])
    return layer(x), kernel, bias


@pytest.mark.parametrize("k,s,d,padding,output_padding", [
    (k, s, d, p, op) for k, s, d, p, op in itertools.product((1, 2, 3, 4), (1, 2, 3), (1, 2), ("valid", "same"),
                                                             (None, 0, 1, 2))
    if (op is None or op < s) and not (s > 1 and d > 1)])
def test_conv1d_transpose_matches_loop_reference(k, s, d, padding, output_padding):
    x = random_array((2, 5, 3), seed=k * 100 + s * 10 + d)
    layer = Conv1DTranspose(2, k, strides=s, dilation_rate=d, padding=padding, output_padding=output_padding)
    y, kernel, bias = _run(layer, x)
    ref = conv_transpose_ref(f64(x), f64(kernel), f64(bias), (s,), (d,), padding,
                             None if output_padding is None else (output_padding,))
    assert tuple(y.shape) == ref.shape
    assert_close(y, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kernel_size,strides,dilation,padding,output_padding", [
    ((3, 2), (2, 1), (1, 1), "same", None),
    ((3, 4), (2, 3), (1, 1), "same", (1, 2)),
    ((2, 3), (3, 2), (1, 1), "valid", (2, 0)),
    ((3, 3), (1, 1), (2, 1), "same", None),
    ((5, 1), (1, 1), (2, 1), "valid", (0, 0)),
])
def test_conv2d_transpose_matches_loop_reference(kernel_size, strides, dilation, padding, output_padding):
    x = random_array((2, 4, 5, 3), seed=1)
    layer = Conv2DTranspose(4, kernel_size, strides=strides, dilation_rate=dilation, padding=padding,
                            output_padding=output_padding)
    y, kernel, bias = _run(layer, x)
    assert kernel.shape == (*kernel_size, 4, 3)  # Keras: (*k, filters, in)
    ref = conv_transpose_ref(f64(x), f64(kernel), f64(bias), strides, dilation, padding, output_padding)
    assert_close(y, ref, rtol=1e-5, atol=1e-5)
    assert layer.compute_output_shape((None, 4, 5, 3)) == (None, *ref.shape[1:])


@pytest.mark.parametrize("strides,padding,output_padding", [((2, 1, 3), "same", None), ((1, 2, 2), "valid", (0, 1, 1))])
def test_conv3d_transpose_matches_loop_reference(strides, padding, output_padding):
    x = random_array((1, 3, 2, 3, 2), seed=2)
    layer = Conv3DTranspose(3, (2, 3, 2), strides=strides, padding=padding, output_padding=output_padding)
    y, kernel, bias = _run(layer, x)
    ref = conv_transpose_ref(f64(x), f64(kernel), f64(bias), strides, (1, 1, 1), padding, output_padding)
    assert_close(y, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_channels_first_equals_channels_last(rank):
    x = random_array((2, *(4,) * rank, 3), seed=rank)
    last = _CLASSES[rank](2, 3, strides=2, padding="same", data_format="channels_last")
    first = _CLASSES[rank](2, 3, strides=2, padding="same", data_format="channels_first")
    y_last = last(x)
    first.build((2, 3, *(4,) * rank))
    first.set_weights(last.get_weights())
    y_first = first(np.moveaxis(x, -1, 1))
    assert_close(torch.movedim(y_first, 1, -1), y_last, rtol=1e-5, atol=1e-6)


def test_kernel_stored_in_torch_layout_channels_last():
    layer = Conv2DTranspose(5, (3, 2))
    layer.build((None, 4, 4, 2))
    keras_k = np.arange(3 * 2 * 5 * 2, dtype="float32").reshape(3, 2, 5, 2)
    layer.set_weights([keras_k, np.zeros(5, "float32")])
    np.testing.assert_array_equal(layer.get_weights()[0], keras_k)
    stored = layer.kernel.value
    assert tuple(stored.shape) == (2, 5, 3, 2)  # torch conv_transpose: (in, out, *k)
    np.testing.assert_array_equal(stored.detach().numpy(), keras_k.transpose(3, 2, 0, 1))
    assert stored.is_contiguous(memory_format=torch.channels_last)


def test_activation_no_bias_and_gradients():
    layer = Conv1DTranspose(2, 3, strides=2, activation="relu", use_bias=False)
    x = torch.tensor(random_array((2, 4, 3), seed=3), requires_grad=True)
    y = layer(x)
    assert len(layer.weights) == 1
    ref = conv_transpose_ref(f64(x), f64(layer.get_weights()[0]), 0.0, (2,), (1,), "valid", None)
    assert_close(y, np.maximum(ref, 0), atol=1e-6)
    y.sum().backward()
    assert x.grad is not None and layer.kernel.value.grad is not None


@pytest.mark.parametrize("n,k,s,padding", [(5, 3, 2, "same"), (4, 4, 2, "valid"), (3, 1, 3, "same")])
def test_symbolic_shapes(n, k, s, padding):
    layer = Conv2DTranspose(6, k, strides=s, padding=padding)
    out = layer(cornu.Input((n, None, 3)))
    expected = keras_length(n, k, s, 1, padding, None)
    assert tuple(out.shape) == (None, expected, None, 6)
    assert layer.compute_output_shape((2, n, n, 3)) == (2, expected, expected, 6)
    first = Conv1DTranspose(2, k, strides=s, padding=padding, data_format="channels_first")
    assert tuple(first(cornu.Input((3, n))).shape) == (None, 2, expected)


def test_config_round_trip_and_defaults():
    layer = Conv3DTranspose(4, 2, strides=(1, 2, 3), output_padding=(0, 1, 2), padding="same")
    config = layer.get_config()
    assert config["output_padding"] == (0, 1, 2) and config["kernel_size"] == (2, 2, 2)
    assert "groups" not in config
    assert Conv3DTranspose.from_config(config).get_config() == config
    assert Conv2DTranspose(1, 1).get_config()["output_padding"] is None
    assert cornu.layers.Convolution2DTranspose is Conv2DTranspose


@pytest.mark.parametrize("kwargs,match", [
    ({"strides": 2, "output_padding": 2}, "output_padding"),
    ({"output_padding": 1}, "output_padding"),
    ({"strides": 2, "dilation_rate": 2}, "dilation_rate"),
    ({"padding": "causal"}, "causal"),
    ({"padding": "full"}, "padding"),
    ({"strides": 2, "output_padding": -1}, "output_padding"),
    ({"kernel_size": 0}, "kernel_size"),
])
def test_bad_arguments(kwargs, match):
    kwargs = {"filters": 2, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        Conv1DTranspose(**kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="filters"):
        Conv2DTranspose(0, 3)
    with pytest.raises(ValueError, match="ndim"):
        Conv2DTranspose(2, 3)(np.zeros((1, 5, 2), "float32"))
    layer = Conv2DTranspose(2, 3)
    layer(np.zeros((1, 5, 5, 2), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((1, 5, 5, 3), "float32"))


def test_weights_file_round_trip(tmp_path):
    def build():
        return cornu.Sequential([cornu.Input((4, 4, 2)), Conv2DTranspose(3, 3, strides=2, padding="same"),
                                 cornu.layers.Reshape((8, 24)), Conv1DTranspose(2, 2, strides=2, output_padding=1)])

    source, target = build(), build()
    source.save_weights(tmp_path / "t.weights.h5")
    target.load_weights(tmp_path / "t.weights.h5")
    x = random_array((2, 4, 4, 2), seed=4)
    assert target.predict(x, verbose=0).shape == (2, keras_length(8, 2, 2, 1, "valid", 1), 2)
    np.testing.assert_array_equal(target.predict(x, verbose=0), source.predict(x, verbose=0))
