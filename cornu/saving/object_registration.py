"""Custom objects: ``register_keras_serializable`` and ``custom_object_scope``.

A registered class or function is saved under ``"<package>>Name"`` and found
again by that name on load. ``custom_object_scope`` (and the
``custom_objects=`` argument of the loaders) makes names resolvable for the
duration of a block without registering them globally.
"""
from __future__ import annotations

import contextvars
import inspect
from typing import Any, Callable

GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}

_SCOPE: contextvars.ContextVar[dict] = contextvars.ContextVar("cornu_custom_object_scope", default={})


class CustomObjectScope:
    """Make custom objects resolvable by name inside a ``with`` block.

    ``with CustomObjectScope({"MyLayer": MyLayer}): load_model(path)``.
    Several dicts may be given; later ones win. Scopes nest.
    """

    def __init__(self, custom_objects: dict | None = None, *more: dict | None):
        objects = (custom_objects, *more)
        for i, mapping in enumerate(objects):
            if mapping is not None and not isinstance(mapping, dict):
                raise TypeError(f"CustomObjectScope expects dicts of name -> object; argument {i} is "
                                f"{mapping!r} of type {type(mapping).__name__}.")
        self.custom_objects: dict[str, Any] = {}
        for mapping in objects:
            self.custom_objects.update(mapping or {})
        self._token: contextvars.Token | None = None

    def __enter__(self) -> "CustomObjectScope":
        self._token = _SCOPE.set({**_SCOPE.get(), **self.custom_objects})
        return self

    def __exit__(self, *exc: Any) -> None:
        _SCOPE.reset(self._token)
        self._token = None


custom_object_scope = CustomObjectScope


def get_custom_objects() -> dict[str, Any]:
    """The global registry dict (registered name -> object); editing it registers objects."""
    return GLOBAL_CUSTOM_OBJECTS


def scope_objects() -> dict[str, Any]:
    """Objects made visible by the ``custom_object_scope`` blocks currently open."""
    return dict(_SCOPE.get())


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable[[Any], Any]:
    """Decorator registering a class or function under ``"<package>>name"`` (``name`` defaults to ``__name__``)."""
    if not isinstance(package, str) or not package or ">" in package:
        raise ValueError(f"`package` must be a non-empty string without '>'. Received: package={package!r}")
    if name is not None and (not isinstance(name, str) or not name or ">" in name):
        raise ValueError(f"`name` must be None or a non-empty string without '>'. Received: name={name!r}")

    def decorator(obj: Any) -> Any:
        registered_name = f"{package}>{name if name is not None else obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(f"Cannot register {obj.__name__!r} as {registered_name!r}: a registered class "
                             "must implement `get_config()`.")
        GLOBAL_CUSTOM_OBJECTS[registered_name] = obj
        GLOBAL_CUSTOM_NAMES[obj] = registered_name
        return obj

    return decorator


def get_registered_name(obj: Any) -> str:
    """The name ``obj`` is registered under, or its ``__name__`` when it is not registered."""
    try:
        return GLOBAL_CUSTOM_NAMES[obj]
    except (KeyError, TypeError):
        return obj.__name__


def get_registered_object(name: str | None, custom_objects: dict | None = None,
                          module_objects: dict | None = None) -> Any:
    """Look ``name`` up in the open scopes, the registry, ``custom_objects`` then ``module_objects``."""
    if not isinstance(name, str):
        return None
    for table in (_SCOPE.get(), GLOBAL_CUSTOM_OBJECTS, custom_objects or {}, module_objects or {}):
        if name in table:
            return table[name]
    return None
