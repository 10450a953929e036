"""keras.ops.nn against formulas and naive loops written out in NumPy."""
import math

import numpy as np
import pytest
import torch

from cornu import config, ops

RNG = np.random.default_rng(2)
ERF = np.vectorize(math.erf)


def _np(x):
    return ops.convert_to_numpy(x)


def _close(actual, expected, rtol=1e-5, atol=1e-5):
    np.testing.assert_allclose(_np(actual), expected, rtol=rtol, atol=atol)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _hard_sigmoid(x):
    return np.clip(x / 6.0 + 0.5, 0.0, 1.0)


SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805

ACTIVATIONS = [
    ("relu", lambda x: np.maximum(x, 0)),
    ("relu6", lambda x: np.clip(x, 0, 6)),
    ("sigmoid", _sigmoid),
    ("log_sigmoid", lambda x: -np.log1p(np.exp(-x))),
    ("silu", lambda x: x * _sigmoid(x)),
    ("swish", lambda x: x * _sigmoid(x)),
    ("hard_sigmoid", _hard_sigmoid),
    ("hard_silu", lambda x: x * _hard_sigmoid(x)),
    ("elu", lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    ("selu", lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1))),
    ("celu", lambda x: np.maximum(x, 0) + np.minimum(0, np.exp(x) - 1)),
    ("leaky_relu", lambda x: np.where(x > 0, x, 0.2 * x)),
    ("softplus", lambda x: np.log1p(np.exp(x))),
    ("softsign", lambda x: x / (1 + np.abs(x))),
    ("squareplus", lambda x: (x + np.sqrt(x * x + 4)) / 2),
    ("hard_tanh", lambda x: np.clip(x, -1, 1)),
    ("tanh_shrink", lambda x: x - np.tanh(x)),
    ("soft_shrink", lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0))),
    ("hard_shrink", lambda x: np.where(np.abs(x) > 0.5, x, 0)),
    ("gelu", lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
]


@pytest.mark.parametrize("name,ref", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activations(name, ref):
    x = RNG.normal(size=(4, 7)) * 3
    _close(getattr(ops, name)(x.astype(np.float32)), ref(x))
    _close(getattr(ops.nn, name)(x.astype(np.float32)), ref(x))


def test_activation_arguments():
    x = RNG.normal(size=(5, 6)) * 3
    _close(ops.gelu(x, approximate=False), 0.5 * x * (1 + ERF(x / np.sqrt(2))))
    _close(ops.elu(x, alpha=0.5), np.where(x > 0, x, 0.5 * (np.exp(x) - 1)))
    _close(ops.leaky_relu(x, negative_slope=0.1), np.where(x > 0, x, 0.1 * x))
    a, b = x[:, :3], x[:, 3:]
    _close(ops.glu(x), a * _sigmoid(b))
    with pytest.raises(ValueError, match="even"):
        ops.glu(x[:, :5])


@pytest.mark.parametrize("axis", [-1, 0, 1, (1, 2)])
def test_softmax_log_softmax(axis):
    x = RNG.normal(size=(2, 3, 4)) * 4
    ax = axis if isinstance(axis, tuple) else (axis,)
    shifted = x - x.max(axis=ax, keepdims=True)
    expected = np.exp(shifted) / np.exp(shifted).sum(axis=ax, keepdims=True)
    _close(ops.softmax(x, axis=axis), expected)
    _close(ops.log_softmax(x, axis=axis), np.log(expected))
    assert ops.softmax(np.arange(3)).dtype == torch.float32


def test_one_hot_and_multi_hot():
    idx = np.array([[0, 2], [3, -1]])
    out = ops.one_hot(idx, 4)
    expected = (idx[..., None] == np.arange(4)).astype(np.float32)
    np.testing.assert_array_equal(_np(out), expected)
    assert out.dtype == torch.float32
    np.testing.assert_array_equal(_np(ops.one_hot(idx, 4, axis=0)), np.moveaxis(expected, -1, 0))
    assert ops.one_hot(idx, 4, dtype="int32").dtype == torch.int32
    mh = ops.multi_hot(np.array([[0, 2, 2], [1, 3, 0]]), 5)
    np.testing.assert_array_equal(_np(mh), [[1, 0, 1, 0, 0], [1, 1, 0, 1, 0]])


# ------------------------------------------------------------------ losses
def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [-1, 1])
def test_categorical_crossentropy(axis):
    logits = RNG.normal(size=(4, 5, 3))
    labels = RNG.integers(0, logits.shape[axis], size=(4, 3) if axis == 1 else (4, 5))
    target = np.moveaxis(np.eye(logits.shape[axis])[labels], -1, axis)
    probs = _softmax(logits, axis)
    expected = -np.sum(target * np.log(probs), axis=axis)
    _close(ops.categorical_crossentropy(target, logits, from_logits=True, axis=axis), expected)
    _close(ops.categorical_crossentropy(target, probs, axis=axis), expected)
    _close(ops.categorical_crossentropy(target, probs * 3.0, axis=axis), expected)
    with pytest.raises(ValueError, match="same shape"):
        ops.categorical_crossentropy(target[:2], probs)


