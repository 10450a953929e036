"""``LearningRateScheduler``: set the learning rate at each epoch start from ``schedule(epoch, lr)``."""
from __future__ import annotations

import sys
from typing import Callable

import numpy as np

from cornu.callbacks.callback import Callback


class LearningRateScheduler(Callback):
    """Call ``schedule(epoch, lr)`` (or ``schedule(epoch)``) before each epoch; logs ``learning_rate``."""

    def __init__(self, schedule: Callable, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"`schedule` must be callable; received {schedule!r} of type {type(schedule).__name__}.")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        optimizer = getattr(self.model, "optimizer", None)
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            learning_rate = self.schedule(epoch, float(optimizer.learning_rate))
        except TypeError:
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.floating)):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {learning_rate}")
        optimizer.learning_rate = float(learning_rate)
        if self.verbose > 0:
            sys.stdout.write(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.\n")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)

    def get_config(self) -> dict:
        return {"schedule": self.schedule, "verbose": self.verbose}
