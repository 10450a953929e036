"""Activation functions (``keras.activations``) on torch tensors.

Every function takes a tensor (numpy/python inputs are converted onto
``cornu.config.device()``) and returns a tensor on the same device. String
names resolve through ``get``; ``serialize``/``deserialize`` map functions to
and from those names.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from cornu import config
from cornu.saving import object_registration


def _tensor(x: Any) -> torch.Tensor:
    """Return ``x`` as a floating tensor (non-tensors land on the configured device)."""
    if isinstance(x, torch.Tensor):
        return x if x.is_floating_point() or x.is_complex() else x.to(config.torch_dtype(config.floatx()))
    if hasattr(x, "keras_value"):
        return x.keras_value
    arr = np.asarray(x)
    dtype = arr.dtype if arr.dtype.kind == "f" and isinstance(x, np.ndarray) else config.floatx()
    return torch.as_tensor(arr, dtype=config.torch_dtype(dtype), device=config.device())


def _tensor_keeping_ints(x: Any) -> torch.Tensor:
    """Like ``_tensor``, but integer input stays integer (a NumPy array its dtype, Python ints int32), as the
    clipping activations keep it in Keras."""
    if isinstance(x, torch.Tensor):
        return x if x.dtype != torch.bool else _tensor(x)
    if hasattr(x, "keras_value"):
        return x.keras_value
    arr = np.asarray(x)
    if arr.dtype.kind in "iu":
        dtype = arr.dtype if isinstance(x, np.ndarray) else np.dtype("int32")
        return torch.as_tensor(arr.astype(dtype, copy=False), device=config.device())
    return _tensor(x)


def relu(x: Any, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0) -> torch.Tensor:
    """Rectified linear unit with Keras's optional leak, ceiling and threshold.

    ``x`` above ``threshold`` passes (clipped to ``[0, max_value]`` when a
    ceiling is set); below it the output is ``negative_slope * (x - threshold)``.
    Integer input keeps its dtype when no option is set.
    """
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return torch.relu(_tensor_keeping_ints(x))
    x = _tensor(x)
    out = torch.where(x > threshold, x, torch.zeros_like(x)) if threshold != 0.0 else torch.relu(x)
    if max_value is not None:
        out = out.clamp(0.0, max_value)
    if negative_slope != 0.0:
        out = out - negative_slope * torch.relu(threshold - x)
    return out


def leaky_relu(x: Any, negative_slope: float = 0.2) -> torch.Tensor:
    """``x`` for positive inputs, ``negative_slope * x`` otherwise."""
    return F.leaky_relu(_tensor(x), negative_slope)


def relu6(x: Any) -> torch.Tensor:
    """ReLU capped at 6: ``min(max(x, 0), 6)`` (integer input keeps its dtype)."""
    x = _tensor_keeping_ints(x)
    return F.relu6(x) if x.is_floating_point() else x.clamp(0, 6)


def elu(x: Any, alpha: float = 1.0) -> torch.Tensor:
    """``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``."""
    return F.elu(_tensor(x), alpha=alpha)


def selu(x: Any) -> torch.Tensor:
    """Scaled ELU with the self-normalising constants (1.0507..., 1.6732...)."""
    return F.selu(_tensor(x))


def celu(x: Any, alpha: float = 1.0) -> torch.Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    return F.celu(_tensor(x), alpha=alpha)


def gelu(x: Any, approximate: bool = False) -> torch.Tensor:
    """Gaussian error linear unit; ``approximate=True`` uses the tanh formula."""
    return F.gelu(_tensor(x), approximate="tanh" if approximate else "none")


def sigmoid(x: Any) -> torch.Tensor:
    """``1 / (1 + exp(-x))``."""
    return torch.sigmoid(_tensor(x))


def log_sigmoid(x: Any) -> torch.Tensor:
    """``log(sigmoid(x))`` computed stably."""
    return F.logsigmoid(_tensor(x))


def hard_sigmoid(x: Any) -> torch.Tensor:
    """Piecewise-linear sigmoid, Keras 3 formula ``relu6(x + 3) / 6``."""
    return F.hardsigmoid(_tensor(x))


def silu(x: Any) -> torch.Tensor:
    """Sigmoid-weighted linear unit ``x * sigmoid(x)`` (also called swish)."""
    return F.silu(_tensor(x))


swish = silu


def hard_silu(x: Any) -> torch.Tensor:
    """``x * hard_sigmoid(x)`` (also called hard swish)."""
    return F.hardswish(_tensor(x))


hard_swish = hard_silu


def softmax(x: Any, axis: int = -1) -> torch.Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``."""
    return torch.softmax(_tensor(x), dim=axis)


