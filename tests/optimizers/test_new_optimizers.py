"""Ftrl, Lamb, Adafactor, ScheduleFreeAdamW, Muon and LossScaleOptimizer against float64 NumPy references."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cornu import optimizers
from cornu.variables import Variable
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
    g = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(w.detach().numpy(), -f32(0.5) * g / (np.abs(g) + 1e-7))


def _rms(x):
    return np.sqrt(np.mean(x * x))


def adafactor_ref(lr, beta_2_decay=-0.8, eps_1=1e-30, eps_2=1e-3, clip=1.0):
    def ref(ws, grads):
        state = [{"r": np.zeros(w.shape[:-1]), "c": np.zeros(w.shape[:-2] + w.shape[-1:]), "v": np.zeros_like(w)}
                 for w in ws]
        for t, gs in enumerate(grads, start=1):
            for i, g in enumerate(gs):
                s = state[i]
                alpha = max(eps_2, _rms(ws[i])) * min(lr, 1 / np.sqrt(t))
                g2 = g * g + eps_1
                beta = 1 - t**beta_2_decay
                if g.ndim >= 2:
                    s["r"] = beta * s["r"] + (1 - beta) * g2.mean(-1)
                    s["c"] = beta * s["c"] + (1 - beta) * g2.mean(-2)
                    s["v"] = (s["r"] / s["r"].mean(-1, keepdims=True))[..., None] * s["c"][..., None, :]
                else:
                    s["v"] = beta * s["v"] + (1 - beta) * g2
                u = g / np.sqrt(s["v"])
                ws[i] = ws[i] - alpha * u / max(1.0, _rms(u) / clip)
        return ws
    return ref


@pytest.mark.parametrize("kwargs", [{}, {"beta_2_decay": -0.5, "epsilon_2": 0.5, "clip_threshold": 0.3,
                                         "relative_step": False}])
def test_adafactor(kwargs, check):
    ref = adafactor_ref(f32(0.5), kwargs.get("beta_2_decay", -0.8), 1e-30, kwargs.get("epsilon_2", 1e-3),
                        kwargs.get("clip_threshold", 1.0))
    variables = check(optimizers.Adafactor(learning_rate=0.5, **kwargs), ref, shapes=[(3, 4), (5,), (2, 3, 2), ()])
    assert variables[3].shape == ()


def test_adafactor_factors_over_keras_axes_of_a_permuted_weight():
    rng = np.random.default_rng(3)
    keras_w, grads = rng.normal(size=(3, 5)), [rng.normal(size=(3, 5)) for _ in range(4)]
    w = Variable(torch.nn.Parameter(torch.tensor(keras_w.T.copy())), name="k", layout=(1, 0))  # stored (5, 3)
    opt = optimizers.Adafactor(learning_rate=0.1)
    for g in grads:
        opt.apply([torch.tensor(g.T.copy())], [w])
    np.testing.assert_allclose(w.numpy(), adafactor_ref(f32(0.1))([keras_w], [[g] for g in grads])[0], rtol=1e-10)
    assert [tuple(v.shape) for v in opt.variables[2:]] == [(3,), (5,), (3, 5)]


@pytest.mark.parametrize("warmup_steps,weight_decay", [(0, None), (3, 0.1)])
def test_schedule_free_adamw(warmup_steps, weight_decay, check):
    lr, b2, eps = f32(0.05), 0.95, 1e-6

    def ref(ws, grads):
        z = [w.copy() for w in ws]
        v = [np.zeros_like(w) for w in ws]
        for t, gs in enumerate(grads, start=1):
            lr_t = lr * min(1.0, t / warmup_steps) if warmup_steps else lr
            for i, g in enumerate(gs):
                if weight_decay:
                    ws[i] = ws[i] - ws[i] * weight_decay * lr
                v[i] = b2 * v[i] + (1 - b2) * g * g
                z[i] = z[i] - lr_t * g / (np.sqrt(v[i] / (1 - b2**t)) + eps)
                ws[i] = (1 - 1 / t) * ws[i] + z[i] / t
        return ws

    opt = optimizers.ScheduleFreeAdamW(learning_rate=0.05, beta_2=b2, epsilon=eps, warmup_steps=warmup_steps,
                                       weight_decay=weight_decay)
    check(opt, ref)


def _newton_schulz(x, steps, a=3.4445, b=-4.775, c=2.0315):
    tall = x.shape[0] > x.shape[1]
    x = x.T if tall else x
    x = x / (np.linalg.norm(x) + 1e-7)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall else x


@pytest.mark.parametrize("kwargs", [{}, {"nesterov": False, "momentum": 0.5, "rms_rate": None, "ns_steps": 3,
                                         "adam_lr_ratio": 0.5, "weight_decay": 0.1, "adam_weight_decay": 0.2}])
def test_muon(kwargs, check):
    p = {"momentum": 0.95, "nesterov": True, "rms_rate": 0.2, "ns_steps": 5, "adam_lr_ratio": 1.0,
         "weight_decay": 0.004, "adam_weight_decay": 0.004, **kwargs}
    lr, b1, b2, eps = f32(0.02), 0.9, 0.999, 1e-7
    shapes = [(3, 4), (5, 2), (5,), (2, 3, 2)]  # two Muon matrices (wide, tall); AdamW for the rest

    def ref(ws, grads):
        m = [np.zeros_like(w) for w in ws]
        v = [np.zeros_like(w) for w in ws]
        for t, gs in enumerate(grads, start=1):
            for i, g in enumerate(gs):
                adamw = ws[i].ndim != 2
                ws[i] = ws[i] - ws[i] * p["adam_weight_decay" if adamw else "weight_decay"] * lr
                if adamw:
                    m[i] = m[i] + (g - m[i]) * (1 - b1)
                    v[i] = v[i] + (g * g - v[i]) * (1 - b2)
                    alpha = lr * p["adam_lr_ratio"] * np.sqrt(1 - b2**t) / (1 - b1**t)
                    ws[i] = ws[i] - alpha * m[i] / (np.sqrt(v[i]) + eps)
                    continue
                m[i] = p["momentum"] * m[i] + g
                d = g + p["momentum"] * m[i] if p["nesterov"] else m[i]
                u = _newton_schulz(d, p["ns_steps"])
                if p["rms_rate"] is not None:
                    u = u * np.sqrt(max(u.shape)) * p["rms_rate"]
                ws[i] = ws[i] - lr * u
        return ws

    check(optimizers.Muon(learning_rate=0.02, **kwargs), ref, shapes=shapes)


def test_muon_routes_embeddings_and_excluded_layers_to_adamw():
    def var(path, shape):
        return Variable(torch.nn.Parameter(torch.zeros(shape, dtype=torch.float64)), name=path.split("/")[-1],
                        path=path)

    variables = [var("model/dense/kernel", (3, 4)), var("model/token_embedding/embeddings", (10, 4)),
                 var("model/output_dense/kernel", (4, 2)), var("model/dense/bias", (4,))]
    opt = optimizers.Muon(exclude_layers=["output_.*"])
    opt.build(variables)
    assert opt._uses_adamw == [False, True, True, True]
    assert [v.path.split("/")[-1] for v in opt.variables[2:]] == [
        "model_dense_kernel_momentum",
        "model_token_embedding_embeddings_momentum", "model_token_embedding_embeddings_velocity",
        "model_output_dense_kernel_momentum", "model_output_dense_kernel_velocity",
        "model_dense_bias_momentum", "model_dense_bias_velocity",
    ]
    assert optimizers.Muon(exclude_embeddings=False)._should_use_adamw(variables[1]) is False


def test_loss_scale_optimizer_dynamics_and_skipping():
    """Scale 8, growth every 2 finite steps; non-finite steps are skipped and halve the scale."""
    w = Variable(torch.nn.Parameter(torch.tensor([1.0, 2.0], dtype=torch.float64)), name="w")
    inner = optimizers.SGD(learning_rate=0.5, momentum=0.5)
    opt = optimizers.LossScaleOptimizer(inner, initial_scale=8.0, dynamic_growth_steps=2)
    stream = [[8.0, 8.0], [8.0, np.inf], [8.0, 8.0], [8.0, 8.0], [8.0, 8.0], [np.nan, 1.0]]
    value, m, scale, counter, steps = np.array([1.0, 2.0]), np.zeros(2), 8.0, 0, 0
    for g in stream:
        g = np.array(g)
        opt.apply([torch.tensor(g)], [w])
        if np.all(np.isfinite(g)):
            m = 0.5 * m - f32(0.5) * g / scale
            value, steps, counter = value + m, steps + 1, counter + 1
            if counter == 2:
                scale, counter = scale * 2, 0
        else:
            scale, counter = scale / 2, 0
        np.testing.assert_allclose(w.numpy(), value, rtol=1e-12)
        assert float(opt.dynamic_scale) == scale and int(opt.variables[2]) == counter
        assert int(opt.iterations) == steps == int(inner.iterations)
    assert float(opt.scale_loss(torch.tensor(2.0, dtype=torch.float64))) == 2.0 * scale


def test_loss_scale_optimizer_delegates_and_round_trips():
    inner = optimizers.Adam(learning_rate=0.01)
    opt = optimizers.LossScaleOptimizer(inner, initial_scale=4.0, dynamic_growth_steps=10, name="lso")
    opt.learning_rate = 0.5
    assert inner.learning_rate == 0.5 == opt.learning_rate
    w = Variable(torch.nn.Parameter(torch.zeros(3)), name="w")
    opt.build([w])
    assert [v.name for v in opt.variables] == ["iteration", "learning_rate", "step_counter", "dynamic_scale",
                                             "iteration", "learning_rate", "w_momentum", "w_velocity"]
    config = opt.get_config()
    assert config["inner_optimizer"]["class_name"] == "Adam" and config["initial_scale"] == 4.0
    clone = optimizers.deserialize(optimizers.serialize(opt))
    assert type(clone) is optimizers.LossScaleOptimizer and clone.get_config() == config
    with pytest.raises(TypeError, match="inner_optimizer"):
        optimizers.LossScaleOptimizer("adam")
    with pytest.raises(ValueError, match="clipnorm"):
        optimizers.LossScaleOptimizer(inner, clipnorm=1.0)


def test_loss_scale_optimizer_check_finite():
    opt = optimizers.LossScaleOptimizer(optimizers.SGD())
    assert bool(opt.check_finite([torch.tensor([1.0, -2.0]), None, torch.tensor(3.0)]))
    assert not bool(opt.check_finite([torch.tensor([1.0, float("inf")])]))
    assert not bool(opt.check_finite([torch.tensor(float("nan"))]))
    assert opt.check_finite([None]).dtype == torch.bool and bool(opt.check_finite([None]))
