"""``Hashing``: strings or integers to bin ids by a stable 64-bit hash (the hashing trick).

Keras computes these with TensorFlow; cornu computes the same numbers itself:
FarmHash ``Fingerprint64`` of each value's bytes (integers as their decimal
text), or SipHash-2-4 keyed by ``salt``, modulo the number of bins. Strings
are Python/NumPy strings (torch has no string dtype); each distinct value is
hashed once per call, on the host.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cornu import config
from cornu.layers.layer import Layer
from cornu.layers.preprocessing._hash_functions import fingerprint64, siphash24
from cornu.layers.preprocessing.category_encoding import encode_tokens, encoded_shape

_MODES = ("int", "one_hot", "multi_hot", "count")


def is_string_input(x: Any) -> bool:
    """True for ``str``/``bytes``, NumPy string/object arrays and (nested) lists holding strings."""
    if isinstance(x, (str, bytes)):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "USO"
    if isinstance(x, (list, tuple)):
        return np.asarray(x).dtype.kind in "USO"
    return False


def as_text_array(x: Any) -> np.ndarray:
    """Inputs as a NumPy array of ``bytes``: strings UTF-8 encoded, integers as their decimal text."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.dtype.kind in "iub":
        return np.char.encode(arr.astype(str), "utf-8") if arr.size else arr.astype("S")
    if arr.dtype.kind == "S":
        return arr
    if arr.dtype.kind in "UO":
        flat = [v if isinstance(v, bytes) else str(v).encode("utf-8") for v in arr.reshape(-1)]
        return np.array(flat, dtype=object).reshape(arr.shape)
    raise ValueError(f"Hashing expects string or integer inputs. Received inputs of dtype {arr.dtype}")


def salt_key(salt: Any) -> tuple[int, int] | None:
    """``salt`` as SipHash's two 64-bit key halves (one integer is used for both), or None."""
    if salt is None:
        return None
    if isinstance(salt, int) and not isinstance(salt, bool):
        return salt, salt
    if isinstance(salt, (list, tuple)) and len(salt) == 2 and all(isinstance(s, int) for s in salt):
        return int(salt[0]), int(salt[1])
    raise ValueError("The `salt` argument for `Hashing` can only be a tuple of size 2 integers, or a single "
                     f"integer. Received: salt={salt}.")


def hash_values(values: np.ndarray, num_bins: int, key: tuple[int, int] | None) -> np.ndarray:
    """``hash(value) % num_bins`` for every element of a bytes array, as int64."""
    flat = values.reshape(-1)
    uniques, inverse = np.unique(flat, return_inverse=True) if flat.size else (flat, np.zeros(0, np.int64))
    if key is None:
        hashed = [fingerprint64(bytes(u)) % num_bins for u in uniques]
    else:
        hashed = [siphash24(key[0], key[1], bytes(u)) % num_bins for u in uniques]
    return np.asarray(hashed, dtype=np.int64)[inverse].reshape(values.shape)


class Hashing(Layer):
    """Hashes each value into ``num_bins`` bins; ``mask_value`` (if set) goes to bin 0 and the rest to
    ``1 .. num_bins - 1``. ``output_mode`` other than ``int`` encodes the bin ids like ``CategoryEncoding``."""

    def __init__(self, num_bins: int, mask_value=None, salt=None, output_mode: str = "int", sparse: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError("The `num_bins` for `Hashing` cannot be `None` or non-positive values. "
                             f"Received: num_bins={num_bins}.")
        if output_mode not in _MODES:
            raise ValueError(f"Unknown value for `output_mode`. Expected one of {_MODES}. "
                             f"Received: output_mode={output_mode}")
        if sparse:
            raise ValueError(f"`sparse=True` cannot be used with backend torch. Received: sparse={sparse}")
        self._key = salt_key(salt)
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.salt = salt
        self.output_mode = output_mode
        self.sparse = sparse

    def __call__(self, *args, **kwargs):
        if args and is_string_input(args[0]):
            self.built = True
            return self.call(*args, **kwargs)
        return super().__call__(*args, **kwargs)

    def call(self, inputs):
        text = as_text_array(inputs)
        if self.mask_value is not None:
            mask_text = as_text_array(np.asarray([self.mask_value]))[0]
            ids = hash_values(text, self.num_bins - 1, self._key) + 1
            ids = np.where(text == mask_text, 0, ids)
        else:
            ids = hash_values(text, self.num_bins, self._key)
        out = torch.as_tensor(ids, device=config.device())
        if self.output_mode == "int":
            return out
        dtype = self._compute_torch_dtype or torch.float32
        return encode_tokens(out, self.num_bins, self.output_mode, dtype)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        return encoded_shape(input_shape, self.num_bins, self.output_mode)

    def compute_output_spec(self, inputs):
        from cornu.symbolic import KerasTensor

        shape = self.compute_output_shape(tuple(inputs.shape))
        return KerasTensor(shape, dtype="int64" if self.output_mode == "int" else self.compute_dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_bins": self.num_bins, "salt": self.salt,
                "mask_value": self.mask_value, "output_mode": self.output_mode, "sparse": self.sparse}
