"""OneCycle (a cornu extra) against torch.optim.lr_scheduler.OneCycleLR and its written-out formula."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cornu import optimizers
from cornu.optimizers import schedules
from cornu.optimizers.schedules import OneCycle
from tests.helpers import assert_close

CASES = [
    {"max_learning_rate": 0.1, "total_steps": 100},
    {"max_learning_rate": 0.5, "total_steps": 37, "pct_start": 0.3, "anneal_strategy": "linear"},
    {"max_learning_rate": 2.0, "total_steps": 1000, "pct_start": 0.1, "div_factor": 10.0, "final_div_factor": 100.0},
    {"max_learning_rate": 1e-3, "total_steps": 10, "pct_start": 0.0},
    {"max_learning_rate": 3e-2, "total_steps": 7, "pct_start": 0.5, "anneal_strategy": "linear",
     "final_div_factor": 1.0},
]


def _torch_rates(max_learning_rate, total_steps, pct_start=0.25, div_factor=25.0, final_div_factor=1e4,
                 anneal_strategy="cos"):
    """The rate torch's OneCycleLR gives each of ``total_steps`` optimizer steps (float64 parameter)."""
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([param], lr=1.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=max_learning_rate, total_steps=total_steps, pct_start=pct_start, div_factor=div_factor,
        final_div_factor=final_div_factor, anneal_strategy=anneal_strategy, cycle_momentum=False)
    rates = []
    for _ in range(total_steps):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.asarray(rates)


def _formula(step, max_learning_rate, total_steps, pct_start=0.25, div_factor=25.0, final_div_factor=1e4,
             anneal_strategy="cos"):
    """Smith's 1cycle written out: phase ends at pct_start*T - 1 and T - 1."""
    initial = max_learning_rate / div_factor
    final = initial / final_div_factor
    peak, last = pct_start * total_steps - 1, total_steps - 1
    step = min(step, last)
    if step <= peak:
        start, end, pct = initial, max_learning_rate, step / peak
    else:
        start, end, pct = max_learning_rate, final, (step - peak) / (last - peak)
    if anneal_strategy == "linear":
        return start + (end - start) * pct
    return end + (start - end) * (1 + math.cos(math.pi * pct)) / 2


@pytest.mark.parametrize("kwargs", CASES)
def test_matches_torch_one_cycle_lr_in_float64(kwargs):
    schedule = OneCycle(**kwargs)
    want = _torch_rates(**kwargs)
    got = np.array([schedule(step) for step in range(kwargs["total_steps"])])
    assert all(isinstance(schedule(step), float) for step in (0, 1, kwargs["total_steps"] - 1))
    assert_close(got, want, rtol=1e-10, atol=0)
    tensor = schedule(torch.arange(kwargs["total_steps"], dtype=torch.float64))
    assert tensor.dtype == torch.float64
    assert_close(tensor, want, rtol=1e-10, atol=0)


@pytest.mark.parametrize("kwargs", CASES)
def test_int_tensor_steps_give_float32_close_to_the_formula(kwargs):
    schedule = OneCycle(**kwargs)
    steps = torch.arange(kwargs["total_steps"] + 5)
    got = schedule(steps)
    assert got.dtype == torch.float32 and got.shape == steps.shape
    want = [_formula(s, **kwargs) for s in range(kwargs["total_steps"] + 5)]
    assert_close(got, want, rtol=1e-5, atol=0)  # relative even at the tiny final rate


def test_shape_of_the_cycle():
    schedule = OneCycle(0.1, total_steps=100, pct_start=0.25)
    assert schedule(0) == pytest.approx(0.1 / 25, rel=1e-15)
    assert schedule(24) == pytest.approx(0.1, rel=1e-15)
    assert schedule(99) == pytest.approx(0.1 / 25 / 1e4, rel=1e-12)
    assert schedule(500) == schedule(99) and schedule(-3) == schedule(0)
    rates = [schedule(s) for s in range(100)]
    assert np.all(np.diff(rates[:25]) > 0) and np.all(np.diff(rates[24:]) < 0)


