"""``CategoryEncoding``: integer token ids to one-hot, multi-hot or count vectors of ``num_tokens``."""
from __future__ import annotations

import torch

from cornu.layers.layer import Layer

_MODES = ("one_hot", "multi_hot", "count")


def encode_tokens(x: torch.Tensor, num_tokens: int, output_mode: str, dtype: torch.dtype,
                  count_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Encode integer ids ``x`` (negative ids are dropped, as Keras does).

    ``one_hot`` adds a last axis (a last axis of size 1 is replaced); ``multi_hot`` and
    ``count`` reduce axis 1 (axis 0 of a single sample), as Keras does on every rank.
    Ids of ``num_tokens`` or more raise ``RuntimeError`` on CPU tensors; on accelerators
    they are dropped rather than checked (a check would make the host wait for the device).
    """
    x = x.long() if x.dtype != torch.long else x
    if x.device.type == "cpu" and x.numel() and bool((x >= num_tokens).any()):
        raise RuntimeError(f"Class values must be smaller than num_classes. Received: num_tokens={num_tokens}, "
                           f"largest value={int(x.max())}")
    idx = torch.where((x < 0) | (x >= num_tokens), num_tokens, x)
    if output_mode == "one_hot":
        if idx.ndim > 1 and idx.shape[-1] == 1:
            idx = idx.squeeze(-1)
        return torch.nn.functional.one_hot(idx, num_tokens + 1)[..., :num_tokens].to(dtype)
    if count_weights is not None:
        w = torch.as_tensor(count_weights, device=idx.device).to(dtype).expand(idx.shape)
    else:
        w = torch.ones((), dtype=dtype, device=idx.device).expand(idx.shape)
    if idx.ndim > 2:
        idx, w = idx.movedim(1, -1), w.movedim(1, -1)
    out = torch.zeros(idx.shape[:-1] + (num_tokens + 1,), dtype=dtype, device=idx.device)
    if output_mode == "multi_hot":
        out.scatter_(-1, idx, 1)
    else:
        out.scatter_add_(-1, idx, w)
    return out[..., :num_tokens]


def encoded_shape(input_shape: tuple, num_tokens: int, output_mode: str) -> tuple:
    shape = tuple(input_shape)
    if output_mode == "one_hot":
        if len(shape) > 1 and shape[-1] == 1:
            shape = shape[:-1]
        return shape + (num_tokens,)
    if len(shape) > 2:
        return shape[:1] + shape[2:] + (num_tokens,)
    return shape[:-1] + (num_tokens,)


class CategoryEncoding(Layer):
    """Encodes integer features: ``one_hot``, ``multi_hot`` (token present) or ``count`` (occurrences, or the sum
    of ``count_weights``)."""

    def __init__(self, num_tokens: int | None = None, output_mode: str = "multi_hot", sparse: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        if num_tokens is None:
            raise ValueError("num_tokens must be set to use this layer. If the number of tokens is not known "
                             "beforehand, use the IntegerLookup layer instead.")
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if output_mode not in _MODES:
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError("`count_weights` is not used when `output_mode` is not `'count'`. "
                             f"Received `count_weights={count_weights}`.")
        x = torch.as_tensor(inputs)
        dtype = self._compute_torch_dtype or torch.float32
        return encode_tokens(x, self.num_tokens, self.output_mode, dtype, count_weights)

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.num_tokens, self.output_mode)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_tokens": self.num_tokens, "output_mode": self.output_mode}
