"""The shared base of ``StringLookup`` and ``IntegerLookup``: a vocabulary, learned or given, mapping tokens to ids.

A vocabulary is laid out as Keras lays it out: in ``"int"`` mode the mask token
(if any) at index 0, then ``num_oov_indices`` OOV slots, then the tokens; in the
other modes the mask is left out (masked inputs are dropped). ``adapt`` counts
tokens batch by batch (only the counts are kept) and orders them by descending
count, ties by descending token, as Keras does. Integer tokens are looked up on
the input's device with tensor ops (``IntegerLookup``); strings (which torch
cannot hold) go through one dict lookup per distinct token.
"""
from __future__ import annotations

import os
from collections import Counter
from typing import Any, Iterator

import numpy as np
import torch

from cornu import config, symbolic
from cornu.layers.layer import Layer
from cornu.layers.preprocessing._hash_functions import fingerprint64, siphash24
from cornu.layers.preprocessing.category_encoding import encode_tokens, encoded_shape
from cornu.layers.preprocessing.hashing import salt_key

MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
VOCABULARY_FILE = "vocabulary.txt"
_ADAPT_ROWS = 4096


class _Vocab:
    """The tokens (no special ones) and what lookups need, kept off the module tree (no tracking per token)."""

    def __init__(self, tokens: list):
        self.tokens = tokens
        self.position = {t: i for i, t in enumerate(tokens)}
        self.tables: dict = {}


class _Idf:
    """IDF weights (float32 NumPy, one per id) and their per-(depth, device) tensors."""

    def __init__(self, values: np.ndarray):
        self.values = values
        self.tables: dict = {}


class _Counts:
    """Streaming adapt state: token counts, and document counts for TF-IDF."""

    def __init__(self):
        self.tokens: Counter = Counter()
        self.docs: Counter = Counter()
        self.num_docs = 0


def iterate_adapt_batches(data: Any, batch_size: int | None = None, steps: int | None = None) -> Iterator[Any]:
    """The batches ``adapt`` reads: arrays, tensors and lists sliced by rows, other iterables read as they come."""
    from cornu.utils.py_dataset import PyDataset, iterate_py_dataset

    if isinstance(data, PyDataset):
        source: Any = iterate_py_dataset(data, steps)
    elif isinstance(data, (np.ndarray, torch.Tensor, list, tuple, str, bytes)):
        if isinstance(data, torch.Tensor):
            data = data.detach().cpu().numpy()
        arr = np.asarray(data) if not isinstance(data, np.ndarray) else data
        rows = batch_size or _ADAPT_ROWS
        source = (arr[i:i + rows] for i in range(0, arr.shape[0], rows)) if arr.ndim else iter([arr])
    elif hasattr(data, "__iter__") or hasattr(data, "__next__"):
        source = iter(data)
    else:
        raise TypeError(f"Unsupported data type for adapt(): {type(data).__name__}. Expected a NumPy array, a "
                        "list, a tensor, a PyDataset or an iterable of batches.")
    for i, batch in enumerate(source):
        if steps is not None and i >= steps:
            break
        if isinstance(batch, tuple) and len(batch) in (2, 3) and not isinstance(batch[0], (str, bytes)):
            batch = batch[0]
        yield batch


def as_string_array(x: Any, encoding: str = "utf-8") -> np.ndarray:
    """Strings of any rank as a NumPy unicode array (bytes decoded with ``encoding``)."""
    if isinstance(x, torch.Tensor):
        raise ValueError(f"Expected string inputs, received a tensor of dtype {x.dtype}.")
    arr = np.asarray(x)
    if arr.dtype.kind == "U":
        return arr
    if arr.dtype.kind == "S":
        return np.char.decode(arr, encoding) if arr.size else arr.astype("U")
    if arr.dtype.kind == "O":
        flat = [v.decode(encoding) if isinstance(v, bytes) else str(v) for v in arr.reshape(-1)]
        return np.array(flat, dtype="U").reshape(arr.shape) if flat else arr.astype("U")
    raise ValueError(f"Expected string inputs, received an array of dtype {arr.dtype}.")


