"""``IntegerLookup``: integer tokens to contiguous ids (or encoded vectors); ``invert`` maps ids back.

The lookup runs on the input's device: a gather from a dense id table when the
tokens span a compact range (else ``torch.searchsorted`` over the sorted
vocabulary), and OOV slots by ``token mod num_oov_indices``
(``oov_method="farmhash"`` hashes each distinct OOV token's decimal text on the
host, as Keras does).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cornu import config
from cornu.layers.preprocessing.index_lookup import IndexLookup, hash_bucket


class IntegerLookup(IndexLookup):
    """Maps integers to ids: mask token (``int`` mode) at 0, then ``num_oov_indices`` OOV ids, then the
    vocabulary."""

    _string_tokens = False

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1, mask_token: int | None = None,
                 oov_token: int = -1, vocabulary: Any = None, vocabulary_dtype: str = "int64",
                 idf_weights: Any = None, invert: bool = False, output_mode: str = "int", sparse: bool = False,
                 pad_to_max_tokens: bool = False, oov_method: str = "floormod", salt: Any = None,
                 name: str | None = None, **kwargs):
        if vocabulary_dtype != "int64":
            raise ValueError("Only `vocabulary_dtype='int64'` is supported at this time. "
                             f"Received: vocabulary_dtype={vocabulary_dtype}")
        if salt is not None and oov_method != "farmhash":
            raise ValueError("`salt` can only be used when `oov_method='farmhash'`. "
                             f"Received: oov_method={oov_method}")
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token,
                         oov_token=oov_token, vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, sparse=sparse, pad_to_max_tokens=pad_to_max_tokens,
                         oov_method=oov_method, salt=salt, name=name, **kwargs)
        self.vocabulary_dtype = vocabulary_dtype

    def _table(self, device: torch.device) -> tuple:
        """The lookup table on ``device``, built once per device and vocabulary: ``("dense", low, ids)`` (ids
        indexed by ``token - low``, -1 for holes) when the tokens span a compact range, else ``("sorted", keys,
        ids)`` for ``torch.searchsorted``."""
        vocab = self._require_vocabulary()
        table = vocab.tables.get(device)
        if table is None:
            tokens = np.asarray(vocab.tokens, dtype=np.int64)
            ids = np.arange(len(tokens), dtype=np.int64) + self._token_start
            span = int(tokens.max()) - int(tokens.min()) + 1 if tokens.size else 0
            if 0 < span <= min(max(4 * len(tokens), 1 << 16), 1 << 24):
                dense = np.full(span, -1, dtype=np.int64)
                dense[tokens - tokens.min()] = ids
                table = ("dense", int(tokens.min()), torch.as_tensor(dense, device=device))
            else:
                order = np.argsort(tokens, kind="stable")
                table = ("sorted", torch.as_tensor(tokens[order], device=device),
                         torch.as_tensor(ids[order], device=device))
            vocab.tables[device] = table
        return table

    def _find(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(ids, found)``: each token's id (-1 where absent) and whether it is in the vocabulary."""
        kind, a, ids = self._table(x.device)
        if ids.numel() == 0:
            return torch.full_like(x, -1), torch.zeros(x.shape, dtype=torch.bool, device=x.device)
        if kind == "dense":
            offset = x - a
            inside = (offset >= 0) & (offset < ids.numel())
            out = torch.where(inside, ids[offset.clamp(0, ids.numel() - 1)], -1)
            return out, out >= 0
        pos = torch.searchsorted(a, x).clamp_(max=a.numel() - 1)
        found = a[pos] == x
        return torch.where(found, ids[pos], -1), found

    def _as_tensor(self, inputs: Any) -> torch.Tensor:
        if isinstance(inputs, torch.Tensor):
            return inputs if inputs.dtype == torch.int64 else inputs.long()
        arr = np.asarray(inputs)
        if arr.dtype.kind in "USO":
            arr = arr.astype(np.int64)
        return torch.as_tensor(arr.astype(np.int64, copy=False), device=config.device())

    def lookup(self, inputs: Any) -> torch.Tensor:
        x = self._as_tensor(inputs)
        out, found = self._find(x)
        start = self._token_start
        masked = (x == self.mask_token) if self.mask_token is not None else None
        n = self.num_oov_indices
        if n == 1:
            out = torch.where(found, out, start - 1)
        elif n > 1:
            if self.oov_method == "floormod":
                slots = torch.remainder(x, n)
            else:
                slots = self._hashed_slots(x)
            out = torch.where(found, out, start - n + slots)
        elif x.device.type == "cpu":
            missing = ~found if masked is None else ~found & ~masked
            if bool(missing.any()):
                raise self._oov_error(torch.unique(x[missing]).tolist())
        if masked is not None:
            out = torch.where(masked, 0 if self.output_mode == "int" else -1, out)
        return out

    def _hashed_slots(self, x: torch.Tensor) -> torch.Tensor:
        """FarmHash64 (or salted SipHash) of each value's decimal text modulo ``num_oov_indices``, per distinct
        value (a host round trip, only with ``oov_method="farmhash"``)."""
        uniques, inverse = torch.unique(x, return_inverse=True)
        values = uniques.cpu().tolist()
        slots = hash_bucket([str(v).encode() for v in values], self.num_oov_indices, self._salt_key)
        return torch.as_tensor(slots, device=x.device)[inverse]

    def _invert(self, inputs: Any) -> torch.Tensor:
        """Ids back to tokens; ids outside the vocabulary give ``oov_token``."""
        self._require_vocabulary()
        ids = self._as_tensor(inputs)
        key = ("invert", ids.device)
        table = self._vocab.tables.get(key)
        if table is None:
            full = self.get_vocabulary() + [self.oov_token]
            table = self._vocab.tables[key] = torch.as_tensor(full, dtype=torch.int64, device=ids.device)
        last = table.numel() - 1
        return table[torch.where((ids >= 0) & (ids < last), ids, last)]

    def get_config(self) -> dict:
        return {**super().get_config(), "vocabulary_dtype": self.vocabulary_dtype, **self._vocabulary_config(),
                "oov_method": self.oov_method, "salt": self.salt}
