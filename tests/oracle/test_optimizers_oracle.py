"""Optimizers against real Keras 3 (torch backend): same variables, same gradient stream, same numbers.

Each case builds the optimizer in both libraries, feeds the same gradients to
``optimizer.apply(grads, vars)`` for several steps, then compares the
variables, every optimizer state variable (in ``variables`` order) and
``get_config()``.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import cornu
from cornu import optimizers
from cornu.variables import Variable
from tests.helpers import random_array

SHAPES = {"kernel": (4, 3), "bias": (3,), "conv": (2, 3, 2, 2)}
STEPS = 7


def _initial(shapes):
    return {name: random_array(shape, seed=i, low=-1.0, high=1.0) for i, (name, shape) in enumerate(shapes.items())}


def _gradients(shapes, steps, scale=1.0, seed=100):
    return [
        {name: scale * random_array(shape, seed=seed + 10 * t + i, low=-1.0, high=1.0)
         for i, (name, shape) in enumerate(shapes.items())}
        for t in range(steps)
    ]


def _schedules(lib, which):
    s = lib.optimizers.schedules
    return {
        "exponential": lambda: s.ExponentialDecay(0.02, decay_steps=3, decay_rate=0.5, staircase=True),
        "piecewise": lambda: s.PiecewiseConstantDecay([2, 4], [0.03, 0.02, 0.01]),
        "polynomial": lambda: s.PolynomialDecay(0.02, decay_steps=4, end_learning_rate=0.001, power=2.0, cycle=True),
        "inverse_time": lambda: s.InverseTimeDecay(0.02, decay_steps=2, decay_rate=0.5),
        "cosine_warmup": lambda: s.CosineDecay(0.0, decay_steps=5, alpha=0.1, warmup_target=0.02, warmup_steps=3),
        "cosine_restarts": lambda: s.CosineDecayRestarts(0.02, first_decay_steps=2, t_mul=2.0, m_mul=0.5),
    }[which]()


def run_both(keras, cls_name, kwargs=None, shapes=SHAPES, steps=STEPS, grads=None, make=None, variables=None):
    """Apply the same gradient stream with Keras's and cornu's ``cls_name``; return both sides."""
    kwargs = kwargs or {}
    init = _initial(shapes)
    grads = grads if grads is not None else _gradients(shapes, steps)
    k_vars = [keras.Variable(init[n], name=n) for n in shapes]
    c_vars = [Variable(torch.nn.Parameter(torch.tensor(init[n])), name=n, path=f"layer/{n}") for n in shapes]

    def build(lib):
        args = make(lib) if make is not None else dict(kwargs)
        return getattr(lib.optimizers, cls_name)(**args)

    k_opt, c_opt = build(keras), build(cornu)
    for step in grads:
        k_opt.apply([torch.tensor(step[n]) if step[n] is not None else None for n in shapes], k_vars)
        c_opt.apply([torch.tensor(step[n]) if step[n] is not None else None for n in shapes], c_vars)
    return k_opt, c_opt, k_vars, c_vars


def assert_same(k_opt, c_opt, k_vars, c_vars, rtol=1e-5, atol=1e-6):
    for k, c in zip(k_vars, c_vars):
        np.testing.assert_allclose(c.numpy(), np.asarray(k), rtol=rtol, atol=atol, err_msg=k.name)
    k_state, c_state = k_opt.variables, c_opt.variables
    assert [tuple(v.shape) for v in c_state] == [tuple(v.shape) for v in k_state]
    for k, c in zip(k_state, c_state):
        np.testing.assert_allclose(np.asarray(c.numpy(), dtype=np.float64), np.asarray(k, dtype=np.float64),
                                   rtol=rtol, atol=atol, err_msg=f"{c.path} vs {k.path}")
    assert c_opt.get_config() == k_opt.get_config()


OLD = {
    "SGD": [{}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True}],
    "Adam": [{}, {"amsgrad": True, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-3}],
    "AdamW": [{}, {"weight_decay": 0.1, "amsgrad": True}],
    "RMSprop": [{}, {"momentum": 0.5, "centered": True, "rho": 0.8}],
    "Adagrad": [{}, {"initial_accumulator_value": 0.5, "epsilon": 1e-3}],
    "Adadelta": [{"learning_rate": 1.0}, {"rho": 0.8, "epsilon": 1e-4}],
    "Adamax": [{}, {"beta_1": 0.8, "beta_2": 0.9}],
    "Nadam": [{}, {"beta_1": 0.8, "beta_2": 0.95}],
    "Lion": [{}, {"beta_1": 0.8, "beta_2": 0.9}],
}
OLD_CASES = [(name, {"learning_rate": 0.05, "name": "opt", **kw}) for name, kws in OLD.items() for kw in kws]


@pytest.mark.parametrize("cls_name,kwargs", OLD_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OLD_CASES)])
def test_existing_optimizers_match_keras(keras_ref, cls_name, kwargs):
    assert_same(*run_both(keras_ref, cls_name, kwargs))


OPTIONS = [
    {"use_ema": True, "ema_momentum": 0.9},
    {"use_ema": True, "ema_momentum": 0.5, "ema_overwrite_frequency": 3},
    {"gradient_accumulation_steps": 3},
    {"gradient_accumulation_steps": 2, "use_ema": True, "ema_overwrite_frequency": 2},
    {"clipnorm": 0.5},
    {"clipvalue": 0.2},
    {"global_clipnorm": 0.7},
    {"weight_decay": 0.05},
    {"loss_scale_factor": 8.0},
]
OPTION_CASES = [(name, opts) for name in ("SGD", "Adam") for opts in OPTIONS]


@pytest.mark.parametrize("cls_name,options", OPTION_CASES,
                         ids=[f"{n}-{'-'.join(o)}" for n, o in OPTION_CASES])
def test_options_match_keras(keras_ref, cls_name, options):
    kwargs = {"learning_rate": 0.05, "name": "opt", **options}
    if cls_name == "SGD":
        kwargs["momentum"] = 0.5
    grads = _gradients(SHAPES, 8, scale=3.0)  # large enough for every clip to bite
    assert_same(*run_both(keras_ref, cls_name, kwargs, grads=grads))


@pytest.mark.parametrize("which", ["exponential", "piecewise", "polynomial", "inverse_time", "cosine_warmup",
                                   "cosine_restarts"])
def test_schedules_drive_the_update_like_keras(keras_ref, which):
    make = lambda lib: {"learning_rate": _schedules(lib, which), "name": "opt"}  # noqa: E731
    k_opt, c_opt, k_vars, c_vars = run_both(keras_ref, "Adam", make=make)
    assert_same(k_opt, c_opt, k_vars, c_vars)
    assert c_opt.learning_rate == pytest.approx(float(k_opt.learning_rate), rel=1e-6)


def test_missing_gradient_and_learning_rate_change_mid_run(keras_ref):
    grads = _gradients(SHAPES, 6)
    for step in grads[::2]:
        step["bias"] = None
    init = _initial(SHAPES)
    k_vars = [keras_ref.Variable(init[n], name=n) for n in SHAPES]
    c_vars = [Variable(torch.nn.Parameter(torch.tensor(init[n])), name=n) for n in SHAPES]
    k_opt, c_opt = keras_ref.optimizers.Adam(0.05, name="opt"), optimizers.Adam(0.05, name="opt")
    for i, step in enumerate(grads):
        if i == 3:
            k_opt.learning_rate = 0.01
            c_opt.learning_rate = 0.01
        values = [torch.tensor(step[n]) if step[n] is not None else None for n in SHAPES]
        with pytest.warns(UserWarning) if i % 2 == 0 else _no_warning():
            k_opt.apply(values, k_vars)
        with pytest.warns(UserWarning, match="bias") if i % 2 == 0 else _no_warning():
            c_opt.apply(values, c_vars)
    assert_same(k_opt, c_opt, k_vars, c_vars)


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


NEW = {
    "Ftrl": [{}, {"learning_rate_power": -0.7, "initial_accumulator_value": 0.5, "l1_regularization_strength": 0.01,
                  "l2_regularization_strength": 0.02, "l2_shrinkage_regularization_strength": 0.03, "beta": 0.5}],
    "Lamb": [{}, {"beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-3, "weight_decay": 0.01}],
    "Adafactor": [{}, {"learning_rate": 0.5, "relative_step": False, "beta_2_decay": -0.5, "epsilon_2": 0.1,
                       "clip_threshold": 0.5, "weight_decay": 0.01}],
    "ScheduleFreeAdamW": [{}, {"beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-3, "warmup_steps": 3,
                               "weight_decay": 0.01}],
    "Muon": [{}, {"nesterov": False, "momentum": 0.5, "rms_rate": None, "adam_lr_ratio": 0.5, "weight_decay": 0.1,
                  "adam_weight_decay": 0.2, "ns_steps": 3, "exclude_layers": ["kern"]}],
}
NEW_CASES = [(name, {"learning_rate": 0.05, "name": "opt", **kw}) for name, kws in NEW.items() for kw in kws]


@pytest.mark.parametrize("cls_name,kwargs", NEW_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(NEW_CASES)])
def test_new_optimizers_match_keras(keras_ref, cls_name, kwargs):
    assert_same(*run_both(keras_ref, cls_name, kwargs))


def _normalize_inner(config):
    """Keras's torch backend serializes built-in inner optimizers under private module names; compare the rest."""
    config = dict(config)
    inner = dict(config["inner_optimizer"])
    inner.pop("module"), inner.pop("registered_name")
    config["inner_optimizer"] = inner
    return config


