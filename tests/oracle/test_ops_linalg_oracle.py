"""keras.ops.linalg, FFTs and control flow against real Keras 3 (torch backend); skipped without Keras."""
import numpy as np
import pytest
import torch

import cornu
from tests.helpers import seeded


def _np(x):
    return cornu.ops.convert_to_numpy(x)


def _spd(n=4, batch=(), seed=0):
    a = seeded(seed).normal(size=batch + (n, n))
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype("float32")


def _mat(*shape, seed=0):
    return seeded(seed).normal(size=shape).astype("float32")


SPD, SQ, RECT, RHS = _spd(batch=(2,)), _mat(2, 4, 4, seed=1), _mat(5, 3, seed=2), _mat(2, 4, 3, seed=3)
CHOL = np.linalg.cholesky(SPD).astype("float32")

VALUE_CASES = [
    ("cholesky", (SPD,), {}), ("cholesky", (SPD,), {"upper": True}), ("cholesky_inverse", (CHOL,), {}),
    ("cholesky_inverse", (np.swapaxes(CHOL, -1, -2),), {"upper": True}), ("det", (SQ,), {}), ("inv", (SQ,), {}),
    ("solve", (SQ, RHS), {}), ("solve", (SQ[0], RHS[0, :, 0]), {}), ("solve_triangular", (SQ, RHS), {}),
    ("solve_triangular", (SQ, RHS), {"lower": True}), ("solve_triangular", (SQ.astype("float64"), RHS), {}),
    ("lstsq", (RECT, _mat(5, 2, seed=4)), {}), ("lstsq", (RECT, _mat(5, seed=4)), {}),
    ("lu_factor", (SQ,), {}), ("matrix_rank", (np.diag([3.0, 2.0, 0.0]).astype("float32"),), {}),
    ("matrix_rank", (SPD,), {"tol": 6.0}), ("pinv", (RECT,), {}), ("pinv", (RECT,), {"rcond": 0.5}),
    ("eigh", (SPD,), {}), ("svd", (RECT,), {"compute_uv": False}),
    ("norm", (SQ,), {}), ("norm", (SQ,), {"axis": -1, "ord": 3}), ("norm", (SQ,), {"axis": (1, 2), "ord": "nuc"}),
    ("norm", (SQ,), {"axis": (1, 2), "ord": -np.inf, "keepdims": True}), ("norm", (SQ.astype("float64"),), {}),
    ("norm", (np.arange(6, dtype="int32"),), {}), ("norm", (SQ.astype("float16"),), {"axis": 0}),
]


def _leaves(x):
    return list(x) if isinstance(x, (tuple, list)) else [x]


@pytest.mark.parametrize("name,args,kwargs", VALUE_CASES, ids=[c[0] for c in VALUE_CASES])
def test_linalg_values_match_keras(keras_ref, name, args, kwargs):
    ref = _leaves(getattr(keras_ref.ops.linalg, name)(*args, **kwargs))
    ours = _leaves(getattr(cornu.ops.linalg, name)(*args, **kwargs))
    assert len(ours) == len(ref)
    for o, r in zip(ours, ref):
        assert str(o.dtype) == str(r.dtype)
        o, r = _np(o), keras_ref.ops.convert_to_numpy(r)
        assert o.shape == r.shape
        np.testing.assert_allclose(o, r, rtol=1e-5, atol=1e-5 if o.dtype != np.float16 else 1e-2)


@pytest.mark.parametrize("name,kwargs", [("qr", {}), ("qr", {"mode": "complete"}), ("svd", {}),
                                         ("svd", {"full_matrices": False}), ("eig", {})])
