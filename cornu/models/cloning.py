"""Model-level helpers: ``model_from_json`` and ``clone_model`` (architecture without weights)."""
from __future__ import annotations

import json
from typing import Any


def model_from_json(json_string: str, custom_objects: dict | None = None) -> Any:
    """Rebuild a model (new, untrained weights) from ``model.to_json()``."""
    from cornu.saving import deserialize_keras_object

    try:
        config = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as err:
        raise ValueError(f"`model_from_json` expects the JSON string of `model.to_json()`: {err}") from None
    return deserialize_keras_object(config, custom_objects=custom_objects)


def clone_model(model: Any, custom_objects: dict | None = None) -> Any:
    """A new model with the same architecture and freshly initialised weights (Keras's default clone)."""
    from cornu.saving import deserialize_keras_object, serialize_keras_object

    return deserialize_keras_object(serialize_keras_object(model), custom_objects=custom_objects)
