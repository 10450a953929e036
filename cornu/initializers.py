"""Weight initializers (``keras.initializers``).

An initializer is called as ``init(shape, dtype=None)`` with ``shape`` in
Keras layout and returns a CPU torch tensor (the layer moves it to its
device). Random initializers draw from torch's global RNG when ``seed`` is
None, so ``torch.manual_seed`` makes weights reproducible; an integer seed
gives the same values on every call, as in Keras 3.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from cornu import config, symbolic
from cornu.utils import identifiers


def compute_fans(shape: tuple) -> tuple[int, int]:
    """``(fan_in, fan_out)`` for a Keras-layout shape ``(..., in, out)``.

    Leading dims form the receptive field; a 1-D shape has fan_in = fan_out = shape[0].
    """
    shape = tuple(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    receptive_field = math.prod(shape[:-2]) if len(shape) > 2 else 1
    return int(shape[-2] * receptive_field), int(shape[-1] * receptive_field)


def _axes(axes: Any, name: str) -> list[int] | None:
    """An int or a sequence of ints (kept as a list, as Keras's configs hold it), or None."""
    if axes is None:
        return None
    values = [axes] if isinstance(axes, int) else list(axes)
    if not all(isinstance(a, int) and not isinstance(a, bool) for a in values):
        raise ValueError(f"`{name}` must be an integer or a list of integers. Received: {name}={axes!r}")
    return values


def _is_seed_generator(seed: Any) -> bool:
    return type(seed).__name__ == "SeedGenerator" and hasattr(seed, "next")


def _draw_seed() -> int:
    """A seed from torch's global RNG, drawn on real tensors even inside a symbolic trace."""
    with symbolic.real_mode():
        return int(torch.randint(0, 2**31 - 1, ()).item())


def _serialize_seed(seed: Any) -> Any:
    """An int or None as it is; a ``SeedGenerator`` in Keras's object form."""
    if not _is_seed_generator(seed):
        return seed
    return {"module": "keras.random", "class_name": "SeedGenerator",
            "config": {"seed": seed.get_config()["seed"], "name": seed.name}, "registered_name": None}


class UnsupportedDtypeError(ValueError, NotImplementedError):
    """A random initializer asked for a non-float dtype: a ``ValueError`` (cornu's rule for bad values) that is
    also the ``NotImplementedError`` Keras on torch raises there."""


def _float_dtype(dtype: Any, who: str) -> torch.dtype:
    dt = config.torch_dtype(config.standardize_dtype(dtype))
    if not dt.is_floating_point:
        raise UnsupportedDtypeError(
            f"{who} only supports float dtypes. Received: dtype={config.standardize_dtype(dtype)!r}")
    return dt


def _float_or_floatx(dtype: Any) -> torch.dtype:
    """``dtype`` when it is a float type, else floatx (Keras's Identity and STFT ignore integer dtypes)."""
    dt = config.torch_dtype(config.standardize_dtype(dtype or config.floatx()))
    return dt if dt.is_floating_point else config.torch_dtype(config.floatx())


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)``."""

    def __call__(self, shape: tuple, dtype: Any = None) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement `__call__(shape, dtype=None)`.")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        return cls(**config)

    def clone(self) -> "Initializer":
        return self.__class__.from_config(self.get_config())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros (any dtype)."""

    def __call__(self, shape: tuple, dtype: Any = None) -> torch.Tensor:
        return torch.zeros(tuple(shape), dtype=config.torch_dtype(dtype or config.floatx()))


class Ones(Initializer):
    """All ones (any dtype)."""

    def __call__(self, shape: tuple, dtype: Any = None) -> torch.Tensor:
        return torch.ones(tuple(shape), dtype=config.torch_dtype(dtype or config.floatx()))


