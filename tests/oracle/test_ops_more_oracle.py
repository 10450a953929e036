"""The NumPy-style ops added in "keras.ops complete" (part 5) against real Keras 3 (torch backend)."""
import numpy as np
import pytest

from tests.helpers import keras_oracle_module

keras_ref = keras_oracle_module()

import cornu  # noqa: E402

RNG = np.random.default_rng(5)
F = RNG.normal(size=(3, 4)).astype("float32")
F2 = RNG.normal(size=(3, 4)).astype("float32")
I = RNG.integers(-20, 20, (3, 4)).astype("int32")
I2 = RNG.integers(1, 9, (3, 4)).astype("int32")
SH = RNG.integers(0, 5, (3, 4)).astype("int32")
U8 = RNG.integers(0, 200, (3, 4)).astype("uint8")
I8 = RNG.integers(-50, 50, (3, 4)).astype("int8")
B = RNG.random((3, 4)) > 0.5
B2 = RNG.random((3, 4)) > 0.5
F16 = F.astype("float16")
F64 = F.astype("float64")
SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.5, -2.0], "float32")


def _run(lib, name, args, kwargs):
    try:
        out = getattr(lib.ops, name)(*args, **kwargs)
    except Exception as e:  # the exception class itself is compared
        return type(e)
    return out


def check(name, *args, **kwargs):
    """Same values (rtol 1e-5), dtype names and shapes as Keras, or the same exception class."""
    ref = _run(keras_ref, name, args, kwargs)
    ours = _run(cornu, name, args, kwargs)
    if isinstance(ref, type):
        assert ours is ref, f"{name}: Keras raised {ref.__name__}, cornu gave {ours!r}"
        return
    assert not isinstance(ours, type), f"{name}: cornu raised {ours.__name__}"
    refs = ref if isinstance(ref, (list, tuple)) else [ref]
    ourss = ours if isinstance(ours, (list, tuple)) else [ours]
    assert len(ourss) == len(refs)
    for r, o in zip(refs, ourss):
        assert cornu.ops.dtype(o) == keras_ref.ops.dtype(r), name
        r, o = keras_ref.ops.convert_to_numpy(r), cornu.ops.convert_to_numpy(o)
        assert o.shape == r.shape, name
        tol = 2e-3 if r.dtype == np.float16 else 1e-5  # half precision: summation order shows in the last bit
        np.testing.assert_allclose(o, r, rtol=tol, atol=tol / 10, equal_nan=True, err_msg=name)


INT_BINARY = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift",
              "left_shift", "right_shift", "gcd", "lcm"]
INT_PAIRS = [(I, SH), (I8, SH), (U8, I8 % 4), (I, 3), (B, B2), (F, F2)]


@pytest.mark.parametrize("name", INT_BINARY)
def test_integer_binary_ops(name):
    for a, b in INT_PAIRS:
        check(name, a, b)


FLOAT_BINARY = ["logaddexp2", "nextafter", "hypot", "heaviside", "fmod", "fmax", "fmin"]
FLOAT_PAIRS = [(F, F2), (F16, F), (F64, F), (I, I2), (I, F), (I, 2), (F, 2), (I, 2.5), (SPECIAL, SPECIAL[::-1])]


@pytest.mark.parametrize("name", FLOAT_BINARY)
def test_float_binary_ops(name):
    for a, b in FLOAT_PAIRS:
        check(name, a, b)


def test_ldexp():
    for a, b in [(F, SH), (I, SH), (F16, SH), (F, 3), (F, F2), (F, B)]:
        check("ldexp", a, b)


UNARY = ["bitwise_not", "bitwise_invert", "fabs", "cbrt", "deg2rad", "rad2deg", "sinc", "i0", "angle", "real",
         "imag", "conj", "conjugate", "signbit", "isneginf", "isposinf", "isreal"]


@pytest.mark.parametrize("name", UNARY)
def test_unary_ops(name):
    for a in (F, F16, F64, I, I8, U8, B, SPECIAL):
        check(name, a)


def test_allclose_empty_like_view():
    check("allclose", F, F + 1e-7)
    check("allclose", F, F2)
    check("allclose", SPECIAL, SPECIAL, equal_nan=True)
    for a, dt in [(F, None), (I, "float32"), (B, None)]:
        ref, ours = keras_ref.ops.empty_like(a, dtype=dt), cornu.ops.empty_like(a, dtype=dt)
        assert tuple(ours.shape) == tuple(ref.shape) and cornu.ops.dtype(ours) == keras_ref.ops.dtype(ref)
    for a, dt in [(F, "int32"), (F, "uint8"), (I, "float32"), (F, "float16")]:
        check("view", a, dt)


