"""keras.ops.linalg against float64 NumPy: values, reconstructions, dtypes, shapes and errors."""
import numpy as np
import pytest
import torch

import cornu
from cornu import ops
from tests.helpers import assert_close, f64, random_array, seeded


def _spd(n: int = 4, batch: tuple = (), seed: int = 0) -> np.ndarray:
    a = seeded(seed).normal(size=batch + (n, n))
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype("float32")


def _mat(*shape: int, seed: int = 0) -> np.ndarray:
    return seeded(seed).normal(size=shape).astype("float32")


def test_submodule_and_top_level_names():
    for name in ops.linalg.__all__:
        assert getattr(ops, name) is getattr(ops.linalg, name)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_and_its_inverse(upper):
    a = _spd(batch=(2,))
    c = ops.cholesky(a, upper=upper)
    ref = np.linalg.cholesky(f64(a))
    assert_close(c, np.swapaxes(ref, -1, -2) if upper else ref, rtol=1e-4, atol=1e-5)
    assert_close(ops.cholesky_inverse(c, upper=upper), np.linalg.inv(f64(a)), rtol=1e-4, atol=1e-5)


def test_cholesky_errors():
    with pytest.raises(ValueError, match="square"):
        ops.cholesky(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="Cholesky"):
        ops.cholesky(-_spd())


def test_det_inv_solve():
    a, b = _mat(2, 4, 4), _mat(2, 4, 3, seed=1)
    assert_close(ops.det(a), np.linalg.det(f64(a)), rtol=1e-4)
    assert_close(ops.inv(a), np.linalg.inv(f64(a)), rtol=1e-3, atol=1e-4)
    assert_close(ops.solve(a, b), np.linalg.solve(f64(a), f64(b)), rtol=1e-3, atol=1e-4)
    v = _mat(4, seed=2)
    assert_close(ops.solve(a[0], v), np.linalg.solve(f64(a[0]), f64(v)), rtol=1e-3, atol=1e-4)
    assert ops.det(np.eye(3, dtype="int32")).dtype == torch.float32
    assert ops.inv(a.astype("float64")).dtype == torch.float64


def test_solve_errors():
    with pytest.raises(ValueError, match="Incompatible shapes"):
        ops.solve(_mat(3, 3), _mat(2, 2))
    with pytest.raises(ValueError, match="square"):
        ops.solve(_mat(2, 3), _mat(2, 2))
    with pytest.raises(ValueError, match="rank >= 2"):
        ops.inv(_mat(3))


@pytest.mark.parametrize("lower", [False, True])
def test_solve_triangular(lower):
    a = _mat(4, 4) + 4 * np.eye(4, dtype="float32")
    tri = np.tril(f64(a)) if lower else np.triu(f64(a))
    b = _mat(4, 2, seed=1)
    assert_close(ops.solve_triangular(a, b, lower=lower), np.linalg.solve(tri, f64(b)), rtol=1e-4, atol=1e-5)
    v = b[:, 0]
    assert_close(ops.solve_triangular(a, v, lower=lower), np.linalg.solve(tri, f64(v)), rtol=1e-4, atol=1e-5)


def test_eig_and_eigh():
    a = _spd()
    w, v = ops.eigh(a)
    assert_close(w, np.linalg.eigh(f64(a))[0], rtol=1e-4)
    assert_close(f64(v) @ np.diag(f64(w)) @ f64(v).T, f64(a), rtol=1e-4, atol=1e-4)
    g = _mat(3, 3)
    w, v = ops.eig(g)
    assert w.dtype == torch.complex64 and v.dtype == torch.complex64
    w, v = w.numpy().astype(complex), v.numpy().astype(complex)
    np.testing.assert_allclose(f64(g) @ v, v * w, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.sort_complex(w), np.sort_complex(np.linalg.eigvals(f64(g))), rtol=1e-4)


def test_lstsq():
    a, b = _mat(6, 3), _mat(6, 2, seed=1)
    assert_close(ops.lstsq(a, b), np.linalg.lstsq(f64(a), f64(b), rcond=None)[0], rtol=1e-4, atol=1e-5)
    assert_close(ops.lstsq(a, b[:, 0]), np.linalg.lstsq(f64(a), f64(b[:, 0]), rcond=None)[0], rtol=1e-4, atol=1e-5)
    low_rank = np.ones((5, 3), "float32")
    ref = np.linalg.lstsq(f64(low_rank), f64(b[:5]), rcond=0.1)[0]
    assert_close(ops.lstsq(low_rank, b[:5], rcond=0.1), ref, rtol=1e-4, atol=1e-5)


