"""Helpers on symbolic tensors: ``is_keras_tensor`` and ``get_source_inputs``."""
from __future__ import annotations

from typing import Any


def is_keras_tensor(x: Any) -> bool:
    """Whether ``x`` is a symbolic ``KerasTensor`` (a functional-API placeholder), not real data."""
    from cornu.symbolic import KerasTensor

    return isinstance(x, KerasTensor)


def get_source_inputs(tensor: Any) -> list:
    """The ``keras.Input`` tensors that ``tensor`` was computed from, in first-found order."""
    from cornu.layers.input_layer import InputLayer
    from cornu.symbolic import KerasTensor

    out: list[KerasTensor] = []
    seen: set[int] = set()
    stack = [tensor]
    while stack:
        t = stack.pop()
        if not isinstance(t, KerasTensor) or id(t) in seen:
            continue
        seen.add(id(t))
        node = t._node
        if node is None or isinstance(node.operation, InputLayer) or not node.input_tensors:
            out.append(t)
        else:
            stack.extend(reversed(node.input_tensors))
    return out