@pytest.mark.parametrize("inner,kwargs", [
    ("SGD", {"learning_rate": 0.05, "momentum": 0.5}),
    ("Adam", {"learning_rate": 0.05, "use_ema": True, "ema_momentum": 0.8}),
    ("Nadam", {"learning_rate": 0.05, "gradient_accumulation_steps": 2}),
])
def test_loss_scale_optimizer_matches_keras(keras_ref, inner, kwargs):
    grads = _gradients(SHAPES, 9, scale=3.0)
    grads[1]["bias"][0] = np.inf   # skipped, scale halves
    grads[4]["kernel"][1, 1] = np.nan
    grads[5]["conv"][0, 0, 0, 0] = -np.inf

    def make(lib):
        return {"inner_optimizer": getattr(lib.optimizers, inner)(name="inner", **kwargs), "initial_scale": 3.0,
                "dynamic_growth_steps": 2, "name": "opt"}

    k_opt, c_opt, k_vars, c_vars = run_both(keras_ref, "LossScaleOptimizer", grads=grads, make=make)
    for k, c in zip(k_vars, c_vars):
        np.testing.assert_allclose(c.numpy(), np.asarray(k), rtol=1e-5, atol=1e-6, err_msg=k.name)
    # Keras's LossScaleOptimizer leaves Nadam's momentum product out of its variables (so it is not saved);
    # cornu keeps it, so that a restored optimizer continues exactly.
    ours = [v for v in c_opt.variables if not v.path.endswith("/u_product")]
    assert [tuple(v.shape) for v in ours] == [tuple(v.shape) for v in k_opt.variables]
    for k, c in zip(k_opt.variables, ours):
        np.testing.assert_allclose(np.asarray(c.numpy(), dtype=np.float64), np.asarray(k, dtype=np.float64),
                                   rtol=1e-5, atol=1e-6, err_msg=f"{c.path} vs {k.path}")
    assert int(c_opt.iterations) == int(k_opt.iterations)
    assert _normalize_inner(c_opt.get_config()) == _normalize_inner(k_opt.get_config())
    loss = torch.tensor(1.5)
    np.testing.assert_allclose(np.asarray(c_opt.scale_loss(loss)), np.asarray(k_opt.scale_loss(loss)))


