"""``keras.utils``: data helpers, seeding, progress bar, dataset download."""
from cornu.utils.file_utils import get_file
from cornu.utils import bounding_boxes
from cornu.utils.audio_dataset_utils import audio_dataset_from_directory
from cornu.utils.dataset import Dataset
from cornu.utils.dataset_utils import split_dataset
from cornu.utils.image_dataset_utils import image_dataset_from_directory
from cornu.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from cornu.utils.text_dataset_utils import text_dataset_from_directory
from cornu.utils.timeseries_dataset_utils import timeseries_dataset_from_array
from cornu.utils.numerical_utils import normalize, to_categorical
from cornu.utils.progbar import Progbar
from cornu.utils.py_dataset import PyDataset
from cornu.utils.rng_utils import set_random_seed
from cornu.utils.sequence_utils import pad_sequences
from cornu.utils.config_dict import Config
from cornu.utils.dtype_utils import is_float_dtype, is_int_dtype, result_type
from cornu.utils.io_utils import disable_interactive_logging, enable_interactive_logging, is_interactive_logging_enabled
from cornu.utils.keras_tensor_utils import get_source_inputs, is_keras_tensor
from cornu.config import standardize_dtype

Sequence = PyDataset  # Keras 3 keeps the old name as an alias

# Names defined in modules that import much of cornu (saving, trainers, visualization): loaded on first use
# so that importing cornu.utils (which layers do) stays cheap and cycle-free.
_LAZY = {
    "register_keras_serializable": "cornu.saving.object_registration",
    "get_custom_objects": "cornu.saving.object_registration",
    "custom_object_scope": "cornu.saving.object_registration",
    "CustomObjectScope": "cornu.saving.object_registration",
    "get_registered_name": "cornu.saving.object_registration",
    "get_registered_object": "cornu.saving.object_registration",
    "serialize_keras_object": "cornu.saving.serialization",
    "deserialize_keras_object": "cornu.saving.serialization",
    "pack_x_y_sample_weight": "cornu.utils.data_utils",
    "unpack_x_y_sample_weight": "cornu.utils.data_utils",
    "plot_model": "cornu.utils.model_visualization",
    "model_to_dot": "cornu.utils.model_visualization",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cornu.utils' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def clear_session(free_memory: bool = True) -> None:
    """Alias of ``keras.backend.clear_session`` (Keras 3 exposes both)."""
    from cornu.backend import clear_session as _clear

    _clear(free_memory)
