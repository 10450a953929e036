"""``keras.dtype_policies``: dtype policies (variable and compute dtypes of layers) and their configs."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cornu import config as _config
from cornu.dtype_policies.dtype_policy import DTypePolicy, FloatDTypePolicy
from cornu.dtype_policies.dtype_policy import dtype_policy as _global_policy
from cornu.dtype_policies.dtype_policy_map import DTypePolicyMap

ALL_OBJECTS = (DTypePolicy, FloatDTypePolicy, DTypePolicyMap)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}

# Where Keras exports each class: the module key of its configs.
_MODULES = {DTypePolicy: "keras", FloatDTypePolicy: "keras", DTypePolicyMap: "keras.dtype_policies"}


def serialize(dtype_policy: Any) -> Any:
    """``{"module", "class_name", "config", "registered_name"}`` of a policy (anything else passes through)."""
    if not isinstance(dtype_policy, DTypePolicy):
        return dtype_policy
    cls = type(dtype_policy)
    inner = dtype_policy.get_config()
    if isinstance(dtype_policy, DTypePolicyMap):
        inner = {**inner, "default_policy": serialize(inner["default_policy"])}
    if cls in _MODULES:
        return {"module": _MODULES[cls], "class_name": cls.__name__, "config": inner, "registered_name": None}
    from cornu.saving.object_registration import get_registered_name

    return {"module": cls.__module__, "class_name": cls.__name__, "config": inner,
            "registered_name": get_registered_name(cls)}


def deserialize(config: Any, custom_objects: dict | None = None) -> Any:
    """The policy a ``serialize`` dict describes (a class named there must be a policy class).

    A string passes through unchanged, as in Keras (``get`` turns names into policies).
    """
    if isinstance(config, str):
        return config
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Unknown `config` as a `dict`, config={config!r}")
    class_name = config["class_name"]
    cls = ALL_OBJECTS_DICT.get(class_name)
    if cls is None:
        from cornu.saving.object_registration import get_registered_object

        for key in (config.get("registered_name"), class_name):
            found = get_registered_object(key, custom_objects) if key else None
            if isinstance(found, type) and issubclass(found, DTypePolicy):
                cls = found
                break
    if cls is None:
        raise ValueError(f"Could not interpret dtype policy class {class_name!r}: expected one of "
                         f"{sorted(ALL_OBJECTS_DICT)} or a registered DTypePolicy subclass. "
                         f"Received: config={config!r}")
    inner = config.get("config") or {}
    if issubclass(cls, DTypePolicyMap):
        return cls.from_config(inner, custom_objects=custom_objects)
    return cls.from_config(inner)


def get(identifier: Any) -> DTypePolicy:
    """A policy from ``None`` (the global policy), a name, a dtype, a config dict or a policy."""
    if identifier is None:
        return _global_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    if isinstance(identifier, type) and issubclass(identifier, np.generic):
        identifier = np.dtype(identifier)
    if isinstance(identifier, (np.dtype, torch.dtype)):
        return DTypePolicy(_config.standardize_dtype(identifier))
    raise ValueError("Cannot interpret `dtype` argument. Expected a string or an instance of DTypePolicy. "
                     f"Received: dtype={identifier!r}")


__all__ = ["DTypePolicy", "DTypePolicyMap", "FloatDTypePolicy", "deserialize", "get", "serialize"]