def test_decompositions_match_keras_shapes_dtypes_and_reconstruct(keras_ref, name, kwargs):
    x = SQ if name == "eig" else RECT
    ref = getattr(keras_ref.ops, name)(x, **kwargs)
    ours = getattr(cornu.ops, name)(x, **kwargs)
    assert [(tuple(o.shape), o.dtype) for o in ours] == [(tuple(r.shape), r.dtype) for r in ref]
    parts = [_np(o).astype(np.complex128) for o in ours]
    if name == "qr":
        rebuilt = parts[0] @ parts[1]
    elif name == "svd":
        u, s, vh = parts
        rebuilt = u[:, : s.shape[-1]] * s @ vh
    else:
        w, v = parts
        rebuilt = v * w[..., None, :] @ np.linalg.inv(v)
    np.testing.assert_allclose(rebuilt.real, x, rtol=1e-4, atol=1e-4)


BAD_CASES = [
    ("cholesky", (np.ones((2, 3), "float32"),), {}), ("cholesky", (-SPD,), {}),
    ("det", (np.ones((2, 3), "float32"),), {}),
    ("inv", (np.ones((3,), "float32"),), {}), ("eig", (np.ones((2, 3), "float32"),), {}),
    ("eigh", (np.ones((2, 3), "float32"),), {}), ("svd", (np.ones((3,), "float32"),), {}),
    ("lu_factor", (np.ones((3,), "float32"),), {}), ("cholesky_inverse", (np.ones((2, 3), "float32"),), {}),
    ("qr", (RECT,), {"mode": "r"}), ("solve", (SQ, np.ones((2, 2, 2), "float32")), {}),
    ("solve", (np.ones((2, 3), "float32"), np.ones((2, 2), "float32")), {}),
]