class Constant(Initializer):
    """Every element set to ``value`` (a scalar, or an array broadcastable to the shape)."""

    def __init__(self, value: Any = 0.0):
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        self.value = value.tolist() if isinstance(value, np.ndarray) else value

    def __call__(self, shape: tuple, dtype: Any = None) -> torch.Tensor:
        dt = config.torch_dtype(dtype or config.floatx())
        value = torch.as_tensor(np.asarray(self.value), dtype=dt)
        try:
            return torch.broadcast_to(value, tuple(shape)).clone()
        except RuntimeError:
            raise ValueError(
                f"Constant initializer value of shape {tuple(value.shape)} cannot fill a weight of shape "
                f"{tuple(shape)}."
            ) from None

    def get_config(self) -> dict:
        return {"value": self.value}


class RandomInitializer(Initializer):
    """Base of seeded initializers: ``seed`` is None, an int or a ``keras.random.SeedGenerator``.

    As in Keras 3, an unseeded initializer draws its own seed once, when it is built (from torch's global
    RNG, so ``set_random_seed`` makes it reproducible): every call of the same instance then gives the same
    values, and ``get_config()`` still says ``seed=None``. A ``SeedGenerator`` gives new values each call.
    """

    def __init__(self, seed: Any = None):
        if seed is not None and not isinstance(seed, (int, np.integer)) and not _is_seed_generator(seed):
            raise ValueError(
                "`seed` argument should be an instance of `keras.random.SeedGenerator()` or an integer. "
                f"Received: seed={seed!r}"
            )
        self.seed = int(seed) if isinstance(seed, (int, np.integer)) else seed
        self._call_seed = self.seed if seed is not None else _draw_seed()

    def _generator(self) -> torch.Generator:
        """A fresh generator: the same stream on every call for an int (or drawn) seed."""
        if _is_seed_generator(self._call_seed):
            from cornu.random import _generator

            return _generator(self._call_seed, torch.device("cpu"))
        return torch.Generator().manual_seed(self._call_seed)

    def _empty(self, shape: tuple, dtype: Any) -> tuple[torch.Tensor, torch.dtype]:
        """Buffer to sample into: float64 stays float64, lower precisions sample in float32."""
        target = _float_dtype(dtype or config.floatx(), type(self).__name__)
        work = torch.float64 if target == torch.float64 else torch.float32
        return torch.empty(tuple(shape), dtype=work), target

    def _normal(self, shape, dtype, mean: float, stddev: float) -> torch.Tensor:
        buf, target = self._empty(shape, dtype)
        return buf.normal_(mean, stddev, generator=self._generator()).to(target)

    def _uniform(self, shape, dtype, low: float, high: float) -> torch.Tensor:
        buf, target = self._empty(shape, dtype)
        buf.uniform_(0.0, 1.0, generator=self._generator())
        return (low + (high - low) * buf).to(target)

    def _truncated_normal(self, shape, dtype, mean: float, stddev: float) -> torch.Tensor:
        """Normal(mean, stddev) restricted to ``mean +- 2 * stddev``."""
        buf, target = self._empty(shape, dtype)
        torch.nn.init.trunc_normal_(buf, mean, stddev, mean - 2 * stddev, mean + 2 * stddev,
                                    generator=self._generator())
        return buf.to(target)

    def get_config(self) -> dict:
        return {"seed": _serialize_seed(self.seed)}

    @classmethod
    def from_config(cls, config: dict) -> "RandomInitializer":
        seed = config.get("seed")
        if isinstance(seed, dict):
            from cornu.random import SeedGenerator

            config = {**config, "seed": SeedGenerator(**seed.get("config", {}))}
        return cls(**config)


