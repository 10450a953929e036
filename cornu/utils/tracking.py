"""Weight tracking: one global version counter and the containers that bump it.

A layer's weights are what its tracked attributes hold: variables, sub-layers,
plain torch modules, and lists / dicts / tuples of these (nested freely).
Anything that can change that set -- ``add_weight``, assigning a tracked
attribute, mutating a tracked container, toggling ``trainable`` -- calls
``bump()``. Weight lists are cached next to the version they were computed at,
so reading them per training step is one integer comparison, and a change made
anywhere (a callback freezing a layer mid-fit) is seen at the next read.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

_version = 0


def version() -> int:
    """The current tracking version: caches computed at another version are stale."""
    return _version


def bump() -> None:
    """Invalidate every cached weight / layer list (something tracked changed)."""
    global _version
    _version += 1


def _is_trackable(value: Any) -> bool:
    from torch import nn

    from cornu.variables import Variable

    return isinstance(value, (nn.Module, Variable, nn.Parameter, TrackedList, TrackedDict))


class TrackedList(list):
    """A ``list`` that reports changes to its owner (layers appended later are tracked)."""

    def __init__(self, values: Iterable = (), on_change: Callable[[], None] | None = None):
        self._on_change = on_change
        super().__init__(wrap(v, on_change) for v in values)

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def append(self, value: Any) -> None:
        super().append(wrap(value, self._on_change))
        if _is_trackable(value) or isinstance(value, (list, dict, tuple)):
            self._changed()

    def extend(self, values: Iterable) -> None:
        super().extend(wrap(v, self._on_change) for v in values)
        self._changed()

    def insert(self, index: int, value: Any) -> None:
        super().insert(index, wrap(value, self._on_change))
        self._changed()

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            value = [wrap(v, self._on_change) for v in value]
        else:
            value = wrap(value, self._on_change)
        super().__setitem__(index, value)
        self._changed()

    def __delitem__(self, index: Any) -> None:
        super().__delitem__(index)
        self._changed()

    def __iadd__(self, values: Iterable) -> "TrackedList":
        self.extend(values)
        return self

    def pop(self, index: int = -1) -> Any:
        value = super().pop(index)
        self._changed()
        return value

    def remove(self, value: Any) -> None:
        super().remove(value)
        self._changed()

    def clear(self) -> None:
        super().clear()
        self._changed()

    def sort(self, *args, **kwargs) -> None:
        super().sort(*args, **kwargs)
        self._changed()

    def reverse(self) -> None:
        super().reverse()
        self._changed()

    def __reduce_ex__(self, protocol):
        return list, (list(self),)


class TrackedDict(dict):
    """A ``dict`` that reports changes to its owner."""

    def __init__(self, values: Any = (), on_change: Callable[[], None] | None = None):
        self._on_change = on_change
        super().__init__()
        for k, v in dict(values).items():
            super().__setitem__(k, wrap(v, on_change))

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, wrap(value, self._on_change))
        self._changed()

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self._changed()

    def update(self, *args, **kwargs) -> None:
        for k, v in dict(*args, **kwargs).items():
            super().__setitem__(k, wrap(v, self._on_change))
        self._changed()

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key: Any, *default) -> Any:
        value = super().pop(key, *default)
        self._changed()
        return value

    def popitem(self) -> tuple:
        item = super().popitem()
        self._changed()
        return item

    def clear(self) -> None:
        super().clear()
        self._changed()

    def __reduce_ex__(self, protocol):
        return dict, (dict(self),)


def wrap(value: Any, on_change: Callable[[], None] | None) -> Any:
    """Lists and dicts become tracked containers; tuples are scanned as they are (immutable)."""
    if isinstance(value, (TrackedList, TrackedDict)):
        value._on_change = on_change
        return value
    if type(value) is list:
        return TrackedList(value, on_change)
    if type(value) is dict:
        return TrackedDict(value, on_change)
    return value


def flatten_trackables(value: Any) -> Iterator[Any]:
    """Modules, variables and parameters held in ``value`` (containers walked in order)."""
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from flatten_trackables(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from flatten_trackables(v)
    elif _is_trackable(value):
        yield value
