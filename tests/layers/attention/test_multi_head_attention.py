"""MultiHeadAttention against a float64 NumPy reference with the same weights: masks, axes, gate, dropout."""
import numpy as np
import pytest
import torch

import cornu as keras
from cornu.layers import MultiHeadAttention
from tests.helpers import assert_close, f64, random_array

Q = random_array((2, 3, 4), seed=1)
V = random_array((2, 5, 4), seed=2)
Q_MASK = np.array([[1, 1, 0], [1, 1, 1]], bool)
V_MASK = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
ATT_MASK = np.random.default_rng(0).random((2, 3, 5)) > 0.3
ATT_MASK[..., 0] = True  # every query step may attend somewhere


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def randomize(layer, seed=10):
    layer.set_weights([random_array(w.shape, seed=seed + i) * 0.7 for i, w in enumerate(layer.weights)])
    return {w.path.split("/", 1)[1]: f64(w) for w in layer.weights}


def reference(layer, q, v, k=None, mask=None, empty_rows="mean"):
    """(output, scores) for 3-D inputs; ``mask`` is (batch, Tq, Tk) booleans."""
    w = {p.path.split("/", 1)[1]: f64(p) for p in layer.weights}
    k = v if k is None else k

    def proj(x, name):
        out = np.einsum("btd,dhk->bthk", f64(x), w[f"{name}/kernel"])
        return out + w[f"{name}/bias"] if f"{name}/bias" in w else out

    qp, kp, vp = proj(q, "query") / np.sqrt(layer.key_dim), proj(k, "key"), proj(v, "value")
    scores = np.einsum("bthk,bshk->bhts", qp, kp)
    weights = softmax(scores)
    if mask is not None:
        allowed = np.broadcast_to(mask[:, None], scores.shape)
        with np.errstate(invalid="ignore"):
            weights = softmax(np.where(allowed, scores, -np.inf))
        empty = ~allowed.any(-1, keepdims=True)
        # A query step with no allowed key: the mean of all values (fused path) or nothing (explicit path).
        weights = np.where(empty, 1.0 / scores.shape[-1] if empty_rows == "mean" else 0.0, weights)
    att = np.einsum("bhts,bshv->bthv", weights, vp)
    if layer.use_gate:
        att = att / (1 + np.exp(-proj(q, "gate")))
    kernel = w["attention_output/kernel"]
    out = np.tensordot(att, kernel, axes=([2, 3], [0, 1]))
    if "attention_output/bias" in w:
        out = out + w["attention_output/bias"]
    return out, weights


@pytest.mark.parametrize("kwargs", [{}, dict(value_dim=5, use_gate=True, output_shape=(2, 7)), dict(use_bias=False)])
def test_matches_numpy_on_both_paths(kwargs):
    layer = MultiHeadAttention(num_heads=2, key_dim=3, **kwargs)
    layer(Q, V)
    randomize(layer)
    want, want_scores = reference(layer, Q, V)
    assert_close(layer(Q, V), want, atol=1e-5)
    out, scores = layer(Q, V, return_attention_scores=True)
    assert_close(out, want, atol=1e-5)
    assert_close(scores, want_scores, atol=1e-6)
    assert tuple(scores.shape) == (2, 2, 3, 5)


@pytest.mark.parametrize("call, mask", [
    (dict(attention_mask=ATT_MASK), ATT_MASK),
    (dict(value_mask=V_MASK), np.broadcast_to(V_MASK[:, None, :], (2, 3, 5))),
    (dict(use_causal_mask=True), np.broadcast_to(np.tril(np.ones((3, 5), bool)), (2, 3, 5))),
    (dict(attention_mask=ATT_MASK, use_causal_mask=True), ATT_MASK & np.tril(np.ones((3, 5), bool))),
])
def test_masks_match_numpy(call, mask):
    layer = MultiHeadAttention(2, 3)
    layer(Q, V)
    randomize(layer)
    want, want_scores = reference(layer, Q, V, mask=mask)
    assert_close(layer(Q, V, **call), want, atol=1e-5)
    out, scores = layer(Q, V, return_attention_scores=True, **call)
    assert_close(out, want, atol=1e-5)
    assert_close(scores, want_scores, atol=1e-6)