@pytest.mark.parametrize("name,args", [("bitwise_and", (None, None)), ("hypot", (None, None)), ("ldexp", (None, "i")),
                                       ("signbit", (None,)), ("cbrt", (None,))])
def test_symbolic_shapes_and_dtypes(name, args):
    got = []
    for lib in (keras_ref, cornu):
        x = lib.Input((None, 4), dtype="int32" if name in ("bitwise_and", "ldexp") else "float32")
        i = lib.Input((None, 4), dtype="int32")
        y = getattr(lib.ops, name)(*[i if a == "i" else x for a in args])
        got.append((tuple(y.shape), y.dtype))
    assert got[1] == got[0]


NANS = RNG.normal(size=(3, 4, 5)).astype("float32")
NANS[0, 1, :] = np.nan
NANS[RNG.random((3, 4, 5)) < 0.2] = np.nan
STAT_INPUTS = [NANS, NANS.astype("float16"), NANS.astype("float64"), RNG.integers(-9, 9, (3, 4, 5)).astype("int32"),
               RNG.integers(0, 9, (3, 4, 5)).astype("uint8"), RNG.integers(-9, 9, (3, 4, 5)).astype("int64"),
               RNG.random((3, 4, 5)) > 0.5]
NAN_REDUCTIONS = ["nanmax", "nanmin", "nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmedian", "median",
                  "ptp"]


@pytest.mark.parametrize("name", NAN_REDUCTIONS)
def test_reductions(name):
    for a in STAT_INPUTS:
        if name in ("median", "ptp") and a.dtype.kind == "f":
            a = np.nan_to_num(a)
        for kw in ({}, {"axis": 1}, {"axis": (0, 2), "keepdims": True}, {"axis": -1, "keepdims": True}):
            check(name, a, **kw)


@pytest.mark.parametrize("name", ["nanargmax", "nanargmin", "nancumsum", "nancumprod"])
def test_nan_arg_and_scans(name):
    for a in STAT_INPUTS:
        for kw in ({}, {"axis": 1}, {"axis": -1}):
            if name.startswith("nanarg"):
                kw = dict(kw, keepdims=True) if kw else kw
            check(name, a, **kw)
    if name.startswith("nancum"):
        check(name, STAT_INPUTS[3], axis=0, dtype="float32")
        check(name, NANS, axis=0, dtype="float64")


@pytest.mark.parametrize("name", ["quantile", "percentile", "nanquantile", "nanpercentile"])
def test_quantiles(name):
    scale = 100.0 if "percentile" in name else 1.0
    data = NANS if name.startswith("nan") else np.nan_to_num(NANS)
    for q in (0.3 * scale, [0.1 * scale, 0.5 * scale, 1.0 * scale], np.array([0.0, 0.75 * scale], "float32")):
        for kw in ({}, {"axis": 1}, {"axis": (0, 2), "keepdims": True}):
            check(name, data, q, **kw)
    for method in ("lower", "higher", "midpoint", "nearest", "bogus"):
        check(name, data, 0.4 * scale, axis=-1, method=method)
    check(name, STAT_INPUTS[3], 0.5 * scale, axis=0)
    check(name, data, 1.5 * scale)


@pytest.mark.parametrize("name,args", [("nanmean", ()), ("median", ()), ("quantile", ([0.2, 0.5],)),
                                       ("nanargmax", ())])
def test_symbolic_reductions(name, args):
    got = []
    for lib in (keras_ref, cornu):
        x = lib.Input((None, 4, 5))
        y = getattr(lib.ops, name)(x, *args, axis=1)
        got.append((tuple(y.shape), y.dtype))
    assert got[1] == got[0]


def test_unique():
    x = RNG.integers(0, 6, (12,)).astype("int32")
    for kw in ({}, {"return_index": True, "return_inverse": True, "return_counts": True}, {"return_counts": True},
               {"sorted": False}):
        check("unique", x, **kw)
    check("unique", RNG.integers(0, 3, (3, 4)).astype("float32"), return_inverse=True)
    check("unique", RNG.integers(0, 2, (6, 2)).astype("int32"), axis=0, return_inverse=True, return_counts=True)
    check("unique", x, size=10)
    check("unique", x.astype("float32"), size=9, fill_value=-1.0)


