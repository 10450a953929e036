"""Adam's fused-kernel path follows Keras's rule (epsilon on sqrt(v)), like the foreach path."""
import numpy as np
import pytest
import torch

from cornu.optimizers import Adam
from cornu.variables import Variable


def keras_adam(w, grads, lr, b1=0.9, b2=0.999, eps=1e-7):
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        w = w - alpha * m / (np.sqrt(v) + eps)
    return w


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_float32_matches_keras_rule_and_uses_fused_kernel(monkeypatch, amsgrad):
    calls = []
    real = torch._fused_adam_
    monkeypatch.setattr(torch, "_fused_adam_", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(6, 5))
    grads = [rng.normal(size=(6, 5)) * 1e-3 for _ in range(8)]  # small grads: epsilon placement matters
    var = Variable(torch.nn.Parameter(torch.tensor(w0, dtype=torch.float32)), "w")
    opt = Adam(learning_rate=0.01, amsgrad=amsgrad)
    for g in grads:
        opt.apply([torch.tensor(g, dtype=torch.float32)], [var])
    assert bool(calls) is not amsgrad
    if not amsgrad:
        np.testing.assert_allclose(var.numpy(), keras_adam(w0, grads, 0.01), rtol=1e-5, atol=1e-6)


def test_fused_path_follows_iterations_after_reassignment():
    var = Variable(torch.nn.Parameter(torch.zeros(3)), "w")
    opt = Adam(learning_rate=0.1)
    opt.apply([torch.ones(3)], [var])
    w1 = var.numpy().copy()
    opt.iterations.assign(4)  # restored state: the next update is step 5
    opt.apply([torch.ones(3)], [var])
    # second update with g=1: m=0.19, v=0.001999; alpha = 0.1*sqrt(1-0.999^5)/(1-0.9^5)
    m, v = 0.19, 0.001 * 0.999 + 0.001
    alpha = 0.1 * np.sqrt(1 - 0.999 ** 5) / (1 - 0.9 ** 5)
    np.testing.assert_allclose(var.numpy(), w1 - alpha * m / (np.sqrt(v) + 1e-7), rtol=1e-5)
    assert int(opt.iterations) == 5