def test_key_and_key_mask():
    layer = MultiHeadAttention(2, 3)
    key = random_array((2, 5, 4), seed=5)
    layer(Q, V, key=key)
    randomize(layer)
    mask = np.broadcast_to(V_MASK[:, None, :], (2, 3, 5))
    want, _ = reference(layer, Q, V, key, mask=mask)
    assert_close(layer(Q, V, key=key, key_mask=V_MASK), want, atol=1e-5)


def test_sliding_window_band():
    x = random_array((1, 6, 4), seed=4)
    layer = MultiHeadAttention(2, 3, sliding_window=2)
    _, scores = layer(x, x, return_attention_scores=True)
    rows, cols = np.indices((6, 6))
    np.testing.assert_array_equal(f64(scores)[0, 0] > 0, np.abs(rows - cols) < 2)
    _, scores = layer(x, x, return_attention_scores=True, use_causal_mask=True)
    np.testing.assert_array_equal(f64(scores)[0, 0] > 0, (rows - cols < 2) & (cols <= rows))
    want, _ = reference(layer, x, x, mask=(np.abs(rows - cols) < 2)[None])
    assert_close(layer(x, x), want, atol=1e-5)


def test_tensor_masks_travel_and_query_mask_argument_is_ignored_as_in_keras():
    layer = MultiHeadAttention(2, 3)
    layer(Q, V)
    randomize(layer)
    q, v = torch.tensor(Q), torch.tensor(V)
    q._keras_mask, v._keras_mask = torch.tensor(Q_MASK), torch.tensor(V_MASK)
    mask = Q_MASK[:, :, None] & V_MASK[:, None, :]
    out = layer(q, v)
    assert_close(out, reference(layer, Q, V, mask=mask)[0], atol=1e-5)  # fused path: empty rows get the mean
    np.testing.assert_array_equal(out._keras_mask.numpy(), Q_MASK)
    out, scores = layer(q, v, return_attention_scores=True)
    want, want_scores = reference(layer, Q, V, mask=mask, empty_rows="zero")
    assert_close(out, want, atol=1e-5)
    assert_close(scores, want_scores, atol=1e-6)
    assert_close(layer(Q, V, query_mask=Q_MASK), layer(Q, V))


def test_query_step_with_no_allowed_key():
    mask = np.ones((2, 3, 5), bool)
    mask[0, 1] = False
    fused = MultiHeadAttention(2, 3)
    fused(Q, V)
    randomize(fused)
    assert_close(fused(Q, V, attention_mask=mask), reference(fused, Q, V, mask=mask)[0], atol=1e-5)
    explicit = reference(fused, Q, V, mask=mask, empty_rows="zero")
    assert_close(fused(Q, V, attention_mask=mask, return_attention_scores=True)[0], explicit[0], atol=1e-5)
    # Keras computes explicitly whenever dropout is set: the empty row averages nothing (zeros) in inference too.
    dropping = MultiHeadAttention(2, 3, dropout=0.5)
    dropping(Q, V)
    dropping.set_weights(fused.get_weights())
    assert_close(dropping(Q, V, attention_mask=mask), explicit[0], atol=1e-5)


def test_dropout_training():
    layer = MultiHeadAttention(2, 3, dropout=0.5, seed=7)
    layer(Q, V)
    randomize(layer)
    want, want_scores = reference(layer, Q, V)
    assert_close(layer(Q, V), want, atol=1e-5)
    out, scores = layer(Q, V, training=True, return_attention_scores=True)
    assert_close(scores, want_scores, atol=1e-6)  # scores are returned before dropout, as in Keras
    assert np.abs(f64(out) - want).max() > 1e-3
    again = MultiHeadAttention(2, 3, dropout=0.5, seed=7)
    again(Q, V)
    again.set_weights(layer.get_weights())
    np.testing.assert_array_equal(f64(again(Q, V, training=True, return_attention_scores=True)[0]), f64(out))
    unseeded = MultiHeadAttention(2, 3, dropout=0.5)
    unseeded(Q, V)
    unseeded.set_weights(layer.get_weights())
    assert np.abs(f64(unseeded(Q, V, training=True)) - want).max() > 1e-3


