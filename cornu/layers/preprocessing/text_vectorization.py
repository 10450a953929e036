"""``TextVectorization``: text to token-id sequences or to multi-hot / count / TF-IDF vectors.

Each string is standardized (ASCII lowercasing and ASCII punctuation removal, as
Keras's TensorFlow ops do), split (ASCII whitespace or Unicode characters), turned
into n-grams (joined by a space, widths in order) and looked up through an inner
``StringLookup`` (``_lookup_layer``, where Keras keeps it, so saved files line up).
Callables given as ``standardize`` receive a NumPy str array and return one of the
same shape; ``split`` callables receive the 1-D array of documents and return one
sequence of tokens per document.
"""
from __future__ import annotations

import re
import string
from typing import Any, Callable

import numpy as np
import torch

from cornu import symbolic
from cornu.layers.layer import Layer
from cornu.layers.preprocessing.index_lookup import (MODES, as_string_array, device_of, idf_list,
                                                     iterate_adapt_batches, token_list)
from cornu.layers.preprocessing.string_lookup import StringLookup

_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")
_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_STRIP = str.maketrans("", "", string.punctuation)
_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")


def _standardize_one(text: str, mode: str) -> str:
    if mode in ("lower_and_strip_punctuation", "lower"):
        text = text.translate(_LOWER)
    if mode in ("lower_and_strip_punctuation", "strip_punctuation"):
        text = text.translate(_STRIP)
    return text


def _ngrams(tokens: list, widths: tuple) -> list:
    out: list = []
    for w in widths:
        if w == 1:
            out.extend(tokens)
        else:
            out.extend(" ".join(tokens[i:i + w]) for i in range(len(tokens) - w + 1))
    return out


