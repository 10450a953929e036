"""``keras.preprocessing``: Keras 3's aliases of the dataset utilities and its ``image`` / ``sequence`` helpers."""
from cornu.preprocessing import image, sequence
from cornu.utils.image_dataset_utils import image_dataset_from_directory
from cornu.utils.text_dataset_utils import text_dataset_from_directory
from cornu.utils.timeseries_dataset_utils import timeseries_dataset_from_array

__all__ = ["image", "image_dataset_from_directory", "sequence", "text_dataset_from_directory",
           "timeseries_dataset_from_array"]
