"""``keras.utils``: data helpers, seeding, progress bar, dataset download."""
from cornu.utils.file_utils import get_file
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


def clear_session(free_memory: bool = True) -> None:
    """Alias of ``keras.backend.clear_session`` (Keras 3 exposes both)."""
    from cornu.backend import clear_session as _clear

    _clear(free_memory)
