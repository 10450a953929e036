"""DepthwiseConv1D/2D and SeparableConv1D/2D against float64 loop references: Keras kernel layouts and
names, 'same' padding (extra on the after side), strides with dilation, channels_first, errors, saving."""
import itertools
import math

import numpy as np
import pytest
import torch

import cornu
from cornu.layers import DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D
from tests.helpers import assert_close, f64, random_array


def _same_pad(x, ksize, strides, dilation):
    """TF/Keras 'same': total padding so the output has ceil(n / s) positions, the odd one after."""
    pads = [(0, 0)]
    for n, k, s, d in zip(x.shape[1:-1], ksize, strides, dilation):
        total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return np.pad(x, pads + [(0, 0)])


def depthwise_ref(x, kernel, strides, dilation, padding):
    """Channels-last depthwise convolution by loops: output channel ``c * dm + m`` = input channel ``c``
    correlated with ``kernel[..., c, m]``."""
    rank = x.ndim - 2
    ksize = kernel.shape[:rank]
    channels, dm = kernel.shape[-2:]
    if padding == "same":
        x = _same_pad(x, ksize, strides, dilation)
    out_shape = [(n - ((k - 1) * d + 1)) // s + 1 for n, k, s, d in zip(x.shape[1:-1], ksize, strides, dilation)]
    out = np.zeros((x.shape[0], *out_shape, channels * dm))
    for pos in itertools.product(*(range(n) for n in out_shape)):
        for c, m in itertools.product(range(channels), range(dm)):
            acc = 0.0
            for tap in itertools.product(*(range(k) for k in ksize)):
                at = tuple(p * s + t * d for p, t, s, d in zip(pos, tap, strides, dilation))
                acc = acc + x[(slice(None),) + at + (c,)] * kernel[tap + (c, m)]
            out[(slice(None),) + pos + (c * dm + m,)] = acc
    return out


def separable_ref(x, depthwise, pointwise, bias, strides, dilation, padding):
    """Depthwise then a pointwise mix of the ``in * dm`` channels into ``filters``."""
    mid = depthwise_ref(x, depthwise, strides, dilation, padding)
    return mid @ pointwise.reshape(pointwise.shape[-2:]) + bias


def _bias(layer, seed=7):
    weights = layer.get_weights()
    weights[-1] = random_array(weights[-1].shape, seed=seed)
    layer.set_weights(weights)
    return weights


@pytest.mark.parametrize("k,s,d,padding,dm", [
    (3, 1, 1, "valid", 1), (3, 2, 1, "same", 2), (2, 1, 2, "same", 3), (3, 2, 2, "same", 1), (1, 3, 1, "valid", 2),
])
def test_depthwise_conv1d_matches_loop_reference(k, s, d, padding, dm):
    x = random_array((2, 9, 3), seed=k + s + d)
    layer = DepthwiseConv1D(k, strides=s, dilation_rate=d, padding=padding, depth_multiplier=dm)
    layer(x)
    kernel, bias = _bias(layer)
    assert kernel.shape == (k, 3, dm) and bias.shape == (3 * dm,)
    ref = depthwise_ref(f64(x), f64(kernel), (s,), (d,), padding) + bias
    assert_close(layer(x), ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("ksize,strides,dilation,padding,dm", [
    ((3, 3), (1, 1), (1, 1), "valid", 1), ((3, 2), (2, 1), (1, 1), "same", 2), ((2, 3), (1, 1), (2, 1), "same", 2),
    ((3, 3), (2, 2), (2, 2), "same", 1),
])
def test_depthwise_conv2d_matches_loop_reference(ksize, strides, dilation, padding, dm):
    x = random_array((2, 7, 6, 3), seed=1)
    layer = DepthwiseConv2D(ksize, strides=strides, dilation_rate=dilation, padding=padding, depth_multiplier=dm)
    layer(x)
    kernel, bias = _bias(layer)
    assert kernel.shape == (*ksize, 3, dm)
    ref = depthwise_ref(f64(x), f64(kernel), strides, dilation, padding) + bias
    assert_close(layer(x), ref, rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape((None, 7, 6, 3)) == (None, *ref.shape[1:])


@pytest.mark.parametrize("cls,ksize,strides,dilation,padding,dm", [
    (SeparableConv1D, (3,), (1,), (1,), "valid", 2), (SeparableConv1D, (2,), (2,), (1,), "same", 1),
    (SeparableConv2D, (3, 3), (1, 1), (1, 1), "same", 2), (SeparableConv2D, (3, 2), (2, 1), (1, 1), "valid", 1),
    (SeparableConv2D, (2, 2), (1, 1), (2, 1), "same", 3),
])
def test_separable_conv_matches_loop_reference(cls, ksize, strides, dilation, padding, dm):
    x = random_array((2, *(6,) * len(ksize), 3), seed=2)
    layer = cls(4, ksize, strides=strides, dilation_rate=dilation, padding=padding, depth_multiplier=dm)
    layer(x)
    depthwise, pointwise, bias = _bias(layer)
    assert depthwise.shape == (*ksize, 3, dm) and pointwise.shape == (*(1,) * len(ksize), 3 * dm, 4)
    assert [w.name for w in layer.weights] == ["depthwise_kernel", "pointwise_kernel", "bias"]
    ref = separable_ref(f64(x), f64(depthwise), f64(pointwise), f64(bias), strides, dilation, padding)
    assert_close(layer(x), ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [lambda df: DepthwiseConv2D(3, depth_multiplier=2, padding="same", data_format=df),
                                  lambda df: SeparableConv1D(4, 3, strides=2, data_format=df)])
def test_channels_first_equals_channels_last(make):
    last, first = make("channels_last"), make("channels_first")
    x = random_array((2, 6, 5, 3) if isinstance(last, DepthwiseConv2D) else (2, 7, 3), seed=3)
    y = last(x)
    first.build(np.moveaxis(x, -1, 1).shape)
    first.set_weights(last.get_weights())
    assert_close(torch.movedim(first(np.moveaxis(x, -1, 1)), 1, -1), y, rtol=1e-5, atol=1e-6)


def test_storage_layouts_are_views_of_keras_layout():
    layer = SeparableConv2D(5, (3, 2), depth_multiplier=2)
    layer.build((None, 6, 6, 3))
    dw = np.arange(3 * 2 * 3 * 2, dtype="float32").reshape(3, 2, 3, 2)
    pw = np.arange(6 * 5, dtype="float32").reshape(1, 1, 6, 5)
    layer.set_weights([dw, pw, np.zeros(5, "float32")])
    np.testing.assert_array_equal(layer.get_weights()[0], dw)
    np.testing.assert_array_equal(layer.get_weights()[1], pw)
    stored_dw = layer.depthwise_kernel.value
    assert tuple(stored_dw.shape) == (3, 2, 3, 2) and stored_dw.is_contiguous()  # (in, dm, kh, kw)
    np.testing.assert_array_equal(stored_dw.detach().numpy(), dw.transpose(2, 3, 0, 1))
    stored_pw = layer.pointwise_kernel.value
    assert tuple(stored_pw.shape) == (5, 6, 1, 1) and stored_pw.is_contiguous(memory_format=torch.channels_last)
    depthwise = DepthwiseConv2D(3)
    depthwise.build((None, 5, 5, 2))
    assert [w.name for w in depthwise.weights] == ["kernel", "bias"]


def test_no_bias_activation_and_gradients():
    layer = DepthwiseConv1D(2, use_bias=False, activation="relu", depth_multiplier=2)
    x = torch.tensor(random_array((2, 5, 3), seed=4), requires_grad=True)
    y = layer(x)
    assert len(layer.weights) == 1
    assert_close(y, np.maximum(depthwise_ref(f64(x), layer.get_weights()[0], (1,), (1,), "valid"), 0), atol=1e-6)
    y.sum().backward()
    assert layer.kernel.value.grad is not None and x.grad is not None


def test_symbolic_shapes_and_config_round_trip():
    layer = SeparableConv2D(6, 3, strides=2, padding="same", depth_multiplier=2)
    assert tuple(layer(cornu.Input((None, 9, 4))).shape) == (None, None, 5, 6)
    depthwise = DepthwiseConv1D(3, depth_multiplier=3, data_format="channels_first")
    assert tuple(depthwise(cornu.Input((2, 10))).shape) == (None, 6, 8)
    for obj in (layer, depthwise):
        config = obj.get_config()
        assert type(obj).from_config(config).get_config() == config
    assert layer.get_config()["depth_multiplier"] == 2 and "pointwise_initializer" in layer.get_config()
    assert "filters" not in depthwise.get_config()
    assert cornu.layers.SeparableConvolution2D is SeparableConv2D


@pytest.mark.parametrize("make,match", [
    (lambda: SeparableConv2D(0, 3), "filters"),
    (lambda: SeparableConv2D(2, 3, depth_multiplier=0), "depth_multiplier"),
    (lambda: DepthwiseConv2D(3, depth_multiplier=-1), "depth_multiplier"),
    (lambda: DepthwiseConv1D(3, padding="causal"), "causal"),
    (lambda: SeparableConv1D(2, 3, padding="causal"), "causal"),
    (lambda: DepthwiseConv2D((3, 3, 3)), "kernel_size"),
    (lambda: DepthwiseConv2D(3)(np.zeros((1, 2, 2, 1), "float32")), "zero or negative"),
    (lambda: DepthwiseConv2D(3)(np.zeros((1, 5, 1), "float32")), "ndim"),
])
def test_bad_arguments_and_inputs(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_weights_file_round_trip(tmp_path):
    def build():
        return cornu.Sequential([cornu.Input((6, 6, 2)), DepthwiseConv2D(3, depth_multiplier=2),
                                 SeparableConv2D(3, 2, padding="same"), cornu.layers.Reshape((16, 3)),
                                 SeparableConv1D(2, 3, depth_multiplier=2), DepthwiseConv1D(2)])

    source, target = build(), build()
    source.save_weights(tmp_path / "s.weights.h5")
    target.load_weights(tmp_path / "s.weights.h5")
    x = random_array((2, 6, 6, 2), seed=5)
    np.testing.assert_array_equal(target.predict(x, verbose=0), source.predict(x, verbose=0))
