"""``keras.tree``: nested structures (lists, tuples, namedtuples, dicts) with Keras's semantics.

Unlike ``cornu.utils.tree`` (cornu's internal helpers, which keep dict insertion order), these follow
Keras: a dict's children come in sorted key order (an ``OrderedDict`` keeps its own order), ``None`` is a
leaf unless ``none_is_leaf=False``, and structures compared leaf by leaf must match in type, length and keys.
"""
from __future__ import annotations

import collections
from typing import Any, Callable


class MAP_TO_NONE:  # noqa: N801 - Keras's public name; the class itself is the sentinel, as in Keras
    """The value a ``traverse`` function returns to put ``None`` in place of a node."""


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def is_nested(structure: Any) -> bool:
    """Whether ``structure`` is a list, tuple (namedtuples included) or dict."""
    return isinstance(structure, (list, tuple, dict))


def _keys(d: dict) -> list:
    if isinstance(d, collections.OrderedDict):
        return list(d)
    try:
        return sorted(d)
    except TypeError:  # keys of mixed types: keep insertion order
        return list(d)


def _children(node: Any) -> list[tuple[Any, Any]]:
    """``(key, child)`` pairs of a nested node in flattening order."""
    if isinstance(node, dict):
        return [(k, node[k]) for k in _keys(node)]
    return list(enumerate(node))


def _rebuild(node: Any, values: list) -> Any:
    """A node of ``node``'s type holding ``values`` (in ``_children`` order)."""
    if isinstance(node, dict):
        by_key = dict(zip(_keys(node), values))
        if isinstance(node, collections.defaultdict):
            out = collections.defaultdict(node.default_factory)
            out.update((k, by_key[k]) for k in node)
            return out
        return type(node)((k, by_key[k]) for k in node)
    if _is_namedtuple(node):
        return type(node)(*values)
    if isinstance(node, tuple):
        return tuple(values) if type(node) is tuple else type(node)(values)
    return list(values) if type(node) is list else type(node)(values)


def _is_leaf(x: Any, none_is_leaf: bool = True) -> bool:
    return not is_nested(x) and (none_is_leaf or x is not None)


def flatten(structure: Any) -> list:
    """The leaves of ``structure`` (dicts in sorted key order); ``None`` is a leaf."""
    if not is_nested(structure):
        return [structure]
    return [leaf for _, child in _children(structure) for leaf in flatten(child)]


def flatten_with_path(structure: Any) -> list[tuple[tuple, Any]]:
    """``(path, leaf)`` pairs; a path is the tuple of indices / keys leading to the leaf."""
    if not is_nested(structure):
        return [((), structure)]
    return [((key,) + path, leaf) for key, child in _children(structure)
            for path, leaf in flatten_with_path(child)]


def _check_same(a: Any, b: Any, check_types: bool = True) -> None:
    """``ValueError`` where ``a`` and ``b`` differ in nesting (types, lengths, dict keys)."""
    if is_nested(a) != is_nested(b):
        raise ValueError(f"The two structures don't have the same nested structure. First structure: {a!r}, "
                         f"second structure: {b!r}.")
    if not is_nested(a):
        return
    if check_types and type(a) is not type(b) and not (isinstance(a, dict) and isinstance(b, dict)):
        raise ValueError(f"The two structures don't have the same sequence type: {type(a).__name__} vs "
                         f"{type(b).__name__}. First structure: {a!r}, second structure: {b!r}.")
    if isinstance(a, dict) != isinstance(b, dict):
        raise ValueError(f"The two structures don't have the same nested structure: {a!r} vs {b!r}.")
    if isinstance(a, dict):
        if set(a) != set(b):
            raise ValueError(f"The two dictionaries don't have the same keys: missing {set(a) - set(b)}, "
                             f"extra {set(b) - set(a)}. First structure: {a!r}, second structure: {b!r}.")
        for k in a:
            _check_same(a[k], b[k], check_types)
        return
    if len(a) != len(b):
        raise ValueError(f"The two structures don't have the same number of elements ({len(a)} vs {len(b)}). "
                         f"First structure: {a!r}, second structure: {b!r}.")
    for x, y in zip(a, b):
        _check_same(x, y, check_types)


