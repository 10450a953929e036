"""``set_random_seed``: one call seeds Python, NumPy and torch (CPU and CUDA)."""
from __future__ import annotations

import random

import numpy as np
import torch

_GLOBAL_SEED: int | None = None


def set_random_seed(seed: int) -> None:
    """Seed ``random``, NumPy's global RNG and torch's CPU and CUDA generators.

    After this, the same seed gives the same initial weights, dropout masks
    and shuffles on CPU (GPU kernels may still be non-deterministic).
    """
    global _GLOBAL_SEED
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(
            f"Expected `seed` argument to be an integer. Received: seed={seed!r} "
            f"(of type {type(seed)})"
        )
    if not 0 <= seed < 2**32:
        raise ValueError(f"`seed` must be in [0, 2**32). Received: seed={seed}")
    _GLOBAL_SEED = seed
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def get_random_seed() -> int | None:
    """The seed last passed to ``set_random_seed``, or ``None`` if never called."""
    return _GLOBAL_SEED
