"""Each optimizer against its Keras update rule written out in float64 NumPy."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cornu import optimizers


def f32(x: float) -> float:
    """A float learning rate as the optimizer stores it: a float32 variable, as in Keras."""
    return float(np.float32(x))


@pytest.fixture
def check(make_variables, grad_stream, run_steps):
    """Run ``steps`` updates and compare with ``reference(initial_weights, grads)``."""
    def _check(optimizer, reference, steps, rtol=1e-10, atol=1e-12):
        variables = make_variables()
        ws = [v.numpy() for v in variables]
        grads = grad_stream(steps)
        got = run_steps(optimizer, variables, grads)
        want = reference(ws, grads)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)
        assert optimizer.iterations == steps
    return _check


def adam_ref(lr, b1, b2, eps, amsgrad=False, wd=None):
    lr = f32(lr)

    def ref(ws, grads):
        m = [np.zeros_like(w) for w in ws]
        v = [np.zeros_like(w) for w in ws]
        vh = [np.zeros_like(w) for w in ws]
        for t, gs in enumerate(grads, start=1):
            for i, g in enumerate(gs):
                if wd is not None:
                    ws[i] = ws[i] - ws[i] * wd * lr
                m[i] = m[i] + (g - m[i]) * (1 - b1)
                v[i] = v[i] + (g * g - v[i]) * (1 - b2)
                vv = v[i]
                if amsgrad:
                    vh[i] = np.maximum(vh[i], v[i])
                    vv = vh[i]
                alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
                ws[i] = ws[i] - alpha * m[i] / (np.sqrt(vv) + eps)
        return ws
    return ref


@pytest.mark.parametrize("steps", [1, 7])
def test_adam(steps, check):
    check(optimizers.Adam(learning_rate=0.01), adam_ref(0.01, 0.9, 0.999, 1e-7), steps)


def test_adam_amsgrad_custom_betas(check):
    opt = optimizers.Adam(learning_rate=0.05, beta_1=0.8, beta_2=0.95, epsilon=1e-3, amsgrad=True)
    check(opt, adam_ref(0.05, 0.8, 0.95, 1e-3, amsgrad=True), 6)


def test_adamw_decays_before_update(check):
    opt = optimizers.AdamW(learning_rate=0.02, weight_decay=0.1)
    check(opt, adam_ref(0.02, 0.9, 0.999, 1e-7, wd=0.1), 5)


def sgd_ref(lr, momentum, nesterov):
    lr = f32(lr)

    def ref(ws, grads):
        m = [np.zeros_like(w) for w in ws]
        for gs in grads:
            for i, g in enumerate(gs):
                if momentum == 0:
                    ws[i] = ws[i] - lr * g
                    continue
                m[i] = momentum * m[i] - lr * g
                ws[i] = ws[i] + (momentum * m[i] - lr * g if nesterov else m[i])
        return ws
    return ref


@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd(momentum, nesterov, check):
    opt = optimizers.SGD(learning_rate=0.1, momentum=momentum, nesterov=nesterov)
    check(opt, sgd_ref(0.1, momentum, nesterov), 5)


def rmsprop_ref(lr, rho, momentum, eps, centered):
    lr = f32(lr)

    def ref(ws, grads):
        v = [np.zeros_like(w) for w in ws]
        a = [np.zeros_like(w) for w in ws]
        mom = [np.zeros_like(w) for w in ws]
        for gs in grads:
            for i, g in enumerate(gs):
                v[i] = rho * v[i] + (1 - rho) * g**2
                if centered:
                    a[i] = rho * a[i] + (1 - rho) * g
                    denom = v[i] - a[i] ** 2 + eps
                else:
                    denom = v[i] + eps
                inc = lr * g / np.sqrt(denom)
                if momentum > 0:
                    mom[i] = momentum * mom[i] + inc
                    ws[i] = ws[i] - mom[i]
                else:
                    ws[i] = ws[i] - inc
        return ws
    return ref


@pytest.mark.parametrize("momentum,centered", [(0.0, False), (0.5, False), (0.5, True)])
def test_rmsprop(momentum, centered, check):
    opt = optimizers.RMSprop(learning_rate=0.01, rho=0.8, momentum=momentum, centered=centered)
    check(opt, rmsprop_ref(0.01, 0.8, momentum, 1e-7, centered), 6)


def test_adagrad(check):
    def ref(ws, grads):
        acc = [np.full_like(w, 0.1) for w in ws]
        for gs in grads:
            for i, g in enumerate(gs):
                acc[i] = acc[i] + g**2
                ws[i] = ws[i] - f32(0.05) * g / np.sqrt(acc[i] + 1e-7)
        return ws
    check(optimizers.Adagrad(learning_rate=0.05), ref, 6)


def test_adadelta(check):
    lr, rho, eps = f32(1.0), 0.95, 1e-7

    def ref(ws, grads):
        eg = [np.zeros_like(w) for w in ws]
        ed = [np.zeros_like(w) for w in ws]
        for gs in grads:
            for i, g in enumerate(gs):
                eg[i] = rho * eg[i] + (1 - rho) * g**2
                d = -np.sqrt(ed[i] + eps) * g / np.sqrt(eg[i] + eps)
                ed[i] = rho * ed[i] + (1 - rho) * d**2
                ws[i] = ws[i] + lr * d
        return ws
    check(optimizers.Adadelta(learning_rate=lr), ref, 6)


def test_adamax(check):
    lr, b1, b2, eps = f32(0.01), 0.9, 0.999, 1e-7

    def ref(ws, grads):
        m = [np.zeros_like(w) for w in ws]
        u = [np.zeros_like(w) for w in ws]
        for t, gs in enumerate(grads, start=1):
            for i, g in enumerate(gs):
                m[i] = m[i] + (g - m[i]) * (1 - b1)
                u[i] = np.maximum(b2 * u[i], np.abs(g))
                ws[i] = ws[i] - lr * m[i] / ((1 - b1**t) * (u[i] + eps))
        return ws
    check(optimizers.Adamax(learning_rate=lr), ref, 6)


def test_nadam(check):
    lr, b1, b2, eps = f32(0.01), 0.9, 0.999, 1e-7

    def ref(ws, grads):
        m = [np.zeros_like(w) for w in ws]
        v = [np.zeros_like(w) for w in ws]
        u_product = 1.0
        for t, gs in enumerate(grads, start=1):
            u_t = b1 * (1 - 0.5 * 0.96**t)
            u_next = b1 * (1 - 0.5 * 0.96 ** (t + 1))
            u_product = u_product * u_t
            for i, g in enumerate(gs):
                m[i] = m[i] + (g - m[i]) * (1 - b1)
                v[i] = v[i] + (g**2 - v[i]) * (1 - b2)
                m_hat = u_next * m[i] / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
                v_hat = v[i] / (1 - b2**t)
                ws[i] = ws[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
        return ws
    check(optimizers.Nadam(learning_rate=lr), ref, 6)


def test_lion(check):
    lr, b1, b2 = f32(0.01), 0.9, 0.99

    def ref(ws, grads):
        m = [np.zeros_like(w) for w in ws]
        for gs in grads:
            for i, g in enumerate(gs):
                ws[i] = ws[i] - lr * np.sign(m[i] * b1 + g * (1 - b1))
                m[i] = m[i] * b2 + g * (1 - b2)
        return ws
    check(optimizers.Lion(learning_rate=lr), ref, 6)


def test_float32_adam_close_to_float64_rule(make_variables, grad_stream, run_steps):
    variables = make_variables(dtype=torch.float32)
    ws = [v.numpy().astype(np.float64) for v in variables]
    grads = grad_stream(4)
    got = run_steps(optimizers.Adam(learning_rate=0.01), variables, grads, dtype=torch.float32)
    for g, w in zip(got, adam_ref(0.01, 0.9, 0.999, 1e-7)(ws, grads)):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
