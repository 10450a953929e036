"""``DTypePolicyMap``: per-layer-path dtype policies (keys are paths or regular expressions)."""
from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any, Iterator

from cornu.dtype_policies.dtype_policy import DTypePolicy


class DTypePolicyMap(DTypePolicy, MutableMapping):
    """A dict from layer paths to ``DTypePolicy``; a path with no entry gets ``default_policy``.

    A lookup tries the path as a key, then every key as a regular expression
    that must match the whole path; a path matched by two keys is an error.
    As a policy itself it acts as its default policy.
    """

    def __init__(self, default_policy: Any = None, policy_map: dict | None = None):
        from cornu import dtype_policies

        if isinstance(default_policy, DTypePolicyMap):
            raise ValueError("`default_policy` cannot be a `DTypePolicyMap`.")
        if policy_map is not None and not isinstance(policy_map, dict):
            raise TypeError("If specified, `policy_map` must be a dict. "
                            f"Received: policy_map={policy_map!r} of type {type(policy_map)}")
        self._default_policy_arg = default_policy
        self._default_policy = dtype_policies.get(default_policy)
        self._policy_map: dict[str, DTypePolicy] = {}
        for key, policy in (policy_map or {}).items():
            self[key] = policy

    @property
    def name(self) -> str:
        return f"map_{self._default_policy.name}"

    @property
    def default_policy(self) -> DTypePolicy:
        """The policy of paths no key matches (the global policy when none was given)."""
        return self._default_policy

    @property
    def compute_dtype(self) -> str:
        return self._default_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self._default_policy.variable_dtype

    @property
    def quantization_mode(self) -> str | None:
        return self._default_policy.quantization_mode

    def __getitem__(self, key: str) -> DTypePolicy:
        if key in self._policy_map:
            return self._policy_map[key]
        matches = [k for k in self._policy_map if re.fullmatch(k, key)]
        if len(matches) > 1:
            raise ValueError(f"Path {key!r} matches multiple dtype policy specification keys: {matches}. Please "
                             "make sure each path only matches at most one dtype policy specification key in the "
                             "DTypePolicyMap.")
        return self._policy_map[matches[0]] if matches else self._default_policy

    def __setitem__(self, key: str, policy: Any) -> None:
        from cornu import dtype_policies

        if key in self._policy_map:
            raise ValueError(f"{key} already exist in the DTypePolicyMap with value {self._policy_map[key]}. "
                             "Please make sure to not use duplicated keys.")
        try:
            policy = dtype_policies.get(policy)
        except Exception as e:
            raise ValueError("Cannot interpret the assigned value by `keras.dtype_policies.get`. "
                             f"Received: {policy!r} of type {type(policy)}") from e
        self._policy_map[key] = policy

    def __delitem__(self, key: str) -> None:
        del self._policy_map[key]

    def __contains__(self, key: object) -> bool:
        return key in self._policy_map

    def __iter__(self) -> Iterator[str]:
        return iter(self._policy_map)

    def __len__(self) -> int:
        return len(self._policy_map)

    def get_config(self) -> dict:
        from cornu import dtype_policies

        return {"default_policy": self._default_policy_arg,
                "policy_map": {k: dtype_policies.serialize(v) for k, v in self._policy_map.items()}}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "DTypePolicyMap":
        from cornu import dtype_policies

        config = dict(config)
        default = config.pop("default_policy", None)
        if isinstance(default, dict):
            default = dtype_policies.deserialize(default, custom_objects)
        policy_map = {k: dtype_policies.deserialize(v, custom_objects) if isinstance(v, dict) else v
                      for k, v in (config.pop("policy_map", None) or {}).items()}
        return cls(default_policy=default, policy_map=policy_map, **config)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, DTypePolicyMap) and self._default_policy == other._default_policy \
            and self._policy_map == other._policy_map

    __hash__ = None

    def __repr__(self) -> str:
        mapping = [(k, v.name) for k, v in self._policy_map.items()]
        return f"<DTypePolicyMap at {hex(id(self))} default_policy={self._default_policy.name}, mapping={mapping}>"

