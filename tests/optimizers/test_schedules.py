"""Learning rate schedules against their formulas."""
from __future__ import annotations

import math

import pytest
import torch

from cornu.optimizers import schedules

STEPS = [0, 1, 5, 10, 17, 40, 100]


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay(staircase):
    s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=staircase)
    for step in STEPS:
        p = step // 10 if staircase else step / 10
        assert s(step) == pytest.approx(0.1 * 0.5**p)


def test_piecewise_constant():
    s = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [s(x) for x in (0, 10, 11, 20, 21)] == [1.0, 1.0, 0.5, 0.5, 0.1]
    with pytest.raises(ValueError, match="boundaries"):
        schedules.PiecewiseConstantDecay([10], [1.0])


@pytest.mark.parametrize("cycle", [False, True])
def test_polynomial_decay(cycle):
    s = schedules.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.01, power=2.0, cycle=cycle)
    for step in STEPS:
        if cycle:
            steps = 10 * (1 if step == 0 else math.ceil(step / 10))
            x = step
        else:
            steps, x = 10, min(step, 10)
        assert s(step) == pytest.approx((0.1 - 0.01) * (1 - x / steps) ** 2 + 0.01)


def test_inverse_time_decay():
    s = schedules.InverseTimeDecay(0.1, decay_steps=5, decay_rate=0.5, staircase=True)
    for step in STEPS:
        assert s(step) == pytest.approx(0.1 / (1 + 0.5 * (step // 5)))


def test_cosine_decay_without_and_with_warmup():
    s = schedules.CosineDecay(0.1, decay_steps=20, alpha=0.1)
    for step in STEPS:
        frac = min(step, 20) / 20
        assert s(step) == pytest.approx(0.1 * ((1 - 0.1) * 0.5 * (1 + math.cos(math.pi * frac)) + 0.1))
    w = schedules.CosineDecay(0.0, decay_steps=20, warmup_target=0.2, warmup_steps=10)
    for step in STEPS:
        x = min(step, 30)
        want = 0.2 * x / 10 if x < 10 else 0.2 * 0.5 * (1 + math.cos(math.pi * (x - 10) / 20))
        assert w(step) == pytest.approx(want)


@pytest.mark.parametrize("t_mul,m_mul", [(1.0, 1.0), (2.0, 0.5)])
def test_cosine_decay_restarts(t_mul, m_mul):
    first, alpha = 10, 0.05
    s = schedules.CosineDecayRestarts(0.1, first_decay_steps=first, t_mul=t_mul, m_mul=m_mul, alpha=alpha)
    for step in STEPS:
        period, start, restart = first, 0, 0
        while step >= start + period:
            start += period
            period *= t_mul
            restart += 1
        frac = (step - start) / period
        cosine = 0.5 * m_mul**restart * (1 + math.cos(math.pi * frac))
        assert s(step) == pytest.approx(0.1 * ((1 - alpha) * cosine + alpha))


def test_tensor_step_gives_tensor():
    s = schedules.PiecewiseConstantDecay([10], [1.0, 0.5])
    out = s(torch.tensor(15))
    assert isinstance(out, torch.Tensor) and out.item() == 0.5
    assert isinstance(s(3), float)


@pytest.mark.parametrize("schedule", [
    schedules.ExponentialDecay(0.1, 10, 0.9, staircase=True),
    schedules.PiecewiseConstantDecay([1, 2], [0.3, 0.2, 0.1]),
    schedules.PolynomialDecay(0.1, 10, cycle=True),
    schedules.InverseTimeDecay(0.1, 10, 0.5),
    schedules.CosineDecay(0.1, 10, warmup_target=0.3, warmup_steps=2),
    schedules.CosineDecayRestarts(0.1, 10, t_mul=3.0),
])
def test_config_round_trip(schedule):
    clone = schedules.deserialize(schedules.serialize(schedule))
    assert type(clone) is type(schedule) and clone.get_config() == schedule.get_config()
    assert clone(7) == pytest.approx(schedule(7))


def test_bad_decay_steps_and_unknown_class():
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="Valid names"):
        schedules.deserialize({"class_name": "Nope", "config": {}})
