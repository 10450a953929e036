"""The learning-rate range test (a cornu extra): sweep the rate up, watch the loss, pick a rate.

``LearningRateFinder`` raises the optimizer's learning rate geometrically
from ``start_lr`` to ``end_lr`` over ``num_steps`` training batches, records an
exponential moving average of the batch loss (bias-corrected, as fastai and
PyTorch Lightning do) and stops once that average exceeds ``stop_factor``
times its best value. When training ends it puts the model's weights and the
optimizer's whole state (slots, iteration count, learning rate or schedule)
back exactly as they were. ``find_learning_rate`` runs it through ``fit``.

Unlike the rest of the training loop, this callback reads the loss back to
the host at every batch end: the stop rule needs it, and a sweep is short.
It also resets the model's ``loss`` tracker at every batch start so that the
logged loss is the batch's own, not the epoch's running mean.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from cornu.callbacks.callback import Callback
from cornu.optimizers.schedules import LearningRateSchedule

# The noisy ends left out when looking for the steepest descent (Lightning's defaults).
_SKIP_BEGIN = 10
_SKIP_END = 1


@dataclass
class LRFinderResult:
    """What a range test saw: rates tried, smoothed and raw batch losses, and the suggested rate."""

    learning_rates: list[float]
    losses: list[float]
    raw_losses: list[float] = field(default_factory=list)
    suggestion: float | None = None

    def plot(self, ax: Any = None) -> Any:
        """Smoothed loss against learning rate (log x axis) with the suggestion marked; returns the axes."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as error:
            raise ImportError(
                "LRFinderResult.plot() needs matplotlib. Install it with `pip install 'cornu[plot]'` "
                "(or `pip install matplotlib`)."
            ) from error
        if ax is None:
            _, ax = plt.subplots()
        ax.plot(self.learning_rates, self.losses, label="smoothed loss")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        if self.suggestion is not None:
            index = int(np.argmin(np.abs(np.asarray(self.learning_rates) - self.suggestion)))
            ax.plot([self.suggestion], [self.losses[index]], "o", color="red", markersize=8,
                    label=f"suggestion: {self.suggestion:.2e}")
        ax.legend()
        return ax


def suggest_learning_rate(learning_rates: list[float], losses: list[float], skip_begin: int = _SKIP_BEGIN,
                          skip_end: int = _SKIP_END) -> float | None:
    """The rate where the loss falls fastest per decade, ignoring ``skip_begin``/``skip_end`` noisy points.

    ``None`` when fewer than two finite points remain.
    """
    lrs = np.asarray(learning_rates, dtype=np.float64)
    values = np.asarray(losses, dtype=np.float64)
    index = np.arange(len(values))[skip_begin:len(values) - skip_end]
    index = index[np.isfinite(values[index])]
    if len(index) < 2:
        return None
    slopes = np.gradient(values[index], np.log10(lrs[index]))
    return float(lrs[index[int(np.argmin(slopes))]])


class LearningRateFinder(Callback):
    """Sweep the learning rate exponentially over ``num_steps`` batches and record the smoothed loss.

    Args:
        start_lr: the first rate tried.
        end_lr: the rate of step ``num_steps - 1``; rates in between are geometric.
        num_steps: how many training batches the sweep takes (it spans epochs if needed).
        beta: smoothing of the loss's moving average (bias-corrected).
        stop_factor: stop once the smoothed loss exceeds ``stop_factor`` times its best value
            (or is not finite).
        restore: put the weights and optimizer state back when training ends.

    After ``fit``, ``result`` holds an ``LRFinderResult``.
    """

    _accepts_tensor_logs = True

    def __init__(self, start_lr: float = 1e-7, end_lr: float = 10.0, num_steps: int = 100, beta: float = 0.98,
                 stop_factor: float = 4.0, restore: bool = True):
        super().__init__()
        if not start_lr > 0:
            raise ValueError(f"`start_lr` must be > 0. Received: start_lr={start_lr}")
        if not end_lr > start_lr:
            raise ValueError(f"`end_lr` must be greater than `start_lr`. Received: start_lr={start_lr}, "
                             f"end_lr={end_lr}")
        if isinstance(num_steps, bool) or not isinstance(num_steps, int):
            raise TypeError(f"`num_steps` must be an int. Received: num_steps={num_steps!r}")
        if num_steps < 2:
            raise ValueError(f"`num_steps` must be at least 2. Received: num_steps={num_steps}")
        if not 0 <= beta < 1:
            raise ValueError(f"`beta` must be in [0, 1). Received: beta={beta}")
        if not stop_factor > 1:
            raise ValueError(f"`stop_factor` must be > 1. Received: stop_factor={stop_factor}")
        self.start_lr = float(start_lr)
        self.end_lr = float(end_lr)
        self.num_steps = num_steps
        self.beta = beta
        self.stop_factor = stop_factor
        self.restore = restore
        self.learning_rates: list[float] = []
        self.losses: list[float] = []
        self.raw_losses: list[float] = []
        self.stopped_early = False
        self._snapshot: _Snapshot | None = None

    def learning_rate_at(self, step: int) -> float:
        """``start_lr * (end_lr / start_lr) ** (step / (num_steps - 1))``."""
        return self.start_lr * (self.end_lr / self.start_lr) ** (step / (self.num_steps - 1))

    @property
    def result(self) -> LRFinderResult:
        return LRFinderResult(list(self.learning_rates), list(self.losses), list(self.raw_losses),
                              suggest_learning_rate(self.learning_rates, self.losses))

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.learning_rates, self.losses, self.raw_losses = [], [], []
        self.stopped_early = False
        self._average = 0.0
        self._best = math.inf
        self._snapshot = _Snapshot(self.model)

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        step = len(self.losses)
        _set_learning_rate(self.model.optimizer, self.learning_rate_at(step))
        tracker = _loss_tracker(self.model)
        if tracker is not None:
            tracker.reset_state()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        step = len(self.losses)
        loss = (logs or {}).get("loss")
        if loss is None:
            raise ValueError("LearningRateFinder needs the training loss in the batch logs (`logs['loss']`); "
                             f"received keys {sorted(logs or {})}.")
        loss = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
        self._average = self.beta * self._average + (1 - self.beta) * loss
        smoothed = self._average / (1 - self.beta ** (step + 1))
        self.learning_rates.append(self.learning_rate_at(step))
        self.raw_losses.append(loss)
        self.losses.append(smoothed)
        diverged = not math.isfinite(smoothed) or smoothed > self.stop_factor * self._best
        self._best = min(self._best, smoothed)
        if diverged and step + 1 < self.num_steps:
            self.stopped_early = True
        if diverged or step + 1 >= self.num_steps:
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.restore:
            self.restore_state()

    def restore_state(self) -> None:
        """Put back the weights and optimizer state saved when training began (idempotent)."""
        if self._snapshot is not None:
            self._snapshot.restore()

    def get_config(self) -> dict:
        return {"start_lr": self.start_lr, "end_lr": self.end_lr, "num_steps": self.num_steps, "beta": self.beta,
                "stop_factor": self.stop_factor, "restore": self.restore}