def log_softmax(x: Any, axis: int = -1) -> torch.Tensor:
    """``x - logsumexp(x)`` along ``axis``."""
    return torch.log_softmax(_tensor(x), dim=axis)


def softplus(x: Any) -> torch.Tensor:
    """``log(1 + exp(x))``."""
    return F.softplus(_tensor(x))


def softsign(x: Any) -> torch.Tensor:
    """``x / (1 + |x|)``."""
    return F.softsign(_tensor(x))


def tanh(x: Any) -> torch.Tensor:
    """Hyperbolic tangent."""
    return torch.tanh(_tensor(x))


def hard_tanh(x: Any) -> torch.Tensor:
    """``x`` clipped to ``[-1, 1]`` (integer input keeps its dtype)."""
    x = _tensor_keeping_ints(x)
    return F.hardtanh(x) if x.is_floating_point() else x.clamp(-1, 1)


def tanh_shrink(x: Any) -> torch.Tensor:
    """``x - tanh(x)``."""
    return F.tanhshrink(_tensor(x))


def hard_shrink(x: Any, threshold: float = 0.5) -> torch.Tensor:
    """``x`` where ``|x| > threshold``, else 0."""
    return F.hardshrink(_tensor(x), lambd=threshold)


def soft_shrink(x: Any, threshold: float = 0.5) -> torch.Tensor:
    """Shrink ``x`` towards 0 by ``threshold``; 0 inside ``[-threshold, threshold]``."""
    return F.softshrink(_tensor(x), lambd=threshold)


def squareplus(x: Any, b: float = 4) -> torch.Tensor:
    """``(x + sqrt(x**2 + b)) / 2``, a smooth ReLU."""
    x = _tensor(x)
    return (x + torch.sqrt(x * x + b)) / 2


def sparse_plus(x: Any) -> torch.Tensor:
    """0 for ``x <= -1``, ``(x + 1)**2 / 4`` in ``(-1, 1)``, ``x`` for ``x >= 1``."""
    x = _tensor(x)
    middle = (x + 1) ** 2 / 4
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x >= 1, x, middle))


def threshold(x: Any, threshold: float, default_value: float) -> torch.Tensor:
    """``x`` where ``x > threshold``, else ``default_value`` (integer input keeps its dtype)."""
    x = _tensor_keeping_ints(x)
    if x.is_floating_point():
        return F.threshold(x, threshold, default_value)
    return torch.where(x > threshold, x, torch.tensor(default_value, device=x.device).to(x.dtype))


def sparse_sigmoid(x: Any) -> torch.Tensor:
    """0 for ``x <= -1``, ``(x + 1) / 2`` in between, 1 for ``x >= 1``."""
    return torch.clamp((_tensor(x) + 1) / 2, 0.0, 1.0)


def sparsemax(x: Any, axis: int = -1) -> torch.Tensor:
    """Euclidean projection of ``x`` onto the probability simplex along ``axis`` (a sparse softmax).

    Every slice sums to 1 (Keras 3.15's torch backend mixes rows up for inputs of rank > 1).
    """
    from cornu.ops.nn import sparsemax as simplex_projection

    return simplex_projection(_tensor(x), axis=axis)