def test_searchsorted_digitize_isin():
    seq = np.sort(RNG.normal(size=(9,))).astype("float32")
    vals = RNG.normal(size=(3, 4)).astype("float32")
    for side in ("left", "right", "bogus"):
        check("searchsorted", seq, vals, side=side)
    check("searchsorted", np.arange(5, dtype="int32"), np.array([-1, 2, 9], "int32"))
    check("searchsorted", np.arange(5.0), 2.5)
    check("searchsorted", np.ones((2, 3), "float32"), vals)
    bins = np.array([-1.0, 0.0, 0.5, 2.0], "float32")
    check("digitize", vals, bins)
    check("digitize", np.array([0, 1, 2, 5], "int32"), np.array([1, 2, 3], "int32"))
    check("digitize", vals.astype("float64"), bins)
    ints = RNG.integers(0, 6, (3, 4)).astype("int32")
    check("isin", ints, np.array([1, 5], "int32"))
    check("isin", ints, np.array([1.0, 5.0], "float32"), invert=True)
    check("isin", vals, vals[0])


def test_bincount_histogram_unravel():
    x = RNG.integers(0, 6, (10,)).astype("int32")
    w = RNG.random((10,)).astype("float32")
    for kw in ({}, {"minlength": 9}, {"weights": w}, {"weights": w.astype("float64")}, {"weights": w.astype("float16")},
               {"weights": x}):
        check("bincount", x, **kw)
    check("bincount", x.astype("uint8"))
    check("bincount", np.array([[0, 1, 3], [3, 3, 0]], "int32"), minlength=5)
    check("bincount", np.array([-1, 2], "int32"))
    check("bincount", w)
    data = RNG.normal(size=(50,)).astype("float32")
    for kw in ({}, {"bins": 7}, {"bins": 4, "range": (-1, 1)}, {"range": (2, 1)}, {"bins": [0.0, 1.0]}):
        check("histogram", data, **kw)
    check("histogram", data.astype("float64"), bins=3)
    check("histogram", data.reshape(5, 10))
    check("histogram", np.full((4,), 2.0, "float32"), bins=2)
    for idx in (np.array([5, 7, 11], "int32"), np.array([[0, 13]], "int64"), np.array([-1], "int32"), 5):
        check("unravel_index", idx, (3, 4))


def test_symbolic_data_dependent_lengths():
    got = []
    for lib in (keras_ref, cornu):
        x = lib.Input((5,), dtype="int32")
        f = lib.Input((5,), batch_size=1)[0]
        outs = [lib.ops.unique(x), lib.ops.unique(x, size=3), lib.ops.bincount(x), lib.ops.isin(x, x),
                lib.ops.searchsorted(f, x), *lib.ops.unravel_index(x, (3, 4)), *lib.ops.histogram(f, bins=3)]
        got.append([(tuple(o.shape), o.dtype) for o in outs])
    assert got[1] == got[0]


M = RNG.normal(size=(2, 3)).astype("float32")
MI = RNG.integers(-5, 5, (2, 3)).astype("int32")
MB = M > 0


def test_kron_cross_trapezoid_vander():
    for a, b in [(M, MI), (MI, MI.astype("int8")), (MB, MB), (M[0], M)]:
        check("kron", a, b)
    v3 = RNG.normal(size=(4, 3)).astype("float32")
    check("cross", v3, v3[::-1])
    check("cross", MI[:, :3].reshape(2, 3), MI[::-1])
    check("cross", v3.T.copy(), v3[::-1].T.copy(), axis=0)
    for args, kw in [((M,), {}), ((MI,), {}), ((M, M), {}), ((M,), {"dx": 0.5, "axis": 0}),
                     ((M.astype("float64"),), {}), ((MB,), {}), ((M.astype("float16"),), {})]:
        check("trapezoid", *args, **kw)
    for args, kw in [((M[0],), {}), ((MI[0],), {"N": 4, "increasing": True}), ((M,), {}), ((MB[0],), {})]:
        check("vander", *args, **kw)


def test_flips_rotations_splits_stacks():
    cube = RNG.normal(size=(2, 4, 6)).astype("float32")
    for args, kw in [((M,), {}), ((cube,), {"k": 3, "axes": (1, 0)}), ((cube,), {"k": -1, "axes": (2, 1)}),
                     ((M[0],), {}), ((M,), {"axes": (0, 0)})]:
        check("rot90", *args, **kw)
    for a in (M, cube, M[0]):
        check("fliplr", a)
        check("flipud", a)
    check("hsplit", cube, 2)
    check("hsplit", cube, [1, 3])
    check("hsplit", M[0], 3)
    check("hsplit", np.ones((2, 5), "float32"), 2)
    check("vsplit", cube.reshape(4, 2, 6), [1, 3])
    check("dsplit", cube, 3)
    check("dsplit", M, 2)
    check("array_split", np.arange(7.0), 3)
    check("array_split", cube, 4, axis=-1)
    check("array_split", cube, 0)
    check("dstack", [M, MI])
    check("dstack", [M[0], M[0]])
    check("diagflat", M)
    check("diagflat", MI[0], k=-1)


