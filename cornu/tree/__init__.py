"""``keras.tree``: utilities for nested structures, with Keras's semantics (dicts in sorted key order)."""
from cornu.tree.tree_api import (MAP_TO_NONE, assert_same_paths, assert_same_structure, flatten, flatten_with_path,
                                 is_nested, lists_to_tuples, map_shape_structure, map_structure, map_structure_up_to,
                                 pack_sequence_as, traverse)

__all__ = ["MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten", "flatten_with_path",
           "is_nested", "lists_to_tuples", "map_shape_structure", "map_structure", "map_structure_up_to",
           "pack_sequence_as", "traverse"]
