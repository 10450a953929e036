"""keras.tree: flatten / pack / map / traverse with Keras's semantics (dicts sorted by key, None a leaf)."""
from __future__ import annotations

import collections

import pytest

from cornu import tree

P = collections.namedtuple("P", ["b", "a"])


def _structure():
    return {"b": [1, (2, None)], "a": {"z": 4, "y": 5}, "c": None}


def test_flatten_sorts_dict_keys_and_keeps_none():
    assert tree.flatten(_structure()) == [5, 4, 1, 2, None, None]
    assert tree.flatten(P(1, [2, 3])) == [1, 2, 3]  # namedtuple: field order
    assert tree.flatten(collections.OrderedDict([("b", 1), ("a", 2)])) == [1, 2]
    assert tree.flatten(None) == [None] and tree.flatten("ab") == ["ab"] and tree.flatten({1}) == [{1}]


def test_flatten_with_path():
    assert tree.flatten_with_path(_structure()) == [
        (("a", "y"), 5), (("a", "z"), 4), (("b", 0), 1), (("b", 1, 0), 2), (("b", 1, 1), None), (("c",), None)]
    assert tree.flatten_with_path(3) == [((), 3)]


def test_is_nested():
    assert tree.is_nested([]) and tree.is_nested(()) and tree.is_nested({}) and tree.is_nested(P(1, 2))
    assert not tree.is_nested(1) and not tree.is_nested("ab") and not tree.is_nested(None)


def test_pack_sequence_as_round_trip_and_errors():
    s = _structure()
    packed = tree.pack_sequence_as(s, tree.flatten(s))
    assert packed == s and list(packed) == ["a", "b", "c"]  # rebuilt dicts in sorted key order
    assert tree.pack_sequence_as(P(0, [0]), [7, 8]) == P(7, [8])
    assert tree.pack_sequence_as(None, [3]) == 3
    with pytest.raises(ValueError):
        tree.pack_sequence_as([1, 2], [1])
    with pytest.raises(TypeError):
        tree.pack_sequence_as([1], 1)


def test_map_structure():
    s = _structure()
    out = tree.map_structure(lambda x: 0 if x is None else 2 * x, s)
    assert out == {"b": [2, (4, 0)], "a": {"z": 8, "y": 10}, "c": 0} and list(out) == ["b", "a", "c"]
    assert tree.map_structure(lambda x: 2 * x, s, none_is_leaf=False)["c"] is None
    assert tree.map_structure(lambda a, b: a + b, [1, {"k": 2}], [10, {"k": 20}]) == [11, {"k": 22}]
    assert tree.map_structure(lambda x: x + 1, P(1, 2)) == P(2, 3)
    with pytest.raises(ValueError):
        tree.map_structure(lambda a, b: a, [1, 2], [1])
    with pytest.raises(ValueError):
        tree.map_structure(lambda a, b: a, [1, 2], (1, 2))
    with pytest.raises(ValueError):
        tree.map_structure(lambda a, b: a, {"a": 1}, {"b": 1})
    with pytest.raises(ValueError):
        tree.map_structure(lambda x: x)
    with pytest.raises(TypeError):
        tree.map_structure(1, [1])


def test_map_structure_up_to():
    assert tree.map_structure_up_to([0, 0], lambda x, y: (x, y), [[1, 2], 3], [4, 5]) == [([1, 2], 4), (3, 5)]
    assert tree.map_structure_up_to({"a": 0}, len, {"a": [1, 2]}) == {"a": 2}
    with pytest.raises(ValueError):
        tree.map_structure_up_to([0, 0], lambda x: x, [1])


def test_assert_same_structure_and_paths():
    tree.assert_same_structure([1, {"a": (2,)}], [3, {"a": (4,)}])
    for a, b in (([1, 2], [1]), ([1, 2], (1, 2)), ({"a": 1}, {"b": 1}), (1, [1])):
        with pytest.raises(ValueError):
            tree.assert_same_structure(a, b)
    tree.assert_same_paths([1, 2], (3, 4))
    with pytest.raises(ValueError, match="missing"):
        tree.assert_same_paths({"a": 1}, {"b": 1})


def test_lists_to_tuples_and_map_shape_structure():
    assert tree.lists_to_tuples([1, [2, {"a": [3]}]]) == (1, (2, {"a": (3,)}))
    shapes = [(1, 2), [(3, None), {"a": (4,)}], None]
    assert tree.map_shape_structure(len, shapes) == [2, [2, {"a": 1}], None]
    assert tree.map_shape_structure(lambda s: s, [3, None]) == (3, None)  # a list of dims is one shape


