"""GroupQueryAttention against a float64 NumPy reference: shared key/value heads, masks, both paths."""
import numpy as np
import pytest
import torch

import cornu as keras
from cornu.layers import GroupQueryAttention
from tests.helpers import assert_close, f64, random_array

Q = random_array((2, 3, 4), seed=1)
V = random_array((2, 5, 4), seed=2)
Q_MASK = np.array([[1, 1, 0], [1, 1, 1]], bool)
V_MASK = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def reference(layer, q, v, mask=None, empty_rows="mean"):
    w = {p.path.split("/", 1)[1]: f64(p) for p in layer.weights}

    def proj(x, name):
        out = np.einsum("btd,dhk->bthk", f64(x), w[f"{name}/kernel"])
        return out + w[f"{name}/bias"] if f"{name}/bias" in w else out

    reps = layer.num_query_heads // layer.num_key_value_heads
    qp = proj(q, "query") / np.sqrt(layer.head_dim)
    kp, vp = (np.repeat(proj(v, n), reps, axis=2) for n in ("key", "value"))
    scores = np.einsum("bthk,bshk->bhts", qp, kp)
    weights = softmax(scores)
    if mask is not None:
        allowed = np.broadcast_to(mask[:, None], scores.shape)
        with np.errstate(invalid="ignore"):
            weights = softmax(np.where(allowed, scores, -np.inf))
        empty = ~allowed.any(-1, keepdims=True)
        weights = np.where(empty, 1.0 / scores.shape[-1] if empty_rows == "mean" else 0.0, weights)
    att = np.einsum("bhts,bshv->bthv", weights, vp)
    if layer.use_gate:
        att = att / (1 + np.exp(-proj(q, "gate")))
    out = np.einsum("bthv,hvo->bto", att, w["attention_output/kernel"])
    if "attention_output/bias" in w:
        out = out + w["attention_output/bias"]
    return out, weights


def make(*args, **kwargs):
    layer = GroupQueryAttention(*args, **kwargs)
    layer(Q, V)
    layer.set_weights([random_array(w.shape, seed=20 + i) * 0.7 for i, w in enumerate(layer.weights)])
    return layer


@pytest.mark.parametrize("heads, kwargs", [((3, 4, 2), {}), ((3, 4, 1), dict(use_bias=False)),
                                           ((2, 4, 4), dict(use_gate=True))])
def test_matches_numpy_on_both_paths(heads, kwargs):
    layer = make(*heads, **kwargs)
    want, want_scores = reference(layer, Q, V)
    assert_close(layer(Q, V), want, atol=1e-5)
    out, scores = layer(Q, V, return_attention_scores=True)
    assert_close(out, want, atol=1e-5)
    assert_close(scores, want_scores, atol=1e-6)
    assert tuple(scores.shape) == (2, heads[1], 3, 5)


def test_masks():
    layer = make(3, 4, 2)
    causal = np.tril(np.ones((3, 5), bool))
    mask = Q_MASK[:, :, None] & V_MASK[:, None, :] & causal
    out = layer(Q, V, query_mask=Q_MASK, value_mask=V_MASK, use_causal_mask=True)
    assert_close(out, reference(layer, Q, V, mask)[0], atol=1e-5)
    out, scores = layer(Q, V, query_mask=Q_MASK, value_mask=V_MASK, use_causal_mask=True,
                        return_attention_scores=True)
    want, want_scores = reference(layer, Q, V, mask, empty_rows="zero")
    assert_close(out, want, atol=1e-5)
    assert_close(scores, want_scores, atol=1e-6)
    q, v = torch.tensor(Q), torch.tensor(V)
    q._keras_mask, v._keras_mask = torch.tensor(Q_MASK), torch.tensor(V_MASK)
    tensor_masked = layer(q, v, use_causal_mask=True)
    assert_close(tensor_masked, reference(layer, Q, V, mask)[0], atol=1e-5)
    np.testing.assert_array_equal(tensor_masked._keras_mask.numpy(), Q_MASK)
    att = np.random.default_rng(1).random((3, 5)) > 0.4
    att[:, 0] = True
    assert_close(layer(Q, V, attention_mask=att), reference(layer, Q, V, np.broadcast_to(att, (2, 3, 5)))[0],
                 atol=1e-5)


def test_dropout_path_zeroes_empty_rows_and_trains():
    layer = make(3, 4, 2, dropout=0.5, seed=1)
    mask = np.ones((2, 3, 5), bool)
    mask[1, 2] = False
    assert_close(layer(Q, V, attention_mask=mask), reference(layer, Q, V, mask, empty_rows="zero")[0], atol=1e-5)
    out = layer(Q, V, training=True)
    assert np.abs(f64(out) - reference(layer, Q, V)[0]).max() > 1e-3


def test_symbolic_weights_config_and_errors(tmp_path):
    layer = GroupQueryAttention(3, 4, 2, use_gate=True)
    out, scores = layer(keras.Input((3, 4)), keras.Input((5, 6)), return_attention_scores=True)
    assert (out.shape, scores.shape) == ((None, 3, 4), (None, 4, 3, 5))
    assert layer.name.startswith("grouped_query_attention")
    assert [(w.path.split("/", 1)[1], w.shape) for w in layer.weights] == [
        ("query/kernel", (4, 4, 3)), ("query/bias", (4, 3)), ("key/kernel", (6, 2, 3)), ("key/bias", (2, 3)),
        ("gate/kernel", (4, 4, 3)), ("gate/bias", (4, 3)), ("value/kernel", (6, 2, 3)), ("value/bias", (2, 3)),
        ("attention_output/kernel", (4, 3, 4)), ("attention_output/bias", (4,))]
    config = layer.get_config()
    clone = GroupQueryAttention.from_config(config)
    clone.build_from_config(layer.get_build_config())
    assert clone.get_config() == config and len(clone.weights) == 10
    with pytest.raises(ValueError, match="divisible"):
        GroupQueryAttention(3, 3, 2)
    with pytest.raises(ValueError, match="head_dim"):
        GroupQueryAttention(0, 4, 2)
    with pytest.raises(ValueError, match="flash attention"):
        GroupQueryAttention(3, 4, 2, dropout=0.1, flash_attention=True)

    def model():
        q, v = keras.Input((3, 4)), keras.Input((5, 4))
        return keras.Model([q, v], GroupQueryAttention(3, 4, 2)(q, v))

    a, b = model(), model()
    a.save_weights(tmp_path / "gqa.weights.h5")
    b.load_weights(tmp_path / "gqa.weights.h5")
    np.testing.assert_array_equal(a.predict([Q, V], verbose=0), b.predict([Q, V], verbose=0))
