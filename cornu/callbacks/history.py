"""``History``: records epoch-end metrics; ``fit`` returns it."""
from __future__ import annotations

from cornu.callbacks.callback import Callback


class History(Callback):
    """``history`` maps each metric name to its per-epoch values; ``epoch`` lists the epochs seen."""

    _accepts_tensor_logs = True

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            try:
                self.model.history = self
            except AttributeError:
                pass