class RandomNormal(RandomInitializer):
    """Samples from ``N(mean, stddev**2)``."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean = mean
        self.stddev = stddev

    def __call__(self, shape: tuple, dtype: Any = None) -> torch.Tensor:
        return self._normal(shape, dtype, self.mean, self.stddev)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomUniform(RandomInitializer):
    """Samples from ``U[minval, maxval)``."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval = minval
        self.maxval = maxval

    def __call__(self, shape: tuple, dtype: Any = None) -> torch.Tensor:
        return self._uniform(shape, dtype, self.minval, self.maxval)

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class TruncatedNormal(RandomInitializer):
    """``N(mean, stddev**2)`` with values beyond two stddevs from the mean redrawn."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean = mean
        self.stddev = stddev

    def __call__(self, shape: tuple, dtype: Any = None) -> torch.Tensor:
        return self._truncated_normal(shape, dtype, self.mean, self.stddev)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


# stddev of a standard normal truncated to [-2, 2]; divides it out so the result has the target variance
_TRUNCATED_STD = 0.87962566103423978


class VarianceScaling(RandomInitializer):
    """Variance ``scale / n`` where ``n`` is fan_in, fan_out or their mean (``mode``).

    ``distribution``: ``"truncated_normal"``, ``"untruncated_normal"`` or ``"uniform"``
    (limit ``sqrt(3 * scale / n)``).
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("uniform", "truncated_normal", "untruncated_normal")

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal",
                 seed: int | None = None, input_axes: Any = None, output_axes: Any = None):
        super().__init__(seed)
        if not isinstance(scale, (int, float)) or scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale!r}")
        if mode not in self._MODES:
            raise ValueError(f"Invalid `mode` argument: {mode!r}. Expected one of {set(self._MODES)}")
        distribution = str(distribution).lower()
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(
                f"Invalid `distribution` argument: {distribution!r}. Expected one of {set(self._DISTRIBUTIONS)}"
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        # Which axes are inputs and outputs (EinsumDense kernels); used when both are given, as in Keras.
        self.input_axes = _axes(input_axes, "input_axes")
        self.output_axes = _axes(output_axes, "output_axes")

    def __call__(self, shape: tuple, dtype: Any = None) -> torch.Tensor:
        if self.input_axes is not None and self.output_axes is not None:
            fan_in = math.prod(int(shape[a]) for a in self.input_axes)
            fan_out = math.prod(int(shape[a]) for a in self.output_axes)
        else:
            fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return self._uniform(shape, dtype, -limit, limit)
        if self.distribution == "truncated_normal":
            return self._truncated_normal(shape, dtype, 0.0, math.sqrt(variance) / _TRUNCATED_STD)
        return self._normal(shape, dtype, 0.0, math.sqrt(variance))

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "input_axes": self.input_axes, "output_axes": self.output_axes}


