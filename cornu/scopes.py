"""Keras's top-level scopes: ``StatelessScope``, ``SymbolicScope``, ``name_scope`` and ``device``."""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

import torch

from cornu import config

_LOCAL = threading.local()


def _stack(kind: str) -> list:
    stacks = _LOCAL.__dict__.setdefault("stacks", {})
    return stacks.setdefault(kind, [])


class StatelessScope:
    """Run code against substitute variable values, leaving the variables as they were afterwards.

    Inside, each variable of ``state_mapping`` (pairs ``(variable, value)``, values in Keras layout)
    reads ``value``; what the block assigns to those variables is kept in the scope
    (``get_current_value``) and the variables get their own values back on exit. cornu limitation:
    assignments to variables *not* in ``state_mapping`` are applied in place, as usual.
    """

    def __init__(self, state_mapping: Any = None, collect_losses: bool = False, initialize_variables: bool = True):
        from cornu.variables import Variable

        self.collect_losses = collect_losses
        self.initialize_variables = initialize_variables
        self.losses: list = []
        self._mapping: dict[int, tuple[Any, Any]] = {}
        for pair in state_mapping or ():
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and isinstance(pair[0], Variable)):
                raise ValueError("Invalid reference variable in StatelessScope: all keys in argument "
                                 "`mapping` must be Variable instances. Received instead: "
                                 f"{pair!r}")
            variable, value = pair
            value = torch.as_tensor(value, dtype=variable.value.dtype)
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError("Invalid value for a variable in StatelessScope: all values in argument "
                                 "`mapping` must have the same shape as the corresponding variable. Received: "
                                 f"variable {variable.path!r} of shape {variable.shape}, value of shape "
                                 f"{tuple(value.shape)}")
            self._mapping[id(variable)] = (variable, value)
        self._saved: list[tuple[Any, torch.Tensor]] = []
        self._final: dict[int, torch.Tensor] = {}

    def __enter__(self) -> "StatelessScope":
        with torch.no_grad():
            for variable, value in self._mapping.values():
                self._saved.append((variable, variable.value.detach().clone()))
                variable.assign(value)
        _stack("stateless").append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _stack("stateless").pop()
        with torch.no_grad():
            for variable, original in self._saved:
                self._final[id(variable)] = variable.keras_value.detach().clone()
                variable.value.copy_(original)
        self._saved = []

    def add_loss(self, loss: Any) -> None:
        """Collect a loss computed in the scope (kept in ``self.losses``)."""
        self.losses.append(loss)

    def add_update(self, update: Any) -> None:
        """Record ``(variable, value)`` as the variable's value inside the scope."""
        variable, value = update
        variable.assign(value)

    def get_current_value(self, variable: Any) -> torch.Tensor | None:
        """The value ``variable`` has in this scope (``None`` for a variable the scope does not map)."""
        if id(variable) not in self._mapping:
            return None
        if id(variable) in self._final:
            return self._final[id(variable)]
        return variable.keras_value.detach()


def in_stateless_scope() -> bool:
    return bool(_stack("stateless"))


def get_stateless_scope() -> StatelessScope | None:
    stack = _stack("stateless")
    return stack[-1] if stack else None


class SymbolicScope:
    """Marks a block as symbolic tracing (``in_symbolic_scope()`` reads it)."""

    def __enter__(self) -> "SymbolicScope":
        _stack("symbolic").append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _stack("symbolic").pop()


def in_symbolic_scope() -> bool:
    return bool(_stack("symbolic"))


class name_scope:  # noqa: N801 - Keras's public name
    """A naming context: ``with keras.name_scope("block"):`` nests ``"block"`` in ``current_path()``.

    ``deduplicate`` skips a scope of the same name as its parent; ``override_parent`` restarts the path.
    """

    def __init__(self, name: str, caller: Any = None, deduplicate: bool = True, override_parent: str | None = None):
        if not isinstance(name, str) or "/" in name:
            raise ValueError(f"Argument `name` must be a string and cannot contain character `/`. "
                             f"Received: name={name!r}")
        self.name = name
        self.caller = caller
        self.deduplicate = deduplicate
        self.override_parent = override_parent
        self._pushed = False

    def __enter__(self) -> "name_scope":
        stack = _stack("name")
        parent = stack[-1] if stack else None
        if self.deduplicate and parent is not None and self.caller is not None and parent.caller is self.caller \
                and parent.name == self.name:
            return self
        stack.append(self)
        self._pushed = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._pushed:
            _stack("name").pop()
            self._pushed = False


def current_path() -> str:
    """The ``/``-joined names of the enclosing ``name_scope``s."""
    parts: list[str] = []
    for scope in _stack("name"):
        if scope.override_parent is not None:
            parts = [p for p in scope.override_parent.split("/") if p]
        parts.append(scope.name)
    return "/".join(parts)


@contextlib.contextmanager
def device(device_name: str) -> Iterator[None]:
    """Create tensors (and cornu's default device) on ``device_name`` inside the block: ``"cpu"``, ``"gpu"``,
    ``"cuda:1"``..."""
    if not isinstance(device_name, str):
        raise ValueError(f"Invalid value for argument `device_name`. Expected a string like 'gpu:0' or 'cpu'. "
                         f"Received: device_name={device_name!r}")
    name = device_name.lower().replace("gpu", "cuda")
    target = torch.device(name)
    if target.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"Cannot use device {device_name!r}: torch sees no CUDA GPU.")
    previous = config.device()
    config.set_device(target)
    try:
        with target:
            yield
    finally:
        config.set_device(previous)