def test_sparse_categorical_crossentropy():
    logits = RNG.normal(size=(6, 4))
    labels = RNG.integers(0, 4, size=(6,))
    expected = -np.log(_softmax(logits))[np.arange(6), labels]
    _close(ops.sparse_categorical_crossentropy(labels, logits, from_logits=True), expected)
    _close(ops.sparse_categorical_crossentropy(labels[:, None], _softmax(logits)), expected)
    with pytest.raises(ValueError, match="class axis"):
        ops.sparse_categorical_crossentropy(labels[:3], logits)


def test_binary_crossentropy():
    logits = RNG.normal(size=(5, 3)) * 3
    target = RNG.integers(0, 2, size=(5, 3)).astype(np.float64)
    p = _sigmoid(logits)
    expected = -(target * np.log(p) + (1 - target) * np.log(1 - p))
    _close(ops.binary_crossentropy(target, logits, from_logits=True), expected)
    _close(ops.binary_crossentropy(target, p), expected, rtol=1e-4)
    eps = config.epsilon()
    edge = ops.binary_crossentropy(np.array([1.0]), np.array([0.0]))
    _close(edge, [-np.log(eps)], rtol=1e-4)


# ------------------------------------------------------------------ convolution
def _same_pads(n, k, s, d):
    eff = (k - 1) * d + 1
    total = max((-(-n // s) - 1) * s + eff - n, 0)
    return total // 2, total - total // 2


def _ref_conv(x, k, s, padding, d=1, groups=1):
    """Naive channels-last N-D convolution (cross-correlation) with TF-style 'same' padding."""
    nd = x.ndim - 2
    ks = k.shape[:nd]
    pads = [_same_pads(x.shape[1 + i], ks[i], s, d) if padding == "same" else (0, 0) for i in range(nd)]
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    out_sp = [(xp.shape[1 + i] - ((ks[i] - 1) * d + 1)) // s + 1 for i in range(nd)]
    c_in, c_out = x.shape[-1], k.shape[-1]
    gi, go = c_in // groups, c_out // groups
    out = np.zeros((x.shape[0], *out_sp, c_out))
    for pos in np.ndindex(*out_sp):
        for off in np.ndindex(*ks):
            idx = tuple(p * s + o * d for p, o in zip(pos, off))
            patch = xp[(slice(None),) + idx]
            for g in range(groups):
                out[(slice(None),) + pos + (slice(g * go, (g + 1) * go),)] += (
                    patch[:, g * gi:(g + 1) * gi] @ k[off][:, g * go:(g + 1) * go]
                )
    return out


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [1, 2])
def test_conv2d(padding, strides):
    x = RNG.normal(size=(2, 7, 6, 3))
    k = RNG.normal(size=(3, 2, 3, 4))
    _close(ops.conv(x, k, strides=strides, padding=padding), _ref_conv(x, k, strides, padding))


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv1d_dilated_grouped_and_channels_first(padding):
    x = RNG.normal(size=(2, 9, 4))
    k = RNG.normal(size=(3, 2, 6))
    ref = _ref_conv(x, k, 2, padding, d=2, groups=2)
    _close(ops.conv(x, k, strides=2, padding=padding, dilation_rate=2), ref)
    out_cf = ops.conv(np.moveaxis(x, -1, 1), k, strides=2, padding=padding, dilation_rate=2,
                      data_format="channels_first")
    _close(out_cf, np.moveaxis(ref, -1, 1))


def test_conv3d_same():
    x = RNG.normal(size=(1, 4, 5, 3, 2))
    k = RNG.normal(size=(2, 3, 2, 2, 3))
    _close(ops.conv(x, k, strides=2, padding="same"), _ref_conv(x, k, 2, "same"))


def test_depthwise_and_separable_conv():
    x = RNG.normal(size=(2, 6, 5, 3))
    dk = RNG.normal(size=(3, 3, 3, 2))
    # depthwise = grouped conv with one group per input channel, kernel (kh, kw, 1, C*mult)
    grouped = dk.reshape(3, 3, 1, 6)
    ref = _ref_conv(x, grouped, 2, "same", groups=3)
    _close(ops.depthwise_conv(x, dk, strides=2, padding="same"), ref)
    pk = RNG.normal(size=(1, 1, 6, 4))
    _close(ops.separable_conv(x, dk, pk, strides=2, padding="same"), _ref_conv(ref, pk, 1, "valid"))


def test_conv_errors():
    x = np.ones((1, 5, 5, 3))
    with pytest.raises(ValueError, match="padding"):
        ops.conv(x, np.ones((3, 3, 3, 2)), padding="causal")
    with pytest.raises(ValueError, match="input channels"):
        ops.conv(x, np.ones((3, 3, 2, 2)))
    with pytest.raises(ValueError, match="rank"):
        ops.conv(x, np.ones((3, 3, 2)))


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides,size", [(1, 4), (2, 3), (2, 4), (3, 3)])
def test_conv_transpose_is_adjoint_of_conv(padding, strides, size):
    # <conv(z, K), y> == <z, conv_transpose(y, K)>, with z shaped like conv_transpose's output.
    k = RNG.normal(size=(3, 3, 2, 4))  # conv: 2 -> 4 channels; transpose: 4 -> 2
    y = RNG.normal(size=(2, size, size + 1, 4))
    out = _np(ops.conv_transpose(y, k, strides=strides, padding=padding))
    z = RNG.normal(size=out.shape)
    forward = _ref_conv(z, k, strides, padding)
    assert forward.shape == y.shape
    np.testing.assert_allclose(np.sum(forward * y), np.sum(z * out), rtol=1e-6)


def test_conv_transpose_output_shapes():
    y = np.ones((1, 4, 4, 3))
    k = np.ones((3, 3, 5, 3))
    assert _np(ops.conv_transpose(y, k, 2, "valid")).shape == (1, 9, 9, 5)
    assert _np(ops.conv_transpose(y, k, 2, "same")).shape == (1, 8, 8, 5)
    assert _np(ops.conv_transpose(y, k, 2, "same", output_padding=1)).shape == (1, 8, 8, 5)
    assert _np(ops.conv_transpose(y, k, 2, "valid", output_padding=0)).shape == (1, 9, 9, 5)


# ------------------------------------------------------------------ pooling
def _ref_pool(x, pool, s, padding, kind):
    nd = x.ndim - 2
    pads = [_same_pads(x.shape[1 + i], pool, s, 1) if padding == "same" else (0, 0) for i in range(nd)]
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)], constant_values=np.nan)
    out_sp = [(xp.shape[1 + i] - pool) // s + 1 for i in range(nd)]
    out = np.zeros((x.shape[0], *out_sp, x.shape[-1]))
    for pos in np.ndindex(*out_sp):
        window = xp[(slice(None),) + tuple(slice(p * s, p * s + pool) for p in pos)]
        window = window.reshape(x.shape[0], -1, x.shape[-1])
        out[(slice(None),) + pos] = np.nanmax(window, 1) if kind == "max" else np.nanmean(window, 1)
    return out


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [None, 1, 2])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool2d(padding, strides, kind):
    x = RNG.normal(size=(2, 7, 6, 3))
    op = ops.max_pool if kind == "max" else ops.average_pool
    s = 3 if strides is None else strides
    _close(op(x, 3, strides=strides, padding=padding), _ref_pool(x, 3, s, padding, kind))


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool1d_channels_first(kind):
    x = RNG.normal(size=(2, 9, 4))
    op = ops.max_pool if kind == "max" else ops.average_pool
    ref = _ref_pool(x, 2, 2, "same", kind)
    out = op(np.moveaxis(x, -1, 1), 2, strides=2, padding="same", data_format="channels_first")
    _close(out, np.moveaxis(ref, -1, 1))