def _per_axis_reference(layer, x, axes):
    """Attention over ``axes`` of a 4-D input by reshaping into the 3-D reference."""
    b, a1, a2, f = x.shape
    if axes == (1, 2):
        flat = x.reshape(b, a1 * a2, f)
        out, scores = reference(layer, flat, flat)
        return out.reshape(b, a1, a2, -1), scores.reshape(b, 2, a1, a2, a1, a2)
    flat = x.reshape(b * a1, a2, f)
    out, scores = reference(layer, flat, flat)
    return out.reshape(b, a1, a2, -1), scores.reshape(b, a1, 2, a2, a2)


@pytest.mark.parametrize("axes", [(1, 2), (2,)])
def test_attention_axes_on_4d_inputs(axes):
    x = random_array((2, 3, 4, 5), seed=6)
    layer = MultiHeadAttention(2, 3, attention_axes=axes)
    layer(x, x)
    randomize(layer)
    want, want_scores = _per_axis_reference(layer, x, axes)
    assert_close(layer(x, x), want, atol=1e-5)
    out, scores = layer(x, x, return_attention_scores=True)
    assert_close(out, want, atol=1e-5)
    assert_close(scores, want_scores, atol=1e-6)
    assert layer.get_config()["attention_axes"] == axes


def test_symbolic_shapes_weights_and_names():
    q, v = keras.Input((3, 4)), keras.Input((5, 6))
    layer = MultiHeadAttention(2, 3, value_dim=5, output_shape=7, name="mha")
    out, scores = layer(q, v, return_attention_scores=True)
    assert (out.shape, scores.shape) == ((None, 3, 7), (None, 2, 3, 5))
    assert [(w.path, w.shape) for w in layer.weights] == [
        ("mha/query/kernel", (4, 2, 3)), ("mha/query/bias", (2, 3)),
        ("mha/key/kernel", (6, 2, 3)), ("mha/key/bias", (2, 3)),
        ("mha/value/kernel", (6, 2, 5)), ("mha/value/bias", (2, 5)),
        ("mha/attention_output/kernel", (2, 5, 7)), ("mha/attention_output/bias", (7,))]
    assert MultiHeadAttention(2, 3)(keras.Input((3, 4)), keras.Input((5, 4))).shape == (None, 3, 4)
    assert layer.get_build_config() == {"shapes_dict": {"query_shape": (None, 3, 4), "value_shape": (None, 5, 6)}}


def test_config_and_build_config_round_trip(tmp_path):
    layer = MultiHeadAttention(2, 3, value_dim=4, dropout=0.1, use_gate=True, output_shape=(2, 5),
                               sliding_window=3, kernel_initializer="he_normal", seed=2, name="m")
    layer(Q, V, key=V)
    config = layer.get_config()
    assert config["output_shape"] == (2, 5) and config["attention_axes"] == (1,)
    clone = MultiHeadAttention.from_config(config)
    clone.build_from_config(layer.get_build_config())
    assert clone.built and clone.get_config() == config
    clone.set_weights(layer.get_weights())
    assert_close(clone(Q, V, key=V), layer(Q, V, key=V))
    assert MultiHeadAttention(2, 3).get_config()["attention_axes"] is None

    def make():
        q, v = keras.Input((3, 4)), keras.Input((5, 4))
        return keras.Model([q, v], MultiHeadAttention(2, 3, use_gate=True)(q, v))

    model, other = make(), make()
    model.save_weights(tmp_path / "mha.weights.h5")
    other.load_weights(tmp_path / "mha.weights.h5")
    np.testing.assert_array_equal(model.predict([Q, V], verbose=0), other.predict([Q, V], verbose=0))


@pytest.mark.parametrize("make, error, match", [
    (lambda: MultiHeadAttention(0, 3), ValueError, "num_heads"),
    (lambda: MultiHeadAttention(2, 0), ValueError, "key_dim"),
    (lambda: MultiHeadAttention(2, 3, sliding_window=0), ValueError, "sliding_window"),
    (lambda: MultiHeadAttention(2, 3, dropout=0.1, flash_attention=True), ValueError, "flash attention"),
    (lambda: MultiHeadAttention(2, 3, flash_attention=True)(Q, V, return_attention_scores=True), ValueError,
     "flash attention"),
    (lambda: MultiHeadAttention(2, 3)(Q, V, key=random_array((2, 6, 4))), ValueError, "except the last one"),
    (lambda: MultiHeadAttention(2, 3, attention_axes=3)(Q, V), ValueError, "attention_axes"),
    (lambda: MultiHeadAttention(2, 3)(Q), TypeError, "value"),
])
def test_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()
