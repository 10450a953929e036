"""NumPy-like ``keras.ops``: creation, element-wise math, reductions, shapes, logic.

Every function takes tensors, NumPy arrays, Variables or Python scalars and
returns torch tensors. Dtypes follow Keras: Python scalars are weakly typed,
integer inputs to float-only functions give ``floatx()``, integer sums keep
``int32``, index results are ``int32``.
"""
from __future__ import annotations

import builtins
import math as _pymath
from typing import Any, Sequence

import numpy as np
import torch

from cornu import config, symbolic
from cornu.ops import core
from cornu.ops.core import (
    _binary,
    _canonical_axes,
    _canonical_axis,
    _floatx,
    _is_float,
    _operands,
    _shape_tuple,
    _tensor,
    get_item,  # noqa: F401  (``keras.ops.numpy.get_item`` exists too)
    symbolic_op,
)
from cornu.symbolic import KerasTensor

_NUMBERS = (int, float)
_SMALL_INTS = (torch.bool, torch.int8, torch.int16, torch.uint8)
# Dtypes Keras's result_type leaves as they are when both operands share them (fast paths may skip it).
_NARROW_OK = frozenset({torch.float32, torch.float16, torch.bfloat16, torch.int32, torch.int8, torch.int16,
                        torch.uint8, torch.bool})


def _dtype_or(dtype: Any, default: torch.dtype) -> torch.dtype:
    return default if dtype is None else config.torch_dtype(dtype)


def _as_float(x: Any) -> torch.Tensor:
    """Tensor of ``x``; integer and bool inputs become ``floatx()``."""
    if type(x) is torch.Tensor and x.is_floating_point():
        return x
    t = _tensor(x)
    return t if _is_float(t) else t.to(_floatx())