class TextVectorization(Layer):
    """Standardize, split, n-gram and look up text; ``adapt`` learns the vocabulary from a corpus."""

    def __init__(self, max_tokens: int | None = None,
                 standardize: str | Callable | None = "lower_and_strip_punctuation",
                 split: str | Callable | None = "whitespace", ngrams: int | tuple | None = None,
                 output_mode: str = "int", output_sequence_length: int | None = None,
                 pad_to_max_tokens: bool = False, vocabulary: Any = None, idf_weights: Any = None,
                 sparse: bool = False, ragged: bool = False, encoding: str = "utf-8", name: str | None = None,
                 **kwargs):
        frozen_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        if output_mode not in MODES:
            raise ValueError("Unknown value for `output_mode` argument of TextVectorization. Allowed values are: "
                             f"{MODES}. Received: output_mode={output_mode}")
        if not (standardize is None or callable(standardize) or standardize in _STANDARDIZE):
            raise ValueError("Unknown value for `standardize` argument of TextVectorization. Allowed values are: "
                             f"{_STANDARDIZE}. Received: standardize={standardize}")
        if not (split is None or callable(split) or split in _SPLIT):
            raise ValueError("Unknown value for `split` argument of TextVectorization. Allowed values are: "
                             f"{_SPLIT}. Received: split={split}")
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        if not (ngrams is None or (isinstance(ngrams, int) and not isinstance(ngrams, bool))
                or (isinstance(ngrams, tuple) and all(isinstance(n, int) for n in ngrams))):
            raise ValueError(f"`ngrams` must be None, an integer, or a tuple of integers. Received: ngrams={ngrams}")
        if output_sequence_length is not None and output_mode != "int":
            raise ValueError("`output_sequence_length` must not be set if `output_mode` is not 'int'. "
                             f"Received output_sequence_length={output_sequence_length}.")
        if ragged:
            raise ValueError("`ragged=True` can only be used with the TensorFlow backend.")
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend.")
        self.max_tokens = max_tokens
        self.standardize = standardize
        self.split = split
        self.ngrams = ngrams
        self._widths = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self.output_mode = output_mode
        self.output_sequence_length = output_sequence_length
        self.pad_to_max_tokens = pad_to_max_tokens
        self.sparse = sparse
        self.ragged = ragged
        self.encoding = encoding
        self._config_vocabulary = None if vocabulary is None or isinstance(vocabulary, str) else \
            token_list(vocabulary, True, encoding)
        self._config_idf = None if idf_weights is None else idf_list(idf_weights)
        self._lookup_layer = StringLookup(max_tokens=max_tokens, mask_token="", vocabulary=vocabulary,
                                          idf_weights=idf_weights, output_mode=output_mode,
                                          pad_to_max_tokens=pad_to_max_tokens, encoding=encoding,
                                          vocabulary_size=frozen_size, name=f"{self.name}_lookup")

    # ------------------------------------------------------------- vocabulary
    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary by id (``""`` mask and ``"[UNK]"`` first in ``int`` mode)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights)

    @property
    def idf_weights(self) -> torch.Tensor | None:
        return self._lookup_layer.idf_weights

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the vocabulary (and IDF weights) from documents, streamed batch by batch."""
        lookup = self._lookup_layer
        if lookup._static_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static vocabulary via `vocabulary` "
                             "argument or `set_vocabulary()` method.")
        lookup.reset_state()
        for batch in iterate_adapt_batches(data, batch_size, steps):
            self.update_state(batch)
        lookup.finalize_state()

    def update_state(self, data: Any) -> None:
        docs = self._documents(as_string_array(data, self.encoding))
        if self.split is None:
            arr = docs.reshape(docs.shape[0], -1) if docs.ndim else docs.reshape(1, 1)
            doc_ids = np.repeat(np.arange(arr.shape[0]), arr.shape[1])
            self._lookup_layer.count_tokens(arr.reshape(-1), doc_ids, arr.shape[0])
            return
        tokens, lengths = self._tokenize(np.atleast_1d(docs))
        doc_ids = np.repeat(np.arange(len(lengths)), lengths)
        self._lookup_layer.count_tokens(tokens, doc_ids, len(lengths))

    # ---------------------------------------------------------------- tokens
    def _documents(self, arr: np.ndarray) -> np.ndarray:
        """The standardized documents: rank 0 or 1 (a trailing axis of size 1 is dropped) when splitting."""
        if self.split is not None and arr.ndim > 1:
            if arr.ndim == 2 and arr.shape[-1] == 1:
                arr = arr[:, 0]
            else:
                raise ValueError("When using `TextVectorization` to tokenize strings, the input rank must be 1 or "
                                 f"the last shape dimension must be 1. Received: inputs.shape={arr.shape} with "
                                 f"rank={arr.ndim}")
        if self.standardize is None:
            return arr
        if callable(self.standardize):
            return as_string_array(self.standardize(arr), self.encoding)
        if arr.size == 0:
            return arr
        uniques, inverse = np.unique(arr, return_inverse=True)
        done = np.array([_standardize_one(u, self.standardize) for u in uniques.tolist()], dtype="U")
        return done[inverse.reshape(-1)].reshape(arr.shape)

    def _split_docs(self, docs: np.ndarray) -> list:
        if callable(self.split):
            return [[str(t) for t in (seq.tolist() if isinstance(seq, np.ndarray) else seq)]
                    for seq in self.split(docs)]
        if self.split == "character":
            return [list(d) for d in docs.tolist()]
        return [[t for t in _WHITESPACE.split(d) if t] for d in docs.tolist()]

    def _tokenize(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat tokens (n-grams included) of 1-D ``docs`` and each document's token count."""
        seqs = self._split_docs(docs)
        if self._widths is not None:
            seqs = [_ngrams(s, self._widths) for s in seqs]
        lengths = np.asarray([len(s) for s in seqs], dtype=np.int64)
        flat = [t for s in seqs for t in s]
        return np.asarray(flat, dtype="U") if flat else np.zeros(0, dtype="U1"), lengths

    # ------------------------------------------------------------------- call
    def __call__(self, *args, **kwargs):
        """Symbolic inputs take the usual path; real ones (strings cannot become tensors) go straight to ``call``."""
        if symbolic.is_symbolic(*args, **kwargs):
            return super().__call__(*args, **kwargs)
        kwargs.pop("training", None)
        kwargs.pop("mask", None)
        self.built = True
        return self.call(*args, **kwargs)

    def call(self, inputs):
        lookup = self._lookup_layer
        lookup._require_vocabulary()
        docs = self._documents(as_string_array(inputs, self.encoding))
        if self.split is None:
            return lookup.call(docs)
        scalar = docs.ndim == 0
        tokens, lengths = self._tokenize(np.atleast_1d(docs))
        ids = lookup.lookup_strings(tokens)
        if self.output_mode == "int":
            width = self.output_sequence_length
            width = int(lengths.max(initial=0)) if width is None else width
            out = self._pad(ids, lengths, width, 0)
            out = torch.as_tensor(out, device=device_of(inputs))
            return out[0] if scalar else out
        out = torch.as_tensor(self._pad(ids, lengths, max(int(lengths.max(initial=0)), 1), -1),
                              device=device_of(inputs))
        encoded = lookup.encode(out)
        return encoded[0] if scalar and self.output_mode != "one_hot" else encoded

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self.split is None:
            return self._lookup_layer.compute_output_shape(shape)
        docs = shape[:1] if len(shape) else ()
        if self.output_mode == "int":
            return docs + (self.output_sequence_length,)
        if self.output_mode == "one_hot":
            return docs + (None, self._lookup_layer._depth)
        return docs + (self._lookup_layer._depth,)

    def compute_output_spec(self, inputs):
        dtype = "float32" if self.output_mode == "tf_idf" else "int64"
        return symbolic.KerasTensor(self.compute_output_shape(tuple(inputs.shape)), dtype=dtype)

    @staticmethod
    def _pad(ids: np.ndarray, lengths: np.ndarray, width: int, fill: int) -> np.ndarray:
        """Ragged ``ids`` (concatenated rows of ``lengths``) as a ``(rows, width)`` array, cut or padded."""
        out = np.full((len(lengths), width), fill, dtype=np.int64)
        if ids.size:
            rows = np.repeat(np.arange(len(lengths)), lengths)
            cols = np.arange(ids.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            keep = cols < width
            out[rows[keep], cols[keep]] = ids[keep]
        return out

    # ----------------------------------------------------------------- saving
    def save_assets(self, dir_path: str) -> None:
        """Keras writes the vocabulary both here and under ``_lookup_layer``."""
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path: str) -> None:
        self._lookup_layer.load_assets(dir_path)

    def save_own_variables(self, store: dict) -> None:
        self._lookup_layer.save_own_variables(store)

    def load_own_variables(self, store) -> None:
        self._lookup_layer.load_own_variables(store)

    def get_config(self) -> dict:
        return {**super().get_config(), "max_tokens": self.max_tokens, "standardize": self.standardize,
                "split": self.split, "ngrams": self.ngrams, "output_mode": self.output_mode,
                "output_sequence_length": self.output_sequence_length, "pad_to_max_tokens": self.pad_to_max_tokens,
                "sparse": self.sparse, "ragged": self.ragged, "vocabulary": self._config_vocabulary,
                "idf_weights": self._config_idf, "encoding": self.encoding,
                "vocabulary_size": self.vocabulary_size()}