def token_list(values: Any, strings: bool = True, encoding: str = "utf-8") -> list:
    """A vocabulary (list, array or tensor) as a list of plain Python ``str`` (bytes decoded) or ``int``."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    if isinstance(values, np.ndarray):
        values = values.reshape(-1).tolist()
    return [to_token(v, strings, encoding) for v in values]


def idf_list(weights: Any) -> list:
    """IDF weights (list, array or tensor) as a list of Python floats."""
    if isinstance(weights, torch.Tensor):
        weights = weights.detach().cpu().numpy()
    return np.asarray(weights, dtype=np.float64).reshape(-1).tolist()


def to_token(value: Any, strings: bool = True, encoding: str = "utf-8") -> Any:
    value = value.item() if isinstance(value, np.generic) else value
    if strings:
        return value.decode(encoding) if isinstance(value, bytes) else value
    return int(value)


class IndexLookup(Layer):
    """Maps tokens to contiguous ids through a vocabulary; subclasses fix the token kind (strings or integers)."""

    _string_tokens = True

    def __init__(self, max_tokens: int | None, num_oov_indices: int, mask_token: Any, oov_token: Any,
                 vocabulary: Any = None, idf_weights: Any = None, invert: bool = False, output_mode: str = "int",
                 sparse: bool = False, pad_to_max_tokens: bool = False, oov_method: str = "floormod",
                 salt: Any = None, encoding: str = "utf-8", **kwargs):
        # A saved config's size: output shapes before ``load_assets`` brings the vocabulary itself.
        frozen_size = kwargs.pop("vocabulary_size", None)
        super().__init__(**kwargs)
        self._frozen_vocabulary_size = frozen_size
        cls = type(self).__name__
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"If set, `max_tokens` must be greater than 1. Received: max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"If pad_to_max_tokens is True, must set `max_tokens`. Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError("`num_oov_indices` must be greater than or equal to 0. "
                             f"Received: num_oov_indices={num_oov_indices}")
        if output_mode not in MODES:
            raise ValueError(f"Unknown value for `output_mode` argument of {cls}. Allowed values are: {MODES}. "
                             f"Received: output_mode={output_mode}")
        if invert and output_mode != "int":
            raise ValueError("`output_mode` must be `'int'` when `invert` is true. "
                             f"Received: output_mode={output_mode}")
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend.")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError("`idf_weights` should only be set if `output_mode` is `'tf_idf'`. "
                             f"Received: idf_weights={idf_weights} and output_mode={output_mode}")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"Unknown value for `oov_method` argument of {cls}. Allowed values are: "
                             f"('floormod', 'farmhash'). Received: oov_method={oov_method}")
        try:
            self._salt_key = salt_key(salt)
        except ValueError:
            raise ValueError("The `salt` argument for `IndexLookup` can only be a tuple of 2 integers, or a single "
                             f"integer. Received: salt={salt}.") from None
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.invert = invert
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = pad_to_max_tokens
        self.oov_method = oov_method
        self.salt = None if self._salt_key is None else list(self._salt_key)
        self.encoding = encoding
        self._vocab: _Vocab | None = None
        self._idf: _Idf | None = None
        self._counts: _Counts | None = None
        self._static_vocabulary = False
        self._config_vocabulary = None
        self._config_idf = None
        if vocabulary is not None:
            if isinstance(vocabulary, (str, os.PathLike)):
                self.set_vocabulary(vocabulary, idf_weights)
            else:
                values = self._to_list(vocabulary)
                if output_mode == "tf_idf" and idf_weights is None:
                    raise ValueError("When specifying the `vocabulary` argument, in TF-IDF output mode, the "
                                     "`idf_weights` argument must also be provided.")
                self.set_vocabulary(values, idf_weights)
                self._config_vocabulary = values
                if idf_weights is not None:
                    self._config_idf = idf_list(idf_weights)

    # ------------------------------------------------------------- vocabulary
    def _to_list(self, values: Any) -> list:
        return token_list(values, self._string_tokens, self.encoding)

    def _token(self, value: Any) -> Any:
        return to_token(value, self._string_tokens, self.encoding)

    def _special_tokens(self, int_layout: bool) -> list:
        mask = [self.mask_token] if self.mask_token is not None and int_layout else []
        return mask + [self.oov_token] * self.num_oov_indices

    @property
    def _token_start(self) -> int:
        return len(self._special_tokens(self.output_mode == "int"))

    def _read_vocabulary_file(self, path: str | os.PathLike) -> list:
        with open(path, encoding=self.encoding) as f:
            lines = f.read().split("\n")
        if lines and lines[-1] == "":
            lines = lines[:-1]
        return [self._token(line) for line in lines]

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Set the vocabulary (a list, array, tensor or a text file with one token per line) and, in ``tf_idf``
        mode, the matching ``idf_weights``. Special tokens may lead the list, in the layer's order."""
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        if idf_weights is not None and self.output_mode != "tf_idf":
            raise ValueError("`idf_weights` should only be set if output_mode is `'tf_idf'`. "
                             f"Received: output_mode={self.output_mode} and idf_weights={idf_weights}")
        self._set_vocabulary(vocabulary, idf_weights)
        self._static_vocabulary = True

    def _set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        if isinstance(vocabulary, (str, os.PathLike)):
            if not os.path.isfile(vocabulary):
                raise ValueError(f"Vocabulary file {vocabulary} does not exist.")
            tokens = self._read_vocabulary_file(vocabulary)
        else:
            tokens = self._to_list(vocabulary)
        if not tokens:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={tokens}")
        for layout in (True, False):
            special = self._special_tokens(layout)
            if special and tokens[:len(special)] == special:
                tokens = tokens[len(special):]
                break
        if self.mask_token is not None and self.mask_token in tokens:
            raise ValueError("Found reserved mask token at unexpected location in `vocabulary`. Note that passed "
                             "`vocabulary` does not need to include the OOV and mask tokens. Either remove all mask "
                             "and OOV tokens, or include them only at the start of the vocabulary in precisely this "
                             f"order: {self._special_tokens(True)}. Received: mask_token={self.mask_token}")
        if len(set(tokens)) != len(tokens):
            repeated = sorted({t for t, c in Counter(tokens).items() if c > 1})
            raise ValueError("The passed vocabulary has at least one repeated term. Please uniquify your dataset. "
                             f"The repeated terms are: {repeated}")
        size = self._token_start + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError("Attempted to set a vocabulary larger than the maximum vocab size. Received vocabulary "
                             f"size is {size}; `max_tokens` is {self.max_tokens}.")
        self._vocab = _Vocab(tokens)
        if idf_weights is not None:
            idf = np.asarray(idf_list(idf_weights), dtype=np.float64)
            if len(idf) != len(tokens):
                raise ValueError("`idf_weights` must be the same length as vocabulary. len(idf_weights) is "
                                 f"{len(idf)}; len(vocabulary) is {len(tokens)}")
            oov = np.full(self.num_oov_indices, idf.mean() if idf.size else 0.0)
            self._set_idf(np.concatenate([oov, idf]))

    def _set_idf(self, idf: np.ndarray | None) -> None:
        self._idf = None if idf is None else _Idf(np.asarray(idf, dtype=np.float32).reshape(-1))

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary, ordered by id; special tokens (mask in ``int`` mode, OOV) first unless excluded."""
        tokens = list(self._vocab.tokens) if self._vocab is not None else []
        if not include_special_tokens:
            return tokens
        return self._special_tokens(self.output_mode == "int") + tokens

    def vocabulary_size(self) -> int:
        """The number of ids the layer maps to, special tokens included."""
        return self._token_start + (len(self._vocab.tokens) if self._vocab is not None else 0)

    @property
    def idf_weights(self) -> torch.Tensor | None:
        """The inverse document frequency of each id (``tf_idf`` mode), or None."""
        return None if self._idf is None else torch.as_tensor(self._idf.values)

    # ------------------------------------------------------------------ adapt
    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the vocabulary (and IDF weights in ``tf_idf`` mode) from ``data``, streamed batch by batch."""
        if self._static_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static vocabulary via `vocabulary` "
                             "argument or `set_vocabulary()` method.")
        self.reset_state()
        for batch in iterate_adapt_batches(data, batch_size, steps):
            self.update_state(batch)
        self.finalize_state()

    def reset_state(self) -> None:
        self._counts = _Counts()

    def update_state(self, data: Any) -> None:
        """Count the tokens of one batch; each row (each element of a 1-D batch) is one document."""
        arr = self._adapt_array(data)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        docs = arr.reshape(arr.shape[0], -1)
        doc_ids = np.repeat(np.arange(docs.shape[0]), docs.shape[1])
        self.count_tokens(docs.reshape(-1), doc_ids, docs.shape[0])

    def _adapt_array(self, data: Any) -> np.ndarray:
        if self._string_tokens:
            return as_string_array(data, self.encoding)
        if isinstance(data, torch.Tensor):
            data = data.detach().cpu().numpy()
        return np.asarray(data).astype(np.int64)

    def count_tokens(self, tokens: np.ndarray, doc_ids: np.ndarray, num_docs: int) -> None:
        """Add flat ``tokens`` to the counts; ``doc_ids`` says which of ``num_docs`` documents each comes from."""
        if self._counts is None:
            self.reset_state()
        self._counts.num_docs += num_docs
        if tokens.size == 0:
            return
        uniques, inverse, counts = np.unique(tokens, return_inverse=True, return_counts=True)
        keep = np.ones(len(uniques), dtype=bool)
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                keep &= uniques != special
        self._counts.tokens.update(dict(zip(uniques[keep].tolist(), counts[keep].tolist())))
        if self.output_mode == "tf_idf":
            pairs = np.unique(doc_ids.astype(np.int64) * len(uniques) + inverse.reshape(-1))
            doc_counts = np.bincount(pairs % len(uniques), minlength=len(uniques))
            self._counts.docs.update(dict(zip(uniques[keep].tolist(), doc_counts[keep].tolist())))

    def finalize_state(self) -> None:
        """Order the counted tokens (descending count, ties by descending token) and set the vocabulary."""
        counts = self._counts or _Counts()
        ranked = sorted(counts.tokens.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
        if self.max_tokens is not None:
            ranked = ranked[:max(self.max_tokens - self._token_start, 0)]
        tokens = [t for t, _ in ranked]
        self._vocab = _Vocab(tokens)
        if self.output_mode == "tf_idf":
            docs = np.array([counts.docs[t] for t in tokens], dtype=np.float64)
            idf = np.log1p(counts.num_docs / (1.0 + docs))
            oov = np.full(self.num_oov_indices, idf.mean() if idf.size else 0.0)
            self._set_idf(np.concatenate([oov, idf]))
        self._counts = None

    # ------------------------------------------------------------------- call
    def __call__(self, *args, **kwargs):
        """Symbolic inputs take the usual path; real ones (strings cannot become tensors) go straight to ``call``."""
        if symbolic.is_symbolic(*args, **kwargs):
            return super().__call__(*args, **kwargs)
        kwargs.pop("training", None)
        kwargs.pop("mask", None)
        self.built = True
        return self.call(*args, **kwargs)

    def _require_vocabulary(self) -> _Vocab:
        if self._vocab is None:
            raise RuntimeError(f"You must set the vocabulary of layer '{self.name}' before calling it. Either pass "
                               "a `vocabulary` argument to the layer, or call `adapt` with some sample data.")
        return self._vocab

    @property
    def _depth(self) -> int:
        if self.pad_to_max_tokens:
            return self.max_tokens
        if self._vocab is None and self._frozen_vocabulary_size is not None:
            return self._frozen_vocabulary_size
        return self.vocabulary_size()

    def call(self, inputs):
        if self.invert:
            return self._invert(inputs)
        ids = self.lookup(inputs)
        return ids if self.output_mode == "int" else self.encode(ids)

    def lookup(self, inputs: Any) -> torch.Tensor:
        """Token ids of ``inputs`` (int64); in non-``int`` modes masked tokens get -1 (dropped by ``encode``)."""
        raise NotImplementedError

    def _oov_error(self, values: list) -> RuntimeError:
        return RuntimeError(f"When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values "
                            f"{values}, consider setting `num_oov_indices=1`.")

    def encode(self, ids: torch.Tensor) -> torch.Tensor:
        """``one_hot`` / ``multi_hot`` / ``count`` (int64) or ``tf_idf`` (float32) vectors of ids."""
        depth = self._depth
        if self.output_mode != "tf_idf":
            return encode_tokens(ids, depth, self.output_mode, torch.int64)
        if self._idf is None:
            raise RuntimeError(f"Layer '{self.name}' is in 'tf_idf' mode but has no `idf_weights`: call `adapt` or "
                               "pass `idf_weights`.")
        counts = encode_tokens(ids, depth, "count", torch.float32)
        return counts * self._idf_table(depth, counts.device)

    def _idf_table(self, depth: int, device: torch.device) -> torch.Tensor:
        key = (depth, device)
        table = self._idf.tables.get(key)
        if table is None:
            table = self._idf.tables[key] = torch.as_tensor(self._padded_idf(depth), device=device)
        return table

    def _padded_idf(self, depth: int) -> np.ndarray:
        """The IDF weights cut or zero-padded to ``depth`` (``pad_to_max_tokens`` pads them, as Keras saves them)."""
        idf = np.zeros(depth, dtype=np.float32)
        n = min(depth, len(self._idf.values))
        idf[:n] = self._idf.values[:n]
        return idf

    def _invert(self, inputs: Any) -> Any:
        raise NotImplementedError

    # ----------------------------------------------------------------- shapes
    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        return encoded_shape(input_shape, self._depth, self.output_mode)

    def compute_output_spec(self, inputs):
        shape = self.compute_output_shape(tuple(inputs.shape))
        if self.invert:
            dtype = "string" if self._string_tokens else "int64"
        else:
            dtype = "float32" if self.output_mode == "tf_idf" else "int64"
        return symbolic.KerasTensor(shape, dtype=dtype)

    # ----------------------------------------------------------------- saving
    def save_assets(self, dir_path: str) -> None:
        """Write ``vocabulary.txt`` (one token per line) when the config does not already hold the vocabulary."""
        if self._config_vocabulary is not None or self._vocab is None:
            return
        text = "\n".join(str(t) for t in self.get_vocabulary())
        with open(os.path.join(dir_path, VOCABULARY_FILE), "w", encoding="utf-8") as f:
            f.write(text)

    def load_assets(self, dir_path: str) -> None:
        """Read the vocabulary ``save_assets`` wrote (if any); IDF weights come from ``load_own_variables``."""
        path = os.path.join(dir_path, VOCABULARY_FILE)
        if self._config_vocabulary is not None or not os.path.isfile(path):
            return
        idf = self._idf
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        self._set_vocabulary([self._token(line) for line in lines])
        self._idf = idf
        self._static_vocabulary = True

    def save_own_variables(self, store: dict) -> None:
        """Keras keeps the IDF weights (``tf_idf`` mode) as the entry ``idf_weights``; no other variables."""
        if self.output_mode == "tf_idf" and self._idf is not None:
            store["idf_weights"] = self._padded_idf(self._depth)

    def load_own_variables(self, store) -> None:
        if self.output_mode == "tf_idf" and "idf_weights" in store:
            self._set_idf(np.asarray(store["idf_weights"], dtype=np.float32))

    # ----------------------------------------------------------------- config
    def get_config(self) -> dict:
        return {**super().get_config(), "invert": self.invert, "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token, "mask_token": self.mask_token,
                "output_mode": self.output_mode, "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens}

    def _vocabulary_config(self) -> dict:
        return {"idf_weights": self._config_idf, "vocabulary": self._config_vocabulary,
                "vocabulary_size": self.vocabulary_size()}


def hash_bucket(tokens: list[bytes], n: int, key: tuple[int, int] | None) -> np.ndarray:
    """OOV slot of each token: FarmHash64 fingerprint (SipHash-2-4 with a salt) modulo ``n``."""
    if key is None:
        return np.asarray([fingerprint64(t) % n for t in tokens], dtype=np.int64)
    return np.asarray([siphash24(key[0], key[1], t) % n for t in tokens], dtype=np.int64)


def device_of(inputs: Any) -> torch.device:
    return inputs.device if isinstance(inputs, torch.Tensor) else config.device()