def test_traverse():
    assert tree.traverse(lambda x: None, [1, [2, 3]]) == [1, [2, 3]]
    times10 = lambda x: 10 * x if isinstance(x, int) else None  # noqa: E731
    assert tree.traverse(times10, [1, [2, 3]]) == [10, [20, 30]]
    assert tree.traverse(times10, [1, [2, 3]], top_down=False) == [10, [20, 30]]
    drop2 = lambda x: tree.MAP_TO_NONE if x == 2 else None  # noqa: E731
    assert tree.traverse(drop2, [1, [2, 3]]) == [1, [None, 3]]
    seen = []
    tree.traverse(lambda x: seen.append(x), [1, [2, 3]], top_down=False)
    assert seen == [1, 2, 3, [2, 3], [1, [2, 3]]]
    seen.clear()
    tree.traverse(lambda x: seen.append(x), [1, [2, 3]])
    assert seen == [[1, [2, 3]], 1, [2, 3], 2, 3]
    assert tree.traverse(lambda x: [0] if x == [2, 3] else None, [1, [2, 3]]) == [1, [0]]  # subtree replaced


# Keras 3.15.1 on its torch backend sorts only dicts with no dict above them (``flatten({"a": [{"z": 1,
# "y": 2}]})`` is ``[1, 2]``, ``flatten([{"z": 1, "y": 2}])`` is ``[2, 1]``), unlike its documented rule and
# its other backends; cornu sorts every dict, so these structures keep dicts out of dicts.
DIFF_STRUCTURES = [
    {"b": [1, (2, None)], "a": [4, 5], "c": None},
    [{"z": 1, "y": 2}, [({"d": 1, "c": 2},)]],
    collections.OrderedDict([("b", 1), ("a", [2, 3])]),
    (1, [2, (3, [4])]),
    7,
    None,
]


@pytest.mark.parametrize("structure", DIFF_STRUCTURES)
def test_matches_keras(keras_ref, structure):
    k = keras_ref.tree
    assert tree.flatten(structure) == k.flatten(structure)
    assert tree.flatten_with_path(structure) == k.flatten_with_path(structure)
    assert tree.is_nested(structure) == k.is_nested(structure)
    flat = list(range(len(k.flatten(structure))))
    mine, theirs = tree.pack_sequence_as(structure, flat), k.pack_sequence_as(structure, flat)
    assert mine == theirs and type(mine) is type(theirs)
    fn = lambda x: None if x is None else x * 3  # noqa: E731
    mine, theirs = tree.map_structure(fn, structure), k.map_structure(fn, structure)
    assert mine == theirs and type(mine) is type(theirs)
    assert tree.map_structure(fn, structure, none_is_leaf=False) == k.map_structure(fn, structure,
                                                                                      none_is_leaf=False)
    assert tree.lists_to_tuples(structure) == k.lists_to_tuples(structure)
    assert tree.traverse(fn if not tree.is_nested(structure) else (lambda x: None), structure) == \
        k.traverse(fn if not k.is_nested(structure) else (lambda x: None), structure)


def test_errors_match_keras(keras_ref):
    k = keras_ref.tree
    for a, b in (([1, 2], [1]), ([1, 2], (1, 2)), ({"a": 1}, {"b": 1}), (1, [1])):
        with pytest.raises(ValueError):
            k.assert_same_structure(a, b)
        with pytest.raises(ValueError):
            tree.assert_same_structure(a, b)
    for fn in (k, tree):
        with pytest.raises(ValueError):
            fn.pack_sequence_as([1, 2], [1])
        with pytest.raises(ValueError):
            fn.assert_same_paths([1], [1, 2])
        with pytest.raises(ValueError):
            fn.map_structure(lambda x: x)
    assert tree.map_structure_up_to([0, 0], lambda x, y: (x, y), [[1, 2], 3], [4, 5]) == \
        k.map_structure_up_to([0, 0], lambda x, y: (x, y), [[1, 2], 3], [4, 5])
    shapes = [(1, 2), [(3, None), {"a": (4,)}], None]
    assert tree.map_shape_structure(len, shapes[:2]) == k.map_shape_structure(len, shapes[:2])
    assert sorted(n for n in dir(k) if not n.startswith("_")) == sorted(tree.__all__)
