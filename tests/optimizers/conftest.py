"""Fixtures for optimizer tests: float64 variables, a gradient stream and a step runner."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cornu.variables import Variable

SHAPES = [(3, 4), (5,), (2, 3, 2)]


def _make_variables(seed: int = 0, dtype=torch.float64, shapes=SHAPES) -> list[Variable]:
    rng = np.random.default_rng(seed)
    return [
        Variable(torch.nn.Parameter(torch.tensor(rng.normal(size=s), dtype=dtype)), name=f"w{i}", path=f"dense/w{i}")
        for i, s in enumerate(shapes)
    ]


def _grad_stream(steps: int, seed: int = 1, shapes=SHAPES) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [[rng.normal(size=s) for s in shapes] for _ in range(steps)]


def _run(optimizer, variables, grads_per_step, dtype=torch.float64) -> list[np.ndarray]:
    for grads in grads_per_step:
        optimizer.apply([torch.tensor(g, dtype=dtype) for g in grads], variables)
    return [v.numpy() for v in variables]


@pytest.fixture
def make_variables():
    return _make_variables


@pytest.fixture
def grad_stream():
    return _grad_stream


@pytest.fixture
def run_steps():
    return _run
