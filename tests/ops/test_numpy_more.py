"""The NumPy-style ops added in "keras.ops complete" (part 5) against NumPy float64 references."""
import contextlib
import warnings

import numpy as np
import pytest
import torch

from cornu import ops
from cornu.symbolic import KerasTensor
from tests.helpers import assert_close, seeded

RNG = seeded(7)
F = RNG.normal(size=(3, 4)).astype("float32")
F2 = RNG.normal(size=(3, 4)).astype("float32")
I = RNG.integers(-20, 20, (3, 4)).astype("int32")
I2 = RNG.integers(1, 9, (3, 4)).astype("int32")
SH = RNG.integers(0, 5, (3, 4)).astype("int32")


def _np(x):
    return ops.convert_to_numpy(x)


@pytest.mark.parametrize("op,ref", [
    (ops.bitwise_and, np.bitwise_and), (ops.bitwise_or, np.bitwise_or), (ops.bitwise_xor, np.bitwise_xor),
    (ops.bitwise_left_shift, np.left_shift), (ops.left_shift, np.left_shift),
    (ops.bitwise_right_shift, np.right_shift), (ops.right_shift, np.right_shift),
    (ops.gcd, np.gcd), (ops.lcm, np.lcm),
])
def test_integer_binary(op, ref):
    out = op(I, SH)
    assert out.dtype == torch.int32
    np.testing.assert_array_equal(_np(out), ref(I, SH))


def test_bitwise_not_and_bool():
    np.testing.assert_array_equal(_np(ops.bitwise_not(I)), np.invert(I))
    np.testing.assert_array_equal(_np(ops.bitwise_invert(I)), ~I)
    b = F > 0
    np.testing.assert_array_equal(_np(ops.bitwise_not(b)), ~b)
    assert ops.bitwise_and(b, b).dtype == torch.bool
    with pytest.raises(NotImplementedError):
        ops.bitwise_and(F, F2)


@pytest.mark.parametrize("op,ref", [
    (ops.logaddexp2, np.logaddexp2), (ops.hypot, np.hypot), (ops.heaviside, np.heaviside),
    (ops.fmod, np.fmod), (ops.fmax, np.fmax), (ops.fmin, np.fmin), (ops.nextafter, np.nextafter),
])
def test_float_binary(op, ref):
    a, b = F.astype("float64"), F2.astype("float64")
    expected = ref(F, F2) if op is ops.nextafter else ref(a, b)
    assert_close(op(F, F2), expected)
    assert op(F, F2).dtype == torch.float32
    assert op(I, I2).dtype == (torch.int32 if op in (ops.fmod, ops.fmax, ops.fmin) else torch.float32)


def test_nan_aware_fmax_and_nextafter_step():
    x = np.array([np.nan, 1.0, np.nan], "float32")
    y = np.array([2.0, np.nan, np.nan], "float32")
    np.testing.assert_array_equal(_np(ops.fmax(x, y)), np.fmax(x, y))
    np.testing.assert_array_equal(_np(ops.fmin(x, y)), np.fmin(x, y))
    step = _np(ops.nextafter(np.array([1.0], "float32"), np.array([2.0], "float32")))[0]
    assert step == np.float32(1.0) + np.finfo("float32").eps


def test_ldexp():
    assert_close(ops.ldexp(F, SH), F.astype("float64") * 2.0 ** SH)
    assert ops.ldexp(I, SH).dtype == torch.float32
    with pytest.raises(TypeError):
        ops.ldexp(F, F2)


@pytest.mark.parametrize("op,ref", [
    (ops.fabs, np.fabs), (ops.cbrt, np.cbrt), (ops.deg2rad, np.deg2rad), (ops.rad2deg, np.rad2deg),
    (ops.sinc, np.sinc), (ops.i0, np.i0), (ops.angle, np.angle), (ops.real, np.real), (ops.conj, np.conj),
    (ops.conjugate, np.conjugate),
])
def test_float_unary(op, ref):
    assert_close(op(F), ref(F.astype("float64")), rtol=1e-5, atol=1e-6)
    assert op(I).dtype == (torch.int32 if op in (ops.real, ops.conj, ops.conjugate) else torch.float32)