class _SyncCounting(torch.Tensor):
    syncs = 0

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in {"item", "tolist", "__float__", "__int__", "__bool__", "numpy",
                                             "__index__", "__format__"}:
            _SyncCounting.syncs += 1
        return super().__torch_function__(func, types, args, kwargs or {})


@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_tensor_step_never_reads_back_to_the_host(strategy):
    schedule = OneCycle(0.1, total_steps=50, anneal_strategy=strategy)
    _SyncCounting.syncs = 0
    for value in (0, 7, 12, 30, 49, 80):
        out = schedule(torch.tensor(value).as_subclass(_SyncCounting))
        assert isinstance(out, torch.Tensor)
    assert _SyncCounting.syncs == 0


def test_drives_an_optimizer():
    schedule = OneCycle(0.05, total_steps=20, pct_start=0.3)
    var = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = optimizers.SGD(learning_rate=schedule)
    value = np.ones(3)
    for step in range(20):
        assert opt.learning_rate == schedule(step)
        opt.apply([torch.full((3,), 0.5, dtype=torch.float64)], [var])
        value -= schedule(step) * 0.5
    assert_close(var, value, rtol=1e-12, atol=0)


def test_config_and_serialization_round_trip():
    schedule = OneCycle(0.3, total_steps=40, pct_start=0.4, div_factor=10.0, final_div_factor=50.0,
                        anneal_strategy="linear", name="cycle")
    config = schedule.get_config()
    assert config == {"max_learning_rate": 0.3, "total_steps": 40, "pct_start": 0.4, "div_factor": 10.0,
                      "final_div_factor": 50.0, "anneal_strategy": "linear", "name": "cycle"}
    assert OneCycle.from_config(config).get_config() == config
    serialized = schedules.serialize(schedule)
    assert serialized["class_name"] == "OneCycle" and serialized["module"] == "cornu.optimizers.schedules"
    again = schedules.deserialize(serialized)
    assert isinstance(again, OneCycle) and again.get_config() == config
    opt = optimizers.Adam.from_config(optimizers.Adam(learning_rate=schedule).get_config())
    assert isinstance(opt._learning_rate, OneCycle) and opt.learning_rate == schedule(0)


def test_defaults():
    assert OneCycle(0.1, total_steps=10).get_config() == {
        "max_learning_rate": 0.1, "total_steps": 10, "pct_start": 0.25, "div_factor": 25.0,
        "final_div_factor": 1e4, "anneal_strategy": "cos", "name": "OneCycle"}


@pytest.mark.parametrize("kwargs,error,name", [
    ({"total_steps": 0}, ValueError, "total_steps"),
    ({"total_steps": 10.0}, TypeError, "total_steps"),
    ({"max_learning_rate": -1.0}, ValueError, "max_learning_rate"),
    ({"pct_start": 1.5}, ValueError, "pct_start"),
    ({"anneal_strategy": "exp"}, ValueError, "anneal_strategy"),
    ({"div_factor": 0.0}, ValueError, "div_factor"),
    ({"final_div_factor": -2.0}, ValueError, "final_div_factor"),
])
def test_bad_arguments(kwargs, error, name):
    args = {"max_learning_rate": 0.1, "total_steps": 10, **kwargs}
    with pytest.raises(error, match=name):
        OneCycle(**args)


def test_torch_rejects_the_same_bad_values():
    """Same bad values as torch refuses, with the same exception class."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    for kwargs in ({"total_steps": 0}, {"total_steps": 10, "pct_start": 1.5},
                   {"total_steps": 10, "anneal_strategy": "exp"}):
        with pytest.raises(ValueError):
            torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, **kwargs)
        with pytest.raises(ValueError):
            OneCycle(0.1, **{"total_steps": 10, **kwargs})
