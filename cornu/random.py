"""``keras.random``: seeded random tensors, dropout and shuffling.

Seeding follows Keras: an int ``seed`` gives the same numbers on every call;
a ``SeedGenerator`` advances its state on each use, so draws differ but the
sequence is reproducible; ``seed=None`` draws from torch's global RNG (made
reproducible by ``torch.manual_seed``). The streams are cornu's own: the same seed
gives the same numbers on the same device, not the numbers Keras draws. Each seeded draw uses a fresh
``torch.Generator`` seeded from a hash of the (seed, counter) state.
"""
from __future__ import annotations

import math
from typing import Any

import torch

from cornu import config, symbolic
from cornu.ops.core import _shape_tuple, _tensor, symbolic_op

_MASK64 = (1 << 64) - 1


def _mix(seed: int, counter: int) -> int:
    """SplitMix64-style hash of a (seed, counter) pair into a 63-bit generator seed."""
    z = (seed * 0x9E3779B97F4A7C15 + counter * 0xD1B54A32D192ED03 + 0x632BE59BD9B4E5B) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return (z ^ (z >> 31)) & ((1 << 63) - 1)


class SeedGenerator:
    """Stateful seed source: each ``next()`` returns the current state and advances it.

    ``state`` is an int64 tensor ``[seed, counter]``; assigning it restores a
    sequence. With ``seed=None`` the initial seed is drawn from torch's global RNG.
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs: Any):
        if seed is None:
            with symbolic.real_mode():
                seed = int(torch.randint(0, 2**31 - 1, ()).item())
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"`seed` must be an int or None. Received: seed={seed!r}")
        self._initial_seed = seed
        self.name = name or "seed_generator"
        with symbolic.real_mode():
            self.state = torch.tensor([seed, 0], dtype=torch.int64)

    def next(self, ordered: bool = True) -> torch.Tensor:
        """Return the current ``[seed, counter]`` state and advance the counter."""
        current = self.state.clone()
        self.state[1] += 1
        return current

    def get_config(self) -> dict:
        return {"seed": self._initial_seed}

    @classmethod
    def from_config(cls, config: dict) -> "SeedGenerator":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<SeedGenerator name={self.name}, seed={self._initial_seed}>"


def _generator(seed: Any, device: torch.device) -> torch.Generator | None:
    """A torch generator for ``seed``; ``None`` means torch's global RNG."""
    if seed is None or symbolic.in_fake_run():
        return None
    if isinstance(seed, SeedGenerator):
        base, counter = (int(v) for v in seed.next().tolist())
    elif isinstance(seed, int) and not isinstance(seed, bool):
        base, counter = seed, 0
    elif isinstance(seed, torch.Tensor) and seed.numel() == 2:
        base, counter = (int(v) for v in seed.reshape(-1).tolist())
    else:
        raise TypeError(f"`seed` must be an int, a SeedGenerator or None. Received: seed={seed!r}")
    g = torch.Generator(device=device)
    g.manual_seed(_mix(base, counter))
    return g


def _float_dtype(dtype: Any, fn: str) -> torch.dtype:
    dt = config.torch_dtype(dtype)
    if not dt.is_floating_point:
        raise ValueError(f"`keras.random.{fn}` requires a floating point `dtype`. Received: dtype={dtype!r}")
    return dt


def _draw(fn, shape: tuple, g: torch.Generator | None, dtype: torch.dtype) -> torch.Tensor:
    """Draw in a dtype the generator supports, then cast (half types draw in float32)."""
    work = dtype if dtype in (torch.float32, torch.float64) else torch.float32
    return fn(shape, generator=g, dtype=work, device=config.device()).to(dtype)


@symbolic_op
def normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
           seed: Any = None) -> torch.Tensor:
    """Samples from a normal distribution."""
    dt = _float_dtype(dtype, "normal")
    g = _generator(seed, config.device())
    return (_draw(torch.randn, _shape_tuple(shape), g, dt) * stddev + mean).to(dt)


@symbolic_op
def uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None,
            seed: Any = None) -> torch.Tensor:
    """Samples from the uniform distribution on ``[minval, maxval)``."""
    dt = _float_dtype(dtype, "uniform")
    g = _generator(seed, config.device())
    return (_draw(torch.rand, _shape_tuple(shape), g, dt) * (maxval - minval) + minval).to(dt)


@symbolic_op
def randint(shape: Any, minval: int, maxval: int, dtype: Any = "int32",
            seed: Any = None) -> torch.Tensor:
    """Integers drawn uniformly from ``[minval, maxval)``."""
    dt = config.torch_dtype(dtype)
    if dt.is_floating_point or dt == torch.bool:
        raise ValueError(f"`keras.random.randint` requires an integer `dtype`. Received: dtype={dtype!r}")
    if maxval <= minval:
        raise ValueError(f"`maxval` must be greater than `minval`. Received: minval={minval}, maxval={maxval}")
    g = _generator(seed, config.device())
    out = torch.randint(int(minval), int(maxval), _shape_tuple(shape), generator=g,
                        dtype=torch.int64, device=config.device())
    return out.to(dt)