def glu(x: Any, axis: int = -1) -> torch.Tensor:
    """Gated linear unit: split ``x`` in two halves ``a, b`` along ``axis``; ``a * sigmoid(b)``."""
    return F.glu(_tensor(x), dim=axis)


def mish(x: Any) -> torch.Tensor:
    """``x * tanh(softplus(x))``."""
    return F.mish(_tensor(x))


def exponential(x: Any) -> torch.Tensor:
    """``exp(x)``."""
    return torch.exp(_tensor(x))


def linear(x: Any) -> Any:
    """Identity: returns ``x`` unchanged."""
    return x


_FUNCTIONS: dict[str, Callable] = {
    fn.__name__: fn
    for fn in (
        relu, leaky_relu, relu6, elu, selu, celu, gelu, sigmoid, log_sigmoid, hard_sigmoid, silu,
        hard_silu, softmax, log_softmax, softplus, softsign, tanh, hard_tanh, tanh_shrink, hard_shrink,
        soft_shrink, squareplus, sparse_plus, sparse_sigmoid, sparsemax, threshold, glu, mish, exponential,
        linear,
    )
}
_ALIASES: dict[str, Callable] = {"swish": silu, "hard_swish": hard_silu}
ALL_OBJECTS_DICT: dict[str, Callable] = {**_FUNCTIONS, **_ALIASES}


def serialize(activation: Callable) -> str | dict:
    """Name of a built-in activation; Keras's full object dict for config-bearing objects (layers)."""
    for name, fn in _FUNCTIONS.items():
        if activation is fn:
            return name
    if hasattr(activation, "get_config"):
        from cornu.saving.serialization import serialize_keras_object

        config = serialize_keras_object(activation)
        config.pop("build_config", None)
        return config
    name = getattr(activation, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize activation {activation!r}: it has no name or config.")
    registered = object_registration.get_registered_name(activation)
    return registered if object_registration.get_registered_object(registered) is activation else name


def deserialize(config: str | dict, custom_objects: dict | None = None) -> Callable:
    """Inverse of ``serialize``: a name (or ``{"class_name": ..., "config": ...}``) to a callable."""
    custom_objects = custom_objects or {}
    if isinstance(config, dict):
        name = config.get("class_name")
        inner = config.get("config")
        if name == "function" or isinstance(inner, str):
            return deserialize(inner, custom_objects)
        cls = custom_objects.get(name)
        if cls is None:
            return _deserialize_object(config, custom_objects)
        return cls.from_config(inner or {}) if hasattr(cls, "from_config") else cls(**(inner or {}))
    if not isinstance(config, str):
        raise TypeError(f"Activation config must be a string or dict. Received: {config!r}")
    if config in custom_objects:
        return custom_objects[config]
    if config in ALL_OBJECTS_DICT:
        return ALL_OBJECTS_DICT[config]
    registered = object_registration.get_registered_object(config, custom_objects)
    if registered is not None:
        return registered
    raise ValueError(
        f"Unknown activation function: {config!r}. Valid names are: {sorted(ALL_OBJECTS_DICT)}"
    )


def _deserialize_object(config: dict, custom_objects: dict) -> Callable:
    """A config-bearing activation (``LeakyReLU`` layer, registered class) from its object dict."""
    from cornu.saving.serialization import UnresolvedObjectError, deserialize_keras_object

    try:
        return deserialize_keras_object(config, custom_objects=custom_objects)
    except UnresolvedObjectError:
        raise ValueError(f"Unknown activation class {config.get('class_name')!r}: pass it in "
                         "`custom_objects`.") from None


def get(identifier: Any) -> Callable:
    """Resolve ``None`` (-> ``linear``), a name, a serialized dict or a callable to an activation."""
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")


__all__ = sorted(ALL_OBJECTS_DICT) + ["get", "serialize", "deserialize"]
