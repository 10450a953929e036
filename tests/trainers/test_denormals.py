"""cornu's loops flush subnormal floats to zero in the calling thread, and give the thread's setting back."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import cornu as keras
from cornu.trainers.denormals import flushing
from tests.helpers import random_array, random_one_hot

pytestmark = pytest.mark.skipif(not torch.set_flush_denormal(False), reason="this CPU cannot flush subnormals")


class Seen(keras.callbacks.Callback):
    """Records whether subnormals were flushed at each hook."""

    def __init__(self):
        super().__init__()
        self.seen: dict[str, list[bool]] = {}

    def _note(self, hook: str) -> None:
        self.seen.setdefault(hook, []).append(flushing())

    def on_train_batch_end(self, batch, logs=None):
        self._note("train_batch")

    def on_epoch_end(self, epoch, logs=None):
        self._note("epoch_end")

    def on_test_batch_end(self, batch, logs=None):
        self._note("test_batch")

    def on_predict_batch_end(self, batch, logs=None):
        self._note("predict_batch")


def small_model(seed: int = 0, optimizer: keras.optimizers.Optimizer | None = None) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer or keras.optimizers.Adam(), loss="categorical_crossentropy")
    return model


def test_fit_evaluate_predict_flush_and_restore():
    x, y = random_array((16, 6)), random_one_hot(16, 3)
    model, seen = small_model(), Seen()
    assert not flushing()
    model.fit(x, y, batch_size=8, epochs=2, validation_data=(x, y), callbacks=[seen], verbose=0)
    # Validation (a nested evaluate) leaves the flag set for the rest of the epoch.
    assert seen.seen["train_batch"] == [True] * 4 and seen.seen["test_batch"] == [True] * 4
    assert seen.seen["epoch_end"] == [True, True]
    assert not flushing()
    model.evaluate(x, y, callbacks=[seen], verbose=0)
    model.predict(x, callbacks=[seen], verbose=0)
    assert seen.seen["test_batch"][-1] and seen.seen["predict_batch"][-1]
    assert not flushing()
    tiny = np.float32(1e-39)
    assert tiny * np.float32(1.0) != 0  # IEEE subnormals outside the loops


def test_intra_op_threads_flush_too():
    """torch's OpenMP workers flush as well while the loop runs (each thread has its own flags)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        def survivors() -> int:  # subnormals left after a parallel multiply over both threads' halves
            return int(torch.count_nonzero(torch.full((1 << 21,), 1e-39) * 0.5))

        torch.full((1 << 21,), 1.0).sum()  # the worker pool exists before the loop
        seen = []

        class Probe(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                seen.append(survivors())

        small_model().fit(random_array((8, 6)), random_one_hot(8, 3), callbacks=[Probe()], verbose=0)
        assert seen == [0]
        assert survivors() == 1 << 21
    finally:
        torch.set_num_threads(threads)


def test_on_batch_calls_restore():
    x, y = random_array((8, 6)), random_one_hot(8, 3)
    model = small_model()
    model.train_on_batch(x, y)
    model.test_on_batch(x, y)
    model.predict_on_batch(x)
    assert not flushing()


def test_error_in_fit_restores_the_flag():
    class Boom(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        small_model().fit(random_array((8, 6)), random_one_hot(8, 3), callbacks=[Boom()], verbose=0)
    assert not flushing()


def test_callers_setting_is_kept():
    torch.set_flush_denormal(True)
    try:
        small_model().fit(random_array((8, 6)), random_one_hot(8, 3), verbose=0)
        assert flushing()
    finally:
        torch.set_flush_denormal(False)


def test_environment_switch_turns_it_off(monkeypatch):
    monkeypatch.setenv("CORNU_FLUSH_DENORMAL", "0")
    seen = Seen()
    small_model().fit(random_array((8, 6)), random_one_hot(8, 3), callbacks=[seen], verbose=0)
    assert seen.seen["train_batch"] == [False]


def test_flushing_changes_only_subnormal_slots(monkeypatch):
    """A kernel row whose gradient is always zero: its Adam slots only decay, through the subnormal range, where
    flushing zeroes them; every weight ends where training without flushing puts it (Adam's update divides by
    ``sqrt(v) + epsilon``, so slots below 1.2e-38 cannot move it)."""
    x = random_array((32, 6))
    x[:, 0] = 0.0  # the first input never moves its kernel row
    y = random_one_hot(32, 3)
    results = []
    for switch in ("1", "0"):
        monkeypatch.setenv("CORNU_FLUSH_DENORMAL", switch)
        model = small_model(seed=3, optimizer=keras.optimizers.Adam(beta_1=0.5, beta_2=0.5))
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        slots = model.optimizer.variables[2:4]  # the first kernel's momentum and velocity
        for slot in slots:  # just above the subnormal range; ten halvings take them into it
            value = slot.numpy()
            value[0] = 1e-36
            slot.assign(value)
        model.fit(x, y, batch_size=32, epochs=10, verbose=0)
        results.append(([w.numpy() for w in model.weights], [np.abs(s.numpy()[0]).max() for s in slots]))
    (flushed, flushed_rows), (plain, plain_rows) = results
    assert flushed_rows == [0.0, 0.0]
    assert all(0.0 < r < np.finfo(np.float32).tiny for r in plain_rows)
    for a, b in zip(flushed, plain):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
