"""Dtype classification and Keras's type promotion (``keras.backend.result_type``).

Promotion follows the JAX-style lattice Keras documents: booleans below integers, Python ``int`` and
``float`` as *weak* types that defer to any concrete dtype, unsigned and signed integers meeting at the next
wider signed type (``uint64`` with a signed type gives a float), integers below floats, ``bfloat16`` and
``float16`` meeting at ``float32``, floats below complex. As ``keras.backend.result_type`` does, 64-bit
results are narrowed to their 32-bit counterparts; with no dtypes at all the answer is ``floatx()``.
"""
from __future__ import annotations

import functools
from typing import Any

from cornu import config

_FLOATS = ("bfloat16", "float16", "float32", "float64")
_INTS = ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64")
_NARROW = {"int64": "int32", "uint64": "uint32", "float64": "float32", "complex128": "complex64"}

# Each node's direct successors in the lattice ("int" / "float" are the weak Python types).
_LATTICE = {
    "bool": ("int",),
    "int": ("uint8", "int8"),
    "uint8": ("uint16", "int16"),
    "uint16": ("uint32", "int32"),
    "uint32": ("uint64", "int64"),
    "uint64": ("float",),
    "int8": ("int16",),
    "int16": ("int32",),
    "int32": ("int64",),
    "int64": ("float",),
    "float": ("bfloat16", "float16", "complex"),
    "bfloat16": ("float32",),
    "float16": ("float32",),
    "float32": ("float64", "complex64"),
    "float64": ("complex128",),
    "complex": ("complex64",),
    "complex64": ("complex128",),
    "complex128": (),
}


@functools.lru_cache(maxsize=None)
def _upper_bounds(node: str) -> frozenset:
    """``node`` and every type it promotes to."""
    out = {node}
    for nxt in _LATTICE[node]:
        out |= _upper_bounds(nxt)
    return frozenset(out)


def _least_upper_bound(nodes: tuple[str, ...]) -> str:
    common = frozenset.intersection(*(_upper_bounds(n) for n in nodes))
    return next(n for n in common if common <= _upper_bounds(n))


def _lattice_name(dtype: Any) -> str:
    if dtype is int:
        return "int"
    if dtype is float:
        return "float"
    if dtype is bool:
        return "bool"
    name = config.standardize_dtype(dtype)
    if name not in _LATTICE:
        raise ValueError(f"Invalid dtype for type promotion: {dtype!r}")
    return name


def is_float_dtype(dtype: Any) -> bool:
    """Whether ``dtype`` is a (real) floating-point type."""
    return config.standardize_dtype(dtype) in _FLOATS


def is_int_dtype(dtype: Any) -> bool:
    """Whether ``dtype`` is a signed or unsigned integer type (``bool`` is not)."""
    return config.standardize_dtype(dtype) in _INTS


def result_type(*dtypes: Any) -> str:
    """The dtype Keras promotes ``dtypes`` to (Python ``int`` / ``float`` count as weak types)."""
    if not dtypes:
        return config.floatx()
    result = _least_upper_bound(tuple(_lattice_name(d) for d in dtypes))
    result = {"int": "int32", "float": config.floatx(), "complex": "complex64"}.get(result, result)
    return _NARROW.get(result, result)