@pytest.mark.parametrize("kwargs", [{"weight_decay": 0.0}, {"use_ema": True}, {"learning_rate": 0.1}])
def test_loss_scale_optimizer_rejects_inner_arguments_like_keras(keras_ref, kwargs):
    with pytest.raises(ValueError) as ours:
        optimizers.LossScaleOptimizer(optimizers.SGD(), **kwargs)
    with pytest.raises(ValueError) as theirs:
        keras_ref.optimizers.LossScaleOptimizer(keras_ref.optimizers.SGD(), **kwargs)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("cls_name", ["Adafactor", "Ftrl", "Lamb", "Muon", "ScheduleFreeAdamW"])
def test_new_optimizers_default_config_and_name(keras_ref, cls_name):
    ours, theirs = getattr(optimizers, cls_name)(), getattr(keras_ref.optimizers, cls_name)()
    c, k = ours.get_config(), theirs.get_config()
    assert re.sub(r"_\d+$", "", c.pop("name")) == re.sub(r"_\d+$", "", k.pop("name"))
    assert c == k
    assert type(optimizers.get(cls_name)) is type(ours) and type(optimizers.get(cls_name.lower())) is type(ours)


COMBINED = [
    {"use_ema": True, "ema_momentum": 0.8, "ema_overwrite_frequency": 3, "weight_decay": 0.02},
    {"gradient_accumulation_steps": 2, "clipnorm": 0.5, "loss_scale_factor": 4.0},
    {"clipvalue": 0.2, "use_ema": True},
    {"global_clipnorm": 0.7, "gradient_accumulation_steps": 3, "weight_decay": 0.01},
]
EVERY = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion", "Ftrl", "Lamb",
         "Adafactor", "Muon", "ScheduleFreeAdamW"]
COMBINED_CASES = [(name, i) for name in EVERY for i in range(len(COMBINED))]


@pytest.mark.parametrize("cls_name,which", COMBINED_CASES, ids=[f"{n}-{i}" for n, i in COMBINED_CASES])
def test_every_option_on_every_optimizer_matches_keras(keras_ref, cls_name, which):
    kwargs = {"learning_rate": 1.0 if cls_name == "Adadelta" else 0.05, "name": "opt", **COMBINED[which]}
    if cls_name == "SGD":
        kwargs["momentum"] = 0.5
    grads = _gradients(SHAPES, 8, scale=3.0)
    assert_same(*run_both(keras_ref, cls_name, kwargs, grads=grads))