def find_learning_rate(model: Any, x: Any, y: Any = None, *, start_lr: float = 1e-7, end_lr: float = 10.0,
                       num_steps: int = 100, batch_size: int | None = 32, beta: float = 0.98,
                       stop_factor: float = 4.0, plot: bool = False, sample_weight: Any = None,
                       shuffle: bool = True, verbose: Any = 0) -> LRFinderResult:
    """Run the learning-rate range test on a compiled model and leave the model as it was.

    Trains ``num_steps`` batches of ``x``/``y`` (repeating the data if needed)
    with a geometrically rising learning rate, then restores the weights, the
    optimizer state and ``model.history``. ``plot=True`` also draws the curve
    (needs matplotlib). A model without weights yet is first built by calling
    it on the first batch of ``x``. Returns an ``LRFinderResult``.
    """
    finder = LearningRateFinder(start_lr=start_lr, end_lr=end_lr, num_steps=num_steps, beta=beta,
                                stop_factor=stop_factor)
    if not model.weights:
        _build_on_first_batch(model, x, batch_size)
    history = getattr(model, "history", None)
    try:
        with warnings.catch_warnings():
            # A non-finite loss is the divergence the sweep looks for, and the finder stops on it.
            warnings.filterwarnings("ignore", message="The training loss became", category=RuntimeWarning)
            model.fit(x, y, batch_size=batch_size, epochs=num_steps, verbose=verbose, callbacks=[finder],
                      sample_weight=sample_weight, shuffle=shuffle)
    finally:
        finder.restore_state()
        model.history = history
        model.stop_training = False
    result = finder.result
    if plot:
        result.plot()
    return result


class _Snapshot:
    """Exact copies of a model's weights and its optimizer's state, to put back later."""

    def __init__(self, model: Any):
        self.weights = [(v, v.value.detach().clone()) for v in model.weights]
        if not self.weights:
            raise ValueError("LearningRateFinder needs a built model (its weights must exist before training): "
                             "give it an `Input`, call `model.build(input_shape)` or call it on a batch first.")
        optimizer = model.optimizer
        if not optimizer.built:
            optimizer.build(model.trainable_weights)
        self.optimizer = optimizer
        # The rate object itself (a schedule, a callable or the rate variable) and, when settable, its number.
        self.learning_rate = optimizer._learning_rate
        self.rate = optimizer._learning_rate.host_value() if _settable(optimizer) else None
        # Every state tensor: iteration, learning rate, slots, EMA averages, accumulators, Nadam's product.
        self.state = [(v, v.value.detach().clone()) for v in optimizer.variables]

    def restore(self) -> None:
        with torch.no_grad():
            for v, saved in self.weights + self.state:
                v.value.copy_(saved)
        self.optimizer._learning_rate = self.learning_rate
        if self.rate is not None:
            # Writes back the same float32 value and the Python number it came from.
            self.optimizer.learning_rate = self.rate


def _settable(optimizer: Any) -> bool:
    rate = optimizer._learning_rate
    return not isinstance(rate, LearningRateSchedule) and not callable(rate)


def _set_learning_rate(optimizer: Any, learning_rate: float) -> None:
    """Write the rate in place; over a schedule or callable, first put a rate variable in its place.

    The snapshot puts the schedule or callable back when the sweep ends.
    """
    if _settable(optimizer):
        optimizer.learning_rate = learning_rate
    else:
        optimizer._learning_rate = optimizer._check_learning_rate(learning_rate)


def _loss_tracker(model: Any) -> Any:
    for metric in getattr(model, "metrics", None) or []:
        if getattr(metric, "name", None) == "loss":
            return metric
    return None


def _build_on_first_batch(model: Any, x: Any, batch_size: int | None) -> None:
    from cornu.trainers import data as data_module

    batch = next(iter(data_module.get_data_adapter(x, None, None, batch_size=batch_size or 32, shuffle=False)))
    with torch.no_grad():
        model(batch[0], training=False)
