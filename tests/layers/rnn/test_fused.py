"""The fused kernel path (``torch._VF``) against the per-step loop: same numbers, same gradients, right choice."""
import itertools

import numpy as np
import pytest
import torch

from cornu.layers import GRU, LSTM, SimpleRNN
from cornu.layers.rnn import fused
from cornu.layers.rnn.rnn import RNN
from tests.helpers import assert_close, random_array

X = random_array((4, 6, 3), seed=2)
RIGHT = np.array([[1] * 6, [1, 1, 1, 0, 0, 0], [0] * 6, [1, 0, 0, 0, 0, 0]], bool)

KINDS = [(LSTM, {}), (GRU, {}), (SimpleRNN, {}), (SimpleRNN, {"activation": "relu"})]


def _pair(cls, kw, **options):
    """The same layer twice with the same weights: fused (``use_cudnn="auto"``) and looped (``False``)."""
    fast, slow = cls(3, **kw, **options), cls(3, use_cudnn=False, **kw, **options)
    for layer in (fast, slow):
        layer.build((4, 6, 3))
    weights = [random_array(w.shape, seed=i) * 0.7 for i, w in enumerate(fast.weights)]
    fast.set_weights(weights)
    slow.set_weights(weights)
    return fast, slow


def _run_with_grads(layer, mask, init, training=False):
    x = torch.tensor(X, requires_grad=True)
    states = [torch.tensor(s, requires_grad=True) for s in init]
    out = layer(x, mask=None if mask is None else torch.as_tensor(mask), initial_state=states, training=training)
    flat = list(out) if isinstance(out, tuple) else [out]
    loss = sum((t * torch.linspace(-1, 1, t.numel()).view_as(t)).sum() for t in flat)
    loss.backward()
    grads = [x.grad] + [s.grad for s in states] + [w.value.grad for w in layer.weights]
    return [t.detach().numpy() for t in flat], [g.numpy() for g in grads]


@pytest.mark.parametrize("cls,kw", KINDS, ids=["lstm", "gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize("mask", [None, RIGHT], ids=["nomask", "right_padded"])
def test_fused_and_loop_paths_agree(cls, kw, mask, monkeypatch):
    calls = []
    real = fused.fused_rnn
    monkeypatch.setattr(fused, "fused_rnn", lambda *a, **k: calls.append(1) or real(*a, **k))
    n_states = 2 if cls is LSTM else 1
    init = [random_array((4, 3), seed=40 + i) for i in range(n_states)]
    for return_sequences, go_backwards, zero_output in itertools.product([False, True], repeat=3):
        options = dict(return_sequences=return_sequences, return_state=True, go_backwards=go_backwards,
                       zero_output_for_mask=zero_output)
        fast, slow = _pair(cls, kw, **options)
        calls.clear()
        out_fast, grads_fast = _run_with_grads(fast, mask, init)
        assert calls, "the fused kernel was not used"
        calls.clear()
        out_slow, grads_slow = _run_with_grads(slow, mask, init)
        assert not calls
        for a, b in zip(out_fast, out_slow):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        for a, b in zip(grads_fast, grads_slow):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls,kw", KINDS[:3], ids=["lstm", "gru", "rnn_tanh"])
def test_input_dropout_runs_fused_with_the_loops_masks(cls, kw):
    fast, slow = _pair(cls, kw, dropout=0.4, seed=3, return_sequences=True)
    out_fast, grads_fast = _run_with_grads(fast, RIGHT, [np.zeros((4, 3), "float32")] * (2 if cls is LSTM else 1),
                                           training=True)
    out_slow, grads_slow = _run_with_grads(slow, RIGHT, [np.zeros((4, 3), "float32")] * (2 if cls is LSTM else 1),
                                           training=True)
    assert_close(out_fast[0], out_slow[0], rtol=1e-5)
    for a, b in zip(grads_fast, grads_slow):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    inference, _ = _run_with_grads(fast, None, [np.zeros((4, 3), "float32")] * (2 if cls is LSTM else 1))
    assert not np.allclose(inference[0], out_fast[0])


@pytest.mark.parametrize("layer", [
    LSTM(3, recurrent_dropout=0.2), LSTM(3, unroll=True), LSTM(3, use_bias=False), LSTM(3, activation="relu"),
    LSTM(3, recurrent_activation="hard_sigmoid"), GRU(3, reset_after=False), SimpleRNN(3, activation="elu"),
], ids=["recurrent_dropout", "unroll", "no_bias", "relu", "hard_sigmoid", "gru_reset_before", "elu"])
def test_configurations_outside_the_cudnn_conditions_loop(layer, monkeypatch):
    monkeypatch.setattr(fused, "fused_rnn", lambda *a, **k: pytest.fail("fused path taken"))
    looped = []
    real = RNN._loop
    monkeypatch.setattr(RNN, "_loop", lambda self, *a: looped.append(1) or real(self, *a))
    layer(X)
    assert looped


def test_scattered_masks_loop_and_right_padded_masks_fuse(monkeypatch):
    looped = []
    real = RNN._loop
    monkeypatch.setattr(RNN, "_loop", lambda self, *a: looped.append(1) or real(self, *a))
    layer = LSTM(3)
    layer(X, mask=RIGHT)
    assert not looped
    layer(X, mask=RIGHT[:, ::-1].copy())
    assert looped


def test_right_padded_lengths():
    lengths, host = fused.right_padded_lengths(torch.as_tensor(RIGHT))
    assert lengths.tolist() == host.tolist() == [6, 3, 0, 1]
    assert fused.right_padded_lengths(torch.as_tensor(RIGHT[:, ::-1].copy())) is None


def test_use_cudnn_true_refuses_unfusable_configurations():
    with pytest.raises(ValueError, match="use_cudnn=True"):
        LSTM(3, use_cudnn=True, recurrent_dropout=0.1)(X)
    assert tuple(GRU(3, use_cudnn=True)(X).shape) == (4, 3)
    with pytest.raises(ValueError, match="use_cudnn"):
        LSTM(3, use_cudnn="yes")


def test_torch_compile_runs_the_fused_kernel_eagerly_inside_the_graph():
    torch._dynamo.reset()
    layer = LSTM(3, return_sequences=True)
    layer(X)
    compiled = torch.compile(lambda x, mask: layer(x, mask=mask), backend="aot_eager")
    mask = torch.as_tensor(RIGHT)
    for m in (None, mask, torch.flip(mask, (1,))):
        x = torch.tensor(X, requires_grad=True)
        expected = layer(x, mask=m)
        expected.sum().backward()
        grad = x.grad.clone()
        x.grad = None
        got = compiled(x, m)
        got.sum().backward()
        assert_close(got, expected, rtol=1e-5)
        assert_close(x.grad, grad, rtol=1e-5)
    torch._dynamo.reset()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (cuDNN kernels)")
@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_cudnn_path_matches_the_loop_on_cuda(cls):
    fast, slow = _pair(cls, {}, return_sequences=True, return_state=True, go_backwards=True)
    fast, slow = fast.to("cuda"), slow.to("cuda")
    x = torch.tensor(X, device="cuda", requires_grad=True)
    mask = torch.as_tensor(RIGHT, device="cuda")
    with torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
        out_fast = fast(x, mask=mask)
        out_fast[0].sum().backward()
    grad_fast, x.grad = x.grad.clone(), None
    out_slow = slow(x, mask=mask)
    out_slow[0].sum().backward()
    for a, b in zip(out_fast, out_slow):
        assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert_close(grad_fast, x.grad, rtol=1e-4, atol=1e-5)
