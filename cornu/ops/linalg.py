"""``keras.ops.linalg``: decompositions, solvers, inverses and norms on ``torch.linalg``.

Every op works on the last two axes (batches of matrices). Integer inputs
become ``floatx()``; float inputs keep their dtype.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from cornu.ops.core import _floatx, _tensor, symbolic_op
from cornu.ops.numpy import _as_float


def _matrix(x: Any, square: bool = False) -> torch.Tensor:
    """Float tensor of rank >= 2 (square in its last two axes when ``square``)."""
    t = _as_float(x)
    if t.ndim < 2:
        raise ValueError(f"Expected input to have rank >= 2. Received input with shape {tuple(t.shape)}.")
    if square and t.shape[-1] != t.shape[-2]:
        raise ValueError(f"Expected a square matrix. Received non-square input with shape {tuple(t.shape)}.")
    return t


def _pair(a: Any, b: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """``a`` (a square matrix) and ``b`` in their common float dtype, with shapes checked."""
    ta = _matrix(a, square=True)
    tb = _as_float(_tensor(b, device=ta.device))
    dtype = torch.promote_types(ta.dtype, tb.dtype)
    if tb.ndim == 0 or ta.shape[-2] != tb.shape[-2 if tb.ndim > 1 else -1]:
        raise ValueError("Incompatible shapes between `a` and `b`. Expected `a.shape[-2] == b.shape[-2]`. "
                         f"Received: a.shape={tuple(ta.shape)}, b.shape={tuple(tb.shape)}")
    return ta.to(dtype), tb.to(dtype)


@symbolic_op
def cholesky(x: Any, upper: bool = False) -> torch.Tensor:
    """Cholesky factor of symmetric positive-definite matrices (lower, or upper when ``upper``)."""
    t = _matrix(x, square=True)
    try:
        return torch.linalg.cholesky(t, upper=upper)
    except RuntimeError as e:
        raise ValueError(f"Cholesky decomposition failed: {e}") from e


@symbolic_op
def cholesky_inverse(x: Any, upper: bool = False) -> torch.Tensor:
    """Inverse of ``L @ L^T`` (or ``U^T @ U`` when ``upper``) from its Cholesky factor ``x``."""
    t = _matrix(x, square=True)
    try:
        return torch.cholesky_inverse(t, upper=upper)
    except RuntimeError as e:
        raise ValueError(f"Cholesky inverse failed: {e}") from e


@symbolic_op
def det(x: Any) -> torch.Tensor:
    """Determinant of square matrices."""
    return torch.linalg.det(_matrix(x, square=True))


@symbolic_op
def eig(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues and right eigenvectors (complex) of general square matrices."""
    w, v = torch.linalg.eig(_matrix(x, square=True))
    return w, v


