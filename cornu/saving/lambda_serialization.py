"""Functions in configs (``Lambda`` layers, custom activations): by name, or as bytecode.

A module-level function is saved by reference (module + name) and found
again among cornu's built-ins and the user's registered/custom objects. A
lambda or closure is saved, as Keras does, as base64 ``marshal`` bytecode;
loading bytecode runs arbitrary code, so it happens only with
``safe_mode=False`` (or after ``keras.config.enable_unsafe_deserialization()``).
Bytecode is specific to the Python version that wrote it.
"""
from __future__ import annotations

import base64
import builtins
import json
import marshal
import types
from typing import Any, Callable

from cornu.saving import serialization
from cornu.saving.object_registration import get_registered_name, scope_objects

_UNSAFE_MESSAGE = (
    "Requested the deserialization of a Python `lambda` (or closure) stored as bytecode. Loading it runs "
    "arbitrary code from the file, so it is disallowed by default. If you trust the source of this file, "
    "pass `safe_mode=False` to the loading function (e.g. `keras.saving.load_model(path, safe_mode=False)`) "
    "or call `keras.config.enable_unsafe_deserialization()`. Better: use a named function registered with "
    "`@keras.saving.register_keras_serializable()`."
)


def _by_reference(fn: Callable) -> bool:
    return (isinstance(fn, (types.FunctionType, types.BuiltinFunctionType)) and fn.__name__ != "<lambda>"
            and getattr(fn, "__qualname__", fn.__name__) == fn.__name__ and not getattr(fn, "__closure__", None))


def function_config(fn: Callable) -> dict:
    """``{"module", "class_name": "function", "config": name, "registered_name"}`` for a named function."""
    public = serialization.public_function_name(fn)
    if public is not None:
        module, name = public
        return {"module": module, "class_name": "function", "config": name, "registered_name": name}
    return {"module": fn.__module__, "class_name": "function", "config": fn.__name__,
            "registered_name": get_registered_name(fn)}


def _json_value(value: Any, what: str, fn: Callable) -> Any:
    try:
        out = serialization.serialize_keras_object(value)
        json.dumps(out)
    except (TypeError, ValueError) as e:
        raise ValueError(f"Cannot serialize {fn!r}: its {what} {value!r:.100} (of type {type(value).__name__}) is "
                         "not JSON-serializable. Use a named, registered function instead.") from e
    return out


def dump_bytecode(fn: types.FunctionType) -> tuple[str, Any, Any]:
    """``(base64 marshal of the code, defaults, closure values)`` of a Python function."""
    code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")  # 76-column lines, as Keras writes
    defaults = _json_value(list(fn.__defaults__), "defaults", fn) if fn.__defaults__ else None
    closure = None
    if fn.__closure__:
        values = []
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                contents = cell.cell_contents
            except ValueError as e:
                raise ValueError(f"Cannot serialize {fn!r}: closure variable {name!r} is unbound.") from e
            values.append(_json_value(contents, f"closure variable {name!r}", fn))
        closure = values
    return code, defaults, closure


def serialize_function(fn: Callable, lambda_format: str = "code") -> Any:
    """Config of a callable: a reference for a named function, bytecode for a lambda/closure.

    ``lambda_format="code"`` writes Keras's ``Lambda``-layer form
    (``{"code", "defaults", "closure"}``); ``"value"`` writes the generic
    ``serialize_keras_object`` form (``{"value": [code, defaults, closure]}``).
    """
    if _by_reference(fn):
        return function_config(fn)
    if isinstance(fn, types.FunctionType):
        code, defaults, closure = dump_bytecode(fn)
        inner = {"value": [code, defaults, closure]} if lambda_format == "value" else \
            {"code": code, "defaults": defaults, "closure": closure}
        return {"class_name": "__lambda__", "config": inner}
    if callable(fn) and hasattr(fn, "get_config"):
        return serialization.serialize_keras_object(fn)
    raise TypeError(f"Cannot serialize {fn!r} of type {type(fn).__name__}: expected a Python function or an "
                    "object with `get_config()`.")


def _lambda_globals() -> dict:
    import numpy as np
    import torch

    import cornu

    namespace = {"__builtins__": builtins, "keras": cornu, "cornu": cornu, "ops": cornu.ops, "np": np,
                 "numpy": np, "torch": torch}
    namespace.update(scope_objects())
    return namespace


def load_bytecode(code: str, defaults: Any = None, closure: Any = None) -> types.FunctionType:
    """Rebuild a function from ``dump_bytecode`` output. Runs no code itself, but the result is untrusted."""
    if not isinstance(code, str):
        raise ValueError(f"Lambda bytecode must be a base64 string. Received: {type(code).__name__}")
    try:
        loaded = marshal.loads(base64.b64decode(code.encode("ascii")))
    except (ValueError, EOFError, TypeError) as e:
        raise ValueError("Could not read the lambda's bytecode: it is corrupt or was written by another Python "
                         f"version (bytecode is version-specific): {e}") from e
    if not isinstance(loaded, types.CodeType):
        raise ValueError(f"The lambda's bytecode decodes to {type(loaded).__name__}, not a code object.")
    defaults_t = tuple(serialization.deserialize_keras_object(d, safe_mode=False) for d in defaults) \
        if defaults else None
    cells = None
    if loaded.co_freevars:
        values = list(closure or [])
        if len(values) != len(loaded.co_freevars):
            raise ValueError(f"The lambda's bytecode needs {len(loaded.co_freevars)} closure values "
                             f"{loaded.co_freevars}, but the config has {len(values)}.")
        cells = tuple(types.CellType(serialization.deserialize_keras_object(v, safe_mode=False)) for v in values)
    return types.FunctionType(loaded, _lambda_globals(), loaded.co_name, defaults_t, cells)


def deserialize_function(config: Any, safe_mode: bool | None = None) -> Callable:
    """Inverse of ``serialize_function``; bytecode only when the effective safe mode is off."""
    if callable(config):
        return config
    safe = serialization.effective_safe_mode(safe_mode) if safe_mode is None else bool(safe_mode)
    if isinstance(config, str):
        return serialization.resolve_function(config, None, None, safe_mode=safe)
    if not isinstance(config, dict) or "class_name" not in config:
        raise TypeError(f"Could not interpret function config: {config!r:.200}")
    class_name = config["class_name"]
    inner = config.get("config")
    if class_name == "__lambda__":
        if safe:
            raise ValueError(_UNSAFE_MESSAGE)
        if not isinstance(inner, dict):
            raise ValueError(f"Malformed lambda config: {inner!r:.200}")
        if "value" in inner:
            value = inner["value"]
            if not isinstance(value, (list, tuple)) or len(value) != 3:
                raise ValueError(f"Malformed lambda config value: {value!r:.200}")
            return load_bytecode(*value)
        return load_bytecode(inner.get("code"), inner.get("defaults"), inner.get("closure"))
    if class_name == "function":
        return serialization.resolve_function(inner, config.get("registered_name"), config.get("module"),
                                              safe_mode=safe)
    obj = serialization.deserialize_keras_object(config, safe_mode=safe)
    if not callable(obj):
        raise TypeError(f"Config {config!r:.200} does not describe a callable.")
    return obj
