"""``ModelCheckpoint``: save the model or its weights every epoch or every N batches."""
from __future__ import annotations

import math
import os
import sys
import warnings
from typing import Any

from cornu.callbacks.callback import Callback, logs_to_floats, resolve_direction


class ModelCheckpoint(Callback):
    """Save to ``filepath`` (formatted with ``epoch`` and the logs, e.g. ``{epoch:02d}-{val_loss:.2f}``).

    ``save_best_only`` keeps only saves that improve ``monitor``; ``save_freq``
    is ``"epoch"`` or a number of batches. Batch logs are converted to floats
    only on the batches where a save happens.
    """

    _accepts_tensor_logs = True

    def __init__(self, filepath: str, monitor: str = "val_loss", verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto", save_freq: Any = "epoch",
                 initial_value_threshold: float | None = None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.initial_value_threshold = initial_value_threshold
        self.best = initial_value_threshold
        self.min_delta = 0  # Keras's monitor-callback attribute; any improvement counts
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"ModelCheckpoint mode '{mode}' is unknown, fallback to auto mode.", stacklevel=2)
            mode = "auto"
        self.mode = mode
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are 'epoch' or integer values")
        if save_weights_only:
            if not self.filepath.endswith(".weights.h5"):
                raise ValueError(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must end "
                    f"in `.weights.h5` (Keras weights format). Received: filepath={self.filepath}"
                )
        elif not self.filepath.endswith((".keras", ".h5")):
            raise ValueError(
                f"The filepath provided must end in `.keras` (Keras model format). Received: filepath={self.filepath}"
            )
        self._current_epoch = 0
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        if save_freq != "epoch":
            self.on_train_batch_end = self._on_train_batch_end

    def _maximize(self) -> bool:
        return resolve_direction(self, self.monitor, self.mode) == "max"

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._current_epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if batch <= self._last_batch_seen:
            self._batches_seen_since_last_saving += batch + 1
        else:
            self._batches_seen_since_last_saving += batch - self._last_batch_seen
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save_model(self._current_epoch, batch, logs_to_floats(logs))

    def _should_save(self, epoch: int, logs: dict, filepath: str, maximize: bool) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                sys.stdout.write(f"\nEpoch {epoch + 1}: saving model to {filepath}\n")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=2)
            return False
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        improved = self.best is None or (current > self.best if maximize else current < self.best)
        if math.isnan(current):
            improved = False
        if improved:
            if self.verbose > 0:
                sys.stdout.write(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to {current:.5f}, "
                    f"saving model to {filepath}\n"
                )
            self.best = current
            return True
        if self.verbose > 0:
            sys.stdout.write(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}\n")
        return False

    def _save_model(self, epoch: int, batch: int | None, logs: dict | None) -> None:
        logs = logs or {}
        maximize = self._maximize()  # an undeterminable "auto" monitor raises here, even without save_best_only
        filepath = self._get_file_path(epoch, batch, logs)
        if os.path.isdir(filepath):
            raise IOError(
                "Please specify a non-directory filepath for ModelCheckpoint. "
                f"Filepath used is an existing directory: {filepath}"
            )
        if not self._should_save(epoch, logs, filepath, maximize):
            return
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        if self.verbose > 0:
            sys.stdout.write(f"\nEpoch {epoch + 1}: finished saving model to {filepath}\n")

    def _get_file_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}') from e

    def get_config(self) -> dict:
        return {
            "filepath": self.filepath, "monitor": self.monitor, "verbose": self.verbose,
            "save_best_only": self.save_best_only, "save_weights_only": self.save_weights_only,
            "mode": self.mode, "save_freq": self.save_freq, "initial_value_threshold": self.initial_value_threshold,
        }
