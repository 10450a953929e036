"""Shared test helpers: seeded inputs, float64 references and the real-Keras oracle.

Import as ``from tests.helpers import keras_oracle, seeded, assert_close``.
"""
from __future__ import annotations

import contextlib
import os
from typing import Any

import numpy as np
import pytest
import torch


def seeded(seed: int = 0) -> np.random.Generator:
    """A NumPy generator: every test draws its random data from a fixed seed."""
    return np.random.default_rng(seed)


def random_array(shape: tuple, seed: int = 0, dtype: str = "float32", low: float = -1.0,
                 high: float = 1.0) -> np.ndarray:
    """Uniform random data in ``[low, high)`` of ``shape``, reproducible from ``seed``."""
    return seeded(seed).uniform(low, high, size=shape).astype(dtype)


def random_probs(shape: tuple, seed: int = 0, axis: int = -1) -> np.ndarray:
    """Random rows that sum to one along ``axis`` (predicted class probabilities)."""
    x = seeded(seed).random(shape) + 1e-3
    return (x / x.sum(axis=axis, keepdims=True)).astype("float32")


def random_one_hot(n: int, classes: int, seed: int = 0) -> np.ndarray:
    return np.eye(classes, dtype="float32")[seeded(seed).integers(0, classes, n)]


def f64(x: Any) -> np.ndarray:
    """Any array-like (tensor, Variable, list) as a float64 NumPy array for references."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def assert_close(actual: Any, expected: Any, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Compare against a (usually float64) reference, converting tensors first."""
    np.testing.assert_allclose(f64(actual), f64(expected), rtol=rtol, atol=atol)


def keras_oracle():
    """Real Keras 3 on its torch backend, or skip the calling test (cornu never imports it)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("the Keras oracle must run on its torch backend")
    return keras


@contextlib.contextmanager
def no_host_sync():
    """Inside, any CUDA operation that would make the host wait for the device raises (CUDA tests only)."""
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode(0)


def keras_oracle_module():
    """``keras_oracle()`` for a module-level import: skips the whole test module when Keras is absent."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("the Keras oracle must run on its torch backend", allow_module_level=True)
    return keras
