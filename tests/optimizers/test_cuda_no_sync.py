"""On a GPU: optimizer steps and progress logging never synchronize with the host, and match CPU."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cornu import callbacks, optimizers
from cornu.optimizers import schedules
from cornu.variables import Variable

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

SHAPES = [(16, 8, 3, 3), (16,), (32, 16), (10,)]
CONFIGS = [
    (optimizers.Adam, {"amsgrad": True}),
    (optimizers.AdamW, {}),
    (optimizers.SGD, {"momentum": 0.9, "nesterov": True, "clipnorm": 1.0}),
    (optimizers.RMSprop, {"centered": True, "momentum": 0.5, "global_clipnorm": 1.0}),
    (optimizers.Adagrad, {"clipvalue": 0.1}),
    (optimizers.Adadelta, {"learning_rate": 1.0}),
    (optimizers.Adamax, {}),
    (optimizers.Nadam, {"weight_decay": 0.01}),
    (optimizers.Lion, {"learning_rate": schedules.CosineDecay(1e-3, 100)}),
    (optimizers.Adam, {"gradient_accumulation_steps": 2, "use_ema": True, "ema_overwrite_frequency": 2}),
    (optimizers.SGD, {"learning_rate": schedules.PiecewiseConstantDecay([2, 4], [0.1, 0.05, 0.01])}),
    (optimizers.Ftrl, {"l1_regularization_strength": 0.01, "beta": 0.1}),
    (optimizers.Lamb, {"weight_decay": 0.01}),
    (optimizers.Adafactor, {}),
    (optimizers.ScheduleFreeAdamW, {"warmup_steps": 3}),
    (optimizers.Muon, {}),
]


def _tensors(seed, device):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=g).to(device) for s in SHAPES]


def _train(cls, kwargs, device):
    variables = [Variable(torch.nn.Parameter(t), f"w{i}") for i, t in enumerate(_tensors(0, device))]
    grads = [_tensors(k, device) for k in range(1, 7)]
    opt = cls(**kwargs)
    opt.apply(grads[0], variables)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
    try:
        for g in grads[1:]:
            opt.apply(g, variables)
    finally:
        if device == "cuda":
            torch.cuda.set_sync_debug_mode(0)
    return [v.numpy() for v in variables]


@pytest.mark.parametrize("cls,kwargs", CONFIGS, ids=[c.__name__ for c, _ in CONFIGS])
def test_gpu_steps_do_not_sync_and_match_cpu(cls, kwargs):
    for cpu, gpu in zip(_train(cls, kwargs, "cpu"), _train(cls, kwargs, "cuda")):
        np.testing.assert_allclose(gpu, cpu, rtol=1e-4, atol=1e-5)


def test_progbar_and_history_do_not_sync_on_gpu_logs():
    cb = callbacks.CallbackList(add_history=True, add_progbar=True, verbose=1, epochs=1, steps=300)
    logs = [{"accuracy": torch.rand((), device="cuda"), "loss": torch.rand((), device="cuda")} for _ in range(300)]
    cb.on_train_begin()
    cb.on_epoch_begin(0)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for step, step_logs in enumerate(logs):
            cb.on_train_batch_end(step, step_logs)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    cb.on_epoch_end(0, {"accuracy": 0.5, "loss": 0.25})
    cb.on_train_end()
    assert cb._history.history["loss"] == [0.25]