class _FixedVarianceScaling(VarianceScaling):
    """A ``VarianceScaling`` preset whose config is only the seed."""

    _PRESET: tuple[float, str, str] = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed: int | None = None, input_axes: Any = None, output_axes: Any = None):
        scale, mode, distribution = self._PRESET
        super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed, input_axes=input_axes,
                         output_axes=output_axes)

    def get_config(self) -> dict:
        return {"seed": _serialize_seed(self.seed), "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(_FixedVarianceScaling):
    """``U[-limit, limit]`` with ``limit = sqrt(6 / (fan_in + fan_out))``."""

    _PRESET = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with stddev ``sqrt(2 / (fan_in + fan_out))``."""

    _PRESET = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """``U[-limit, limit]`` with ``limit = sqrt(6 / fan_in)``."""

    _PRESET = (2.0, "fan_in", "uniform")


class HeNormal(_FixedVarianceScaling):
    """Truncated normal with stddev ``sqrt(2 / fan_in)``."""

    _PRESET = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """``U[-limit, limit]`` with ``limit = sqrt(3 / fan_in)``."""

    _PRESET = (1.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with stddev ``sqrt(1 / fan_in)``."""

    _PRESET = (1.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix times ``gain``.

    Shapes of rank > 2 are flattened to ``(prod(shape[:-1]), shape[-1])``.
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape: tuple, dtype: Any = None) -> torch.Tensor:
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._normal((max(rows, cols), min(rows, cols)), "float64", 0.0, 1.0)
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        target = _float_dtype(dtype or config.floatx(), "Orthogonal")
        return (self.gain * q).reshape(shape).to(target)

    def get_config(self) -> dict:
        return {"gain": self.gain, **super().get_config()}


class Identity(Initializer):
    """``gain`` times the (possibly non-square) identity matrix; 2-D shapes only."""

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape: tuple, dtype: Any = None) -> torch.Tensor:
        shape = tuple(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        return self.gain * torch.eye(*shape, dtype=_float_or_floatx(dtype))

    def get_config(self) -> dict:
        # Keras 3.15's Identity reports an empty config (``gain`` is not saved); kept identical.
        return {}


class STFT(Initializer):
    """Windowed DFT kernels for a ``(frame_length, 1, bins)`` Conv1D: the ``"real"`` or ``"imag"`` part.

    ``window`` is a name (``"hann"``, ``"hamming"``, ... or any SciPy window), an array of
    ``frame_length`` values or None; ``scaling`` divides it by its L2 norm (``"density"``), its sum
    (``"spectrum"``) or nothing (None). The DFT period is ``2 * (bins - 1)``, as ``STFTSpectrogram`` uses.
    """

    def __init__(self, side: str = "real", window: Any = "hann", scaling: str | None = "density",
                 periodic: bool = False):
        from cornu.layers.preprocessing.audio.stft_spectrogram import named_window

        if side not in ("real", "imag"):
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            named_window(window, 2, periodic)  # an unknown name fails here, as in Keras
        if scaling not in (None, "density", "spectrum"):
            raise ValueError("Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                             f"Received scaling={scaling}")
        self.side = side
        self.window = window
        self.scaling = scaling
        self.periodic = periodic

    def __call__(self, shape: tuple, dtype: Any = None) -> torch.Tensor:
        from cornu.layers.preprocessing.audio.stft_spectrogram import dft_kernels

        frame_length, bins = shape[0], shape[-1]
        real, imag = dft_kernels(frame_length, 2 * (bins - 1), self.window, self.periodic, self.scaling)
        target = _float_or_floatx(dtype)
        return torch.from_numpy(real if self.side == "real" else imag).to(target)

    def get_config(self) -> dict:
        return {"side": self.side, "window": self.window, "periodic": self.periodic, "scaling": self.scaling}


OrthogonalInitializer = Orthogonal
IdentityInitializer = Identity
STFTInitializer = STFT

_CLASSES = (
    Initializer, Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
    GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal, Identity, STFT,
)
ALL_OBJECTS_DICT: dict[str, type] = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({
    "initializer": Initializer, "zeros": Zeros, "ones": Ones, "constant": Constant,
    "random_normal": RandomNormal, "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal, "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal, "orthogonal": Orthogonal, "identity": Identity,
    "OrthogonalInitializer": Orthogonal, "IdentityInitializer": Identity,
    "orthogonal_initializer": Orthogonal, "identity_initializer": Identity,
    "STFTInitializer": STFT, "stft": STFT, "stft_initializer": STFT,
    "uniform": RandomUniform, "normal": RandomNormal, "one": Ones, "zero": Zeros,
})

# Keras also exports the snake_case names as callables (``keras.initializers.glorot_uniform``).
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal, identity, stft = VarianceScaling, Orthogonal, Identity, STFT
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal


def serialize(initializer: Initializer) -> dict:
    """Keras's form: ``{"module", "class_name", "config", "registered_name"}``."""
    from cornu.saving.serialization import serialize_keras_object

    if not hasattr(initializer, "get_config"):
        raise TypeError(f"Cannot serialize {initializer!r}: it has no `get_config()`.")
    return serialize_keras_object(initializer)


def deserialize(config: dict | str, custom_objects: dict | None = None) -> Initializer:
    """Build a initializer from ``serialize``'s dict or a registered name."""
    return identifiers.deserialize(config, ALL_OBJECTS_DICT, "initializer", custom_objects)


def get(identifier: Any) -> Any:
    """Resolve None, a name, a config dict, a class or a callable."""
    return identifiers.get(identifier, ALL_OBJECTS_DICT, "initializer")


__all__ = [cls.__name__ for cls in _CLASSES] + [
    "OrthogonalInitializer", "IdentityInitializer", "STFTInitializer", "stft", "compute_fans", "get", "serialize",
    "deserialize",
    "zeros", "ones", "constant", "random_normal", "random_uniform", "truncated_normal", "variance_scaling",
    "orthogonal", "identity", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
    "lecun_uniform", "lecun_normal",
]
