"""``CallbackList``: dispatches hooks to callbacks without forcing host syncs.

Per-batch logs may hold tensors on the accelerator. They are converted to
floats only when a callback that needs floats customises that hook, and then
once per step however many such callbacks there are. Hooks that no callback
customises are not called at all.
"""
from __future__ import annotations

from typing import Any, Iterable

from cornu.callbacks.callback import BATCH_HOOKS, Callback, logs_to_floats, overrides_hook
from cornu.callbacks.history import History
from cornu.callbacks.progbar_logger import ProgbarLogger
from cornu.utils import tree


class CallbackList(Callback):
    """A container calling each callback's hooks in order."""

    def __init__(self, callbacks: Iterable[Callback] | None = None, add_history: bool = False,
                 add_progbar: bool = False, model: Any = None, **params):
        super().__init__()
        self.callbacks = list(tree.flatten(callbacks)) if callbacks else []
        for callback in self.callbacks:
            if not hasattr(callback, "on_epoch_end"):
                raise TypeError(
                    f"Expected Callback instances; received {callback!r} of type {type(callback).__name__}."
                )
        if not _is_chief():
            # Across processes, loggers and writers run on rank 0 only; the others keep the rest (History, ...).
            self.callbacks = [c for c in self.callbacks if not getattr(type(c), "_chief_only", False)]
            add_progbar = False
        self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
        self._progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
        if add_progbar and self._progbar is None:
            # Last, as in Keras: the epoch line shows what other callbacks add (``learning_rate``).
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        if add_history and self._history is None:
            self._history = History()
            self.callbacks.append(self._history)
        self._dispatch: dict[str, list[tuple[Callback, bool]]] | None = None
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)
        self._dispatch = None

    def set_params(self, params: dict) -> None:
        self.params = params
        self._dispatch = None
        for callback in self.callbacks:
            callback.set_params(params)

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        self._dispatch = None
        if self._history is not None:
            try:
                model.history = self._history
            except AttributeError:
                pass
        for callback in self.callbacks:
            callback.set_model(model)

    def _batch_dispatch(self, hook: str) -> list[tuple[Callback, bool]]:
        if self._dispatch is None:
            self._dispatch = {
                name: [
                    (c, not getattr(type(c), "_accepts_tensor_logs", False))
                    for c in self.callbacks
                    if overrides_hook(c, name)
                ]
                for name in BATCH_HOOKS
            }
        return self._dispatch[hook]

    def _call_batch_hook(self, hook: str, batch: int, logs: dict | None) -> None:
        if logs is None:
            logs = {}
        floats = None
        for callback, needs_floats in self._batch_dispatch(hook):
            if needs_floats:
                if floats is None:
                    floats = logs_to_floats(logs)
                getattr(callback, hook)(batch, floats)
            else:
                getattr(callback, hook)(batch, logs)

    def _call_hook(self, hook: str, *args: Any) -> None:
        """Call ``hook`` on every callback; the last argument is the logs dict (never None, as in Keras)."""
        if args[-1] is None:
            args = args[:-1] + ({},)
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._call_batch_hook("on_train_batch_begin", batch, logs)

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._call_batch_hook("on_train_batch_end", batch, logs)

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._call_batch_hook("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._call_batch_hook("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._call_batch_hook("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._call_batch_hook("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._call_batch_hook("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._call_batch_hook("on_predict_batch_end", batch, logs)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._call_hook("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._call_hook("on_epoch_end", epoch, _floats_in_place(logs))

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._call_hook("on_train_begin", logs)

    def on_train_end(self, logs: dict | None = None) -> None:
        self._call_hook("on_train_end", _floats_in_place(logs))

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._call_hook("on_test_begin", logs)

    def on_test_end(self, logs: dict | None = None) -> None:
        self._call_hook("on_test_end", _floats_in_place(logs))

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._call_hook("on_predict_begin", logs)

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._call_hook("on_predict_end", logs)


def _floats_in_place(logs: dict | None) -> dict | None:
    """Epoch-level logs should already be floats; convert stragglers in place (keeps the caller's dict)."""
    converted = logs_to_floats(logs)
    if converted is not logs:
        logs.update(converted)
    return logs


def _is_chief() -> bool:
    """False only on the processes other than rank 0 of a ``torch.distributed`` group under a distribution."""
    from cornu.distribution import distribution_lib

    return distribution_lib.distribution() is None or distribution_lib.is_chief()