def assert_same_structure(a: Any, b: Any, check_types: bool | None = None) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` nest the same way (same node types, lengths and keys).

    ``check_types`` is accepted for compatibility and deprecated in Keras: node types are always compared.
    """
    _check_same(a, b, check_types=True)


def assert_same_paths(a: Any, b: Any) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same leaf paths (node types may differ)."""
    paths_a = {p for p, _ in flatten_with_path(a)}
    paths_b = {p for p, _ in flatten_with_path(b)}
    if paths_a != paths_b:
        msg = "`a` and `b` don't have the same paths."
        if paths_a - paths_b:
            msg += f"\nPaths in `a` missing in `b`:\n{paths_a - paths_b}"
        if paths_b - paths_a:
            msg += f"\nPaths in `b` missing in `a`:\n{paths_b - paths_a}"
        raise ValueError(msg)


def map_structure(func: Callable, *structures: Any, none_is_leaf: bool = True) -> Any:
    """``func`` applied leaf-wise across ``structures`` (which must nest the same way); the first one's shape.

    With ``none_is_leaf=False``, ``None`` entries are kept as ``None`` and not passed to ``func``.
    """
    if not callable(func):
        raise TypeError(f"`func` must be callable. Received: func={func!r}")
    if not structures:
        raise ValueError("Must provide at least one structure")
    first = structures[0]
    for other in structures[1:]:
        _check_same(first, other)

    def walk(*nodes):
        head = nodes[0]
        if not is_nested(head):
            if not none_is_leaf and head is None:
                return None
            return func(*nodes)
        if isinstance(head, dict):
            keys = _keys(head)
            return _rebuild(head, [walk(*(n[k] for n in nodes)) for k in keys])
        return _rebuild(head, [walk(*items) for items in zip(*nodes)])

    return walk(*structures)


def map_structure_up_to(shallow_structure: Any, func: Callable, *structures: Any) -> Any:
    """``func`` applied to the sub-structures of ``structures`` found at the leaves of ``shallow_structure``."""
    if not structures:
        raise ValueError("Must provide at least one structure")

    def check(shallow, node):
        if not is_nested(shallow):
            return
        if not is_nested(node):
            raise ValueError(f"If shallow structure is a sequence, input must also be a sequence. "
                             f"Received: shallow={shallow!r}, input={node!r}")
        if isinstance(shallow, dict) != isinstance(node, dict) or (
                not isinstance(shallow, dict) and len(shallow) != len(node)) or (
                isinstance(shallow, dict) and set(shallow) - set(node)):
            raise ValueError(f"The input structure {node!r} does not match the shallow structure {shallow!r}.")
        for (k, child) in _children(shallow):
            check(child, node[k])

    for s in structures:
        check(shallow_structure, s)

    def walk(shallow, *nodes):
        if not is_nested(shallow):
            return func(*nodes)
        return _rebuild(shallow, [walk(child, *(n[k] for n in nodes)) for k, child in _children(shallow)])

    return walk(shallow_structure, *structures)


def pack_sequence_as(structure: Any, flat_sequence: Any) -> Any:
    """The inverse of ``flatten``: ``structure``'s nesting filled with ``flat_sequence``'s items in order."""
    if not isinstance(flat_sequence, (list, tuple)):
        raise TypeError(f"`flat_sequence` must be a list or tuple. Received: {type(flat_sequence).__name__}")
    n = len(flatten(structure))
    if n != len(flat_sequence):
        raise ValueError(f"The target structure holds {n} items, but `flat_sequence` has "
                         f"{len(flat_sequence)}. Structure: {structure!r}")
    it = iter(flat_sequence)

    def walk(node):
        if not is_nested(node):
            return next(it)
        values = [walk(child) for _, child in _children(node)]
        if isinstance(node, dict):
            keys = _keys(node)
            out = type(node)() if not isinstance(node, collections.defaultdict) else collections.defaultdict(
                node.default_factory)
            out.update(zip(keys, values))
            return out
        return _rebuild(node, values)

    return walk(structure)


def lists_to_tuples(structure: Any) -> Any:
    """``structure`` with every list turned into a tuple (at every depth)."""
    if isinstance(structure, list):
        return tuple(lists_to_tuples(x) for x in structure)
    if is_nested(structure):
        return _rebuild(structure, [lists_to_tuples(child) for _, child in _children(structure)])
    return structure


def _is_shape(x: Any) -> bool:
    return isinstance(x, (list, tuple)) and not _is_namedtuple(x) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in x)


def map_shape_structure(func: Callable, structure: Any) -> Any:
    """``map_structure`` whose leaves are shapes: tuples/lists of ints and ``None`` go to ``func`` whole."""
    if _is_shape(structure):
        return func(tuple(structure))
    if is_nested(structure):
        return _rebuild(structure, [map_shape_structure(func, child) for _, child in _children(structure)])
    if structure is None:
        return None
    raise ValueError(f"Cannot map function to unknown object {structure!r}")


def traverse(func: Callable, structure: Any, top_down: bool = True) -> Any:
    """Apply ``func`` to every node (sub-structures and leaves).

    Top-down: a non-``None`` result replaces the node and its subtree is not visited; ``None`` means
    "keep going". Bottom-up: children are processed first, then ``func`` sees the node; ``None`` keeps the
    (rebuilt) node. Either way, returning ``MAP_TO_NONE`` puts ``None`` in the node's place.
    """
    def unwrap(value):
        return None if value is MAP_TO_NONE else value

    def down(node):
        result = func(node)
        if result is not None:
            return unwrap(result)
        if not is_nested(node):
            return node
        return _rebuild(node, [down(child) for _, child in _children(node)])

    def up(node):
        if is_nested(node):
            node = _rebuild(node, [up(child) for _, child in _children(node)])
        result = func(node)
        return node if result is None else unwrap(result)

    return down(structure) if top_down else up(structure)


__all__ = ["MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten", "flatten_with_path",
           "is_nested", "lists_to_tuples", "map_shape_structure", "map_structure", "map_structure_up_to",
           "pack_sequence_as", "traverse"]
