"""``keras.config.disable_flash_attention()``: attention never takes torch's fused kernel, with the same results."""
import numpy as np
import pytest
import torch

import cornu as keras
from cornu import ops
from tests.helpers import assert_close, random_array


@pytest.fixture
def fused_calls(monkeypatch):
    """Count calls of torch's fused scaled-dot-product kernel."""
    calls = []
    real = torch.nn.functional.scaled_dot_product_attention

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", counting)
    yield calls
    keras.config.enable_flash_attention()


def _reference(q, k, v, mask):
    """Float64 NumPy attention on ``(batch, seq, heads, dim)``."""
    q, k, v = (np.transpose(a.astype(np.float64), (0, 2, 1, 3)) for a in (q, k, v))
    logits = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    logits = np.where(mask, logits, -1e30)
    w = np.exp(logits - logits.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return np.transpose(w @ v, (0, 2, 1, 3))


def test_ops_dot_product_attention_follows_the_switch(fused_calls):
    q, k, v = (random_array((2, 5, 3, 4), seed=i) for i in range(3))
    mask = np.tril(np.ones((5, 5), dtype=bool))[None, None]
    expected = _reference(q, k, v, mask)
    assert keras.config.is_flash_attention_enabled() is None
    auto = ops.dot_product_attention(q, k, v, mask=mask)
    assert len(fused_calls) == 1
    keras.config.disable_flash_attention()
    assert keras.config.is_flash_attention_enabled() is False
    off = ops.dot_product_attention(q, k, v, mask=mask)
    assert len(fused_calls) == 1  # the explicit path
    forced = ops.dot_product_attention(q, k, v, mask=mask, flash_attention=True)
    assert len(fused_calls) == 2  # an explicit argument wins over the switch
    for out in (auto, off, forced):
        assert_close(out, expected, rtol=1e-5, atol=1e-6)
    keras.config.enable_flash_attention()
    assert keras.config.is_flash_attention_enabled() is None
    ops.dot_product_attention(q, k, v, is_causal=True)
    assert len(fused_calls) == 3


@pytest.mark.parametrize("make", [
    lambda: keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha"),
    lambda: keras.layers.GroupQueryAttention(head_dim=4, num_query_heads=2, num_key_value_heads=1, name="gqa"),
])
def test_attention_layers_read_the_switch_at_creation(fused_calls, make):
    x = random_array((2, 6, 8), seed=1)
    auto_layer = make()
    keras.config.disable_flash_attention()
    off_layer = make()
    keras.config.enable_flash_attention()
    auto_layer(x, x)
    off_layer(x, x)  # builds the weights
    off_layer.set_weights(auto_layer.get_weights())
    fused_calls.clear()
    auto = auto_layer(x, x, use_causal_mask=True)
    assert len(fused_calls) == 1
    off = off_layer(x, x, use_causal_mask=True)
    assert len(fused_calls) == 1
    assert_close(off, auto, rtol=1e-5, atol=1e-6)


def test_attention_layer_reads_the_switch(fused_calls):
    q, v = random_array((2, 3, 4), seed=2), random_array((2, 5, 4), seed=3)
    layer = keras.layers.Attention(name="att")
    auto = layer([q, v])
    assert len(fused_calls) == 1
    keras.config.disable_flash_attention()
    off = layer([q, v])
    assert len(fused_calls) == 1
    w = np.exp(q.astype(np.float64) @ np.swapaxes(v, -1, -2))
    expected = (w / w.sum(-1, keepdims=True)) @ v
    assert_close(auto, expected, rtol=1e-5, atol=1e-6)
    assert_close(off, expected, rtol=1e-5, atol=1e-6)


def test_switch_values_and_layer_outputs_match_keras(keras_ref):
    try:
        for ns in (keras, keras_ref):
            ns.config.disable_flash_attention()
        assert keras.config.is_flash_attention_enabled() == keras_ref.config.is_flash_attention_enabled() is False
        x = random_array((2, 4, 8), seed=5)
        ours = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha_k")
        theirs = keras_ref.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha_k")
        ours(x, x)
        theirs(x, x)
        theirs.set_weights(ours.get_weights())
        expected = theirs(x, x, use_causal_mask=True).detach().cpu().numpy()
        assert_close(ours(x, x, use_causal_mask=True), expected, rtol=1e-5, atol=1e-6)
    finally:
        for ns in (keras, keras_ref):
            ns.config.enable_flash_attention()
    assert keras.config.is_flash_attention_enabled() == keras_ref.config.is_flash_attention_enabled() is None
