"""``keras.utils.Config``: a dict whose entries are also attributes, which can be frozen."""
from __future__ import annotations

import json
from typing import Any


class Config:
    """Attribute-style configuration (``config.learning_rate = 1e-3``) that can be frozen against changes."""

    def __init__(self, **kwargs: Any):
        object.__setattr__(self, "_config", dict(kwargs))
        object.__setattr__(self, "_frozen", False)

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        """Refuse any further change."""
        object.__setattr__(self, "_frozen", True)

    def unfreeze(self) -> None:
        object.__setattr__(self, "_frozen", False)

    def _check_mutable(self) -> None:
        if self._frozen:
            raise ValueError("Cannot mutate attribute(s) because the config is frozen.")

    def __getattr__(self, name: str) -> Any:
        config = self.__dict__.get("_config", {})
        if name in config:
            return config[name]
        raise AttributeError(f"Unknown attribute: '{name}'.")

    def __setattr__(self, name: str, value: Any) -> None:
        self._check_mutable()
        self._config[name] = value

    def __delattr__(self, name: str) -> None:
        self._check_mutable()
        if name not in self._config:
            raise AttributeError(f"Unknown attribute: '{name}'.")
        del self._config[name]

    def __getitem__(self, key: str) -> Any:
        return self._config[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._check_mutable()
        self._config[key] = value

    def __delitem__(self, key: str) -> None:
        self._check_mutable()
        del self._config[key]

    def __contains__(self, key: object) -> bool:
        return key in self._config

    def __iter__(self):
        return iter(self._config)

    def __len__(self) -> int:
        return len(self._config)

    def __repr__(self) -> str:
        return f"<Config {self._config}>"

    def get(self, key: str, default: Any = None) -> Any:
        return self._config.get(key, default)

    def keys(self):
        return self._config.keys()

    def values(self):
        return self._config.values()

    def items(self):
        return self._config.items()

    def pop(self, *args: Any) -> Any:
        self._check_mutable()
        return self._config.pop(*args)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._check_mutable()
        self._config.update(*args, **kwargs)

    def as_dict(self) -> dict:
        """A plain-dict copy."""
        return dict(self._config)

    def to_json(self) -> str:
        return json.dumps(self._config)