@pytest.mark.parametrize("name,args,kwargs", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_linalg_errors_match_keras(keras_ref, name, args, kwargs):
    with pytest.raises(Exception) as ref:
        getattr(keras_ref.ops, name)(*args, **kwargs)
    with pytest.raises(ref.type):
        getattr(cornu.ops, name)(*args, **kwargs)


def test_jvp_matches_keras(keras_ref):
    x, t = torch.tensor([0.5, 1.0, -2.0]), torch.tensor([1.0, 2.0, 0.5])
    for has_aux in (False, True):
        def fn(lib):
            return (lambda v: (lib.ops.sin(v) * v, v * 2)) if has_aux else (lambda v: lib.ops.sin(v) * v)

        ref = keras_ref.ops.jvp(fn(keras_ref), (x,), (t,), has_aux=has_aux)
        ours = cornu.ops.jvp(fn(cornu), (x,), (t,), has_aux=has_aux)
        assert len(ours) == len(ref)
        for o, r in zip(ours, ref):
            np.testing.assert_allclose(_np(o), r.numpy(), rtol=1e-6)


SIG = np.sin(np.arange(46) / 3.0 + np.arange(46) ** 1.3 / 7).reshape(2, 23).astype("float32")
RE, IM = _mat(2, 4, 6, seed=5), _mat(2, 4, 6, seed=6)
FFT_CASES = [
    ("fft", ((RE, IM),), {}), ("fft2", ((RE, IM),), {}), ("ifft2", ((RE, IM),), {}),
    ("fft", ((RE.astype("float64"), IM.astype("float64")),), {}), ("rfft", (RE,), {}),
    ("rfft", (RE,), {"fft_length": 9}), ("rfft", (RE.astype("int32"),), {}), ("irfft", ((RE, IM),), {}),
    ("irfft", ((RE, IM),), {"fft_length": 7}), ("stft", (SIG, 8, 4, 16), {}),
    ("stft", (SIG, 7, 2, 10), {"center": False, "window": "hamming"}), ("stft", (SIG, 8, 3, 8), {"window": None}),
    ("stft", (SIG[0].astype("float64"), 8, 3, 8), {"window": np.arange(8, dtype="float32")}),
    ("extract_sequences", (SIG, 5, 3), {}), ("logdet", (SPD,), {}), ("erfc", (RE * 3,), {}),
    ("erfc", (np.arange(4, dtype="int32"),), {}), ("view_as_complex", (RE[..., :2],), {}),
    ("view_as_complex", (RE[..., :2].astype("float64"),), {}), ("view_as_real", (RE + 1j * IM,), {}),
    ("segment_min", (RE[0], np.array([0, 0, 2, 2])), {"num_segments": 4}),
    ("segment_max", (RE[0], np.array([0, 0, 2, 2])), {"num_segments": 4}),
    ("segment_prod", (RE[0], np.array([0, 1, 1, 3])), {}),
    ("segment_prod", (RE[0].astype("int32"), np.array([0, 1, 1, 3])), {"num_segments": 5}),
]


@pytest.mark.parametrize("name,args,kwargs", FFT_CASES, ids=[c[0] for c in FFT_CASES])
def test_fft_family_matches_keras(keras_ref, name, args, kwargs):
    ref = _leaves(getattr(keras_ref.ops, name)(*args, **kwargs))
    ours = _leaves(getattr(cornu.ops, name)(*args, **kwargs))
    assert len(ours) == len(ref)
    for o, r in zip(ours, ref):
        assert o.dtype == r.dtype and tuple(o.shape) == tuple(r.shape)
        np.testing.assert_allclose(_np(o), r.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("args", [(8, 4, 16), (8, 3, 8), (7, 2, 10), (8, 2, 8)])
@pytest.mark.parametrize("kwargs", [{}, {"length": 23}, {"length": 30}, {"window": None},
                                    {"center": False, "window": "hamming"}, {"center": False, "length": 10}])
def test_istft_matches_keras(keras_ref, args, kwargs):
    center, window = kwargs.get("center", True), kwargs.get("window", "hann")
    spec = tuple(t.numpy() for t in keras_ref.ops.stft(SIG, *args, center=center, window=window))
    try:
        ref = keras_ref.ops.istft(spec, *args, **kwargs).numpy()
    except ValueError:
        pytest.skip("Keras's torch backend refuses this frame/stride combination")
    ours = _np(cornu.ops.istft(spec, *args, **kwargs))
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)


FFT_BAD = [
    ("fft", (RE,), {}), ("fft", ((RE, IM[..., :3]),), {}), ("fft", ((RE.astype("int32"), IM.astype("int32")),), {}),
    ("fft", ((RE, IM, IM),), {}), ("fft2", ((RE[0, 0], IM[0, 0]),), {}),
    ("stft", (SIG, 8, 4, 16), {"window": "bad"}), ("stft", (SIG, 8, 4, 16), {"window": np.ones(7, "float32")}),
    ("stft", (SIG, 16, 4, 8), {}), ("stft", (SIG.astype("int32"), 8, 4, 16), {}),
    ("view_as_complex", (RE,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", FFT_BAD, ids=[c[0] for c in FFT_BAD])
def test_fft_errors_match_keras(keras_ref, name, args, kwargs):
    with pytest.raises(Exception) as ref:
        getattr(keras_ref.ops, name)(*args, **kwargs)
    with pytest.raises(ref.type):
        getattr(cornu.ops, name)(*args, **kwargs)


X = _mat(4, 3, seed=7)
MATS = _mat(5, 2, 2, seed=8)
FLOW_CASES = [
    ("cond", lambda lib: lib.ops.cond(True, lambda: X + 1, lambda: X - 1)),
    ("switch", lambda lib: lib.ops.switch(5, [lambda a, b: a + b, lambda a, b: a * b], 2.0, 3.0)),
    ("while_loop", lambda lib: lib.ops.while_loop(lambda i, s: i < 5, lambda i, s: [i + 1, s + i], [0, 0.5])),
    ("while_loop_max", lambda lib: lib.ops.while_loop(lambda i: i < 5, lambda i: i + 1, 0, maximum_iterations=3)),
    ("while_loop_dict", lambda lib: lib.ops.while_loop(lambda d: d["a"] < 5, lambda d: {"a": d["a"] + 1}, {"a": 0})),
    ("fori_loop", lambda lib: lib.ops.fori_loop(1, 4, lambda i, v: (v[0] * i, v[1] + i), (1, 0))),
    ("scan", lambda lib: lib.ops.scan(lambda c, x: (c + x, c * 2), np.zeros(3, "float32"), X)),
    ("scan_reverse", lambda lib: lib.ops.scan(lambda c, x: (c * x, c), np.ones(3, "float32"), X, reverse=True,
                                              unroll=2)),
    ("scan_length", lambda lib: lib.ops.scan(lambda c, x: (c + 1, c), 0.0, None, length=3)),
    ("scan_int", lambda lib: lib.ops.scan(lambda c, x: (c + x, c), 0, np.arange(4, dtype="int32"))),
    ("scan_tree", lambda lib: lib.ops.scan(lambda c, x: ((c[0] + x["a"], c[1]), {"y": x["a"] * 2}), (0.0, 1.0),
                                           {"a": X})),
    ("map", lambda lib: lib.ops.map(lambda v: (v * 2, lib.ops.sum(v)), X)),
    ("vectorized_map", lambda lib: lib.ops.vectorized_map(lambda v: v[0] * v[1], (torch.tensor(X), torch.tensor(X)))),
    ("associative_scan", lambda lib: lib.ops.associative_scan(lambda a, b: a @ b, MATS)),
    ("associative_scan_rev", lambda lib: lib.ops.associative_scan(lambda a, b: a @ b, MATS, reverse=True)),
    ("associative_scan_axis", lambda lib: lib.ops.associative_scan(lambda a, b: (a[0] + b[0], a[1] * b[1]),
                                                                   (X, X + 1), axis=1)),
    ("saturate_cast", lambda lib: lib.ops.saturate_cast(np.array([-300.0, 0.5, 300.7, 1e10], "float32"), "uint8")),
    ("saturate_cast_int", lambda lib: lib.ops.saturate_cast(np.array([-300, 5, 70000], "int32"), "int8")),
    ("saturate_cast_f16", lambda lib: lib.ops.saturate_cast(np.array([-1e6, 5.0], "float32"), "float16")),
    ("stop_gradient", lambda lib: lib.ops.stop_gradient(torch.tensor(X))),
]


def _structure(x):
    if isinstance(x, dict):
        return {k: _structure(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return tuple(_structure(v) for v in x)
    return "leaf"


def _flat(x):
    if isinstance(x, dict):
        return [leaf for v in x.values() for leaf in _flat(v)]
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in _flat(v)]
    return [x]


@pytest.mark.parametrize("name,run", FLOW_CASES, ids=[c[0] for c in FLOW_CASES])
def test_control_flow_matches_keras(keras_ref, name, run):
    ref, ours = run(keras_ref), run(cornu)
    assert _structure(ours) == _structure(ref)
    for o, r in zip(_flat(ours), _flat(ref)):
        assert type(o) is type(r)
        if isinstance(r, torch.Tensor):
            assert o.dtype == r.dtype and o.shape == r.shape
            np.testing.assert_allclose(_np(o), r.numpy(), rtol=1e-5, atol=1e-5)
        else:
            np.testing.assert_array_equal(o, r)


def test_custom_gradient_matches_keras(keras_ref):
    grads = []
    for lib in (keras_ref, cornu):
        @lib.ops.custom_gradient
        def weighted(a, b):
            def grad(*args, upstream=None):
                return upstream * args[1] * 10, upstream * 0.5
            return a * b, grad

        a, b = torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0, 4.0], requires_grad=True)
        (weighted(a, b) * torch.tensor([1.0, -2.0])).sum().backward()
        grads.append((a.grad.numpy(), b.grad.numpy()))
    for o, r in zip(grads[1], grads[0]):
        np.testing.assert_allclose(o, r)


def test_control_flow_errors_match_keras(keras_ref):
    for run in (lambda lib: lib.ops.scan(lambda c, x: (c, c), 0.0),):
        with pytest.raises(Exception) as ref:
            run(keras_ref)
        with pytest.raises(ref.type):
            run(cornu)