@symbolic_op
def truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                     seed: Any = None) -> torch.Tensor:
    """Normal samples restricted to within two standard deviations of the mean."""
    dt = _float_dtype(dtype, "truncated_normal")
    g = _generator(seed, config.device())
    lo = 0.5 * (1.0 + math.erf(-2.0 / math.sqrt(2.0)))
    hi = 1.0 - lo
    work = torch.float64 if dt == torch.float64 else torch.float32
    u = _draw(torch.rand, _shape_tuple(shape), g, work) * (hi - lo) + lo
    z = torch.clamp(math.sqrt(2.0) * torch.erfinv(2.0 * u - 1.0), -2.0, 2.0)
    return (z * stddev + mean).to(dt)


@symbolic_op
def dropout(inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None) -> torch.Tensor:
    """Zero entries with probability ``rate`` and scale the kept ones by ``1 / (1 - rate)``."""
    x = _tensor(inputs)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"`rate` must be in [0, 1). Received: rate={rate}")
    if noise_shape is None:
        shape = tuple(x.shape)
    else:
        if len(noise_shape) != x.ndim:
            raise ValueError(f"`noise_shape` must have rank {x.ndim}. Received: noise_shape={noise_shape!r}")
        shape = tuple(x.shape[i] if d is None else int(d) for i, d in enumerate(noise_shape))
    g = _generator(seed, x.device)
    keep = torch.rand(shape, generator=g, device=x.device) >= rate
    return torch.where(keep, x / (1.0 - rate), torch.zeros((), dtype=x.dtype, device=x.device))


@symbolic_op
def shuffle(x: Any, axis: int = 0, seed: Any = None) -> torch.Tensor:
    """Randomly permute ``x`` along ``axis``."""
    t = _tensor(x)
    g = _generator(seed, t.device)
    perm = torch.randperm(t.shape[axis], generator=g, device=t.device)
    return torch.index_select(t, axis, perm)


@symbolic_op
def categorical(logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None) -> torch.Tensor:
    """Draw class indices from the categorical distributions given by 2-D ``logits`` rows."""
    t = _tensor(logits)
    if t.ndim != 2:
        raise ValueError(f"`logits` must be 2-D (batch, classes). Received shape {tuple(t.shape)}")
    probs = torch.softmax(t.float(), dim=-1)
    g = _generator(seed, t.device)
    return torch.multinomial(probs, num_samples, replacement=True, generator=g).to(config.torch_dtype(dtype))


def _param(value: Any, shape: tuple, work: torch.dtype) -> torch.Tensor:
    """A distribution parameter (scalar or array) broadcast to ``shape`` in the sampling dtype."""
    return _tensor(value, device=config.device()).to(work).expand(shape)


def _gamma_sample(alpha: torch.Tensor, g: torch.Generator | None) -> torch.Tensor:
    return torch._standard_gamma(alpha.contiguous(), generator=g)


@symbolic_op
def gamma(shape: Any, alpha: Any, dtype: Any = None, seed: Any = None) -> torch.Tensor:
    """Samples from the Gamma distribution of shape ``alpha`` and scale 1."""
    dt = config.torch_dtype(dtype)
    work = torch.float64 if dt == torch.float64 else torch.float32
    shape = _shape_tuple(shape)
    return _gamma_sample(_param(alpha, shape, work), _generator(seed, config.device())).to(dt)


@symbolic_op
def beta(shape: Any, alpha: Any, beta: Any, dtype: Any = None, seed: Any = None) -> torch.Tensor:
    """Samples from the Beta distribution, as ``X / (X + Y)`` of two Gamma draws."""
    dt = config.torch_dtype(dtype)
    work = torch.float64 if dt == torch.float64 else torch.float32
    shape = _shape_tuple(shape)
    g = _generator(seed, config.device())
    x = _gamma_sample(_param(alpha, shape, work), g)
    y = _gamma_sample(_param(beta, shape, work), g)
    return (x / (x + y)).to(dt)


@symbolic_op
def binomial(shape: Any, counts: Any, probabilities: Any, dtype: Any = None, seed: Any = None) -> torch.Tensor:
    """Number of successes in ``counts`` Bernoulli trials of probability ``probabilities``."""
    dt = config.torch_dtype(dtype)
    shape = _shape_tuple(shape)
    work = torch.float64 if dt == torch.float64 else torch.float32
    n = _param(counts, shape, work).contiguous()
    p = _param(probabilities, shape, work).contiguous()
    return torch.binomial(n, p, generator=_generator(seed, config.device())).to(dt)


__all__ = [
    "SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal", "randint", "shuffle",
    "truncated_normal", "uniform",
]
