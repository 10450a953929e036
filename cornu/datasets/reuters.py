"""Reuters newswires: 11,228 articles over 46 topics, each a list of word indices (by frequency)."""
from __future__ import annotations

import numpy as np

from cornu.datasets import _sequences as seq
from cornu.utils.file_utils import get_file_at

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/reuters.npz"
FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/reuters_word_index.json"
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"

LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply", "coffee", "sugar",
    "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp",
    "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi", "iron-steel",
    "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog",
    "lead",
)

Split = tuple[np.ndarray, np.ndarray]


def load_data(path: str = "reuters.npz", num_words: int | None = None, skip_top: int = 0,
              maxlen: int | None = None, test_split: float = 0.2, seed: int = 113, start_char: int | None = 1,
              oov_char: int | None = 2, index_from: int = 3) -> tuple[Split, Split]:
    """Load Reuters as ``(x_train, y_train), (x_test, y_test)``, preprocessed as Keras does.

    The articles are shuffled with ``np.random.RandomState(seed)``, prepared
    as in ``imdb.load_data`` (``index_from``, ``start_char``, ``maxlen``,
    ``num_words``, ``skip_top``, ``oov_char``), then the last ``test_split``
    fraction is held out. ``y`` holds topic indices (see ``get_label_names``).
    """
    path = get_file_at(path, origin=ORIGIN, file_hash=FILE_HASH)
    arrays = seq.load_sequence_arrays(path, ("x",), ("y",))
    seq.check_lengths(path, arrays, [("x", "y")])
    x, y = seq.shuffled(np.random.RandomState(seed), arrays["x"], arrays["y"])
    flat, lengths, y = seq.prepare(x, y, maxlen=maxlen, start_char=start_char, index_from=index_from)
    if not len(lengths):
        raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. "
                         "Increase maxlen.")
    flat, lengths = seq.limit_vocabulary(flat, lengths, num_words, skip_top, oov_char)
    xs = seq.as_sequences(flat, lengths)
    n_train = int(len(xs) * (1 - test_split))
    return (xs[:n_train], y[:n_train]), (xs[n_train:], y[n_train:])


def get_word_index(path: str = "reuters_word_index.json") -> dict[str, int]:
    """The ``{word: index}`` dictionary behind the articles (before the ``index_from`` shift)."""
    path = get_file_at(path, origin=WORD_INDEX_ORIGIN, file_hash=WORD_INDEX_HASH)
    return seq.load_word_index(path)


def get_label_names() -> tuple[str, ...]:
    """The 46 topic names, in label order."""
    return LABEL_NAMES