def test_predicates():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -1.5], "float32")
    for op, ref in [(ops.signbit, np.signbit), (ops.isneginf, np.isneginf), (ops.isposinf, np.isposinf),
                    (ops.isreal, np.isreal)]:
        np.testing.assert_array_equal(_np(op(x)), ref(x))
    for a, b in [(F, F * (1 + 1e-6)), (F, F + 1e-7), (F, F2)]:
        assert bool(ops.allclose(a, b)) == np.allclose(a.astype('float64'), b.astype('float64'))
    assert bool(ops.allclose(x, x, equal_nan=True)) and not bool(ops.allclose(x, x))
    with pytest.raises(RuntimeError):
        ops.imag(F)


def test_complex_parts():
    z = torch.tensor([1 + 2j, -3 - 4j], dtype=torch.complex64)
    zn = z.numpy()
    for op, ref in [(ops.real, np.real), (ops.imag, np.imag), (ops.conj, np.conj), (ops.angle, np.angle)]:
        assert_close(op(z).real if op is ops.conj else op(z), ref(zn).real if op is ops.conj else ref(zn))
    np.testing.assert_allclose(_np(ops.conj(z)), np.conj(zn))


def test_empty_like_and_view():
    e = ops.empty_like(I, dtype="float16")
    assert tuple(e.shape) == I.shape and e.dtype == torch.float16
    np.testing.assert_array_equal(_np(ops.view(F, "int32")), F.view("int32"))
    np.testing.assert_array_equal(_np(ops.view(F, "uint8")), F.view("uint8"))


def test_symbolic():
    x = KerasTensor((None, 4), dtype="int32")
    y = ops.bitwise_xor(x, 3)
    assert y.shape == (None, 4) and y.dtype == "int32"
    z = ops.hypot(x, KerasTensor((2, 1, 4), dtype="float16"))
    assert z.shape == (2, None, 4) and z.dtype == "float16"


