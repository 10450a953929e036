"""Rematerialization (activation checkpointing): ``keras.remat`` and ``keras.RematScope`` on
``torch.utils.checkpoint``: activations of the wrapped computation are recomputed in the backward pass
instead of being kept, trading compute for memory."""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable

import torch

_MODES = ("full", "activations", "larger_than", "list_of_layers", None)
_LOCAL = threading.local()


def remat(f: Callable) -> Callable:
    """``f`` whose intermediate activations are recomputed during backprop (when gradients are recorded)."""
    from torch.utils.checkpoint import checkpoint

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not torch.is_grad_enabled():
            return f(*args, **kwargs)
        return checkpoint(f, *args, use_reentrant=False, **kwargs)

    return wrapped


class RematScope:
    """Which layers created/called inside the block rematerialize.

    ``mode``: ``"full"`` (every layer), ``"activations"`` (activation functions), ``"larger_than"``
    (layers whose output has more than ``output_size_threshold`` elements), ``"list_of_layers"`` (the layers
    named in ``layer_names``), or ``None`` (none; useful to switch it off in a nested block).
    """

    def __init__(self, mode: str | None = "full", output_size_threshold: int = 1024,
                 layer_names: list[str] | None = None):
        if mode not in _MODES:
            raise ValueError(f"Invalid mode '{mode}'. Supported modes are: 'full', 'activations', "
                             "'larger_than', 'list_of_layers', or  None.")
        self.mode = mode
        self.output_size_threshold = output_size_threshold
        self.layer_names = list(layer_names or [])

    def __enter__(self) -> "RematScope":
        _LOCAL.__dict__.setdefault("stack", []).append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _LOCAL.stack.pop()


def get_current_remat_mode() -> RematScope | None:
    """The innermost active ``RematScope`` (``None`` outside any, or when its mode is ``None``)."""
    stack = _LOCAL.__dict__.get("stack") or []
    return stack[-1] if stack and stack[-1].mode is not None else None
