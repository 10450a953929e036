"""``DTypePolicy``: which dtype a layer keeps its variables in and which it computes in.

A policy is named after a dtype (``"float32"``: both dtypes the same) or is
one of the mixed-precision policies ``"mixed_float16"`` / ``"mixed_bfloat16"``
(float32 variables, computation in the 16-bit type). The global policy --
``keras.config.set_dtype_policy`` -- is what layers built without ``dtype=``
get; until one is set it follows ``keras.config.floatx()``.
"""
from __future__ import annotations

from typing import Any

from cornu import config

# The names Keras accepts for a plain (one-dtype) policy; "int" is Keras's alias of int32.
_DTYPE_NAMES = frozenset({
    "float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
    "uint32", "uint64", "bool", "string", "complex64", "complex128", "float8_e4m3fn", "float8_e5m2"})
_ALIASES = {"int": "int32"}
_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


class DTypePolicy:
    """A layer's variable dtype and compute dtype, named ``"float32"``, ``"mixed_bfloat16"`` ...

    ``DTypePolicy()`` (no name) is a copy of the global policy's name.
    """

    def __init__(self, name: str | None = None):
        if name is None:
            name = dtype_policy().name
        if not isinstance(name, str):
            raise TypeError("'name' must be a string, such as 'mixed_float16'. "
                            f"Received: name={name!r} (of type {type(name)})")
        self._name = name
        self._compute_dtype, self._variable_dtype = _parse_name(name)
        self._quantization_mode = None

    @property
    def name(self) -> str:
        """The policy's name (``"mixed_float16"``, ``"float32"`` ...)."""
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype layers compute in: their inputs are cast to it and their outputs have it."""
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype layers create their variables in."""
        return self._variable_dtype

    @property
    def quantization_mode(self) -> str | None:
        """``None``: cornu's policies do not quantize."""
        return self._quantization_mode

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict) -> "DTypePolicy":
        return cls(**config)

    def __eq__(self, other: Any) -> bool:
        plain = (DTypePolicy, FloatDTypePolicy)
        if type(self) in plain:
            if type(other) not in plain:
                return False
        elif type(self) is not type(other):
            return False
        return self.get_config() == other.get_config()

    __hash__ = None  # mutable-looking value object, as in Keras: compare, don't hash

    def __repr__(self) -> str:
        class_name = "DTypePolicy" if type(self) is FloatDTypePolicy else type(self).__name__
        return f'<{class_name} "{self._name}">'


class FloatDTypePolicy(DTypePolicy):
    """Keras's older name of ``DTypePolicy`` (kept so configs that name it load and save unchanged)."""


def _parse_name(name: str) -> tuple[str, str]:
    """``(compute_dtype, variable_dtype)`` of a policy name; ``ValueError`` naming it when unknown."""
    if name in _MIXED:
        return _MIXED[name], "float32"
    dtype = _ALIASES.get(name, name)
    if dtype not in _DTYPE_NAMES:
        if "_from_" in name:
            raise ValueError(f"cornu does not implement quantized dtype policies. Received: policy={name!r}")
        raise ValueError(f"Cannot convert {name!r} to a mixed precision DTypePolicy. Valid policies include "
                         "'mixed_float16', 'mixed_bfloat16', and the name of any float dtype such as 'float32'.")
    return dtype, dtype


# ------------------------------------------------------------ global policy
_GLOBAL_POLICY: DTypePolicy | None = None
_FLOATX_POLICIES: dict[str, DTypePolicy] = {}


def set_dtype_policy(policy: Any) -> None:
    """Make ``policy`` (a name such as ``"mixed_bfloat16"`` or a ``DTypePolicy``) the global default.

    It applies to layers created afterwards; existing layers keep theirs.
    """
    global _GLOBAL_POLICY
    if not isinstance(policy, DTypePolicy):
        if not isinstance(policy, str):
            raise ValueError("Invalid `policy` argument. Expected the string name of a policy (such as "
                             f"'mixed_float16') or a `DTypePolicy` instance. Received: policy={policy!r} "
                             f"(of type {type(policy)})")
        policy = DTypePolicy(policy)
    _GLOBAL_POLICY = policy


def dtype_policy() -> DTypePolicy:
    """The global policy: the one set last, else the policy named after ``keras.config.floatx()``."""
    if _GLOBAL_POLICY is not None:
        return _GLOBAL_POLICY
    floatx = config.floatx()
    policy = _FLOATX_POLICIES.get(floatx)
    if policy is None:
        policy = _FLOATX_POLICIES[floatx] = DTypePolicy(floatx)
    return policy



def reset_dtype_policy() -> None:
    """Forget the policy ``set_dtype_policy`` set: the global policy follows ``floatx()`` again
    (what ``keras.backend.clear_session`` does to it in Keras)."""
    global _GLOBAL_POLICY
    _GLOBAL_POLICY = None
