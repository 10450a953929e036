"""``keras.preprocessing.sequence``: ``pad_sequences``, as Keras 3 keeps it under this name."""
from cornu.utils.sequence_utils import pad_sequences

__all__ = ["pad_sequences"]
