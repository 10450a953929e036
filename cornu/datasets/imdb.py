"""IMDB movie reviews: 25,000 training and 25,000 test reviews labelled by sentiment (1 positive, 0 negative).

Each review is a list of word indices; words are indexed by frequency in the
training set (1 the most frequent), so ``num_words`` keeps the most common.
"""
from __future__ import annotations

import warnings

import numpy as np

from cornu.datasets import _sequences as seq
from cornu.utils.file_utils import get_file_at

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz"
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb_word_index.json"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"

Split = tuple[np.ndarray, np.ndarray]


def load_data(path: str = "imdb.npz", num_words: int | None = None, skip_top: int = 0, maxlen: int | None = None,
              seed: int = 113, start_char: int | None = 1, oov_char: int | None = 2, index_from: int = 3,
              **kwargs) -> tuple[Split, Split]:
    """Load IMDB as ``(x_train, y_train), (x_test, y_test)``, preprocessed as Keras does.

    ``x`` arrays are 1-D object arrays of int lists; ``y`` arrays are 0/1
    labels. Each split is shuffled with ``np.random.RandomState(seed)``;
    word indices are shifted by ``index_from`` and each review starts with
    ``start_char``; reviews of ``maxlen`` steps or more are dropped; indices
    outside ``[skip_top, num_words)`` become ``oov_char`` (dropped when it is
    None). ``path`` is relative to ``~/.keras/datasets`` (or
    ``$KERAS_HOME/datasets``); a file already there is used as is, otherwise
    it is downloaded and its SHA-256 checked. Other keyword arguments are
    ignored (with a warning), as in Keras.
    """
    if kwargs:
        warnings.warn(f"imdb.load_data ignores the unrecognized arguments {sorted(kwargs)}, as Keras does.",
                      stacklevel=2)
    path = get_file_at(path, origin=ORIGIN, file_hash=FILE_HASH)
    arrays = seq.load_sequence_arrays(path, ("x_train", "x_test"), ("y_train", "y_test"))
    seq.check_lengths(path, arrays, [("x_train", "y_train"), ("x_test", "y_test")])
    rng = np.random.RandomState(seed)
    splits = []
    for x_key, y_key in (("x_train", "y_train"), ("x_test", "y_test")):
        x, y = seq.shuffled(rng, arrays[x_key], arrays[y_key])
        splits.append(seq.prepare(x, y, maxlen=maxlen, start_char=start_char, index_from=index_from))
    if maxlen and not (len(splits[0][1]) and len(splits[1][1])):
        raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. "
                         "Increase maxlen.")
    flat = np.concatenate([splits[0][0], splits[1][0]])
    lengths = np.concatenate([splits[0][1], splits[1][1]])
    flat, lengths = seq.limit_vocabulary(flat, lengths, num_words, skip_top, oov_char)
    xs = seq.as_sequences(flat, lengths)
    n_train = len(splits[0][1])
    return (xs[:n_train], splits[0][2]), (xs[n_train:], splits[1][2])


def get_word_index(path: str = "imdb_word_index.json") -> dict[str, int]:
    """The ``{word: index}`` dictionary behind the reviews (before the ``index_from`` shift)."""
    path = get_file_at(path, origin=WORD_INDEX_ORIGIN, file_hash=WORD_INDEX_HASH)
    return seq.load_word_index(path)
