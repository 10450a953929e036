"""Attention and AdditiveAttention against float64 NumPy references; fused vs explicit path; masks; errors."""
import numpy as np
import pytest
import torch

import cornu as keras
from cornu.layers import AdditiveAttention, Attention
from tests.helpers import assert_close, f64, random_array

Q = random_array((2, 3, 4), seed=1)
V = random_array((2, 5, 4), seed=2)
K = random_array((2, 5, 4), seed=3)
Q_MASK = np.array([[1, 1, 0], [1, 1, 1]], bool)
V_MASK = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def reference(scores, value, q_mask=None, v_mask=None, causal=False):
    allowed = np.ones(scores.shape, bool)
    if v_mask is not None:
        allowed &= v_mask[:, None, :]
    if causal:
        allowed &= np.tril(np.ones(scores.shape[-2:], bool))
    weights = softmax(scores - 1e9 * ~allowed)
    out = weights @ f64(value)
    if q_mask is not None:
        out = out * q_mask[..., None]
    return out, weights


def dot_scores(q, k, scale=1.0):
    return scale * f64(q) @ np.swapaxes(f64(k), -1, -2)


def concat_scores(q, k, weight=1.0, scale=1.0):
    return weight * np.tanh(scale * (f64(q)[:, :, None, :] + f64(k)[:, None, :, :])).sum(-1)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("masks", [None, [Q_MASK, V_MASK], [None, V_MASK]])
def test_dot_attention_matches_numpy(causal, masks):
    layer = Attention()
    out, scores = layer([Q, V, K], mask=masks, use_causal_mask=causal, return_attention_scores=True)
    q_mask, v_mask = masks or (None, None)
    want, want_w = reference(dot_scores(Q, K), V, q_mask, v_mask, causal)
    assert_close(out, want)
    assert_close(scores, want_w)
    # The fused path (no scores requested) gives the same numbers.
    assert_close(layer([Q, V, K], mask=masks, use_causal_mask=causal), want)


def test_use_scale_and_concat_modes():
    layer = Attention(use_scale=True)
    layer([Q, V])
    layer.set_weights([np.array(1.7, "float32")])
    want, _ = reference(dot_scores(Q, V, 1.7), V, None, V_MASK)
    assert_close(layer([Q, V], mask=[None, V_MASK]), want)
    concat = Attention(use_scale=True, score_mode="concat")
    concat([Q, V])
    assert [w.name for w in concat.weights] == ["scale", "concat_score_weight"]
    concat.set_weights([np.array(0.5, "float32"), np.array(2.0, "float32")])
    out, w = concat([Q, V], mask=[Q_MASK, V_MASK], return_attention_scores=True)
    want, want_w = reference(concat_scores(Q, V, 2.0, 0.5), V, Q_MASK, V_MASK)
    assert_close(out, want)
    assert_close(w, want_w)
    assert Attention()([Q, V]) is not None and Attention().weights == []


def test_additive_attention_matches_numpy():
    layer = AdditiveAttention()
    layer([Q, V])
    scale = random_array((4,), seed=9)
    layer.set_weights([scale])
    scores = (np.tanh(f64(Q)[:, :, None, :] + f64(K)[:, None, :, :]) * f64(scale)).sum(-1)
    want, want_w = reference(scores, V, Q_MASK, V_MASK, causal=True)
    out, w = layer([Q, V, K], mask=[Q_MASK, V_MASK], use_causal_mask=True, return_attention_scores=True)
    assert_close(out, want)
    assert_close(w, want_w)
    assert_close(layer([Q, V, K], mask=[Q_MASK, V_MASK], use_causal_mask=True), want)
    plain = AdditiveAttention(use_scale=False)
    want, _ = reference(np.tanh(f64(Q)[:, :, None, :] + f64(V)[:, None, :, :]).sum(-1), V)
    assert_close(plain([Q, V]), want)
    assert plain.weights == []


def test_fully_masked_query_row_gets_the_mean_of_values():
    v_mask = np.zeros((2, 5), bool)
    want = np.broadcast_to(f64(V).mean(1, keepdims=True), (2, 3, 4))
    assert_close(Attention()([Q, V], mask=[None, v_mask]), want)
    assert_close(Attention()([Q, V], mask=[None, v_mask], return_attention_scores=True)[0], want)


def test_dropout_in_training_only_and_seeded():
    layer = Attention(dropout=0.5, seed=3)
    want, want_w = reference(dot_scores(Q, V), V)
    assert_close(layer([Q, V]), want)
    out, w = layer([Q, V], training=True, return_attention_scores=True)
    kept = f64(w) != 0
    assert 0 < kept.mean() < 1
    assert_close(f64(w)[kept], (2 * want_w)[kept])
    assert_close(out, f64(w) @ f64(V))
    again = Attention(dropout=0.5, seed=3)
    np.testing.assert_array_equal(f64(again([Q, V], training=True, return_attention_scores=True)[1]), f64(w))
    unseeded = Attention(dropout=0.5)([Q, V], training=True)
    assert unseeded.shape == (2, 3, 4)


def test_mask_propagation_and_symbolic_shapes():
    q = keras.Input((3, 4))
    v = keras.Input((5, 6))
    k = keras.Input((5, 4))
    out = Attention()([q, v, k])
    assert out.shape == (None, 3, 6)
    out, scores = Attention()([q, v, k], return_attention_scores=True)
    assert (out.shape, scores.shape) == ((None, 3, 6), (None, 3, 5))
    assert Attention().compute_output_shape([(None, 3, 4), (None, 5, 6)]) == (None, 3, 6)
    layer = Attention()
    assert f64(layer.compute_mask([Q, V], [torch.tensor(Q_MASK), None])).tolist() == Q_MASK.tolist()
    assert layer.compute_mask([Q, V], None) is None
    qt = torch.tensor(Q)
    qt._keras_mask = torch.tensor(Q_MASK)
    result = layer([qt, torch.tensor(V)])
    np.testing.assert_array_equal(result._keras_mask.numpy(), Q_MASK)
    assert_close(result, reference(dot_scores(Q, V), V, Q_MASK)[0])


@pytest.mark.parametrize("call, match", [
    (lambda: Attention()(torch.tensor(Q)), "must be called on a list"),
    (lambda: Attention()([Q]), "length 2 or 3"),
    (lambda: Attention()([Q, V], mask=Q_MASK), "mask must be a list"),
    (lambda: Attention(score_mode="cosine"), "score_mode"),
])
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_config_round_trip_and_weights_file(tmp_path):
    layer = Attention(use_scale=True, score_mode="concat", dropout=0.1, seed=4, name="att")
    config = layer.get_config()
    assert {k: config[k] for k in ("use_scale", "score_mode", "dropout", "seed")} == \
        {"use_scale": True, "score_mode": "concat", "dropout": 0.1, "seed": 4}
    assert Attention.from_config(config).get_config() == config
    add = AdditiveAttention(use_scale=False, dropout=0.2)
    assert "score_mode" not in add.get_config()
    assert AdditiveAttention.from_config(add.get_config()).get_config() == add.get_config()

    def make():
        q, v = keras.Input((3, 4)), keras.Input((5, 4))
        return keras.Model([q, v], AdditiveAttention()([q, v]))

    model, other = make(), make()
    model.save_weights(tmp_path / "add.weights.h5")
    other.load_weights(tmp_path / "add.weights.h5")
    np.testing.assert_array_equal(model.predict([Q, V], verbose=0), other.predict([Q, V], verbose=0))
