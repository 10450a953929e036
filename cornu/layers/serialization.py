"""``keras.layers.serialize`` / ``deserialize``: a layer to and from its ``{"module", "class_name", "config"}``."""
from __future__ import annotations

from typing import Any


def serialize(layer: Any) -> dict:
    """The serialized config of ``layer`` (as ``keras.saving.serialize_keras_object`` writes it)."""
    from cornu.saving.serialization import serialize_keras_object

    return serialize_keras_object(layer)


def deserialize(config: Any, custom_objects: dict | None = None) -> Any:
    """The layer a ``serialize`` dict describes; ``ValueError`` when the config describes something else."""
    from cornu.layers.layer import Layer
    from cornu.saving.serialization import deserialize_keras_object

    obj = deserialize_keras_object(config, custom_objects=custom_objects) if isinstance(config, dict) else config
    if not isinstance(obj, Layer):
        raise ValueError("`keras.layers.deserialize` was passed a `config` object that is not a "
                         f"`keras.layers.Layer`. Received: {config!r}")
    return obj