def _common(*xs: Any) -> list[torch.Tensor]:
    """Tensors of ``xs`` cast to their common (promoted) dtype."""
    ts = [_tensor(x) for x in xs]
    device = next((t.device for t in ts), None)
    dtype = ts[0].dtype
    for t in ts[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return [t.to(device=device, dtype=dtype) for t in ts]


def _dims(x: torch.Tensor, axis: Any) -> tuple[int, ...]:
    """Axes to reduce: all of them for ``None``."""
    axes = _canonical_axes(axis, x.ndim)
    return tuple(range(x.ndim)) if axes is None else axes


def _sum_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.int32 if dtype in _SMALL_INTS else dtype


def _fake_size_mismatch(numel: int) -> bool:
    return symbolic.in_fake_run() and numel % symbolic.current_sentinel() == 0


def _is_float_value(v: Any) -> bool:
    if isinstance(v, float):
        return True
    if isinstance(v, torch.Tensor):
        return v.is_floating_point()
    return isinstance(v, (np.ndarray, np.generic)) and v.dtype.kind == "f"


# ------------------------------------------------------------------ creation
@symbolic_op
def zeros(shape: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor of zeros (``floatx()`` by default)."""
    return torch.zeros(_shape_tuple(shape), dtype=config.torch_dtype(dtype), device=config.device())


@symbolic_op
def ones(shape: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor of ones (``floatx()`` by default)."""
    return torch.ones(_shape_tuple(shape), dtype=config.torch_dtype(dtype), device=config.device())


@symbolic_op
def empty(shape: Any, dtype: Any = None) -> torch.Tensor:
    """An uninitialized tensor."""
    return torch.empty(_shape_tuple(shape), dtype=config.torch_dtype(dtype), device=config.device())


@symbolic_op
def full(shape: Any, fill_value: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor of ``shape`` filled with ``fill_value``, ``floatx()`` unless ``dtype`` says otherwise (as Keras)."""
    fill = _tensor(fill_value)
    target = config.torch_dtype(dtype)
    return fill.to(device=config.device(), dtype=target).expand(_shape_tuple(shape)).clone()


@symbolic_op
def zeros_like(x: Any, dtype: Any = None) -> torch.Tensor:
    """Zeros with the shape (and by default the dtype) of ``x``."""
    t = _tensor(x)
    return torch.zeros_like(t, dtype=_dtype_or(dtype, t.dtype))


@symbolic_op
def ones_like(x: Any, dtype: Any = None) -> torch.Tensor:
    """Ones with the shape (and by default the dtype) of ``x``."""
    t = _tensor(x)
    return torch.ones_like(t, dtype=_dtype_or(dtype, t.dtype))


@symbolic_op
def full_like(x: Any, fill_value: Any, dtype: Any = None) -> torch.Tensor:
    """``fill_value`` broadcast to the shape of ``x`` (dtype of ``x`` by default)."""
    t = _tensor(x)
    fill = _tensor(fill_value, device=t.device)
    return fill.to(_dtype_or(dtype, t.dtype)).expand(t.shape).clone()


@symbolic_op
def arange(start: Any, stop: Any = None, step: Any = None, dtype: Any = None) -> torch.Tensor:
    """Evenly spaced values in ``[start, stop)``; ``int32`` for integer arguments."""
    if stop is None:
        start, stop = 0, start
    if step is None:
        step = 1
    if dtype is None:
        is_float = builtins.any(_is_float_value(v) for v in (start, stop, step))
        dtype = config.floatx() if is_float else "int32"
    return torch.arange(start, stop, step, dtype=config.torch_dtype(dtype), device=config.device())


@symbolic_op
def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> torch.Tensor:
    """A 2-D tensor with ones on the ``k``-th diagonal."""
    M = N if M is None else M
    ones_ = torch.ones((N, M), dtype=config.torch_dtype(dtype), device=config.device())
    return ones_.tril(k).triu(k)


@symbolic_op
def identity(n: int, dtype: Any = None) -> torch.Tensor:
    """The ``n`` x ``n`` identity matrix."""
    return torch.eye(n, dtype=config.torch_dtype(dtype), device=config.device())


@symbolic_op
def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> torch.Tensor:
    """Ones at and below the ``k``-th diagonal."""
    M = N if M is None else M
    return torch.ones((N, M), dtype=config.torch_dtype(dtype), device=config.device()).tril(k)


@symbolic_op
def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: Any = None, axis: int = 0) -> Any:
    """``num`` evenly spaced samples from ``start`` to ``stop`` (array endpoints allowed)."""
    if num < 0:
        raise ValueError(f"`num` must be non-negative. Received: num={num}")
    lo, hi = _common(_as_float(start), _as_float(stop))
    lo, hi = torch.broadcast_tensors(lo.to(torch.float64), hi.to(torch.float64))
    div = (num - 1) if endpoint else num
    step = (hi - lo) / div if div > 0 else torch.full_like(lo, float("nan"))
    steps = torch.arange(num, dtype=torch.float64, device=lo.device).reshape((num,) + (1,) * lo.ndim)
    out = lo + steps * step
    if endpoint and num > 1:
        out[-1] = hi
    out = torch.movedim(out, 0, _canonical_axis(axis, out.ndim))
    target = config.torch_dtype(dtype)
    out = out.to(target)
    return (out, step.to(target)) if retstep else out


@symbolic_op
def array(x: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor holding ``x``."""
    return _tensor(x, dtype=dtype)


@symbolic_op
def copy(x: Any) -> torch.Tensor:
    """A copy of ``x``."""
    return _tensor(x).clone()


# ------------------------------------------------------------------ arithmetic
@symbolic_op
def add(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise ``x1 + x2`` with broadcasting."""
    if type(x1) is torch.Tensor and type(x2) is torch.Tensor and x1.dtype == x2.dtype:
        return torch.add(x1, x2)
    return _binary(torch.add, x1, x2)


@symbolic_op
def subtract(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise ``x1 - x2`` (a bool operand is first cast to the other's dtype, as Keras does)."""
    bools = [isinstance(x, bool) or (isinstance(x, torch.Tensor) and x.dtype == torch.bool) for x in (x1, x2)]
    if bools[0] != bools[1]:
        x1, x2 = (int(x) if isinstance(x, bool) else x for x in (x1, x2))
    return _binary(torch.sub, x1, x2, cast_inputs=bools[0] != bools[1])


@symbolic_op
def multiply(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise ``x1 * x2``."""
    if type(x1) is torch.Tensor and type(x2) is torch.Tensor and x1.dtype == x2.dtype:
        return torch.mul(x1, x2)
    return _binary(torch.mul, x1, x2)


@symbolic_op
def divide(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise true division; integer inputs give ``floatx()``."""
    (a, b), dtype = _operands(x1, x2)
    if not (dtype.is_floating_point or dtype.is_complex):
        dtype = _floatx()
    return torch.true_divide(a, b).to(dtype)


@symbolic_op
def true_divide(x1: Any, x2: Any) -> torch.Tensor:
    """Alias of ``divide``."""
    return divide.__wrapped__(x1, x2)


@symbolic_op
def divide_no_nan(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 / x2``, with 0 wherever ``x2`` is 0."""
    out = divide.__wrapped__(x1, x2)
    denom = _tensor(x2, device=out.device)
    return torch.where(denom == 0, torch.zeros_like(out), out)


@symbolic_op
def floor_divide(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise ``floor(x1 / x2)``; mixed dtypes meet in Keras's ``result_type``, float64 gives floatx."""
    (a, b), dtype = _operands(x1, x2)
    ta, tb = (x.dtype if isinstance(x, torch.Tensor) else None for x in (a, b))
    if ta is not None and tb is not None and ta != tb:
        dtype = core._keras_dtype(ta, tb)
    elif ta is None or tb is None or dtype == torch.float64:  # with a Python scalar: result_type, 32-bit
        dtype = core._keras_dtype(dtype, dtype)
    out = torch.floor_divide(a, b)
    return out if out.dtype == dtype else out.to(dtype)


@symbolic_op
def mod(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise remainder with the sign of the divisor (NumPy ``mod``)."""
    return _binary(torch.remainder, x1, x2)


@symbolic_op
def power(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise ``x1 ** x2``."""
    return _binary(torch.pow, x1, x2)


@symbolic_op
def maximum(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise maximum."""
    if type(x1) is torch.Tensor and type(x2) is torch.Tensor and x1.dtype == x2.dtype and x1.dtype in _NARROW_OK:
        return torch.maximum(x1, x2)
    return _binary(torch.maximum, x1, x2, scalars=False, cast_inputs=True, keras_table=True)


@symbolic_op
def minimum(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise minimum."""
    if type(x1) is torch.Tensor and type(x2) is torch.Tensor and x1.dtype == x2.dtype and x1.dtype in _NARROW_OK:
        return torch.minimum(x1, x2)
    return _binary(torch.minimum, x1, x2, scalars=False, cast_inputs=True, keras_table=True)


@symbolic_op
def arctan2(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise angle of the point ``(x2, x1)``."""
    return _float_result(torch.atan2, x1, x2)


@symbolic_op
def logaddexp(x1: Any, x2: Any) -> torch.Tensor:
    """``log(exp(x1) + exp(x2))``, computed stably."""
    return _float_result(torch.logaddexp, x1, x2)


def _float_result(fn, x1: Any, x2: Any) -> torch.Tensor:
    """A float-valued binary op in Keras's dtype: mixed dtypes meet in ``result_type``, ints give floatx."""
    (a, b), dtype = _operands(x1, x2, scalars=False, keras_table=True)
    if not (dtype.is_floating_point or dtype.is_complex):
        dtype = _floatx()
    return fn(a.to(dtype), b.to(dtype))


@symbolic_op
def negative(x: Any) -> torch.Tensor:
    """Element-wise ``-x``."""
    return torch.neg(_tensor(x))


@symbolic_op
def abs(x: Any) -> torch.Tensor:
    """Element-wise absolute value (bool stays bool)."""
    t = _tensor(x)
    return t if t.dtype == torch.bool else torch.abs(t)


@symbolic_op
def absolute(x: Any) -> torch.Tensor:
    """Alias of ``abs``."""
    return abs.__wrapped__(x)


@symbolic_op
def square(x: Any) -> torch.Tensor:
    """Element-wise ``x * x`` (bool input gives ``int32``)."""
    t = _tensor(x)
    if t.dtype == torch.bool:
        t = t.to(torch.int32)
    return t * t


@symbolic_op
def sign(x: Any) -> torch.Tensor:
    """Element-wise sign (-1, 0 or 1)."""
    return torch.sign(_tensor(x))


@symbolic_op
def round(x: Any, decimals: int = 0) -> torch.Tensor:
    """Round half to even to ``decimals`` places."""
    t = _tensor(x)
    if _is_float(t):
        return torch.round(t, decimals=decimals)
    if decimals >= 0:
        return t
    return torch.round(t.to(torch.float64), decimals=decimals).to(t.dtype)


@symbolic_op
def clip(x: Any, x_min: Any, x_max: Any) -> torch.Tensor:
    """Limit values to ``[x_min, x_max]``; the dtype of ``x`` is kept (bool -> int32; ints with float bounds
    -> floatx)."""
    if type(x) is torch.Tensor and x.is_floating_point() and type(x_min) in _NUMBERS and type(x_max) in _NUMBERS:
        return torch.clamp(x, x_min, x_max)
    t = _tensor(x)
    if t.dtype == torch.bool:
        t = t.to(torch.int32)
    bounds = [x_min, x_max]
    if not t.is_floating_point() and builtins.any(_is_float_value(b) for b in bounds):
        t = t.to(_floatx())  # an integer tensor clipped to float bounds is float, as Keras
    if builtins.any(not isinstance(b, (int, float, type(None))) for b in bounds):
        bounds = [None if b is None else _tensor(b, device=t.device).to(t.dtype) for b in bounds]
    return torch.clamp(t, bounds[0], bounds[1]).to(t.dtype)


def _float_unary(fn, name: str, doc: str):
    def op(x: Any) -> torch.Tensor:
        return fn(_as_float(x))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    op.__module__ = __name__
    return symbolic_op(op)


exp = _float_unary(torch.exp, "exp", "Element-wise exponential.")
exp2 = _float_unary(torch.exp2, "exp2", "Element-wise ``2 ** x``.")
expm1 = _float_unary(torch.expm1, "expm1", "Element-wise ``exp(x) - 1``, accurate near 0.")
log = _float_unary(torch.log, "log", "Element-wise natural logarithm.")
log1p = _float_unary(torch.log1p, "log1p", "Element-wise ``log(1 + x)``, accurate near 0.")
log2 = _float_unary(torch.log2, "log2", "Element-wise base-2 logarithm.")
log10 = _float_unary(torch.log10, "log10", "Element-wise base-10 logarithm.")
sqrt = _float_unary(torch.sqrt, "sqrt", "Element-wise square root.")
sin = _float_unary(torch.sin, "sin", "Element-wise sine.")
cos = _float_unary(torch.cos, "cos", "Element-wise cosine.")
tan = _float_unary(torch.tan, "tan", "Element-wise tangent.")
arcsin = _float_unary(torch.asin, "arcsin", "Element-wise inverse sine.")
arccos = _float_unary(torch.acos, "arccos", "Element-wise inverse cosine.")
arctan = _float_unary(torch.atan, "arctan", "Element-wise inverse tangent.")
sinh = _float_unary(torch.sinh, "sinh", "Element-wise hyperbolic sine.")
cosh = _float_unary(torch.cosh, "cosh", "Element-wise hyperbolic cosine.")
tanh = _float_unary(torch.tanh, "tanh", "Element-wise hyperbolic tangent.")
arcsinh = _float_unary(torch.asinh, "arcsinh", "Element-wise inverse hyperbolic sine.")
arccosh = _float_unary(torch.acosh, "arccosh", "Element-wise inverse hyperbolic cosine.")
arctanh = _float_unary(torch.atanh, "arctanh", "Element-wise inverse hyperbolic tangent.")
reciprocal = _float_unary(torch.reciprocal, "reciprocal", "Element-wise ``1 / x``.")
floor = _float_unary(torch.floor, "floor", "Element-wise floor (integer input gives floatx).")
ceil = _float_unary(torch.ceil, "ceil", "Element-wise ceiling (integer input gives floatx).")


@symbolic_op
def trunc(x: Any) -> torch.Tensor:
    """Element-wise rounding toward zero; integer and bool inputs come back unchanged (dtype kept)."""
    t = _tensor(x)
    return torch.trunc(t) if t.is_floating_point() else t


@symbolic_op
def nan_to_num(x: Any, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> torch.Tensor:
    """Replace NaN and infinities by finite numbers."""
    t = _tensor(x)
    return torch.nan_to_num(t, nan=nan, posinf=posinf, neginf=neginf) if _is_float(t) else t


# ------------------------------------------------------------------ products
def _check_matmul(a: torch.Tensor, b: torch.Tensor) -> None:
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("`matmul` does not accept scalars; use `multiply`.")
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != inner_b:
        raise ValueError(
            f"Incompatible shapes for matmul: {tuple(a.shape)} and {tuple(b.shape)} "
            f"(last axis of x1 is {a.shape[-1]}, contraction axis of x2 is {inner_b})."
        )


def _int_safe(fn, *ts: torch.Tensor) -> torch.Tensor:
    """Run a product op; integer inputs on GPU are computed in float64 (no int GEMM there)."""
    dtype = ts[0].dtype
    if not _is_float(ts[0]) and ts[0].device.type != "cpu":
        return fn(*(t.to(torch.float64) for t in ts)).round().to(dtype)
    return fn(*ts)


@symbolic_op
def matmul(x1: Any, x2: Any) -> torch.Tensor:
    """Matrix product with NumPy broadcasting of batch axes, in Keras's dtype (int8 @ int8 gives int32)."""
    if (type(x1) is torch.Tensor and type(x2) is torch.Tensor and x1.dtype == x2.dtype
            and x1.dtype in (torch.float32, torch.float16, torch.bfloat16) and x1.ndim and x2.ndim):
        try:
            return torch.matmul(x1, x2)
        except RuntimeError:
            pass  # the checks below name the shapes
    (a, b), dtype = _operands(x1, x2, scalars=False, keras_table=True)
    _check_matmul(a, b)
    if a.dtype == b.dtype == torch.int8:
        dtype = torch.int32
    a, b = a.to(dtype), b.to(dtype)
    if dtype == torch.bool:
        return _int_safe(torch.matmul, a.to(torch.int32), b.to(torch.int32)) != 0
    return _int_safe(torch.matmul, a, b)


@symbolic_op
def dot(x1: Any, x2: Any) -> torch.Tensor:
    """NumPy ``dot``: inner, matrix, or sum-product over last/second-to-last axes."""
    a, b = _common(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim == 1 or a.ndim == 1:
        return matmul.__wrapped__(a, b)
    _check_matmul(a, b)
    return _int_safe(lambda p, q: torch.tensordot(p, q, dims=([-1], [q.ndim - 2])), a, b)


@symbolic_op
def tensordot(x1: Any, x2: Any, axes: Any = 2) -> torch.Tensor:
    """Sum products over the last ``axes`` axes of ``x1`` and first of ``x2`` (or listed axes)."""
    a, b = _common(x1, x2)
    if not isinstance(axes, int):
        first, second = axes
        first = [first] if isinstance(first, int) else list(first)
        second = [second] if isinstance(second, int) else list(second)
        axes = (first, second)
    return _int_safe(lambda p, q: torch.tensordot(p, q, dims=axes), a, b)


@symbolic_op
def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> torch.Tensor:
    """Einstein summation over ``operands`` (extra keyword arguments, for other backends, are ignored)."""
    ts = _common(*operands)
    return _int_safe(lambda *xs: torch.einsum(subscripts, *xs), *ts)


@symbolic_op
def outer(x1: Any, x2: Any) -> torch.Tensor:
    """Outer product of the flattened inputs."""
    a, b = _common(x1, x2)
    return a.reshape(-1, 1) * b.reshape(1, -1)


@symbolic_op
def vdot(x1: Any, x2: Any) -> torch.Tensor:
    """Dot product of the flattened inputs."""
    a, b = _common(x1, x2)
    return torch.sum(a.reshape(-1) * b.reshape(-1), dtype=_sum_dtype(a.dtype))


@symbolic_op
def inner(x1: Any, x2: Any) -> torch.Tensor:
    """Sum product over the last axes (scalars multiply)."""
    a, b = _common(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return _int_safe(lambda p, q: torch.tensordot(p, q, dims=([-1], [-1])), a, b)


# ------------------------------------------------------------------ reductions
@symbolic_op
def sum(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Sum over ``axis`` (int, tuple or ``None`` for all); small ints accumulate in int32."""
    if type(x) is torch.Tensor and type(axis) is int and x.is_floating_point() and -x.ndim <= axis < x.ndim:
        return torch.sum(x, dim=axis, keepdim=keepdims)
    t = _tensor(x)
    dims = _dims(t, axis)
    dtype = _sum_dtype(t.dtype)
    if not dims:
        return t.to(dtype)
    return torch.sum(t, dim=dims, keepdim=keepdims, dtype=dtype)


@symbolic_op
def mean(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Arithmetic mean over ``axis``; integer input gives ``floatx()``."""
    if type(x) is torch.Tensor and type(axis) is int and x.is_floating_point() and -x.ndim <= axis < x.ndim:
        return torch.mean(x, dim=axis, keepdim=keepdims)
    t = _as_float(x)
    dims = _dims(t, axis)
    return torch.mean(t, dim=dims, keepdim=keepdims) if dims else t


def _extreme(fn, t: torch.Tensor, axis: Any, keepdims: bool, initial: Any, pick) -> torch.Tensor:
    dims = _dims(t, axis)
    out = fn(t, dim=dims, keepdim=keepdims) if dims else t
    if initial is not None:
        out = pick(out, _tensor(initial, device=out.device).to(out.dtype))
    return out


@symbolic_op
def max(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> torch.Tensor:
    """Maximum over ``axis``, at least ``initial`` when given."""
    return _extreme(torch.amax, _tensor(x), axis, keepdims, initial, torch.maximum)


@symbolic_op
def min(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> torch.Tensor:
    """Minimum over ``axis``, at most ``initial`` when given."""
    return _extreme(torch.amin, _tensor(x), axis, keepdims, initial, torch.minimum)


@symbolic_op
def amax(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Maximum over ``axis``."""
    return _extreme(torch.amax, _tensor(x), axis, keepdims, None, None)


@symbolic_op
def amin(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Minimum over ``axis``."""
    return _extreme(torch.amin, _tensor(x), axis, keepdims, None, None)


@symbolic_op
def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> torch.Tensor:
    """Product over ``axis``; small ints accumulate in int32, 64-bit inputs give 32 bits (as Keras)."""
    t = _tensor(x)
    out_dtype = _dtype_or(dtype, core._keras_dtype(*(2 * (_sum_dtype(t.dtype),))))
    t = t.to(out_dtype)
    for d in sorted(_dims(t, axis), reverse=True):
        t = torch.prod(t, dim=d, keepdim=keepdims, dtype=out_dtype)
    return t


@symbolic_op
def var(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Population variance (``ddof=0``) over ``axis``; float64 gives float32, as Keras on torch."""
    t = _as_float(x)
    dims = _dims(t, axis)
    out = torch.var(t, dim=dims, correction=0, keepdim=keepdims) if dims else torch.zeros_like(t)
    return out.to(_floatx()) if out.dtype == torch.float64 else out


@symbolic_op
def std(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Population standard deviation (``ddof=0``) over ``axis``."""
    t = _as_float(x)
    dims = _dims(t, axis)
    return torch.std(t, dim=dims, correction=0, keepdim=keepdims) if dims else torch.zeros_like(t)


def _arg_extreme(fn, x: Any, axis: Any, keepdims: bool) -> torch.Tensor:
    t = _tensor(x)
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    if axis is None:
        out = fn(t.reshape(-1), dim=0)
        if keepdims:
            out = out.reshape((1,) * t.ndim)
    else:
        out = fn(t, dim=_canonical_axis(axis, t.ndim), keepdim=keepdims)
    return out.to(torch.int32)


@symbolic_op
def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """Index (int32) of the maximum along ``axis`` (of the flattened tensor for ``None``)."""
    return _arg_extreme(torch.argmax, x, axis, keepdims)


@symbolic_op
def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """Index (int32) of the minimum along ``axis``."""
    return _arg_extreme(torch.argmin, x, axis, keepdims)


def _logical_reduce(fn, x: Any, axis: Any, keepdims: bool) -> torch.Tensor:
    t = _tensor(x)
    dims = _dims(t, axis)
    if not dims:
        return t.to(torch.bool)
    return fn(t, dim=dims, keepdim=keepdims)


@symbolic_op
def any(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Whether any element along ``axis`` is true."""
    return _logical_reduce(torch.any, x, axis, keepdims)


@symbolic_op
def all(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Whether all elements along ``axis`` are true."""
    return _logical_reduce(torch.all, x, axis, keepdims)


@symbolic_op
def count_nonzero(x: Any, axis: Any = None) -> torch.Tensor:
    """Number of non-zero entries along ``axis`` (int32)."""
    t = _tensor(x)
    return torch.sum(t != 0, dim=_dims(t, axis), dtype=torch.int32)


@symbolic_op
def average(x: Any, axis: int | None = None, weights: Any = None) -> torch.Tensor:
    """Weighted mean along ``axis``; 1-D ``weights`` apply along that axis."""
    t = _as_float(x)
    if weights is None:
        return mean.__wrapped__(t, axis=axis)
    w = _tensor(weights, device=t.device).to(t.dtype)
    if axis is not None and w.ndim == 1 and t.ndim > 1:
        ax = _canonical_axis(axis, t.ndim)
        w = w.reshape([-1 if i == ax else 1 for i in range(t.ndim)])
    return sum.__wrapped__(t * w, axis=axis) / sum.__wrapped__(w * torch.ones_like(t), axis=axis)


def _scan(fn, x: Any, axis: Any, dtype: Any) -> torch.Tensor:
    t = _tensor(x)
    if axis is None:
        t, axis = t.reshape(-1), 0
    d = _dtype_or(dtype, t.dtype)
    out_dtype = torch.int32 if d == torch.bool else core._keras_dtype(d, d)  # Keras: result_type, 32-bit
    return fn(t, dim=_canonical_axis(axis, t.ndim), dtype=out_dtype)


@symbolic_op
def cumsum(x: Any, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    """Cumulative sum along ``axis`` (of the flattened tensor for ``None``)."""
    return _scan(torch.cumsum, x, axis, dtype)


@symbolic_op
def cumprod(x: Any, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    """Cumulative product along ``axis`` (of the flattened tensor for ``None``)."""
    return _scan(torch.cumprod, x, axis, dtype)


@symbolic_op
def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> torch.Tensor:
    """Sum along a diagonal."""
    t = _tensor(x)
    return torch.sum(torch.diagonal(t, offset, axis1, axis2), dim=-1, dtype=_sum_dtype(t.dtype))


# ------------------------------------------------------------------ shape
def ndim(x: Any) -> int:
    """Number of dimensions."""
    if isinstance(x, KerasTensor):
        return len(x.shape)
    return _tensor(x).ndim


@symbolic_op
def size(x: Any) -> torch.Tensor:
    """Number of elements, as an int64 scalar tensor (what Keras on torch returns)."""
    t = _tensor(x)
    return torch.tensor(t.numel(), dtype=torch.int64, device=t.device)


@symbolic_op
def reshape(x: Any, newshape: Any) -> torch.Tensor:
    """Give ``x`` a new shape with the same number of elements (one ``-1`` is inferred)."""
    if type(x) is torch.Tensor and type(newshape) is tuple:
        try:
            return torch.reshape(x, newshape)
        except (RuntimeError, TypeError):
            pass  # the checks below explain the failure
    t = _tensor(x)
    shape = _shape_tuple(newshape)
    if builtins.sum(1 for d in shape if d == -1) > 1 or builtins.any(d < -1 for d in shape):
        raise ValueError(f"Invalid new shape {shape}: at most one dimension may be -1, none below.")
    known = _pymath.prod(d for d in shape if d != -1)
    numel = t.numel()
    if -1 in shape:
        ok = known != 0 and numel % known == 0
        if not ok and known != 0 and _fake_size_mismatch(numel):
            out_shape = tuple(symbolic.current_sentinel() if d == -1 else d for d in shape)
            return t.new_empty(out_shape)
    else:
        ok = known == numel
    if not ok:
        raise ValueError(
            f"Cannot reshape a tensor of shape {tuple(t.shape)} ({numel} elements) into shape {shape}."
        )
    return t.reshape(shape)


@symbolic_op
def transpose(x: Any, axes: Sequence[int] | None = None) -> torch.Tensor:
    """Permute axes; ``axes=None`` reverses them."""
    if type(x) is torch.Tensor and axes is None:
        return torch.permute(x, tuple(range(x.ndim - 1, -1, -1)))
    t = _tensor(x)
    if axes is None:
        return t.permute(*reversed(range(t.ndim)))
    perm = _canonical_axes(tuple(axes), t.ndim)
    if len(perm) != t.ndim:
        raise ValueError(f"`axes` must be a permutation of {t.ndim} axes. Received: axes={axes!r}")
    return t.permute(*perm)


@symbolic_op
def expand_dims(x: Any, axis: Any) -> torch.Tensor:
    """Insert size-1 axes at ``axis`` (int or tuple, positions in the result)."""
    if type(x) is torch.Tensor and type(axis) is int and -x.ndim - 1 <= axis <= x.ndim:
        return x.unsqueeze(axis)
    t = _tensor(x)
    axes = axis if isinstance(axis, (list, tuple)) else (axis,)
    out_ndim = t.ndim + len(axes)
    for a in sorted(_canonical_axis(a, out_ndim) for a in axes):
        t = t.unsqueeze(a)
    return t


@symbolic_op
def squeeze(x: Any, axis: Any = None) -> torch.Tensor:
    """Remove size-1 axes (all of them for ``None``)."""
    if type(x) is torch.Tensor and type(axis) is int and -x.ndim <= axis < x.ndim and x.shape[axis] == 1:
        return x.squeeze(axis)
    t = _tensor(x)
    if axis is None:
        return t.reshape([d for d in t.shape if d != 1])
    axes = _canonical_axes(axis, t.ndim)
    for a in axes:
        if t.shape[a] != 1:
            raise ValueError(f"Cannot squeeze axis {a} of shape {tuple(t.shape)}: its size is not 1.")
    return t.reshape([d for i, d in enumerate(t.shape) if i not in axes])


def _check_same_rank(ts: list[torch.Tensor], what: str) -> None:
    if not ts:
        raise ValueError(f"`{what}` needs at least one tensor.")
    if len({t.ndim for t in ts}) != 1:
        raise ValueError(f"All tensors passed to `{what}` must have the same rank. "
                         f"Received shapes: {[tuple(t.shape) for t in ts]}")


def _same_dtype_tensors(xs: Sequence[Any]) -> bool:
    """Whether ``xs`` are plain tensors of rank >= 1 sharing one dtype (nothing to convert or promote)."""
    first = xs[0]
    if type(first) is not torch.Tensor or not first.ndim:
        return False
    dtype = first.dtype
    for t in xs:
        if type(t) is not torch.Tensor or t.dtype != dtype:
            return False
    return True


@symbolic_op
def concatenate(xs: Sequence[Any], axis: int = 0) -> torch.Tensor:
    """Join tensors along an existing axis."""
    if type(xs) in (list, tuple) and xs and type(axis) is int and _same_dtype_tensors(xs):
        try:
            return torch.cat(xs, dim=axis)
        except (RuntimeError, IndexError):
            pass  # the checks below name the shapes
    ts = _common(*xs)
    _check_same_rank(ts, "concatenate")
    ax = _canonical_axis(axis, ts[0].ndim)
    ref = [d for i, d in enumerate(ts[0].shape) if i != ax]
    for t in ts[1:]:
        if [d for i, d in enumerate(t.shape) if i != ax] != ref:
            raise ValueError(
                f"Cannot concatenate along axis {axis}: shapes must match on all other axes. "
                f"Received shapes: {[tuple(s.shape) for s in ts]}"
            )
    return torch.cat(ts, dim=ax)


@symbolic_op
def append(x1: Any, x2: Any, axis: int | None = None) -> torch.Tensor:
    """Concatenate ``x2`` after ``x1`` (flattened for ``axis=None``)."""
    a, b = _common(x1, x2)
    if axis is None:
        return torch.cat([a.reshape(-1), b.reshape(-1)])
    return concatenate.__wrapped__([a, b], axis=axis)


@symbolic_op
def stack(x: Sequence[Any], axis: int = 0) -> torch.Tensor:
    """Join same-shape tensors along a new axis."""
    ts = _common(*x)
    _check_same_rank(ts, "stack")
    if len({tuple(t.shape) for t in ts}) != 1:
        raise ValueError(f"All tensors passed to `stack` must have the same shape. "
                         f"Received shapes: {[tuple(t.shape) for t in ts]}")
    return torch.stack(ts, dim=_canonical_axis(axis, ts[0].ndim + 1))


@symbolic_op
def hstack(xs: Sequence[Any]) -> torch.Tensor:
    """Concatenate along axis 1 (axis 0 for 1-D tensors)."""
    ts = _common(*xs)
    return concatenate.__wrapped__(ts, axis=0 if ts[0].ndim == 1 else 1)


@symbolic_op
def vstack(xs: Sequence[Any]) -> torch.Tensor:
    """Concatenate along axis 0, 1-D tensors becoming rows."""
    ts = [t.reshape(1, -1) if t.ndim == 1 else t for t in _common(*xs)]
    return concatenate.__wrapped__(ts, axis=0)


@symbolic_op
def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[torch.Tensor]:
    """Split into equal sections (an int) or at the listed indices."""
    t = _tensor(x)
    ax = _canonical_axis(axis, t.ndim)
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        if n <= 0 or t.shape[ax] % n != 0:
            raise ValueError(
                f"Cannot split axis {axis} of size {t.shape[ax]} into {n} equal sections."
            )
        return list(torch.split(t, t.shape[ax] // n, dim=ax))
    return list(torch.tensor_split(t, [int(i) for i in indices_or_sections], dim=ax))


@symbolic_op
def tile(x: Any, repeats: Any) -> torch.Tensor:
    """Repeat the whole tensor ``repeats`` times per axis (NumPy ``tile``)."""
    return torch.tile(_tensor(x), _shape_tuple(repeats))


@symbolic_op
def repeat(x: Any, repeats: Any, axis: int | None = None) -> torch.Tensor:
    """Repeat each element ``repeats`` times along ``axis`` (flattened for ``None``)."""
    t = _tensor(x)
    if not isinstance(repeats, (int, np.integer)):
        repeats = _tensor(repeats, device=t.device).to(torch.int64)
    if axis is None:
        return torch.repeat_interleave(t.reshape(-1), repeats)
    return torch.repeat_interleave(t, repeats, dim=_canonical_axis(axis, t.ndim))


def _wrap_indices(idx: torch.Tensor, size: int) -> torch.Tensor:
    idx = idx.to(torch.int64)
    return torch.where(idx < 0, idx + size, idx)


@symbolic_op
def take(x: Any, indices: Any, axis: int | None = None) -> torch.Tensor:
    """Gather entries at ``indices`` along ``axis`` (flattened for ``None``; negatives wrap)."""
    t = _tensor(x)
    if axis is None:
        t, axis = t.reshape(-1), 0
    ax = _canonical_axis(axis, t.ndim)
    idx = _wrap_indices(_tensor(indices, device=t.device), t.shape[ax])
    out = torch.index_select(t, ax, idx.reshape(-1))
    return out.reshape(tuple(t.shape[:ax]) + tuple(idx.shape) + tuple(t.shape[ax + 1:]))


@symbolic_op
def take_along_axis(x: Any, indices: Any, axis: int | None = None) -> torch.Tensor:
    """Gather with an index tensor that matches ``x`` on the other axes (broadcasting)."""
    t = _tensor(x)
    if axis is None:
        t, axis = t.reshape(-1), 0
    ax = _canonical_axis(axis, t.ndim)
    idx = _wrap_indices(_tensor(indices, device=t.device), t.shape[ax])
    if idx.ndim != t.ndim:
        raise ValueError(f"`indices` must have the rank of `x` ({t.ndim}). "
                         f"Received shape {tuple(idx.shape)}")
    return torch.take_along_dim(t, idx, dim=ax)


@symbolic_op
def where(condition: Any, x1: Any = None, x2: Any = None) -> Any:
    """Pick ``x1`` where ``condition`` holds, else ``x2``."""
    if (type(condition) is torch.Tensor and type(x1) is torch.Tensor and type(x2) is torch.Tensor
            and condition.dtype == torch.bool and x1.dtype == x2.dtype):
        return torch.where(condition, x1, x2)
    if x1 is None and x2 is None:  # Keras on torch: the (ndim, count) indices, int64 here
        return nonzero(condition).to(torch.int64)
    if x1 is None or x2 is None:
        raise ValueError("`x1` and `x2` must either both be given or both be None.")
    (a, b), dtype = _operands(x1, x2, scalars=False)
    c = _tensor(condition, device=a.device).to(torch.bool)
    return torch.where(c, a.to(dtype), b.to(dtype))


def nonzero(x: Any) -> torch.Tensor:
    """Indices of the non-zero entries as one int32 tensor of shape ``(ndim, count)`` (as Keras on torch).

    Its rows are the per-axis index vectors, so ``x[tuple(nonzero(x))]``
    picks the entries. On KerasTensors the count is unknown (``None``).
    """
    if isinstance(x, KerasTensor):
        return symbolic.symbolic_call(nonzero, (x,), {}, name="nonzero")
    t = _tensor(x)
    if symbolic.in_fake_run():
        return t.new_empty((t.ndim, symbolic.current_sentinel()), dtype=torch.int32)
    return torch.nonzero(t).T.to(torch.int32)


def _pad_widths(pad_width: Any, ndim: int) -> list[tuple[int, int]]:
    arr = np.asarray(pad_width, dtype=np.int64)
    if arr.ndim == 0:
        arr = np.full((ndim, 2), int(arr))
    elif arr.ndim == 1 and arr.shape[0] in (1, 2):
        arr = np.tile(np.resize(arr, 2), (ndim, 1))
    elif arr.shape == (1, 2):
        arr = np.tile(arr, (ndim, 1))
    if arr.shape != (ndim, 2):
        raise ValueError(f"`pad_width` must give (before, after) for each of {ndim} axes. "
                         f"Received: pad_width={pad_width!r}")
    if (arr < 0).any():
        raise ValueError(f"`pad_width` cannot be negative. Received: pad_width={pad_width!r}")
    return [(int(b), int(a)) for b, a in arr]


def _pad_index(n: int, before: int, after: int, mode: str, device: torch.device) -> torch.Tensor:
    pos = torch.arange(-before, n + after, device=device)
    if mode == "edge":
        return pos.clamp(0, n - 1)
    if mode == "wrap":
        return pos.remainder(n)
    if mode == "symmetric":
        q = pos.remainder(2 * n)
        return torch.where(q >= n, 2 * n - 1 - q, q)
    if n == 1:
        return torch.zeros_like(pos)
    q = pos.remainder(2 * n - 2)
    return torch.where(q >= n, 2 * n - 2 - q, q)


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


@symbolic_op
def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> torch.Tensor:
    """Pad with NumPy semantics; modes: constant, edge, reflect, symmetric, wrap."""
    t = _tensor(x)
    if mode not in _PAD_MODES:
        raise ValueError(f"`mode` must be one of {_PAD_MODES}. Received: mode={mode!r}")
    if constant_values is not None and mode != "constant":
        raise ValueError(f"`constant_values` can only be set with mode='constant'. Received: mode={mode!r}")
    widths = _pad_widths(pad_width, t.ndim)
    if mode == "constant":
        flat = [w for pair in reversed(widths) for w in pair]
        value = 0 if constant_values is None else constant_values
        return torch.nn.functional.pad(t, flat, mode="constant", value=value)
    for axis, (before, after) in enumerate(widths):
        if before or after:
            n = t.shape[axis]
            if n == 0:
                raise ValueError(f"Cannot pad the empty axis {axis} with mode={mode!r}.")
            t = torch.index_select(t, axis, _pad_index(n, before, after, mode, t.device))
    return t


@symbolic_op
def flip(x: Any, axis: Any = None) -> torch.Tensor:
    """Reverse the order of elements along ``axis`` (all axes for ``None``)."""
    t = _tensor(x)
    return torch.flip(t, _dims(t, axis))


@symbolic_op
def roll(x: Any, shift: Any, axis: Any = None) -> torch.Tensor:
    """Roll elements along ``axis`` (of the flattened tensor for ``None``)."""
    t = _tensor(x)
    if axis is None:
        return torch.roll(t, shift)
    return torch.roll(t, shift, _canonical_axes(axis, t.ndim))


@symbolic_op
def broadcast_to(x: Any, shape: Any) -> torch.Tensor:
    """Broadcast ``x`` to ``shape``."""
    t = _tensor(x)
    target = _shape_tuple(shape)
    ok = len(target) >= t.ndim and builtins.all(
        d == 1 or d == s for d, s in zip(reversed(t.shape), reversed(target))
    )
    if not ok:
        raise ValueError(f"Cannot broadcast a tensor of shape {tuple(t.shape)} to shape {target}.")
    return torch.broadcast_to(t, target)


@symbolic_op
def moveaxis(x: Any, source: Any, destination: Any) -> torch.Tensor:
    """Move axes to new positions."""
    return torch.movedim(_tensor(x), source, destination)


@symbolic_op
def swapaxes(x: Any, axis1: int, axis2: int) -> torch.Tensor:
    """Interchange two axes."""
    return torch.swapaxes(_tensor(x), axis1, axis2)


@symbolic_op
def ravel(x: Any) -> torch.Tensor:
    """Flatten to 1-D."""
    return _tensor(x).reshape(-1)


@symbolic_op
def diag(x: Any, k: int = 0) -> torch.Tensor:
    """The ``k``-th diagonal of a 2-D tensor, or a 2-D tensor with a 1-D one on it."""
    t = _tensor(x)
    if t.ndim not in (1, 2):
        raise ValueError(f"`diag` needs a 1-D or 2-D input. Received shape {tuple(t.shape)}")
    return torch.diag(t, k)


@symbolic_op
def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> torch.Tensor:
    """Diagonal over ``axis1``/``axis2``, appended as the last axis."""
    return torch.diagonal(_tensor(x), offset, axis1, axis2)


@symbolic_op
def tril(x: Any, k: int = 0) -> torch.Tensor:
    """Zero the entries above the ``k``-th diagonal (last two axes)."""
    return torch.tril(_tensor(x), k)


@symbolic_op
def triu(x: Any, k: int = 0) -> torch.Tensor:
    """Zero the entries below the ``k``-th diagonal (last two axes)."""
    return torch.triu(_tensor(x), k)


@symbolic_op
def sort(x: Any, axis: int = -1) -> torch.Tensor:
    """Sorted copy along ``axis`` (ascending; flattened for ``None``)."""
    t = _tensor(x)
    if axis is None:
        t, axis = t.reshape(-1), 0
    return torch.sort(t, dim=axis, stable=True).values


@symbolic_op
def argsort(x: Any, axis: int = -1) -> torch.Tensor:
    """Indices (int32) that sort ``x`` along ``axis`` (stable)."""
    t = _tensor(x)
    if axis is None:
        t, axis = t.reshape(-1), 0
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    return torch.sort(t, dim=axis, stable=True).indices.to(torch.int32)


@symbolic_op
def diff(a: Any, n: int = 1, axis: int = -1) -> torch.Tensor:
    """``n``-th discrete difference along ``axis``."""
    return torch.diff(_tensor(a), n=n, dim=axis)


@symbolic_op
def meshgrid(*x: Any, indexing: str = "xy") -> list[torch.Tensor]:
    """Coordinate grids from 1-D coordinate vectors."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"`indexing` must be 'xy' or 'ij'. Received: indexing={indexing!r}")
    return list(torch.meshgrid(*[_tensor(v) for v in x], indexing=indexing))


# ------------------------------------------------------------------ comparison / logic
def _compare(fn, x1: Any, x2: Any) -> torch.Tensor:
    return _binary(fn, x1, x2, out_dtype=torch.bool)


@symbolic_op
def equal(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise ``x1 == x2``."""
    return _compare(torch.eq, x1, x2)


@symbolic_op
def not_equal(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise ``x1 != x2``."""
    return _compare(torch.ne, x1, x2)


@symbolic_op
def less(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise ``x1 < x2``."""
    return _compare(torch.lt, x1, x2)


@symbolic_op
def less_equal(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise ``x1 <= x2``."""
    return _compare(torch.le, x1, x2)


@symbolic_op
def greater(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise ``x1 > x2``."""
    return _compare(torch.gt, x1, x2)


@symbolic_op
def greater_equal(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise ``x1 >= x2``."""
    return _compare(torch.ge, x1, x2)


@symbolic_op
def isclose(x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8,
            equal_nan: bool = False) -> torch.Tensor:
    """Element-wise ``|x1 - x2| <= atol + rtol * |x2|``."""
    (a, b), dtype = _operands(x1, x2, scalars=False)
    return torch.isclose(a.to(dtype), b.to(dtype), rtol=rtol, atol=atol, equal_nan=equal_nan)


def _logical(fn, x1: Any, x2: Any) -> torch.Tensor:
    (a, b), _ = _operands(x1, x2, scalars=False)
    return fn(a, b)


@symbolic_op
def logical_and(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise logical AND."""
    return _logical(torch.logical_and, x1, x2)


@symbolic_op
def logical_or(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise logical OR."""
    return _logical(torch.logical_or, x1, x2)


@symbolic_op
def logical_xor(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise logical XOR."""
    return _logical(torch.logical_xor, x1, x2)


@symbolic_op
def logical_not(x: Any) -> torch.Tensor:
    """Element-wise logical NOT."""
    return torch.logical_not(_tensor(x))


@symbolic_op
def isnan(x: Any) -> torch.Tensor:
    """Element-wise NaN test."""
    return torch.isnan(_tensor(x))


@symbolic_op
def isinf(x: Any) -> torch.Tensor:
    """Element-wise infinity test."""
    return torch.isinf(_tensor(x))


@symbolic_op
def isfinite(x: Any) -> torch.Tensor:
    """Element-wise finiteness test."""
    return torch.isfinite(_tensor(x))



# ------------------------------------------------------------------ bitwise / integer
def _int_binary(fn, x: Any, y: Any) -> torch.Tensor:
    return _binary(fn, x, y, scalars=False, cast_inputs=True)


@symbolic_op
def bitwise_and(x: Any, y: Any) -> torch.Tensor:
    """Element-wise bitwise AND of integer or bool tensors."""
    return _int_binary(torch.bitwise_and, x, y)


@symbolic_op
def bitwise_or(x: Any, y: Any) -> torch.Tensor:
    """Element-wise bitwise OR of integer or bool tensors."""
    return _int_binary(torch.bitwise_or, x, y)


@symbolic_op
def bitwise_xor(x: Any, y: Any) -> torch.Tensor:
    """Element-wise bitwise XOR of integer or bool tensors."""
    return _int_binary(torch.bitwise_xor, x, y)


@symbolic_op
def bitwise_not(x: Any) -> torch.Tensor:
    """Element-wise bitwise NOT (logical NOT for bool)."""
    return torch.bitwise_not(_tensor(x))


@symbolic_op
def bitwise_invert(x: Any) -> torch.Tensor:
    """Alias of ``bitwise_not``."""
    return torch.bitwise_not(_tensor(x))


@symbolic_op
def bitwise_left_shift(x: Any, y: Any) -> torch.Tensor:
    """Element-wise ``x << y`` for integer tensors."""
    return _int_binary(torch.bitwise_left_shift, x, y)


@symbolic_op
def bitwise_right_shift(x: Any, y: Any) -> torch.Tensor:
    """Element-wise ``x >> y`` (arithmetic shift) for integer tensors."""
    return _int_binary(torch.bitwise_right_shift, x, y)


@symbolic_op
def left_shift(x: Any, y: Any) -> torch.Tensor:
    """Alias of ``bitwise_left_shift``."""
    return _int_binary(torch.bitwise_left_shift, x, y)


@symbolic_op
def right_shift(x: Any, y: Any) -> torch.Tensor:
    """Alias of ``bitwise_right_shift``."""
    return _int_binary(torch.bitwise_right_shift, x, y)


@symbolic_op
def gcd(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise greatest common divisor of integer tensors."""
    return _int_binary(torch.gcd, x1, x2)


@symbolic_op
def lcm(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise least common multiple of integer tensors."""
    return _int_binary(torch.lcm, x1, x2)


# ------------------------------------------------------------------ more element-wise math
def _demote64(dtype: torch.dtype) -> torch.dtype:
    """Keras computes these ops in 32 bits: float64 becomes ``floatx()``, int64 ``int32``."""
    if dtype == torch.float64:
        return _floatx()
    return torch.int32 if dtype == torch.int64 else dtype


def _float_binary(fn, x1: Any, x2: Any, keep_bool: bool = False) -> torch.Tensor:
    """A float-valued binary op: operands promoted, integer results become ``floatx()``."""
    (a, b), dtype = _operands(x1, x2, scalars=False)
    if not (dtype.is_floating_point or (keep_bool and dtype == torch.bool)):
        dtype = _floatx()
    dtype = _demote64(dtype)
    return fn(a.to(dtype), b.to(dtype))


@symbolic_op
def logaddexp2(x1: Any, x2: Any) -> torch.Tensor:
    """``log2(2**x1 + 2**x2)``, computed stably."""
    return _float_binary(torch.logaddexp2, x1, x2)


@symbolic_op
def nextafter(x1: Any, x2: Any) -> torch.Tensor:
    """The next representable float after ``x1`` in the direction of ``x2``."""
    return _float_binary(torch.nextafter, x1, x2)


@symbolic_op
def hypot(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise ``sqrt(x1**2 + x2**2)``."""
    return _float_binary(torch.hypot, x1, x2)


@symbolic_op
def heaviside(x1: Any, x2: Any) -> torch.Tensor:
    """Step function: 0 below zero, ``x2`` at zero, 1 above (bool inputs stay bool)."""
    return _float_binary(torch.heaviside, x1, x2, keep_bool=True)


@symbolic_op
def fmod(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise remainder with the sign of the dividend (C ``fmod``)."""
    return _binary(torch.fmod, x1, x2)


@symbolic_op
def fmax(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise maximum that ignores NaN when the other value is a number."""
    (a, b), dtype = _operands(x1, x2, scalars=False)
    dtype = _demote64(dtype)
    return torch.fmax(a.to(dtype), b.to(dtype))


@symbolic_op
def fmin(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise minimum that ignores NaN when the other value is a number."""
    (a, b), dtype = _operands(x1, x2, scalars=False)
    dtype = _demote64(dtype)
    return torch.fmin(a.to(dtype), b.to(dtype))


@symbolic_op
def ldexp(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise ``x1 * 2**x2``; the exponent must be an integer."""
    m = _as_float(x1)
    if isinstance(x2, int) and not isinstance(x2, bool):
        e = torch.tensor(x2, dtype=torch.int32, device=m.device)
    else:
        e = _tensor(x2, device=m.device)
    if _is_float(e) or e.dtype == torch.bool:
        raise TypeError(f"ldexp exponent must be an integer type. Received: x2 dtype={e.dtype}")
    return torch.ldexp(m, e).to(m.dtype)


def _cbrt(t: torch.Tensor) -> torch.Tensor:
    return torch.sign(t) * torch.abs(t).pow(1.0 / 3.0)


fabs = _float_unary(torch.abs, "fabs", "Element-wise absolute value as a float.")
cbrt = _float_unary(_cbrt, "cbrt", "Element-wise cube root (negative inputs allowed).")
deg2rad = _float_unary(torch.deg2rad, "deg2rad", "Degrees to radians.")
rad2deg = _float_unary(torch.rad2deg, "rad2deg", "Radians to degrees.")
sinc = _float_unary(torch.sinc, "sinc", "Normalized sinc, ``sin(pi x) / (pi x)``.")
i0 = _float_unary(torch.i0, "i0", "Modified Bessel function of the first kind, order 0.")
angle = _float_unary(torch.angle, "angle", "Element-wise complex argument (0 or pi for reals).")


@symbolic_op
def real(x: Any) -> torch.Tensor:
    """Real part (the input itself for real tensors)."""
    return torch.real(_tensor(x))


@symbolic_op
def imag(x: Any) -> torch.Tensor:
    """Imaginary part of a complex tensor."""
    return torch.imag(_tensor(x))


@symbolic_op
def conj(x: Any) -> torch.Tensor:
    """Complex conjugate (the input itself for real tensors)."""
    return torch.conj_physical(_tensor(x))


@symbolic_op
def conjugate(x: Any) -> torch.Tensor:
    """Alias of ``conj``."""
    return torch.conj_physical(_tensor(x))


@symbolic_op
def signbit(x: Any) -> torch.Tensor:
    """Element-wise test of the sign bit (true for negatives and -0.0)."""
    return torch.signbit(_tensor(x))


@symbolic_op
def isneginf(x: Any) -> torch.Tensor:
    """Element-wise test for negative infinity."""
    return torch.isneginf(_tensor(x))


@symbolic_op
def isposinf(x: Any) -> torch.Tensor:
    """Element-wise test for positive infinity."""
    return torch.isposinf(_tensor(x))


@symbolic_op
def isreal(x: Any) -> torch.Tensor:
    """Element-wise test for a zero imaginary part (true everywhere for real tensors)."""
    return torch.isreal(_tensor(x))


@symbolic_op
def allclose(x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> torch.Tensor:
    """Whether all entries satisfy ``isclose`` (a bool scalar tensor, no host sync)."""
    return torch.all(isclose.__wrapped__(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))


@symbolic_op
def empty_like(x: Any, dtype: Any = None) -> torch.Tensor:
    """An uninitialized tensor with the shape (and by default the dtype) of ``x``."""
    t = _tensor(x)
    return torch.empty_like(t, dtype=_dtype_or(dtype, t.dtype))


@symbolic_op
def view(x: Any, dtype: Any = None) -> torch.Tensor:
    """The same bytes reinterpreted as ``dtype`` (the last axis rescales with the item size)."""
    t = _tensor(x)
    return t if dtype is None else t.view(config.torch_dtype(dtype))


# ------------------------------------------------------------------ order statistics and NaN-aware reductions
def _stat_float(x: Any) -> torch.Tensor:
    """Float input for statistics: ints become ``floatx()``, float64 is computed as ``floatx()`` as in Keras."""
    t = _as_float(x)
    return t.to(_demote64(t.dtype))


def _axes_last(t: torch.Tensor, axis: Any, keepdims: bool) -> tuple[torch.Tensor, list[int]]:
    """Move the reduced axes to the end, flattened into one; also return the output shape."""
    dims = _dims(t, axis)
    rest = [i for i in range(t.ndim) if i not in dims]
    flat = t.permute(*rest, *dims).reshape([t.shape[i] for i in rest] + [-1]) if t.ndim else t.reshape(1)
    if keepdims:
        out_shape = [1 if i in dims else d for i, d in enumerate(t.shape)]
    else:
        out_shape = [t.shape[i] for i in rest]
    return flat, out_shape


_QUANTILE_DTYPES = (torch.float32, torch.float64)


def _quantile(fn, x: Any, q: Any, axis: Any, method: str, keepdims: bool) -> torch.Tensor:
    t = _stat_float(x)
    flat, out_shape = _axes_last(t, axis, keepdims)
    work = flat if flat.dtype in _QUANTILE_DTYPES else flat.to(torch.float32)
    qt = _tensor(q, device=t.device).to(device=work.device, dtype=work.dtype)
    out = fn(work, qt, dim=-1, interpolation=method)
    lead = list(qt.shape)
    return out.reshape(lead + out_shape).to(t.dtype)


def _percent(q: Any) -> torch.Tensor:
    return _tensor(q).to(torch.float64) / 100.0


@symbolic_op
def quantile(x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False) -> torch.Tensor:
    """The ``q``-th quantiles (``q`` in [0, 1], scalar or 1-D) over ``axis``; a 1-D ``q`` leads the result."""
    return _quantile(torch.quantile, x, q, axis, method, keepdims)


@symbolic_op
def percentile(x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False) -> torch.Tensor:
    """The ``q``-th percentiles (``q`` in [0, 100]) over ``axis``."""
    return _quantile(torch.quantile, x, _percent(q), axis, method, keepdims)


@symbolic_op
def median(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Median over ``axis`` (mean of the two middle values for an even count)."""
    return _quantile(torch.quantile, x, 0.5, axis, "linear", keepdims)


@symbolic_op
def nanquantile(x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False) -> torch.Tensor:
    """``quantile`` ignoring NaN entries."""
    return _quantile(torch.nanquantile, x, q, axis, method, keepdims)


@symbolic_op
def nanpercentile(x: Any, q: Any, axis: Any = None, method: str = "linear",
                  keepdims: bool = False) -> torch.Tensor:
    """``percentile`` ignoring NaN entries."""
    return _quantile(torch.nanquantile, x, _percent(q), axis, method, keepdims)


@symbolic_op
def nanmedian(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """``median`` ignoring NaN entries."""
    return _quantile(torch.nanquantile, x, 0.5, axis, "linear", keepdims)


@symbolic_op
def ptp(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Range (maximum minus minimum) over ``axis``, in the dtype of ``x``."""
    t = _tensor(x)
    dims = _dims(t, axis)
    if not dims:
        return t - t
    return torch.amax(t, dim=dims, keepdim=keepdims) - torch.amin(t, dim=dims, keepdim=keepdims)


def _no_nan(t: torch.Tensor, fill: float) -> torch.Tensor:
    return torch.where(torch.isnan(t), torch.full_like(t, fill), t) if _is_float(t) else t


@symbolic_op
def nansum(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Sum over ``axis`` treating NaN as zero."""
    return sum.__wrapped__(_no_nan(_tensor(x), 0.0), axis=axis, keepdims=keepdims)


@symbolic_op
def nanprod(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Product over ``axis`` treating NaN as one (integers accumulate in int32)."""
    t = _no_nan(_tensor(x), 1.0)
    dtype = _demote64(t.dtype) if _is_float(t) else torch.int32
    return prod.__wrapped__(t, axis=axis, keepdims=keepdims, dtype=dtype)


def _nan_count(t: torch.Tensor, dims: tuple, keepdims: bool) -> torch.Tensor:
    return torch.sum(~torch.isnan(t), dim=dims, keepdim=keepdims, dtype=t.dtype)


@symbolic_op
def nanmean(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Mean over ``axis`` of the non-NaN entries (NaN where there are none)."""
    t = _stat_float(x)
    return torch.nanmean(t, dim=_dims(t, axis), keepdim=keepdims)


@symbolic_op
def nanvar(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Population variance over ``axis`` of the non-NaN entries."""
    t = _stat_float(x)
    dims = _dims(t, axis)
    centered = t - torch.nanmean(t, dim=dims, keepdim=True)
    return torch.nansum(centered * centered, dim=dims, keepdim=keepdims) / _nan_count(t, dims, keepdims)


@symbolic_op
def nanstd(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Population standard deviation over ``axis`` of the non-NaN entries."""
    return torch.sqrt(nanvar.__wrapped__(x, axis=axis, keepdims=keepdims))


def _nan_extreme(fn, x: Any, axis: Any, keepdims: bool, fill: float) -> torch.Tensor:
    t = _tensor(x)
    dims = _dims(t, axis)
    if not _is_float(t):
        return fn(t, dim=dims, keepdim=keepdims) if dims else t
    out = fn(_no_nan(t, fill), dim=dims, keepdim=keepdims)
    all_nan = torch.all(torch.isnan(t), dim=dims, keepdim=keepdims)
    return torch.where(all_nan, torch.full_like(out, float("nan")), out)


@symbolic_op
def nanmax(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Maximum over ``axis`` ignoring NaN (NaN where all entries are NaN)."""
    return _nan_extreme(torch.amax, x, axis, keepdims, float("-inf"))


@symbolic_op
def nanmin(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Minimum over ``axis`` ignoring NaN (NaN where all entries are NaN)."""
    return _nan_extreme(torch.amin, x, axis, keepdims, float("inf"))


def _nan_arg(fn, x: Any, axis: Any, keepdims: bool, fill: float) -> torch.Tensor:
    t = _tensor(x)
    if not _is_float(t):
        return _arg_extreme(fn, t, axis, keepdims)
    idx = _arg_extreme(fn, _no_nan(t, fill), axis, keepdims)
    nan = torch.isnan(t)
    if axis is None:
        all_nan = torch.all(nan).reshape(idx.shape)
    else:
        all_nan = torch.all(nan, dim=_canonical_axis(axis, t.ndim), keepdim=keepdims)
    return torch.where(all_nan, torch.full_like(idx, -1), idx)


@symbolic_op
def nanargmax(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """Index (int32) of the maximum ignoring NaN; -1 where all entries are NaN."""
    return _nan_arg(torch.argmax, x, axis, keepdims, float("-inf"))


@symbolic_op
def nanargmin(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """Index (int32) of the minimum ignoring NaN; -1 where all entries are NaN."""
    return _nan_arg(torch.argmin, x, axis, keepdims, float("inf"))


def _nan_scan(fn, x: Any, axis: Any, dtype: Any, fill: float) -> torch.Tensor:
    t = _no_nan(_tensor(x), fill)
    if dtype is None:
        dtype = torch.int32 if t.dtype == torch.bool else _demote64(t.dtype)
    return _scan(fn, t, axis, _demote64(config.torch_dtype(dtype)))


@symbolic_op
def nancumsum(x: Any, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    """Cumulative sum along ``axis`` treating NaN as zero."""
    return _nan_scan(torch.cumsum, x, axis, dtype, 0.0)


@symbolic_op
def nancumprod(x: Any, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    """Cumulative product along ``axis`` treating NaN as one."""
    return _nan_scan(torch.cumprod, x, axis, dtype, 1.0)


# ------------------------------------------------------------------ searching, counting, sets
def _unknown_length_like(t: torch.Tensor, lead: tuple = (), dtype: torch.dtype | None = None) -> torch.Tensor:
    """During a fake run, a stand-in for a result whose length depends on the data (reported as ``None``)."""
    return t.new_empty(lead + (symbolic.current_sentinel(),), dtype=dtype or t.dtype)


def _data_dependent(op):
    """Symbolic results of ``op`` get ``None`` for their data-dependent lengths, even from fully known inputs."""
    import functools

    sentinel = symbolic.SENTINELS[0]

    @functools.wraps(op)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        out = op(*args, **kwargs)
        if symbolic.is_symbolic(*args, **kwargs):
            for t in (out if isinstance(out, tuple) else (out,)):
                t.shape = tuple(None if d and d % sentinel == 0 else d for d in t.shape)
        return out

    return wrapper


def _first_index(inverse: torch.Tensor, n: int) -> torch.Tensor:
    """Position of the first occurrence of each of ``n`` unique values, from the inverse map."""
    flat = inverse.reshape(-1)
    positions = torch.arange(flat.numel(), device=flat.device)
    start = torch.full((n,), flat.numel(), dtype=torch.int64, device=flat.device)
    return start.scatter_reduce(0, flat, positions, reduce="amin")


def _fit_length(t: torch.Tensor, size: int, axis: int, fill: Any) -> torch.Tensor:
    n = t.shape[axis]
    if n >= size:
        return t.narrow(axis, 0, size)
    pad_shape = list(t.shape)
    pad_shape[axis] = size - n
    return torch.cat([t, torch.full(pad_shape, fill, dtype=t.dtype, device=t.device)], dim=axis)


@_data_dependent
@symbolic_op
def unique(x: Any, sorted: bool = True, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: int | None = None, size: int | None = None,
           fill_value: Any = None) -> Any:
    """Sorted unique values (slices along ``axis``); optionally first indices, inverse map and counts (int64).

    The length depends on the data unless ``size`` is given: the result is then
    cut or padded (values with ``fill_value``, default 0) to ``size``.
    """
    t = _tensor(x)
    ax = None if axis is None else _canonical_axis(axis, t.ndim)
    if symbolic.in_fake_run():
        n = size if size is not None else symbolic.current_sentinel()
        shape = (n,) if ax is None else tuple(n if i == ax else d for i, d in enumerate(t.shape))
        values = t.new_empty(shape)
        inverse = t.new_empty(tuple(t.shape) if ax is None else (t.shape[ax],), dtype=torch.int64)
        index = counts = t.new_empty((n,), dtype=torch.int64)
    else:
        values, inverse, counts = torch.unique(t, sorted=True, return_inverse=True, return_counts=True, dim=ax)
        index = _first_index(inverse, counts.numel()) if return_index else None
        if size is not None:
            fill = 0 if fill_value is None else fill_value
            values = _fit_length(values, size, 0 if ax is None else ax, fill)
            counts = _fit_length(counts, size, 0, 0)
            index = None if index is None else _fit_length(index, size, 0, 0)
    extras = [r for r, want in ((index, return_index), (inverse, return_inverse), (counts, return_counts)) if want]
    return tuple([values] + extras) if extras else values


@symbolic_op
def searchsorted(sorted_sequence: Any, values: Any, side: str = "left") -> torch.Tensor:
    """Insertion indices (int32) of ``values`` into the 1-D ascending ``sorted_sequence``."""
    seq, v = _common(sorted_sequence, values)
    if seq.ndim != 1:
        raise ValueError("`searchsorted` only supports 1-D sorted sequences. "
                         f"Received: sorted_sequence.shape={tuple(seq.shape)}")
    out = torch.searchsorted(seq, v.reshape(-1), side=side)
    return out.reshape(v.shape).to(torch.int32)


@symbolic_op
def digitize(x: Any, bins: Any) -> torch.Tensor:
    """Index (int32) of the bin of each value: ``i`` with ``bins[i-1] <= x < bins[i]`` (ascending bins)."""
    t, b = _common(x, bins)
    return torch.bucketize(t, b, right=True).to(torch.int32)


@_data_dependent
@symbolic_op
def bincount(x: Any, weights: Any = None, minlength: int = 0, sparse: bool = False) -> torch.Tensor:
    """Counts (or summed ``weights``) of each non-negative integer; a 2-D ``x`` counts per row."""
    if sparse:
        raise ValueError("cornu does not support sparse tensors. Received: sparse=True")
    t = _tensor(x)
    w = None if weights is None else _tensor(weights, device=t.device)
    out_dtype = torch.int32 if w is None or not _is_float(w) else _demote64(w.dtype)
    if symbolic.in_fake_run():
        return _unknown_length_like(t, tuple(t.shape[:-1]), out_dtype)
    if t.ndim == 2:
        rows = t.shape[0]
        length = builtins.max(int(t.max()) + 1 if t.numel() else 0, minlength)
        offsets = torch.arange(rows, device=t.device).reshape(-1, 1) * length
        flat_w = None if w is None else w.reshape(-1).to(torch.float64)
        counts = torch.bincount((t.to(torch.int64) + offsets).reshape(-1), flat_w, minlength=rows * length)
        return counts.reshape(rows, length).to(out_dtype)
    return torch.bincount(t, None if w is None else w.to(torch.float64), minlength=minlength).to(out_dtype)


@symbolic_op
def histogram(x: Any, bins: int = 10, range: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Counts of a 1-D ``x`` in ``bins`` equal-width bins over ``range`` (default: min to max), and the edges."""
    if not isinstance(bins, (int, np.integer)) or isinstance(bins, bool):
        raise TypeError(f"Argument `bins` must be of type `int`. Received: bins={bins!r}")
    if bins <= 0:
        raise ValueError(f"Argument `bins` must be positive. Received: bins={bins}")
    if range is not None and not range[1] > range[0]:
        raise ValueError(f"The second element of `range` must be greater than the first. Received: range={range!r}")
    t = _as_float(x)
    if t.ndim != 1:
        raise ValueError(f"Input tensor must be 1-dimensional. Received: input.shape={tuple(t.shape)}")
    if range is None:
        lo, hi = torch.aminmax(t) if t.numel() else (t.new_zeros(()), t.new_ones(()))
        same = lo == hi
        lo, hi = torch.where(same, lo - 0.5, lo), torch.where(same, hi + 0.5, hi)
    else:
        lo, hi = (torch.tensor(float(v), dtype=t.dtype, device=t.device) for v in range)
    steps = torch.arange(bins + 1, device=t.device, dtype=torch.float64) / bins
    edges = (lo.to(torch.float64) + (hi - lo).to(torch.float64) * steps).to(t.dtype)
    idx = torch.bucketize(t, edges, right=True) - 1
    idx = torch.where(t == edges[-1], bins - 1, idx).clamp(0, bins - 1)
    inside = (t >= edges[0]) & (t <= edges[-1])
    counts = torch.zeros(bins, dtype=t.dtype, device=t.device).index_add_(0, idx, inside.to(t.dtype))
    return counts, edges


@symbolic_op
def isin(x1: Any, x2: Any, assume_unique: bool = False, invert: bool = False) -> torch.Tensor:
    """Whether each element of ``x1`` occurs in ``x2`` (negated with ``invert``)."""
    a, b = _common(x1, x2)
    return torch.isin(a, b, assume_unique=assume_unique, invert=invert)


@symbolic_op
def unravel_index(indices: Any, shape: Any) -> tuple[torch.Tensor, ...]:
    """Flat indices to a tuple of coordinate tensors (int32) for an array of ``shape``."""
    idx = _tensor(indices).to(torch.int64)
    coords = []
    for d in reversed(_shape_tuple(shape)):
        coords.append(torch.remainder(idx, d).to(torch.int32))
        idx = torch.div(idx, d, rounding_mode="floor")
    return tuple(reversed(coords))


# ------------------------------------------------------------------ shapes, stacking, splitting
@symbolic_op
def fliplr(x: Any) -> torch.Tensor:
    """Reverse the columns (axis 1) of a tensor of rank >= 2."""
    return torch.fliplr(_tensor(x))


@symbolic_op
def flipud(x: Any) -> torch.Tensor:
    """Reverse the rows (axis 0)."""
    return torch.flipud(_tensor(x))


@symbolic_op
def rot90(array: Any, k: int = 1, axes: tuple[int, int] = (0, 1)) -> torch.Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``axes`` (from the first axis toward the second)."""
    t = _tensor(array)
    if t.ndim < 2:
        raise ValueError(f"Input array must have at least 2 dimensions. Received: array.ndim={t.ndim}")
    a, b = (_canonical_axis(ax, t.ndim) for ax in axes)
    if len(axes) != 2 or a == b:
        raise ValueError(f"Invalid axes: {axes}. Axes must be a tuple of two different dimensions.")
    return torch.rot90(t, k, dims=(a, b))


@symbolic_op
def dstack(xs: Sequence[Any]) -> torch.Tensor:
    """Stack along a third axis (1-D ``(n,)`` becomes ``(1, n, 1)``, 2-D ``(m, n)`` becomes ``(m, n, 1)``)."""
    return torch.dstack(_common(*xs))


def _sections(indices_or_sections: Any) -> Any:
    if isinstance(indices_or_sections, (int, np.integer)):
        return int(indices_or_sections)
    return [int(i) for i in indices_or_sections]


@symbolic_op
def hsplit(x: Any, indices_or_sections: Any) -> list[torch.Tensor]:
    """``split`` along axis 1 (axis 0 for 1-D tensors)."""
    return list(torch.hsplit(_tensor(x), _sections(indices_or_sections)))


@symbolic_op
def vsplit(x: Any, indices_or_sections: Any) -> list[torch.Tensor]:
    """``split`` along axis 0 (rank >= 2)."""
    return list(torch.vsplit(_tensor(x), _sections(indices_or_sections)))


@symbolic_op
def dsplit(x: Any, indices_or_sections: Any) -> list[torch.Tensor]:
    """``split`` along axis 2 (rank >= 3)."""
    return list(torch.dsplit(_tensor(x), _sections(indices_or_sections)))


@symbolic_op
def array_split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[torch.Tensor]:
    """Split into ``n`` nearly equal parts (the first ``size % n`` one longer), or at listed indices."""
    t = _tensor(x)
    sections = _sections(indices_or_sections)
    if isinstance(sections, int) and sections <= 0:
        raise ValueError("Argument `indices_or_sections` must be a positive integer. "
                         f"Received: indices_or_sections={indices_or_sections!r}")
    return list(torch.tensor_split(t, sections, dim=_canonical_axis(axis, t.ndim)))


@symbolic_op
def diagflat(x: Any, k: int = 0) -> torch.Tensor:
    """A 2-D tensor with the flattened ``x`` on its ``k``-th diagonal."""
    return torch.diagflat(_tensor(x), k)


@symbolic_op
def vander(x: Any, N: int | None = None, increasing: bool = False) -> torch.Tensor:
    """Vandermonde matrix of a 1-D ``x``: columns are powers of ``x`` (decreasing by default)."""
    t = _tensor(x)
    if t.ndim != 1:
        raise ValueError(f"Input tensor must be 1-dimensional. Received: input.shape={tuple(t.shape)}")
    work = t.to(torch.int64) if t.dtype == torch.bool else t
    return torch.vander(work, N=N, increasing=increasing).to(t.dtype)


@symbolic_op
def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> torch.Tensor:
    """From ``choicelist``, the entry of the first true condition per element, else ``default``."""
    if len(condlist) != len(choicelist):
        raise ValueError("`condlist` and `choicelist` must have the same length. "
                         f"Received: {len(condlist)} and {len(choicelist)}")
    if not condlist:
        raise ValueError("`select` needs at least one condition.")
    choices, dtype = _operands(*choicelist, default, scalars=False)
    out = choices[-1].to(dtype)
    for cond, choice in zip(reversed(condlist), reversed(choices[:-1])):
        out = torch.where(_tensor(cond, device=out.device).to(torch.bool), choice.to(dtype), out)
    return out


# ------------------------------------------------------------------ more products, sequences and linear algebra
@symbolic_op
def kron(x1: Any, x2: Any) -> torch.Tensor:
    """Kronecker product."""
    a, b = _common(x1, x2)
    if a.dtype == torch.bool:
        return torch.kron(a.to(torch.uint8), b.to(torch.uint8)).to(torch.bool)
    return torch.kron(a, b)


def _to_3(v: torch.Tensor) -> torch.Tensor:
    if v.shape[-1] == 3:
        return v
    if v.shape[-1] != 2:
        raise ValueError(f"`cross` needs vectors of 2 or 3 components. Received shape {tuple(v.shape)}")
    return torch.nn.functional.pad(v, (0, 1))


@symbolic_op
def cross(x1: Any, x2: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> torch.Tensor:
    """Cross product of (2- or 3-component) vectors along ``axisa``/``axisb``, placed at ``axisc``."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _common(x1, x2)
    a = torch.movedim(a, _canonical_axis(axisa, a.ndim), -1)
    b = torch.movedim(b, _canonical_axis(axisb, b.ndim), -1)
    both_2d = a.shape[-1] == 2 and b.shape[-1] == 2
    a, b = torch.broadcast_tensors(_to_3(a), _to_3(b))
    out = torch.linalg.cross(a, b, dim=-1)
    if both_2d:
        return out[..., 2]
    return torch.movedim(out, -1, _canonical_axis(axisc, out.ndim))


@symbolic_op
def trapezoid(y: Any, x: Any = None, dx: float = 1.0, axis: int = -1) -> torch.Tensor:
    """Integral of ``y`` along ``axis`` by the trapezoidal rule (sample points ``x`` or spacing ``dx``)."""
    t = _as_float(y)
    if x is None:
        return torch.trapezoid(t, dx=dx, dim=axis)
    return torch.trapezoid(t, _tensor(x, device=t.device).to(t.dtype), dim=axis)


@symbolic_op
def correlate(x1: Any, x2: Any, mode: str = "valid") -> torch.Tensor:
    """Cross-correlation of two 1-D tensors (modes ``valid``, ``same``, ``full`` as NumPy)."""
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"`mode` must be 'valid', 'same' or 'full'. Received: mode={mode!r}")
    a, v = _common(_as_float(x1), _as_float(x2))
    a, v = a.to(_demote64(a.dtype)), v.to(_demote64(v.dtype))
    swap = a.shape[-1] < v.shape[-1]  # NumPy correlates the longer one and reverses the result
    if swap:
        a, v = v, a
    m = v.shape[-1]
    pad = {"valid": (0, 0), "same": (m // 2, m - 1 - m // 2), "full": (m - 1, m - 1)}[mode]
    padded = torch.nn.functional.pad(a.reshape(1, 1, -1), pad)
    out = torch.nn.functional.conv1d(padded, v.reshape(1, 1, -1)).reshape(-1)
    if swap:
        out = out.flip(-1)
    return out.reshape(()) if out.numel() == 1 and mode == "valid" else out


@symbolic_op
def corrcoef(x: Any) -> torch.Tensor:
    """Pearson correlation coefficients between the rows of ``x``."""
    t = _as_float(x)
    return torch.corrcoef(t.to(_demote64(t.dtype)))


@symbolic_op
def argpartition(x: Any, kth: int, axis: int = -1) -> torch.Tensor:
    """Indices (int32) that partition ``x`` along ``axis`` around its ``kth`` smallest element."""
    t = _tensor(x)
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    ax = _canonical_axis(axis, t.ndim)
    if not -t.shape[ax] <= kth < t.shape[ax]:
        raise ValueError(f"kth={kth} is out of bounds for axis {axis} of size {t.shape[ax]}.")
    return torch.sort(t, dim=ax, stable=True).indices.to(torch.int32)


def _log_grid(lo: torch.Tensor, hi: torch.Tensor, num: int, endpoint: bool, axis: int) -> torch.Tensor:
    return linspace.__wrapped__(lo, hi, num, endpoint=endpoint, dtype="float64", axis=axis)


def _cast_grid(out: torch.Tensor, dtype: Any) -> torch.Tensor:
    target = _dtype_or(dtype, _floatx())
    return out.to(target) if _is_float(torch.empty(0, dtype=target)) else out.round().to(target)


@symbolic_op
def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: float = 10,
             dtype: Any = None, axis: int = 0) -> torch.Tensor:
    """``base ** linspace(start, stop)``: ``num`` samples evenly spaced on a log scale."""
    grid = _log_grid(_tensor(start).to(torch.float64), _tensor(stop).to(torch.float64), num, endpoint, axis)
    return _cast_grid(torch.pow(float(base), grid), dtype)


@symbolic_op
def geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None,
              axis: int = 0) -> torch.Tensor:
    """``num`` samples from ``start`` to ``stop`` in geometric progression (endpoints exact)."""
    lo, hi = _tensor(start).to(torch.float64), _tensor(stop).to(torch.float64)
    lo, hi = torch.broadcast_tensors(lo, hi.to(lo.device))
    grid = _log_grid(torch.log(torch.abs(lo)), torch.log(torch.abs(hi)), num, endpoint, 0)
    sign = torch.sign(lo)
    out = sign * torch.exp(grid)
    if num > 0:
        out[0] = lo
        if endpoint and num > 1:
            out[-1] = hi
    return _cast_grid(torch.movedim(out, 0, _canonical_axis(axis, out.ndim)), dtype)


@symbolic_op
def slogdet(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Sign and natural log of the absolute determinant of (a batch of) square matrices."""
    sign, logabsdet = torch.linalg.slogdet(_tensor(x))
    return sign, logabsdet


# ------------------------------------------------------------------ window functions
def _window_length(x: Any, name: str) -> int:
    if isinstance(x, (torch.Tensor, np.ndarray, np.generic)) and not _is_float_value(x):
        x = int(x)
    if not isinstance(x, int) or isinstance(x, bool):
        raise TypeError(f"`{name}` needs an integer window length. Received: {x!r}")
    if x < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={x}")
    return x


def _window(name: str, x: Any, formula) -> torch.Tensor:
    """A symmetric window of ``x`` points: ``formula`` of the phase ``2 pi n / (M - 1)`` in float64."""
    m = _window_length(x, name)
    if m == 1:
        return torch.ones(1, dtype=_floatx(), device=config.device())
    n = torch.arange(m, dtype=torch.float64, device=config.device())
    return formula(n, m).to(_floatx())


def _cosine_terms(*coefficients: float):
    def formula(n: torch.Tensor, m: int) -> torch.Tensor:
        phase = 2.0 * _pymath.pi * n / (m - 1)
        return builtins.sum(c * torch.cos(k * phase) for k, c in enumerate(coefficients))
    return formula


@symbolic_op
def bartlett(x: Any) -> torch.Tensor:
    """Bartlett (triangular) window of ``x`` points."""
    return _window("bartlett", x, lambda n, m: 1.0 - torch.abs(2.0 * n / (m - 1) - 1.0))


@symbolic_op
def hamming(x: Any) -> torch.Tensor:
    """Hamming window of ``x`` points."""
    return _window("hamming", x, _cosine_terms(0.54, -0.46))


@symbolic_op
def hanning(x: Any) -> torch.Tensor:
    """Hann window of ``x`` points."""
    return _window("hanning", x, _cosine_terms(0.5, -0.5))


@symbolic_op
def blackman(x: Any) -> torch.Tensor:
    """Blackman window of ``x`` points."""
    return _window("blackman", x, _cosine_terms(0.42, -0.5, 0.08))


@symbolic_op
def kaiser(x: Any, beta: float) -> torch.Tensor:
    """Kaiser window of ``x`` points with shape parameter ``beta``."""
    def formula(n: torch.Tensor, m: int) -> torch.Tensor:
        r = 2.0 * n / (m - 1) - 1.0
        b = torch.tensor(float(beta), dtype=torch.float64, device=n.device)
        return torch.i0(b * torch.sqrt(torch.clamp(1.0 - r * r, min=0.0))) / torch.i0(b)
    return _window("kaiser", x, formula)


# ------------------------------------------------------------------ vectorize
def _parse_signature(signature: str) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """``"(n),(n,m)->(m)"`` -> core dimension names of each input and output."""
    import re

    def groups(part: str) -> list[tuple[str, ...]]:
        return [tuple(d.strip() for d in g.split(",") if d.strip()) for g in re.findall(r"\(([^()]*)\)", part)]

    if "->" not in signature:
        raise ValueError(f"Invalid `signature` {signature!r}: expected '(...),(...)->(...)'.")
    ins, outs = signature.split("->")
    return groups(ins), groups(outs)


def vectorize(pyfunc, *, excluded: Any = None, signature: str | None = None):
    """Turn ``pyfunc`` on single elements (or core blocks named by ``signature``) into a broadcasting op.

    The loop dimensions of the positional arguments are broadcast, flattened
    and mapped with ``torch.vmap``; ``excluded`` positions and keyword
    arguments are passed through unchanged.
    """
    import functools

    skip = set(excluded or ())
    core_in = _parse_signature(signature)[0] if signature else None

    @functools.wraps(pyfunc)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        positions = [i for i in range(len(args)) if i not in skip]
        tensors = [_tensor(args[i]) for i in positions]
        cores = core_in if core_in is not None else [()] * len(tensors)
        if len(cores) != len(tensors):
            raise ValueError(f"`signature` {signature!r} names {len(cores)} inputs; received {len(tensors)}.")
        loops = [tuple(t.shape[:t.ndim - len(c)]) for t, c in zip(tensors, cores)]
        loop = tuple(torch.broadcast_shapes(*loops))
        flat = []
        for t, c in zip(tensors, cores):
            core_shape = tuple(t.shape[t.ndim - len(c):])
            flat.append(t.expand(loop + core_shape).reshape((-1,) + core_shape))

        def call(*xs: torch.Tensor) -> Any:
            full = list(args)
            for i, v in zip(positions, xs):
                full[i] = v
            return pyfunc(*full, **kwargs)

        out = torch.vmap(call)(*flat)
        if isinstance(out, (tuple, list)):
            return type(out)(o.reshape(loop + tuple(o.shape[1:])) for o in out)
        return out.reshape(loop + tuple(out.shape[1:]))

    return wrapped

__all__ = [
    name for name, obj in list(globals().items())
    if not name.startswith("_") and callable(obj) and getattr(obj, "__module__", None) == __name__
]
