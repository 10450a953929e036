"""One resolution rule for the small object families (initializers, regularizers, constraints).

``serialize`` gives ``{"class_name", "config"}``; ``deserialize`` accepts that or a
bare name, looking names up only in the family's table (plus ``custom_objects``);
``get`` also takes None, a class or a callable.
"""
from __future__ import annotations

import inspect
from typing import Any


def serialize(obj: Any) -> dict:
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize {obj!r}: it has no `get_config()`.")
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def deserialize(config: dict | str, table: dict, kind: str, custom_objects: dict | None = None) -> Any:
    objects = {**table, **(custom_objects or {})}
    if isinstance(config, str):
        config = {"class_name": config, "config": {}}
    if not isinstance(config, dict) or "class_name" not in config:
        raise TypeError(f"{kind.capitalize()} config must be a name or a dict with 'class_name'. Received: {config!r}")
    name = config["class_name"]
    if name not in objects:
        from cornu.saving import object_registration

        found = object_registration.get_registered_object(config.get("registered_name") or name, custom_objects)
        if found is not None:
            objects[name] = found
    if name not in objects:
        raise ValueError(f"Unknown {kind}: {name!r}. Valid names are: {sorted(table)}")
    cls = objects[name]
    inner = config.get("config") or {}
    return cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)


def get(identifier: Any, table: dict, kind: str) -> Any:
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier, table, kind)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")