# ------------------------------------------------------------------ normalization
@pytest.mark.parametrize("axis,order", [(-1, 2), (0, 1), ((0, 1), 2), (1, 3)])
def test_normalize(axis, order):
    x = RNG.normal(size=(3, 4))
    ax = axis if isinstance(axis, tuple) else (axis,)
    n = np.sum(np.abs(x) ** order, axis=ax, keepdims=True) ** (1 / order)
    _close(ops.normalize(x, axis=axis, order=order), x / np.maximum(n, config.epsilon()))
    with pytest.raises(ValueError, match="order"):
        ops.normalize(x, order=0)


def test_normalize_zero_vector_uses_epsilon():
    out = _np(ops.normalize(np.zeros((2, 3))))
    assert np.all(np.isfinite(out)) and np.all(out == 0)


@pytest.mark.parametrize("axes", [0, [0, 1], (-1,)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_moments(axes, keepdims):
    x = RNG.normal(size=(4, 3, 5))
    mean, var = ops.moments(x, axes, keepdims=keepdims)
    ax = tuple(axes) if isinstance(axes, (list, tuple)) else axes
    _close(mean, x.mean(axis=ax, keepdims=keepdims))
    _close(var, x.var(axis=ax, keepdims=keepdims))
    m16, _ = ops.moments(x.astype(np.float16), axes)
    assert m16.dtype == torch.float16


def test_batch_normalization():
    x = RNG.normal(size=(4, 3, 5))
    mean, var = RNG.normal(size=3), RNG.random(3) + 0.5
    offset, scale = RNG.normal(size=3), RNG.normal(size=3)
    b = (slice(None), None)
    expected = (x - mean[b]) / np.sqrt(var[b] + 1e-3) * scale[b] + offset[b]
    _close(ops.batch_normalization(x, mean, var, axis=1, offset=offset, scale=scale), expected)
    _close(ops.batch_normalization(x, mean, var, axis=1),
           (x - mean[b]) / np.sqrt(var[b] + 1e-3))


@pytest.mark.parametrize("is_causal", [False, True])
def test_dot_product_attention(is_causal):
    q, k, v = (RNG.normal(size=(2, s, 4, 8)) for s in (5, 5, 5))
    mask = RNG.random((2, 1, 5, 5)) > 0.3
    mask[..., 0] = True
    logits = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(8)
    allowed = mask & (np.tril(np.ones((5, 5), bool)) if is_causal else True)
    logits = np.where(allowed, logits, -1e30)
    w = _softmax(logits)
    expected = np.einsum("bnts,bsnh->btnh", w, v)
    _close(ops.dot_product_attention(q, k, v, mask=mask, is_causal=is_causal), expected, rtol=1e-4)