@contextlib.contextmanager
def _quiet():
    """NumPy warns on all-NaN slices; those slices are part of the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


NANS = RNG.normal(size=(3, 4, 5))
NANS[RNG.random((3, 4, 5)) < 0.25] = np.nan
NANS[1, 2, :] = np.nan
AXES = [None, 1, (0, 2), -1]


@pytest.mark.parametrize("op,ref", [
    (ops.nansum, np.nansum), (ops.nanprod, np.nanprod), (ops.nanmean, np.nanmean), (ops.nanvar, np.nanvar),
    (ops.nanstd, np.nanstd), (ops.nanmax, np.nanmax), (ops.nanmin, np.nanmin), (ops.nanmedian, np.nanmedian),
])
def test_nan_reductions(op, ref):
    x = NANS.astype("float32")
    with _quiet():
        for axis in AXES:
            for keepdims in (False, True):
                assert_close(op(x, axis=axis, keepdims=keepdims), ref(NANS, axis=axis, keepdims=keepdims), rtol=1e-5)


@pytest.mark.parametrize("op,ref", [(ops.median, np.median), (ops.ptp, np.ptp)])
def test_median_and_ptp(op, ref):
    x = RNG.normal(size=(3, 4, 6))
    for axis in AXES:
        assert_close(op(x.astype("float32"), axis=axis, keepdims=True), ref(x, axis=axis, keepdims=True))
    assert ops.median(I).dtype == torch.float32 and ops.ptp(I).dtype == torch.int32


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_family(method):
    x = RNG.normal(size=(4, 7))
    q = np.array([0.0, 0.25, 0.9])
    assert_close(ops.quantile(x.astype("float32"), q, axis=1, method=method), np.quantile(x, q, axis=1, method=method))
    assert_close(ops.percentile(x.astype("float32"), 100 * q, axis=0, method=method, keepdims=True),
                 np.percentile(x, 100 * q, axis=0, method=method, keepdims=True))
    with _quiet():
        assert_close(ops.nanquantile(NANS.astype("float32"), 0.3, axis=(0, 2), method=method),
                     np.nanquantile(NANS, 0.3, axis=(0, 2), method=method))
        assert_close(ops.nanpercentile(NANS.astype("float32"), 30.0, method=method),
                     np.nanpercentile(NANS, 30.0, method=method))
    with pytest.raises(RuntimeError):
        ops.quantile(x, 1.5)


def test_nan_args_and_scans():
    x = NANS.astype("float32")
    for axis in (None, 0, -1):
        for op, fill, ref in [(ops.nanargmax, -np.inf, np.argmax), (ops.nanargmin, np.inf, np.argmin)]:
            expected = ref(np.where(np.isnan(NANS), fill, NANS), axis=axis)
            expected = np.where(np.all(np.isnan(NANS), axis=axis), -1, expected)
            np.testing.assert_array_equal(_np(op(x, axis=axis)), expected)
        assert_close(ops.nancumsum(x, axis=axis), np.nancumsum(NANS, axis=axis))
        assert_close(ops.nancumprod(x, axis=axis), np.nancumprod(NANS, axis=axis))
    assert ops.nanargmax(x).dtype == torch.int32
    assert ops.nancumsum(I.astype("int8"), axis=0).dtype == torch.int8


def test_symbolic_quantile_shape():
    y = ops.quantile(KerasTensor((None, 4, 5)), [0.1, 0.5], axis=(0, 2), keepdims=True)
    assert y.shape == (2, 1, 4, 1) and y.dtype == "float32"
    assert ops.nanmax(KerasTensor((None, 3), dtype="int64"), axis=0).dtype == "int64"


def test_unique_against_numpy():
    x = RNG.integers(0, 7, (4, 5))
    values, index, inverse, counts = ops.unique(x, return_index=True, return_inverse=True, return_counts=True)
    ref = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
    for ours, theirs in zip((values, index, inverse, counts), ref):
        np.testing.assert_array_equal(_np(ours).reshape(-1), np.asarray(theirs).reshape(-1))
    assert index.dtype == torch.int64 and values.dtype == ops.convert_to_tensor(x).dtype
    rows = np.array([[1, 2], [0, 1], [1, 2]])
    np.testing.assert_array_equal(_np(ops.unique(rows, axis=0)), np.unique(rows, axis=0))
    padded = _np(ops.unique(x, size=10, fill_value=-1))
    n = len(np.unique(x))
    np.testing.assert_array_equal(padded, np.concatenate([np.unique(x), -np.ones(10 - n)])[:10])
    assert ops.unique(KerasTensor((None,), dtype="int32"), size=4).shape == (4,)


def test_searchsorted_digitize_isin_unravel():
    seq = np.sort(RNG.normal(size=11))
    v = RNG.normal(size=(2, 5))
    for side in ("left", "right"):
        out = ops.searchsorted(seq.astype("float32"), v.astype("float32"), side=side)
        np.testing.assert_array_equal(_np(out), np.searchsorted(seq.astype("float32"), v.astype("float32"), side))
        assert out.dtype == torch.int32
    with pytest.raises(ValueError):
        ops.searchsorted(np.ones((2, 2)), v)
    bins = np.array([-1.0, 0.0, 0.25, 1.5])
    np.testing.assert_array_equal(_np(ops.digitize(v, bins)), np.digitize(v, bins))
    np.testing.assert_array_equal(_np(ops.digitize(bins, bins)), np.digitize(bins, bins))
    x = RNG.integers(0, 9, (3, 4))
    np.testing.assert_array_equal(_np(ops.isin(x, [2, 3, 8])), np.isin(x, [2, 3, 8]))
    np.testing.assert_array_equal(_np(ops.isin(x, [2, 3], invert=True)), np.isin(x, [2, 3], invert=True))
    flat = np.array([0, 5, 11, 23])
    for ours, ref in zip(ops.unravel_index(flat, (2, 3, 4)), np.unravel_index(flat, (2, 3, 4))):
        np.testing.assert_array_equal(_np(ours), ref)
        assert ours.dtype == torch.int32


def test_bincount_and_histogram():
    x = RNG.integers(0, 6, 20)
    w = RNG.random(20)
    np.testing.assert_array_equal(_np(ops.bincount(x)), np.bincount(x))
    np.testing.assert_array_equal(_np(ops.bincount(x, minlength=10)), np.bincount(x, minlength=10))
    assert_close(ops.bincount(x, weights=w.astype("float32")), np.bincount(x, weights=w))
    batch = RNG.integers(0, 4, (3, 6))
    expected = np.stack([np.bincount(row, minlength=6) for row in batch])
    np.testing.assert_array_equal(_np(ops.bincount(batch, minlength=6)), expected)
    assert ops.bincount(x).dtype == torch.int32
    with pytest.raises(RuntimeError):
        ops.bincount(np.array([-1, 2]))
    d = RNG.normal(size=200)
    for kw in ({}, {"bins": 7}, {"bins": 5, "range": (-1.0, 1.0)}):
        counts, edges = ops.histogram(d.astype("float32"), **kw)
        ref_counts, ref_edges = np.histogram(d.astype("float32"), **kw)
        np.testing.assert_array_equal(_np(counts), ref_counts)
        assert_close(edges, ref_edges)
    counts, edges = ops.histogram(np.full(3, 2.0), bins=2)
    np.testing.assert_array_equal(_np(counts), np.histogram(np.full(3, 2.0), bins=2)[0])
    with pytest.raises(TypeError):
        ops.histogram(d, bins=[0.0, 1.0])
    with pytest.raises(ValueError):
        ops.histogram(d.reshape(10, 20))


def test_products_and_calculus():
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 2))
    assert_close(ops.kron(a.astype("float32"), b.astype("float32")), np.kron(a, b))
    u, v = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
    assert_close(ops.cross(u.astype("float32"), v.astype("float32")), np.cross(u, v))
    assert_close(ops.cross(u.T.astype("float32"), v.astype("float32"), axisa=0), np.cross(u.T, v, axisa=0))
    assert_close(ops.cross(u.astype("float32"), v.astype("float32"), axisc=0), np.cross(u, v, axisc=0))
    z = u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]  # 2-vectors: the z component (NumPy 2 deprecates this form)
    assert_close(ops.cross(u[:, :2].astype("float32"), v[:, :2].astype("float32")), z)
    u_pad = np.pad(u[:, :2], ((0, 0), (0, 1)))
    assert_close(ops.cross(u[:, :2].astype("float32"), v.astype("float32")), np.cross(u_pad, v))
    y, x = RNG.normal(size=(4, 6)), np.sort(RNG.normal(size=(4, 6)), axis=-1)
    assert_close(ops.trapezoid(y.astype("float32")), np.trapezoid(y))
    assert_close(ops.trapezoid(y.astype("float32"), x.astype("float32")), np.trapezoid(y, x))
    assert_close(ops.trapezoid(y.astype("float32"), dx=0.3, axis=0), np.trapezoid(y, dx=0.3, axis=0))
    w = RNG.normal(size=5)
    assert_close(ops.vander(w.astype("float32")), np.vander(w), rtol=1e-5)
    assert_close(ops.vander(w.astype("float32"), N=3, increasing=True), np.vander(w, N=3, increasing=True))
    with pytest.raises(ValueError):
        ops.vander(a)


def test_correlate_corrcoef_select_argpartition():
    a, v = RNG.normal(size=9), RNG.normal(size=4)
    for mode in ("valid", "same", "full"):
        assert_close(ops.correlate(a.astype("float32"), v.astype("float32"), mode=mode).reshape(-1),
                     np.correlate(a, v, mode=mode), rtol=1e-5, atol=1e-5)
        assert_close(ops.correlate(v.astype("float32"), a.astype("float32"), mode=mode).reshape(-1),
                     np.correlate(v, a, mode=mode), rtol=1e-5, atol=1e-5)
    rows = RNG.normal(size=(3, 10))
    assert_close(ops.corrcoef(rows.astype("float32")), np.corrcoef(rows), rtol=1e-5, atol=1e-6)
    x = RNG.normal(size=(3, 4))
    conds, choices = [x > 0.5, x < -0.5], [x, -x]
    assert_close(ops.select(conds, [c.astype("float32") for c in choices], default=9.0), np.select(conds, choices, 9.0))
    with pytest.raises(ValueError):
        ops.select([x > 0], [x, x])
    for kth in (0, 2, -1):
        idx = _np(ops.argpartition(x, kth, axis=0))
        assert_close(np.take_along_axis(x, idx, 0)[kth], np.partition(x, kth, axis=0)[kth])


def test_flips_rotations_splits():
    x = RNG.normal(size=(2, 4, 6))
    for k, axes in [(1, (0, 1)), (2, (1, 2)), (-1, (2, 0)), (5, (1, 0))]:
        np.testing.assert_array_equal(_np(ops.rot90(x, k=k, axes=axes)), np.rot90(x, k=k, axes=axes))
    with pytest.raises(ValueError):
        ops.rot90(x[0, 0])
    np.testing.assert_array_equal(_np(ops.fliplr(x)), np.fliplr(x))
    np.testing.assert_array_equal(_np(ops.flipud(x)), np.flipud(x))
    for ours, ref in [(ops.hsplit(x, 2), np.hsplit(x, 2)), (ops.vsplit(x, [1]), np.vsplit(x, [1])),
                      (ops.dsplit(x, [2, 5]), np.dsplit(x, [2, 5])), (ops.array_split(x, 4, axis=2),
                                                                      np.array_split(x, 4, axis=2)),
                      (ops.array_split(np.arange(10), [3, 7]), np.array_split(np.arange(10), [3, 7]))]:
        assert isinstance(ours, list) and len(ours) == len(ref)
        for o, r in zip(ours, ref):
            np.testing.assert_array_equal(_np(o), r)
    with pytest.raises(ValueError):
        ops.array_split(x, 0)
    np.testing.assert_array_equal(_np(ops.dstack([x[0], x[1]])), np.dstack([x[0], x[1]]))
    np.testing.assert_array_equal(_np(ops.dstack([x[0, 0], x[1, 0]])), np.dstack([x[0, 0], x[1, 0]]))
    np.testing.assert_array_equal(_np(ops.diagflat(x[0, :2], k=1)), np.diagflat(x[0, :2], k=1))


def test_spaces_and_determinants():
    assert_close(ops.geomspace(1, 1000, 4), np.geomspace(1, 1000, 4))
    assert_close(ops.geomspace(-2.0, -50.0, 6, endpoint=False), np.geomspace(-2.0, -50.0, 6, endpoint=False))
    assert_close(ops.geomspace([1.0, 2.0], [10.0, 64.0], 5, axis=1), np.geomspace([1.0, 2.0], [10.0, 64.0], 5, axis=1))
    assert_close(ops.logspace(0, 3, 4), np.logspace(0, 3, 4))
    assert_close(ops.logspace(-1.0, 2.0, 6, base=2, endpoint=False), np.logspace(-1.0, 2.0, 6, base=2, endpoint=False))
    assert_close(ops.logspace([0.0, 1.0], 2.0, 3, axis=1), np.logspace([0.0, 1.0], 2.0, 3, axis=1))
    assert ops.logspace(0, 3, 4, dtype="int32").dtype == torch.int32 and ops.geomspace(1, 2, 3).dtype == torch.float32
    m = RNG.normal(size=(3, 4, 4))
    sign, logabs = ops.slogdet(m.astype("float64"))
    ref_sign, ref_logabs = np.linalg.slogdet(m)
    assert_close(sign, ref_sign)
    assert_close(logabs, ref_logabs)
    pd = m @ np.swapaxes(m, -1, -2) + np.eye(4)
    assert_close(ops.logdet(pd.astype("float32")), np.log(np.linalg.det(pd)), rtol=1e-5, atol=1e-5)
    spec = ops.slogdet(KerasTensor((None, 4, 4)))
    assert [t.shape for t in spec] == [(None,), (None,)]


@pytest.mark.parametrize("op,ref", [(ops.bartlett, np.bartlett), (ops.hamming, np.hamming),
                                    (ops.hanning, np.hanning), (ops.blackman, np.blackman)])
def test_windows(op, ref):
    for m in (0, 1, 2, 7, 12):
        assert_close(op(m), ref(m), atol=1e-6)
        assert op(m).dtype == torch.float32
    with pytest.raises(ValueError):
        op(-3)
    with pytest.raises(TypeError):
        op(2.5)


def test_kaiser_and_vectorize():
    for m, beta in [(1, 2.0), (6, 14.0), (9, 0.5)]:
        assert_close(ops.kaiser(m, beta), np.kaiser(m, beta), atol=1e-6)
    a, b = RNG.normal(size=(4, 1, 3)), RNG.normal(size=(5, 3))
    f = ops.vectorize(lambda x, y: x * y - 1.0)
    assert_close(f(a.astype("float32"), b.astype("float32")), np.vectorize(lambda x, y: x * y - 1.0)(a, b))
    g = ops.vectorize(lambda x, y: ops.sum(x * y), signature="(n),(n)->()")
    assert_close(g(a.astype("float32"), b.astype("float32")), np.einsum("...n,...n->...", a, b), rtol=1e-5)
    h = ops.vectorize(lambda x, scale: x * scale, excluded={1})
    assert_close(h(b.astype("float32"), 3.0), b * 3.0)
    pair = ops.vectorize(lambda x: (ops.max(x), ops.min(x)), signature="(n)->(),()")(b.astype("float32"))
    assert_close(pair[0], b.max(-1))
    assert_close(pair[1], b.min(-1))


def test_data_dependent_lengths_are_unknown_symbolically():
    x = KerasTensor((5,), dtype="int32")
    assert ops.unique(x).shape == (None,)
    values, inverse = ops.unique(KerasTensor((2, 3), dtype="int32"), return_inverse=True)
    assert values.shape == (None,) and inverse.shape == (2, 3) and inverse.dtype == "int64"
    assert ops.unique(x, size=3).shape == (3,)
    assert ops.bincount(x).shape == (None,) and ops.bincount(KerasTensor((2, 5), dtype="int32")).shape == (2, None)
