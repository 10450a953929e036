"""Input signatures for export: specs -> example tensors, torch dynamic-shape hints and input names.

A signature is a list with one entry per positional argument of the exported function; each entry is a
structure (list / tuple / dict) of specs. A spec is a ``keras.InputSpec``, a ``KerasTensor``, or a real
tensor / array (its own shape, batch axis dynamic). ``None`` dimensions become dynamic in the exported
program; the example tensors stand them in with distinct sizes so torch does not tie them together.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cornu import config
from cornu.utils import tree

# Example sizes for unknown dimensions: the batch axis first, then distinct primes for the others (never
# 0 or 1, which torch.export would specialize on).
_BATCH_SIZE = 2
_OTHER_SIZES = (17, 19, 23, 29, 31, 37)


def _spec_shape_dtype(spec: Any) -> tuple[tuple, str, str | None]:
    """``(shape, dtype, name)`` of one spec, ``None`` where a dimension is unknown."""
    from cornu.layers import InputSpec
    from cornu.symbolic import KerasTensor

    if isinstance(spec, (KerasTensor, InputSpec)):
        if spec.shape is None:
            raise ValueError(f"An input signature entry needs a shape. Received: {spec!r}")
        dtype = spec.dtype if spec.dtype is not None else config.floatx()
        return tuple(spec.shape), config.standardize_dtype(dtype), getattr(spec, "name", None)
    if isinstance(spec, (torch.Tensor, np.ndarray)):
        shape = tuple(spec.shape)
        return (None,) + shape[1:] if shape else shape, config.standardize_dtype(spec.dtype), None
    raise TypeError("Each input signature entry must be a `keras.InputSpec`, a `KerasTensor` or a tensor. "
                    f"Received: {spec!r} of type {type(spec).__name__}")


def _is_spec(x: Any) -> bool:
    return not isinstance(x, (list, tuple, dict))


def example_and_dims(signature: list) -> tuple[list, list, list[str | None]]:
    """Flat example tensors, their torch ``dynamic_shapes`` dicts and spec names, in ``tree.flatten`` order."""
    examples, dims, names = [], [], []
    for spec in tree.flatten(signature):
        if isinstance(spec, torch.Tensor):
            examples.append(spec.detach())
            dims.append({0: torch.export.Dim.AUTO} if spec.ndim else {})
            names.append(None)
            continue
        if isinstance(spec, np.ndarray):
            t = torch.from_numpy(np.ascontiguousarray(spec))
            examples.append(t)
            dims.append({0: torch.export.Dim.AUTO} if t.ndim else {})
            names.append(None)
            continue
        shape, dtype, name = _spec_shape_dtype(spec)
        others = iter(_OTHER_SIZES * 4)
        sizes = [d if d is not None else (_BATCH_SIZE if axis == 0 else next(others)) for axis, d in
                 enumerate(shape)]
        tdtype = config.torch_dtype(dtype)
        if tdtype.is_floating_point:
            example = torch.rand(sizes, dtype=tdtype)
        elif tdtype == torch.bool:
            example = torch.ones(sizes, dtype=torch.bool)
        else:
            example = torch.ones(sizes, dtype=tdtype)
        examples.append(example)
        dims.append({axis: torch.export.Dim.AUTO for axis, d in enumerate(shape) if d is None})
        names.append(name)
    return examples, dims, names


def model_signature(model: Any) -> list:
    """The default signature of ``model.__call__``: its symbolic inputs, else the shapes it was built with."""
    inputs = None
    try:
        inputs = getattr(model, "_inputs_struct", None)
        if inputs is None:
            inputs = model.inputs
            inputs = inputs[0] if isinstance(inputs, list) and len(inputs) == 1 else inputs
    except (AttributeError, ValueError):
        inputs = None
    if inputs is not None:
        return [inputs]
    build = getattr(model, "_build_shapes", None)
    if not getattr(model, "built", False) or build is None:
        raise ValueError(f"The model provided has never been called, so its input signature is unknown: call "
                         f"it on data (or build it) first, or pass `input_signature`. Received: model={model!r}")
    from cornu.layers import InputSpec

    def to_spec(shape):
        return InputSpec(shape=(None,) + tuple(shape)[1:], dtype=model.input_dtype
                         if hasattr(model, "input_dtype") else None)

    shapes = build
    if isinstance(shapes, dict) and len(shapes) == 1:
        shapes = next(iter(shapes.values()))
    is_shape = isinstance(shapes, (list, tuple)) and all(d is None or isinstance(d, int) for d in shapes)
    from cornu.tree import map_shape_structure

    return [to_spec(shapes) if is_shape else map_shape_structure(to_spec, shapes)]


def normalize(signature: Any, model: Any = None) -> list:
    """A user's ``input_signature`` as a list of positional arguments (Keras accepts a bare spec too).

    For a functional model with several inputs, a flat list of one spec per input is that model's single
    argument, as Keras reads it.
    """
    if _is_spec(signature):
        return [signature]
    signature = list(signature) if isinstance(signature, tuple) else signature
    if isinstance(signature, dict):
        return [signature]
    n_inputs = len(getattr(model, "inputs", None) or []) if model is not None and hasattr(model, "_inputs_struct") \
        else 0
    if n_inputs > 1 and len(signature) == n_inputs and all(_is_spec(s) for s in signature):
        return [signature]
    return signature


def input_names(model: Any, spec_names: list[str | None]) -> list[str]:
    """Unique names for the flat inputs: the specs' names, else the model's input names, else ``input_i``."""
    model_names = list(getattr(model, "input_names", None) or []) if model is not None else []
    out: list[str] = []
    for i, name in enumerate(spec_names):
        name = name or (model_names[i] if i < len(model_names) else None) or f"input_{i}"
        while name in out:
            name = f"{name}_{i}"
        out.append(name)
    return out
