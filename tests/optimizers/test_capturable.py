"""Capturable updates: no host read in ``apply``, device scalars, and ``torch.compile(fullgraph=True)``."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch._dynamo.testing
from torch.utils._python_dispatch import TorchDispatchMode

from cornu import optimizers
from cornu.optimizers import schedules
from cornu.variables import Variable

SHAPES = [(4, 3), (3,), (2, 2, 2)]

# Every option that selects or schedules on the device, on each optimizer family.
CONFIGS = [
    (optimizers.SGD, {"momentum": 0.9, "nesterov": True, "clipnorm": 1.0}),
    (optimizers.SGD, {"learning_rate": schedules.PiecewiseConstantDecay([2, 4], [0.1, 0.05, 0.01])}),
    (optimizers.Adam, {"use_ema": True, "ema_overwrite_frequency": 2}),
    (optimizers.Adam, {"amsgrad": True, "gradient_accumulation_steps": 2, "global_clipnorm": 0.5}),
    (optimizers.AdamW, {"learning_rate": schedules.CosineDecay(0.01, 10, warmup_target=0.02, warmup_steps=3)}),
    (optimizers.RMSprop, {"centered": True, "momentum": 0.5, "clipvalue": 0.1}),
    (optimizers.Adagrad, {"weight_decay": 0.1}),
    (optimizers.Adadelta, {"learning_rate": lambda: 0.5}),
    (optimizers.Adamax, {"loss_scale_factor": 4.0}),
    (optimizers.Nadam, {"gradient_accumulation_steps": 3, "use_ema": True}),
    (optimizers.Lion, {"learning_rate": schedules.ExponentialDecay(1e-3, 2, 0.5, staircase=True)}),
    (optimizers.Ftrl, {"l1_regularization_strength": 0.01, "beta": 0.1, "gradient_accumulation_steps": 2}),
    (optimizers.Lamb, {"weight_decay": 0.01, "use_ema": True}),
    (optimizers.Adafactor, {"gradient_accumulation_steps": 2}),
    (optimizers.ScheduleFreeAdamW, {"warmup_steps": 3, "weight_decay": 0.01}),
    (optimizers.Muon, {"learning_rate": schedules.InverseTimeDecay(0.01, 2, 0.5)}),
]


class HostReads(TorchDispatchMode):
    """Records every op that reads a device value back to the host (``.item()``, ``bool()``, ``nonzero``...)."""

    SYNCING = ("aten::_local_scalar_dense", "aten::nonzero", "aten::masked_select", "aten::unique")

    def __init__(self):
        super().__init__()
        self.reads: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func._schema.name in self.SYNCING:
            self.reads.append(func._schema.name)
        return func(*args, **(kwargs or {}))


def _variables(dtype=torch.float32):
    g = torch.Generator().manual_seed(0)
    return [Variable(torch.nn.Parameter(torch.randn(s, generator=g, dtype=dtype)), f"w{i}")
            for i, s in enumerate(SHAPES)]


def _grads(steps, dtype=torch.float32):
    g = torch.Generator().manual_seed(1)
    return [[torch.randn(s, generator=g, dtype=dtype) for s in SHAPES] for _ in range(steps)]


@pytest.mark.parametrize("cls,kwargs", CONFIGS, ids=[f"{c.__name__}-{'-'.join(k)}" for c, k in CONFIGS])
def test_apply_never_reads_the_device(cls, kwargs):
    variables = _variables()
    opt = cls(**kwargs)
    opt.build(variables)
    with HostReads() as mode:
        for grads in _grads(6):
            opt.apply(grads, variables)
    assert mode.reads == []
    assert int(opt.iterations) == 6 // (opt.gradient_accumulation_steps or 1)


def test_scalars_live_on_the_weights_device():
    opt = optimizers.Nadam(learning_rate=0.1, name="nadam")
    variables = _variables(torch.float64)
    opt.build(variables)
    it, lr, u_product = opt.iterations, opt.variables[1], opt.variables[-1]
    assert it.value.dtype == torch.int32 and lr.value.dtype == torch.float32
    assert u_product.path == "nadam/u_product" and u_product.value.dtype == torch.float64
    assert {v.value.device for v in opt.variables} == {variables[0].value.device}


def _compiled_run(opt, variables, steps, set_lr=None):
    counter = torch._dynamo.testing.CompileCounterWithBackend("aot_eager")

    @torch.compile(fullgraph=True, backend=counter)
    def step(grads):
        opt.apply(grads, variables)

    for i, grads in enumerate(_grads(steps)):
        if set_lr is not None and i == steps // 2:
            opt.learning_rate = set_lr
        step(grads)
    return counter


@pytest.mark.parametrize("cls,kwargs", [
    (optimizers.SGD, {"momentum": 0.9, "nesterov": True}),
    (optimizers.Adam, {}),
    (optimizers.Adam, {"amsgrad": True, "use_ema": True, "ema_overwrite_frequency": 3,
                       "gradient_accumulation_steps": 2, "weight_decay": 0.01}),
    (optimizers.AdamW, {"learning_rate": schedules.CosineDecay(0.01, 10)}),
], ids=["sgd", "adam", "adam-options", "adamw-schedule"])
def test_compiled_apply_matches_eager_with_one_graph(cls, kwargs):
    """Whole ``apply`` traced in one graph, compiled once even as the rate is set.

    Traced, Adam takes its foreach path (torch.compile cannot trace the fused kernel eager Adam uses).
    """
    torch._dynamo.reset()
    eager_vars, compiled_vars = _variables(), _variables()
    eager, compiled = cls(**kwargs), cls(**kwargs)
    compiled.build(compiled_vars)
    setting = None if isinstance(kwargs.get("learning_rate"), schedules.LearningRateSchedule) else 0.003
    for i, grads in enumerate(_grads(6)):
        if setting is not None and i == 3:
            eager.learning_rate = setting
        eager.apply(grads, eager_vars)
    counter = _compiled_run(compiled, compiled_vars, 6, set_lr=setting)
    assert counter.frame_count == 1
    for a, b in zip(compiled_vars, eager_vars):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
    for a, b in zip(compiled.variables, eager.variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


def test_loss_scale_optimizer_skips_on_the_device_and_compiles():
    grads = _grads(6)
    grads[2][0][0, 0] = float("inf")
    variables = _variables()
    opt = optimizers.LossScaleOptimizer(optimizers.Adam(), initial_scale=4.0, dynamic_growth_steps=2)
    opt.build(variables)
    with HostReads() as mode:
        for g in grads:
            opt.apply(g, variables)
    assert mode.reads == [] and int(opt.iterations) == 5

    torch._dynamo.reset()
    compiled_vars = _variables()
    compiled = optimizers.LossScaleOptimizer(optimizers.Adam(), initial_scale=4.0, dynamic_growth_steps=2)
    compiled.build(compiled_vars)
    counter = torch._dynamo.testing.CompileCounterWithBackend("aot_eager")
    step = torch.compile(lambda g: compiled.apply(g, compiled_vars), fullgraph=True, backend=counter)
    for g in grads:
        step(g)
    assert counter.frame_count == 1
    for a, b in zip(compiled_vars, variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
    assert float(compiled.dynamic_scale) == float(opt.dynamic_scale) == 8.0  # 4 -> 8 -> (inf) 4 -> 8
