"""Ftrl, Lamb, Adafactor, ScheduleFreeAdamW, Muon and LossScaleOptimizer against float64 NumPy references."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cornu import optimizers
from tests.optimizers.test_update_rules import f32


@pytest.fixture
def check(make_variables, grad_stream, run_steps):
    """Run ``steps`` updates on float64 variables and compare with ``reference(initial_weights, grads)``."""
    def _check(optimizer, reference, steps=6, rtol=1e-10, atol=1e-12, shapes=None):
        kwargs = {} if shapes is None else {"shapes": shapes}
        variables = make_variables(**kwargs)
        ws = [v.numpy() for v in variables]
        grads = grad_stream(steps, **kwargs)
        got = run_steps(optimizer, variables, grads)
        for g, w in zip(got, reference(ws, grads)):
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)
        return variables
    return _check


@pytest.mark.parametrize("kwargs", [
    {},
    {"learning_rate_power": -0.7, "initial_accumulator_value": 0.5, "l1_regularization_strength": 0.05,
     "l2_regularization_strength": 0.02, "l2_shrinkage_regularization_strength": 0.03, "beta": 0.5},
])
def test_ftrl(kwargs, check):
    p = {"learning_rate_power": -0.5, "initial_accumulator_value": 0.1, "l1_regularization_strength": 0.0,
         "l2_regularization_strength": 0.0, "l2_shrinkage_regularization_strength": 0.0, "beta": 0.0, **kwargs}
    lr = f32(0.1)

    def ref(ws, grads):
        n = [np.full_like(w, p["initial_accumulator_value"]) for w in ws]
        z = [np.zeros_like(w) for w in ws]
        power = -p["learning_rate_power"]
        for gs in grads:
            for i, g in enumerate(gs):
                g_shrunk = g + 2 * p["l2_shrinkage_regularization_strength"] * ws[i]
                n_new = n[i] + g * g
                z[i] = z[i] + g_shrunk - (n_new**power - n[i] ** power) / lr * ws[i]
                quadratic = n_new**power / lr + 2 * (p["l2_regularization_strength"] + p["beta"] / (2 * lr))
                l1 = p["l1_regularization_strength"]
                ws[i] = (np.clip(z[i], -l1, l1) - z[i]) / quadratic
                n[i] = n_new
        return ws

    check(optimizers.Ftrl(learning_rate=0.1, **kwargs), ref)


def test_ftrl_bad_arguments():
    with pytest.raises(ValueError, match="learning_rate_power"):
        optimizers.Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match="l1_regularization_strength"):
        optimizers.Ftrl(l1_regularization_strength=-1.0)


@pytest.mark.parametrize("weight_decay", [None, 0.1])
def test_lamb(weight_decay, check):
    lr, b1, b2, eps = f32(0.05), 0.8, 0.95, 1e-6

    def ref(ws, grads):
        m = [np.zeros_like(w) for w in ws]
        v = [np.zeros_like(w) for w in ws]
        for t, gs in enumerate(grads, start=1):
            for i, g in enumerate(gs):
                if weight_decay:
                    ws[i] = ws[i] - ws[i] * weight_decay * lr
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                update = (m[i] / (1 - b1**t)) / (np.sqrt(v[i] / (1 - b2**t)) + eps)
                w_norm, u_norm = np.linalg.norm(ws[i]), np.linalg.norm(update)
                ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
                ws[i] = ws[i] - lr * ratio * update
        return ws

    opt = optimizers.Lamb(learning_rate=0.05, beta_1=b1, beta_2=b2, epsilon=eps, weight_decay=weight_decay)
    check(opt, ref)


def test_lamb_trust_ratio_is_one_for_a_zero_weight():
    w = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    opt = optimizers.Lamb(learning_rate=0.5)
    opt.apply([torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)], [w])
    # first step: m_hat = g, v_hat = g^2, update = g / (|g| + eps) ~ sign(g); ratio 1 since ||w|| = 0
    np.testing.assert_allclose(w.detach().numpy(), -f32(0.5) * np.array([1.0, -2.0, 0.5]) / (np.abs([1.0, 2.0, 0.5]) + 1e-7))
