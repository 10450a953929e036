"""``set_random_seed``: one call seeds Python, NumPy and torch (CPU and CUDA); RNG state capture/restore."""
from __future__ import annotations

import base64
import random
from typing import Any

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


def _encode(t: torch.Tensor) -> str:
    return base64.b64encode(t.cpu().numpy().tobytes()).decode("ascii")


def _decode(s: str) -> torch.Tensor:
    return torch.from_numpy(np.frombuffer(base64.b64decode(s), dtype=np.uint8).copy())


def _seeded_parts(model: Any) -> list[tuple[str, Any]]:
    """Per-layer random state held by ``model``'s layers: torch generators and ``SeedGenerator``s."""
    from cornu import config
    from cornu.random import SeedGenerator

    parts = []
    if model is None:
        return parts
    for i, layer in enumerate([model] + list(_walk_layers(model))):
        if getattr(layer, "seed", None) is not None and hasattr(layer, "_rng"):
            layer._rng(config.device())  # seeded layers create their generator lazily: make it exist
        generator = layer.__dict__.get("_generator")
        if isinstance(generator, torch.Generator):
            parts.append((f"{i}/{type(layer).__name__}/generator", generator))
        for name, value in vars(layer).items():
            if isinstance(value, SeedGenerator):
                parts.append((f"{i}/{type(layer).__name__}/{name}", value))
    return parts


def _walk_layers(layer: Any) -> list:
    out = []
    for sub in layer._flat_layers():
        out.append(sub)
        out.extend(_walk_layers(sub))
    return out


def get_rng_state(model: Any = None) -> dict:
    """Every random state a training run draws from, as JSON-able data (for exact resumption).

    Python's ``random``, NumPy's global generator, torch's CPU and CUDA
    generators, and the generators of ``model``'s seeded layers.
    """
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": [version, list(internal), gauss],
        "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)],
        "torch": _encode(torch.get_rng_state()),
        "cuda": [_encode(s) for s in torch.cuda.get_rng_state_all()] if torch.cuda.is_available() else [],
        "layers": {},
    }
    for key, part in _seeded_parts(model):
        if isinstance(part, torch.Generator):
            state["layers"][key] = _encode(part.get_state())
        else:
            state["layers"][key] = part.state.tolist()
    return state


def set_rng_state(state: dict, model: Any = None) -> None:
    """Restore what ``get_rng_state`` returned."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(_decode(state["torch"]))
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([_decode(s) for s in state["cuda"]])
    saved = state.get("layers", {})
    for key, part in _seeded_parts(model):
        if key not in saved:
            continue
        if isinstance(part, torch.Generator):
            part.set_state(_decode(saved[key]))
        else:
            part.state.copy_(torch.tensor(saved[key], dtype=part.state.dtype))
