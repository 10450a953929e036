"""``Bidirectional`` over a fusable LSTM/GRU/SimpleRNN runs torch's one bidirectional kernel, with the numbers
and gradients of the two layers run one after the other."""
import numpy as np
import pytest
import torch

import cornu as keras
from cornu.layers import GRU, LSTM, Bidirectional, SimpleRNN
from cornu.layers.rnn import fused
from tests.helpers import assert_close, random_array

LAYERS = [(LSTM, {}), (GRU, {}), (SimpleRNN, {}), (SimpleRNN, {"activation": "relu"})]


def _pair(cls, kw, merge_mode, **rnn_kw):
    """The same weights in a fusable wrapper and in one whose layers must loop (``use_cudnn=False``)."""
    keras.utils.set_random_seed(7)  # the same weights whichever tests ran before
    fast = Bidirectional(cls(5, **kw, **rnn_kw), merge_mode=merge_mode)
    slow = Bidirectional(cls(5, **kw, **rnn_kw), merge_mode=merge_mode)
    for layer in (slow.forward_layer, slow.backward_layer):
        layer.use_cudnn = False  # the wrapper's copies are made from configs, which do not carry use_cudnn
    x = random_array((3, 7, 4), seed=1)
    fast(x)
    slow(x)
    slow.set_weights([w + 0.05 * np.sign(w) for w in fast.get_weights()])
    fast.set_weights(slow.get_weights())
    return fast, slow, x


def _count_fused(monkeypatch) -> list:
    calls = []
    original = fused._bidirectional
    monkeypatch.setattr(fused, "_EAGER_BIDIRECTIONAL", lambda *a: calls.append(1) or original(*a))
    return calls


@pytest.mark.parametrize("cls,kw", LAYERS)
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul", None])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_fused_bidirectional_matches_the_two_layers(cls, kw, merge_mode, return_sequences, monkeypatch):
    fast, slow, x = _pair(cls, kw, merge_mode, return_sequences=return_sequences)
    calls = _count_fused(monkeypatch)
    xs = [torch.tensor(x, requires_grad=True) for _ in range(2)]
    got, want = fast(xs[0]), slow(xs[1])
    assert calls == [1]
    got, want = (got if isinstance(got, tuple) else (got,)), (want if isinstance(want, tuple) else (want,))
    for g, w in zip(got, want):
        assert_close(g.detach().numpy(), w.detach().numpy(), rtol=1e-5, atol=1e-6)
    sum(g.square().sum() for g in got).backward()
    sum(w.square().sum() for w in want).backward()
    # float32 gradients summed in another order: elements near zero next to ones of size ~5 differ by ~1e-6
    assert_close(xs[0].grad.numpy(), xs[1].grad.numpy(), rtol=1e-4, atol=1e-5)
    for a, b in zip(fast.trainable_weights, slow.trainable_weights):
        assert_close(a.value.grad.numpy(), b.value.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls,kw", LAYERS[:2])
def test_fused_bidirectional_states_and_initial_state(cls, kw, monkeypatch):
    fast, slow, x = _pair(cls, kw, "concat", return_sequences=True, return_state=True)
    n = len(fast.forward_layer.cell.state_size) if cls is LSTM else 1
    initial = [random_array((3, 5), seed=10 + i) for i in range(2 * n)]
    calls = _count_fused(monkeypatch)
    got, want = fast(x, initial_state=initial), slow(x, initial_state=initial)
    assert calls == [1] and len(got) == len(want) == 1 + 2 * n
    for g, w in zip(got, want):
        assert_close(g.detach().numpy(), w.detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="initial state"):
        fast(x, initial_state=[random_array((3, 6), seed=0)] * (2 * n))


def test_masks_dropout_and_custom_layers_run_the_two_layers(monkeypatch):
    x = random_array((2, 6, 3), seed=2)
    cases = [(Bidirectional(LSTM(4)), {"mask": np.array([[1] * 6, [1] * 4 + [0] * 2], bool)}),
             (Bidirectional(LSTM(4, dropout=0.5)), {"training": True}),
             (Bidirectional(LSTM(4, recurrent_dropout=0.5)), {}),
             (Bidirectional(LSTM(4, activation="relu")), {}),
             (Bidirectional(LSTM(4), backward_layer=GRU(4, go_backwards=True)), {})]
    for layer, kwargs in cases:
        calls = _count_fused(monkeypatch)
        layer(x, **kwargs)
        assert calls == [], layer.forward_layer.get_config()
