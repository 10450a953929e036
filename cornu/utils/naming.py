"""Keras-style automatic names: ``dense``, ``dense_1``, ``dense_2`` ..."""
from __future__ import annotations

import collections
import re

_COUNTS: collections.Counter = collections.Counter()


def to_snake_case(name: str) -> str:
    """``Conv2D`` -> ``conv2d``, ``MaxPooling2D`` -> ``max_pooling2d``."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()
    return s.lstrip("_") or "layer"


def uniquify(base: str) -> str:
    """Return ``base`` the first time, then ``base_1``, ``base_2`` ..."""
    n = _COUNTS[base]
    _COUNTS[base] += 1
    return base if n == 0 else f"{base}_{n}"


_UIDS: collections.Counter = collections.Counter()


def get_uid(prefix: str = "") -> int:
    """``keras.backend.get_uid``: 1, 2, 3... per ``prefix`` (reset by ``clear_session``)."""
    _UIDS[prefix] += 1
    return _UIDS[prefix]


def reset_names() -> None:
    """Forget all names and uids handed out (``keras.backend.clear_session``)."""
    _COUNTS.clear()
    _UIDS.clear()
