"""Repeated fit/predict calls keep the process's resident memory flat."""
import gc
import os

import numpy as np
import pytest
import torch

import cornu
from tests.helpers import random_array


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _live_tensors() -> int:
    return sum(1 for o in gc.get_objects() if issubclass(type(o), torch.Tensor))


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_hundred_fit_and_predict_calls_keep_rss_flat():
    x, y = random_array((64, 8)), random_array((64, 1), seed=1)
    model = cornu.Sequential([cornu.Input((8,)), cornu.layers.Dense(16, activation="relu"),
                              cornu.layers.Dropout(0.1), cornu.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])

    def round_trip():
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, validation_split=0.25)
        model.predict(x, batch_size=16, verbose=0)

    for _ in range(10):  # warm up: allocator pools, lazily created state
        round_trip()
    gc.collect()
    before, tensors_before = _rss_bytes(), _live_tensors()
    for _ in range(100):
        round_trip()
    gc.collect()
    growth = (_rss_bytes() - before) / before
    assert growth < 0.05, f"RSS grew by {growth:.1%} over 100 fit/predict calls"
    # A finer check than RSS: no tensors pile up from call to call.
    assert _live_tensors() <= tensors_before + 5
    assert np.isfinite(model.evaluate(x, y, verbose=0)[0])
