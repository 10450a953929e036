"""``pad_sequences``: ragged sequences to one rectangular NumPy array."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def pad_sequences(
    sequences: Sequence[Iterable],
    maxlen: int | None = None,
    dtype: str = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value=0.0,
) -> np.ndarray:
    """Pad (or truncate) each sequence to ``maxlen`` and stack them.

    ``maxlen`` defaults to the longest sequence. ``padding``/``truncating`` are
    ``"pre"`` (at the start) or ``"post"`` (at the end). Timesteps may be
    arrays themselves; their shape is taken from the first non-empty sequence.
    Returns an array of shape ``(len(sequences), maxlen, *timestep_shape)``.
    """
    if padding not in ("pre", "post"):
        raise ValueError(f'`padding` must be "pre" or "post". Received: padding={padding!r}')
    if truncating not in ("pre", "post"):
        raise ValueError(
            f'`truncating` must be "pre" or "post". Received: truncating={truncating!r}'
        )
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"`sequences` must be a list of iterables. Received: {sequences!r}")
    rows = []
    for seq in sequences:
        if not isinstance(seq, Iterable):
            raise ValueError(
                f"`sequences` must be a list of iterables. Found non-iterable: {seq!r}"
            )
        rows.append(seq if hasattr(seq, "__len__") else list(seq))
    if maxlen is None:
        if not rows:
            raise ValueError("`sequences` is empty: pass `maxlen` to pad an empty list of sequences.")
        maxlen = max(len(s) for s in rows)
    elif isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)):
        raise TypeError(f"`maxlen` must be an integer. Received: maxlen={maxlen!r} of type {type(maxlen).__name__}")
    elif maxlen < 0:
        raise ValueError(f"`maxlen` must be a non-negative integer. Received: maxlen={maxlen!r}")
    elif maxlen == 0 and any(len(s) for s in rows):
        raise ValueError("`maxlen=0` cannot hold a non-empty sequence (Keras refuses it too).")
    is_str_dtype = np.issubdtype(np.dtype(dtype), np.str_)
    if isinstance(value, str) and np.dtype(dtype) != object and not is_str_dtype:
        raise ValueError(
            f"`dtype` {dtype} is not compatible with `value`'s type {type(value)}. "
            "Use dtype=object for variable-length strings."
        )
    sample_shape = next((np.asarray(s).shape[1:] for s in rows if len(s)), ())
    out = np.full((len(rows), maxlen) + sample_shape, value, dtype=dtype)
    if maxlen == 0:
        return out
    for i, seq in enumerate(rows):
        if not len(seq):
            continue
        kept = seq[-maxlen:] if truncating == "pre" else seq[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(
                f"Shape of sample {kept.shape[1:]} of sequence at position {i} differs from "
                f"the expected shape {sample_shape}."
            )
        if padding == "post":
            out[i, : len(kept)] = kept
        else:
            out[i, maxlen - len(kept) :] = kept
    return out