def test_lu_factor_reconstructs_with_zero_based_pivots():
    a = _mat(4, 4)
    lu, piv = ops.lu_factor(a)
    assert piv.dtype == torch.int32
    lu = f64(lu)
    lower, upper = np.tril(lu, -1) + np.eye(4), np.triu(lu)
    perm = np.arange(4)
    for i, p in enumerate(piv.numpy()):  # LAPACK row swaps, applied in order
        perm[[i, p]] = perm[[p, i]]
    np.testing.assert_allclose(lower @ upper, f64(a)[perm], rtol=1e-4, atol=1e-5)


def test_matrix_rank_and_pinv():
    a = np.diag([4.0, 3.0, 1e-9]).astype("float32")
    assert ops.matrix_rank(a).dtype == torch.int32
    assert int(ops.matrix_rank(a)) == 2
    assert int(ops.matrix_rank(a, tol=3.5)) == 1
    m = _mat(3, 5)
    assert_close(ops.pinv(m), np.linalg.pinv(f64(m)), rtol=1e-4, atol=1e-5)
    assert_close(ops.pinv(a, rcond=0.5), np.linalg.pinv(f64(a), rcond=0.5), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["reduced", "complete"])
def test_qr(mode):
    a = _mat(2, 5, 3)
    q, r = ops.qr(a, mode=mode)
    k = 3 if mode == "reduced" else 5
    assert tuple(q.shape) == (2, 5, k) and tuple(r.shape) == (2, k, 3)
    assert_close(f64(q) @ f64(r), f64(a), rtol=1e-4, atol=1e-5)
    assert_close(np.swapaxes(f64(q), -1, -2) @ f64(q), np.broadcast_to(np.eye(k), (2, k, k)), atol=1e-5)
    with pytest.raises(ValueError, match="mode"):
        ops.qr(a, mode="r")


@pytest.mark.parametrize("full", [True, False])
def test_svd(full):
    a = _mat(5, 3)
    u, s, vh = ops.svd(a, full_matrices=full)
    assert tuple(u.shape) == ((5, 5) if full else (5, 3))
    assert_close(s, np.linalg.svd(f64(a), compute_uv=False), rtol=1e-4)
    assert_close(f64(u)[:, :3] * f64(s) @ f64(vh), f64(a), rtol=1e-4, atol=1e-5)
    assert_close(ops.svd(a, compute_uv=False), np.linalg.svd(f64(a), compute_uv=False), rtol=1e-4)


def test_norm_dtypes():
    a = random_array((3, 4))
    assert ops.norm(a.astype("int32")).dtype == torch.float32
    assert ops.norm(a.astype("float16"), axis=1).dtype == torch.float16
    assert_close(ops.norm(a, ord="nuc"), np.linalg.norm(f64(a), ord="nuc"), rtol=1e-5)
    assert_close(ops.norm(a, axis=[0, 1]), np.linalg.norm(f64(a), axis=(0, 1)), rtol=1e-5)


def test_jvp():
    x, t = torch.tensor([0.5, 1.0]), torch.tensor([1.0, 2.0])
    out, tan = ops.jvp(lambda v: torch.sin(v) * 2, (x,), (t,))
    assert_close(out, 2 * np.sin(f64(x)), rtol=1e-6)
    assert_close(tan, 2 * np.cos(f64(x)) * f64(t), rtol=1e-6)
    out, tan, aux = ops.jvp(lambda v: (v * v, {"v": v}), (x,), (t,), has_aux=True)
    assert_close(tan, 2 * f64(x) * f64(t))
    assert aux["v"] is not None
    with pytest.raises(TypeError, match="primals"):
        ops.jvp(torch.sin, x, t)


def test_symbolic_shapes():
    x = cornu.Input((4, 3))
    u, s, vh = ops.svd(x)
    assert (u.shape, s.shape, vh.shape) == ((None, 4, 4), (None, 3), (None, 3, 3))
    lu, piv = ops.lu_factor(cornu.Input((3, 3)))
    assert piv.shape == (None, 3) and piv.dtype == "int32"
    w, v = ops.eig(cornu.Input((3, 3)))
    assert w.dtype == "complex64" and v.shape == (None, 3, 3)
