"""Fixtures for callback tests: a tiny stand-in model and tensors that count host syncs."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cornu import optimizers


class FakeModel:
    """Implements just what callbacks use: stop_training, optimizer, weights and saving."""

    def __init__(self, learning_rate: float = 1.0):
        self.stop_training = False
        self.optimizer = optimizers.SGD(learning_rate=learning_rate)
        self.weights = [np.zeros(2)]
        self.saved: list[tuple[str, str]] = []

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def save(self, filepath, overwrite=True):
        self.saved.append(("model", filepath))

    def save_weights(self, filepath, overwrite=True):
        self.saved.append(("weights", filepath))


class SyncCountingTensor(torch.Tensor):
    """A tensor subclass counting the operations that would force a device->host sync."""

    syncs = 0
    _SYNC_OPS = {"item", "tolist", "__float__", "__int__", "__bool__", "numpy", "__format__", "__index__"}

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in cls._SYNC_OPS:
            SyncCountingTensor.syncs += 1
        return super().__torch_function__(func, types, args, kwargs or {})


def counting(value: float) -> SyncCountingTensor:
    return torch.tensor(value).as_subclass(SyncCountingTensor)


@pytest.fixture(autouse=True)
def _reset_sync_count():
    SyncCountingTensor.syncs = 0


@pytest.fixture
def make_model():
    """Factory for ``FakeModel(learning_rate=1.0)``."""
    return FakeModel


@pytest.fixture
def counting_tensor():
    """Factory for 0-dim tensors that count the syncs they cause."""
    return counting


@pytest.fixture
def sync_count():
    """Returns the number of syncs counted so far in this test."""
    return lambda: SyncCountingTensor.syncs