@symbolic_op
def eigh(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices."""
    w, v = torch.linalg.eigh(_matrix(x, square=True))
    return w, v


@symbolic_op
def inv(x: Any) -> torch.Tensor:
    """Inverse of square matrices."""
    return torch.linalg.inv(_matrix(x, square=True))


@symbolic_op
def lstsq(a: Any, b: Any, rcond: float | None = None) -> torch.Tensor:
    """Least-squares solution ``x`` of ``a @ x ~= b`` (``b`` a vector or a matrix)."""
    ta = _matrix(a)
    tb = _as_float(_tensor(b, device=ta.device))
    dtype = torch.promote_types(ta.dtype, tb.dtype)
    if tb.ndim == 0 or ta.shape[-2] != tb.shape[-2 if tb.ndim > 1 else -1]:
        raise ValueError("Incompatible shapes between `a` and `b`. Expected `a.shape[-2] == b.shape[-2]`. "
                         f"Received: a.shape={tuple(ta.shape)}, b.shape={tuple(tb.shape)}")
    vector = tb.ndim == 1
    rhs = tb.unsqueeze(-1) if vector else tb
    # The default gelsy driver would also need rcond; gelsd (SVD) matches NumPy's rank handling,
    # but it exists on the CPU only.
    driver = "gelsd" if ta.device.type == "cpu" else None
    if rcond is None:
        rcond = torch.finfo(dtype).eps * max(ta.shape[-2], ta.shape[-1])
    out = torch.linalg.lstsq(ta.to(dtype), rhs.to(dtype), rcond=rcond, driver=driver).solution
    return out.squeeze(-1) if vector else out


@symbolic_op
def lu_factor(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Packed LU factors and 0-based row pivots (int32), as ``scipy.linalg.lu_factor``."""
    lu, pivots = torch.linalg.lu_factor(_matrix(x))
    return lu, (pivots - 1).to(torch.int32)


@symbolic_op
def matrix_rank(x: Any, tol: float | None = None) -> torch.Tensor:
    """Numerical rank (int32): singular values above ``tol`` (default ``eps * max(m, n) * s_max``)."""
    t = _matrix(x)
    return torch.linalg.matrix_rank(t, atol=tol, rtol=0.0 if tol is not None else None).to(torch.int32)


def _norm_dtype(t: torch.Tensor) -> torch.dtype:
    if t.dtype in (torch.float16, torch.bfloat16, torch.float32) or t.is_complex():
        return t.dtype
    return _floatx()


@symbolic_op
def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Vector norm (one axis) or matrix norm (two axes), as ``numpy.linalg.norm``.

    ``axis=None`` with ``ord=None`` is the 2-norm of the flattened tensor.
    """
    t = _tensor(x)
    t = t.to(_norm_dtype(t))
    if isinstance(axis, list):
        axis = tuple(axis)
    return torch.linalg.norm(t, ord=ord, dim=axis, keepdim=keepdims)


@symbolic_op
def pinv(x: Any, rcond: float | None = None) -> torch.Tensor:
    """Moore-Penrose pseudo-inverse; singular values below ``rcond * s_max`` count as zero."""
    t = _matrix(x)
    return torch.linalg.pinv(t, rtol=rcond)


_QR_MODES = ("reduced", "complete")


@symbolic_op
def qr(x: Any, mode: str = "reduced") -> tuple[torch.Tensor, torch.Tensor]:
    """QR decomposition ``x = q @ r``; ``mode`` is ``"reduced"`` or ``"complete"``."""
    if mode not in _QR_MODES:
        raise ValueError(f"`mode` argument value not supported. Expected one of {set(_QR_MODES)}. "
                         f"Received: mode={mode}")
    q, r = torch.linalg.qr(_matrix(x), mode=mode)
    return q, r


@symbolic_op
def solve(a: Any, b: Any) -> torch.Tensor:
    """Solve ``a @ x = b`` for ``x`` (``b`` a vector or a matrix)."""
    ta, tb = _pair(a, b)
    return torch.linalg.solve(ta, tb)


@symbolic_op
def solve_triangular(a: Any, b: Any, lower: bool = False) -> torch.Tensor:
    """Solve ``a @ x = b`` for triangular ``a`` (only its ``lower`` or upper triangle is read)."""
    ta, tb = _pair(a, b)
    vector = tb.ndim == 1
    rhs = tb.unsqueeze(-1) if vector else tb
    out = torch.linalg.solve_triangular(ta, rhs, upper=not lower)
    return out.squeeze(-1) if vector else out


@symbolic_op
def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """Singular values ``s``, and with ``compute_uv`` the factors ``(u, s, vh)``, ``x = u @ diag(s) @ vh``."""
    t = _matrix(x)
    if not compute_uv:
        return torch.linalg.svdvals(t)
    u, s, vh = torch.linalg.svd(t, full_matrices=full_matrices)
    return u, s, vh


def _as_tensors(values: Any, name: str) -> tuple:
    if not isinstance(values, (tuple, list)):
        raise TypeError(f"`{name}` must be a tuple or a list of tensors, one per argument of `fun`. "
                        f"Received: {name}={values!r}")
    return tuple(_as_float(v) for v in values)


def jvp(fun: Callable, primals: Any, tangents: Any, has_aux: bool = False) -> tuple:
    """Forward-mode derivative: ``(fun(*primals), J @ tangents)`` (plus ``aux`` when ``has_aux``)."""
    p = _as_tensors(primals, "primals")
    t = _as_tensors(tangents, "tangents")
    if len(p) != len(t):
        raise ValueError(f"`primals` and `tangents` must have the same length. Received {len(p)} and {len(t)}.")
    return torch.func.jvp(fun, p, t, has_aux=has_aux)


__all__ = [
    "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq", "lu_factor",
    "matrix_rank", "norm", "pinv", "qr", "solve", "solve_triangular", "svd",
]
