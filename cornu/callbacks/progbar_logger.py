"""``ProgbarLogger``: prints Keras's per-epoch progress bar during ``fit``/``evaluate``/``predict``.

It takes raw tensor logs and converts them (one host sync) only when the bar
is actually redrawn: at most every ``REDRAW_INTERVAL`` seconds on a terminal,
and only at the end of the epoch otherwise.
"""
from __future__ import annotations

import sys

from cornu.callbacks.callback import Callback, logs_to_floats
from cornu.utils.progbar import Progbar


class ProgbarLogger(Callback):
    """Prints ``Epoch i/n`` and a progress bar; ``params["verbose"]`` 1 = bar, 2 = one line per epoch."""

    _chief_only = True  # under a multi-process distribution, only rank 0 writes or prints

    _accepts_tensor_logs = True
    REDRAW_INTERVAL = 0.25

    def __init__(self):
        super().__init__()
        self.seen = 0
        self.progbar: Progbar | None = None
        self.target: int | None = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params: dict) -> None:
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._called_in_fit = True

    def on_test_begin(self, logs: dict | None = None) -> None:
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose and self.epochs > 1:
            sys.stdout.write(f"Epoch {epoch + 1}/{self.epochs}\n")
            sys.stdout.flush()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._update_progbar(batch, None)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._finalize_progbar(logs)

    def on_test_end(self, logs: dict | None = None) -> None:
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._finalize_progbar(logs)

    def _reset_progbar(self) -> None:
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self) -> Progbar:
        if self.progbar is None:
            self.progbar = Progbar(target=self.target, verbose=self.verbose, interval=self.REDRAW_INTERVAL,
                                   unit_name="step")
        return self.progbar

    def _update_progbar(self, batch: int, logs: dict | None) -> None:
        progbar = self._maybe_init_progbar()
        self.seen = batch + 1
        if self.verbose != 1:
            return
        if progbar.due():
            progbar.update(self.seen, list((logs_to_floats(logs) or {}).items()), finalize=False)
        elif self.seen == 1:
            progbar.update(1, None, finalize=False)

    def _finalize_progbar(self, logs: dict | None) -> None:
        progbar = self._maybe_init_progbar()
        if self.target is None:
            self.target = self.seen
            progbar.target = self.seen
        progbar.update(self.target, list((logs_to_floats(logs) or {}).items()), finalize=True)