def test_select_correlate_corrcoef_argpartition():
    check("select", [MB, ~MB], [M, MI])
    check("select", [MB], [MI], default=7)
    check("select", [MB, M > 1], [M, M * 2], default=0.5)
    a, v = RNG.normal(size=(7,)).astype("float32"), RNG.normal(size=(3,)).astype("float32")
    for mode in ("valid", "same", "full"):
        check("correlate", a, v, mode=mode)
        check("correlate", a[:3], v, mode=mode)
        check("correlate", MI[0], MI[1], mode=mode)
    check("corrcoef", RNG.normal(size=(3, 8)).astype("float32"))
    check("corrcoef", RNG.integers(0, 9, (3, 8)).astype("int32"))
    x = RNG.normal(size=(3, 8)).astype("float32")
    for kth in (0, 3, -1):
        ref = keras_ref.ops.convert_to_numpy(keras_ref.ops.argpartition(x, kth))
        ours = cornu.ops.argpartition(x, kth)
        assert cornu.ops.dtype(ours) == str(ref.dtype)
        # Keras's torch backend does not always place the kth element; NumPy is the reference for values.
        np.testing.assert_array_equal(np.take_along_axis(x, cornu.ops.convert_to_numpy(ours), -1)[:, kth],
                                      np.partition(x, kth, axis=-1)[:, kth])


def test_spaces_and_determinants():
    for args, kw in [((1, 1000, 4), {}), ((1, 1000, 4), {"endpoint": False}), ((1, 1000, 4), {"dtype": "float64"}),
                     ((-1, -1000, 5), {}), ((2.0, 3.0), {})]:
        check("geomspace", *args, **kw)
    for args, kw in [((0, 3, 4), {}), ((0, 3, 4), {"base": 2, "endpoint": False}), ((0, 3, 4), {"dtype": "int32"}),
                     ((-1.0, 1.0, 7), {"dtype": "float64"})]:
        check("logspace", *args, **kw)
    sq = RNG.normal(size=(3, 4, 4)).astype("float32")
    check("slogdet", sq)
    check("slogdet", sq.astype("float64")[0])
    check("slogdet", MI)
    pd = np.einsum("bij,bkj->bik", sq, sq) + np.eye(4, dtype="float32")
    check("logdet", pd)
    check("logdet", M)


@pytest.mark.parametrize("name,args", [("kron", ("x", "x")), ("rot90", ("x",)), ("dstack", (["x", "x"],)),
                                       ("trapezoid", ("x",)), ("logdet", ("s",)), ("hsplit", ("x", 3)),
                                       ("vander", ("v",)), ("diagflat", ("x",))])
def test_symbolic_shape_ops(name, args):
    got = []
    for lib in (keras_ref, cornu):
        tensors = {"x": lib.Input((3, 4)), "s": lib.Input((4, 4)), "v": lib.Input((5,), batch_size=2)[0]}
        real = [[tensors[i] for i in a] if isinstance(a, list) else tensors.get(a, a) if isinstance(a, str) else a
                for a in args]
        out = getattr(lib.ops, name)(*real)
        outs = out if isinstance(out, (list, tuple)) else [out]
        got.append([(tuple(o.shape), o.dtype) for o in outs])
    assert got[1] == got[0]


@pytest.mark.parametrize("name", ["bartlett", "hamming", "hanning", "blackman"])
def test_windows(name):
    for m in (0, 1, 2, 5, 8, np.int32(4), -1, 2.5):
        check(name, m)


def test_kaiser_and_vectorize():
    for m, beta in [(6, 14.0), (5, 2), (1, 3.0), (0, 1.0), (-2, 1.0)]:
        check("kaiser", m, beta)
    a, b = RNG.normal(size=(2, 3)).astype("float32"), RNG.normal(size=(3,)).astype("float32")
    for lib_fn, sig, args in [(lambda lib: lambda x, y: x * y + 1.0, None, (a, b)),
                              (lambda lib: lambda x: lib.ops.sum(x * x), "(n)->()", (a,)),
                              (lambda lib: lambda x, y: lib.ops.matmul(x, y), "(m,n),(n)->(m)", (a[None], b))]:
        ref = keras_ref.ops.vectorize(lib_fn(keras_ref), signature=sig)(*args)
        ours = cornu.ops.vectorize(lib_fn(cornu), signature=sig)(*args)
        np.testing.assert_allclose(cornu.ops.convert_to_numpy(ours), keras_ref.ops.convert_to_numpy(ref), rtol=1e-5)
        assert tuple(ours.shape) == tuple(ref.shape)
