"""``StringLookup``: strings to integer ids (or encoded vectors) through a vocabulary; ``invert`` maps ids back.

Strings stay on the host (torch has no string dtype): inputs are Python strings,
lists or NumPy str/bytes/object arrays of any rank; each distinct string is looked
up once per call and the ids come back as an int64 tensor on the default device.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cornu.layers.preprocessing.index_lookup import IndexLookup, as_string_array, device_of, hash_bucket


class StringLookup(IndexLookup):
    """Maps strings to ids: mask token (``int`` mode) at 0, then ``num_oov_indices`` OOV ids, then the vocabulary."""

    _string_tokens = True

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1, mask_token: str | None = None,
                 oov_token: str = "[UNK]", vocabulary: Any = None, idf_weights: Any = None, invert: bool = False,
                 output_mode: str = "int", pad_to_max_tokens: bool = False, sparse: bool = False,
                 encoding: str = "utf-8", name: str | None = None, salt: Any = None, **kwargs):
        kwargs.pop("oov_method", None)
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token,
                         oov_token=oov_token, vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, sparse=sparse, pad_to_max_tokens=pad_to_max_tokens,
                         salt=salt, encoding=encoding, name=name, **kwargs)

    def lookup(self, inputs: Any) -> torch.Tensor:
        arr = as_string_array(inputs, self.encoding)
        ids = self.lookup_strings(arr.reshape(-1)).reshape(arr.shape)
        return torch.as_tensor(ids, device=device_of(inputs))

    def lookup_strings(self, flat: np.ndarray) -> np.ndarray:
        """Ids (int64 NumPy) of a flat unicode array: one dict lookup per distinct string."""
        vocab = self._require_vocabulary()
        if flat.size == 0:
            return np.zeros(0, dtype=np.int64)
        uniques, inverse = np.unique(flat, return_inverse=True)
        start = self._token_start
        found = [vocab.position.get(u, -1) for u in uniques.tolist()]
        ids = np.asarray(found, dtype=np.int64)
        missing = ids < 0
        ids[~missing] += start
        if missing.any():
            oov = uniques[missing].tolist()
            if self.num_oov_indices == 0:
                if self.mask_token is None or any(t != self.mask_token for t in oov):
                    raise self._oov_error([t for t in oov if t != self.mask_token])
                ids[missing] = -1
            elif self.num_oov_indices == 1:
                ids[missing] = start - 1
            else:
                slots = hash_bucket([t.encode(self.encoding) for t in oov], self.num_oov_indices, self._salt_key)
                ids[missing] = start - self.num_oov_indices + slots
        if self.mask_token is not None:
            ids[uniques == self.mask_token] = 0 if self.output_mode == "int" else -1
        return ids[inverse.reshape(-1)]

    def _invert(self, inputs: Any) -> np.ndarray:
        """Ids back to strings (a NumPy str array); ids outside the vocabulary give ``oov_token``."""
        self._require_vocabulary()
        ids = inputs.detach().cpu().numpy() if isinstance(inputs, torch.Tensor) else np.asarray(inputs)
        table = np.asarray(self.get_vocabulary() + [self.oov_token], dtype=object)
        ids = ids.astype(np.int64)
        ids = np.where((ids >= 0) & (ids < len(table) - 1), ids, len(table) - 1)
        return table[ids].astype(str)

    def get_config(self) -> dict:
        return {**super().get_config(), **self._vocabulary_config(), "oov_method": self.oov_method,
                "salt": self.salt, "encoding": self.encoding}
