"""``HashedCrossing``: crosses scalar categorical features by hashing them together into ``num_bins`` bins.

Keras computes this with TensorFlow's hashed sparse cross; cornu computes the
same numbers itself: starting from a fixed key, each feature's 64-bit value
(FarmHash ``Fingerprint64`` of a string, the integer itself for integers) is
folded in with ``FingerprintCat64``; the result modulo ``num_bins`` is the bin.
"""
from __future__ import annotations

import numpy as np
import torch

from cornu import config
from cornu.layers.layer import Layer
from cornu.layers.preprocessing._hash_functions import fingerprint64
from cornu.layers.preprocessing.category_encoding import encode_tokens
from cornu.layers.preprocessing.hashing import is_string_input

_M = 0xFFFFFFFFFFFFFFFF
_CROSS_KEY = 0xDECAFCAFFE
_CAT_MUL = 0xC6A4A7935BD1E995


def _shift_mix(v: int) -> int:
    return v ^ (v >> 47)


def fingerprint_cat64(fp1: int, fp2: int) -> int:
    """Combine two 64-bit fingerprints into one (order matters)."""
    r = fp1 ^ _CAT_MUL
    r ^= (_shift_mix((fp2 * _CAT_MUL) & _M) * _CAT_MUL) & _M
    r = (r * _CAT_MUL) & _M
    r = (_shift_mix(r) * _CAT_MUL) & _M
    return _shift_mix(r)


def _feature_hashes(feature) -> np.ndarray:
    """Each element's 64-bit value as a flat object array: strings fingerprinted, integers as they are."""
    if isinstance(feature, torch.Tensor):
        feature = feature.detach().cpu().numpy()
    arr = np.asarray(feature)
    if arr.dtype.kind in "iub":
        return np.array([int(v) & _M for v in arr.reshape(-1)], dtype=object)
    if arr.dtype.kind in "USO":
        return np.array([fingerprint64(v if isinstance(v, bytes) else str(v).encode("utf-8"))
                         for v in arr.reshape(-1)], dtype=object)
    raise ValueError(f"HashedCrossing expects string or integer features. Received a feature of dtype {arr.dtype}")


class HashedCrossing(Layer):
    """``hash(feature_1, ..., feature_n) % num_bins`` for scalar features of shape ``()``, ``(batch,)`` or
    ``(batch, 1)``; ``output_mode="one_hot"`` encodes the bin."""

    def __init__(self, num_bins: int, output_mode: str = "int", sparse: bool = False, name: str | None = None,
                 dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        if output_mode not in ("int", "one_hot"):
            raise ValueError("Invalid value for argument `output_mode`. Expected one of {'int', 'one_hot'}. "
                             f"Received: output_mode={output_mode}")
        if sparse:
            raise ValueError(f"`sparse=True` cannot be used with backend torch. Received: sparse={sparse}")
        self.num_bins = num_bins
        self.output_mode = output_mode
        self.sparse = sparse

    def __call__(self, *args, **kwargs):
        if args and isinstance(args[0], (list, tuple)) and any(is_string_input(f) for f in args[0]):
            self.built = True
            return self.call(*args, **kwargs)
        return super().__call__(*args, **kwargs)

    def _check_inputs(self, inputs) -> tuple:
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(f"`HashedCrossing` should be called on a list or tuple of inputs. Received: "
                             f"inputs={inputs}")
        shapes = [tuple(np.shape(f)) if not isinstance(f, torch.Tensor) else tuple(f.shape) for f in inputs]
        first = shapes[0]
        if len(first) > 2 or (len(first) == 2 and first[-1] != 1):
            raise ValueError("All `HashedCrossing` inputs should have shape `()`, `(batch_size)` or "
                             f"`(batch_size, 1)`. Received: inputs={inputs}")
        if any(s != first for s in shapes):
            raise ValueError(f"All `HashedCrossing` inputs should have equal shape. Received: inputs={inputs}")
        return first

    def call(self, inputs):
        shape = self._check_inputs(inputs)
        columns = [_feature_hashes(f) for f in inputs]
        bins = []
        for values in zip(*columns):
            h = _CROSS_KEY
            for v in values:
                h = fingerprint_cat64(h, v)
            bins.append(h % self.num_bins)
        out = torch.as_tensor(np.asarray(bins, dtype=np.int64).reshape(shape), device=config.device())
        if self.output_mode == "int":
            return out
        return encode_tokens(out, self.num_bins, "one_hot", self._compute_torch_dtype or torch.float32)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape[0])
        if self.output_mode == "int":
            return shape
        return (shape[:-1] if len(shape) > 1 and shape[-1] == 1 else shape) + (self.num_bins,)

    def compute_output_spec(self, inputs):
        from cornu.symbolic import KerasTensor

        shape = self.compute_output_shape([tuple(f.shape) for f in inputs])
        return KerasTensor(shape, dtype="int64" if self.output_mode == "int" else self.compute_dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse}
