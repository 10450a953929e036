"""``LambdaCallback``: build a callback from plain functions."""
from __future__ import annotations

from typing import Callable

from cornu.callbacks.callback import Callback

_HOOKS = (
    "on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end", "on_train_batch_begin",
    "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
    "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end",
    "on_batch_begin", "on_batch_end",
)


class LambdaCallback(Callback):
    """Each given function replaces the hook of the same name.

    Epoch and batch hooks take ``(epoch_or_batch, logs)``; begin/end hooks take ``(logs)``.
    """

    def __init__(self, on_epoch_begin: Callable | None = None, on_epoch_end: Callable | None = None,
                 on_train_begin: Callable | None = None, on_train_end: Callable | None = None,
                 on_train_batch_begin: Callable | None = None, on_train_batch_end: Callable | None = None,
                 **kwargs):
        super().__init__()
        unknown = set(kwargs) - set(_HOOKS)
        if unknown:
            raise ValueError(f"Unrecognized hook name(s) for LambdaCallback: {sorted(unknown)}. Valid: {list(_HOOKS)}")
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                     on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end, **kwargs)
        for name, fn in given.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"`{name}` must be callable; received {fn!r} of type {type(fn).__name__}.")
            setattr(self, name, fn)
        self._functions = {k: v for k, v in given.items() if v is not None}

    def get_config(self) -> dict:
        return dict(self._functions)
