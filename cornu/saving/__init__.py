"""``keras.saving``: the ``.keras`` archive, ``.weights.h5`` files and object (de)serialization."""
from cornu.saving.archive import load_model, save_model
from cornu.saving.file_editor import KerasFileEditor
from cornu.saving.object_registration import (CustomObjectScope, custom_object_scope, get_custom_objects,
                                              get_registered_name, get_registered_object,
                                              register_keras_serializable)
from cornu.saving.serialization import (deserialize_keras_object, enable_unsafe_deserialization,
                                        serialize_keras_object)
from cornu.saving.weights_h5 import load_weights, save_weights

__all__ = [
    "save_model", "load_model", "save_weights", "load_weights", "register_keras_serializable",
    "get_registered_object", "get_registered_name", "serialize_keras_object", "deserialize_keras_object",
    "custom_object_scope", "CustomObjectScope", "get_custom_objects", "enable_unsafe_deserialization",
    "KerasFileEditor",
]
