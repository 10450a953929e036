"""Minimal nested-structure helpers (lists, tuples, dicts) used across cornu."""
from __future__ import annotations

from typing import Any, Callable


def is_nested(x: Any) -> bool:
    return isinstance(x, (list, tuple, dict))


def flatten(x: Any) -> list:
    """Leaves of a nested structure, dicts in insertion order."""
    if isinstance(x, dict):
        return [leaf for v in x.values() for leaf in flatten(v)]
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in flatten(v)]
    return [x]


def map_structure(fn: Callable, x: Any) -> Any:
    """Apply ``fn`` to every leaf, keeping the structure."""
    if isinstance(x, dict):
        return {k: map_structure(fn, v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(map_structure(fn, v) for v in x))
    if isinstance(x, (list, tuple)):
        return type(x)(map_structure(fn, v) for v in x)
    return fn(x)


def pack_sequence_as(structure: Any, leaves: list) -> Any:
    """Inverse of ``flatten``: rebuild ``structure`` from ``leaves``."""
    it = iter(leaves)
    out = map_structure(lambda _: next(it), structure)
    return out
