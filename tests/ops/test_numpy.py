"""keras.ops NumPy-like functions against NumPy float64 references."""
import numpy as np
import pytest
import torch

from cornu import ops

RNG = np.random.default_rng(1)


def _np(x):
    return ops.convert_to_numpy(x)


def _close(actual, expected, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(_np(actual), expected, rtol=rtol, atol=atol)


def _rand(*shape, positive=False):
    a = RNG.normal(size=shape)
    return np.abs(a) + 0.1 if positive else a


# ------------------------------------------------------------------ creation
def test_creation_functions():
    assert ops.zeros((2, 3)).dtype == torch.float32 and _np(ops.zeros((2, 3))).sum() == 0
    np.testing.assert_array_equal(_np(ops.ones(4, dtype="int32")), np.ones(4))
    np.testing.assert_array_equal(_np(ops.full((2, 2), 7)), np.full((2, 2), 7))
    assert ops.full((2,), 7).dtype == torch.float32  # Keras: floatx() unless dtype says otherwise
    assert ops.full((2,), 7, dtype="int32").dtype == torch.int32
    assert ops.full((2,), 0.5).dtype == torch.float32
    np.testing.assert_array_equal(_np(ops.arange(5)), np.arange(5))
    assert ops.arange(5).dtype == torch.int32 and ops.arange(5.0).dtype == torch.float32
    _close(ops.arange(1, 2, 0.25), np.arange(1, 2, 0.25))
    np.testing.assert_array_equal(_np(ops.eye(3, 4, k=1)), np.eye(3, 4, k=1))
    np.testing.assert_array_equal(_np(ops.eye(4, k=-2)), np.eye(4, k=-2))
    np.testing.assert_array_equal(_np(ops.identity(3)), np.identity(3))
    np.testing.assert_array_equal(_np(ops.tri(3, 4, k=1)), np.tri(3, 4, k=1))
    _close(ops.linspace(0, 1, 7), np.linspace(0, 1, 7))
    _close(ops.linspace(2, 3, 5, endpoint=False), np.linspace(2, 3, 5, endpoint=False))
    vals, step = ops.linspace(0.0, 2.0, 5, retstep=True)
    _close(step, 0.5)
    _close(ops.linspace([0, 1], [1, 3], 4, axis=1), np.linspace([0, 1], [1, 3], 4, axis=1))
    a = _rand(2, 3)
    np.testing.assert_array_equal(_np(ops.zeros_like(a)), np.zeros_like(a))
    np.testing.assert_array_equal(_np(ops.ones_like(a)), np.ones_like(a))
    np.testing.assert_array_equal(_np(ops.full_like(a, 3.0)), np.full_like(a, 3.0))
    assert ops.zeros_like(a, dtype="int32").dtype == torch.int32
    assert tuple(ops.empty((2, 5)).shape) == (2, 5)


# ------------------------------------------------------------------ element-wise
BINARY = [
    (ops.add, np.add),
    (ops.subtract, np.subtract),
    (ops.multiply, np.multiply),
    (ops.divide, np.divide),
    (ops.true_divide, np.true_divide),
    (ops.maximum, np.maximum),
    (ops.minimum, np.minimum),
    (ops.power, np.power),
    (ops.arctan2, np.arctan2),
    (ops.logaddexp, np.logaddexp),
    (ops.mod, np.mod),
    (ops.floor_divide, np.floor_divide),
]


@pytest.mark.parametrize("op,ref", BINARY, ids=[b[1].__name__ for b in BINARY])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 5))])
def test_binary_broadcasting(op, ref, shapes):
    a = _rand(*shapes[0], positive=op is ops.power)
    b = _rand(*shapes[1])
    _close(op(a.astype(np.float32), b.astype(np.float32)), ref(a, b), rtol=1e-4, atol=1e-5)


def test_binary_dtype_promotion():
    i = np.arange(6, dtype=np.int32).reshape(2, 3)
    assert ops.add(i, 1).dtype == torch.int32
    assert ops.add(i, 1.5).dtype == torch.float32
    assert ops.multiply(2.0, i).dtype == torch.float32
    assert ops.divide(i, 2).dtype == torch.float32
    assert ops.add(np.ones(2, np.float16), 1.0).dtype == torch.float16
    assert ops.add(np.ones(2, np.float16), np.ones(2, np.float32)).dtype == torch.float32
    assert ops.add(np.ones(2, np.float32), np.ones(2, np.float64)).dtype == torch.float64
    _close(ops.subtract(10, i), 10 - i)
    _close(ops.power(2, i), 2 ** i)
    _close(ops.divide_no_nan(np.array([1.0, 2.0]), np.array([0.0, 4.0])), [0.0, 0.5])


UNARY = [
    (ops.exp, np.exp, False), (ops.log, np.log, True), (ops.log1p, np.log1p, True),
    (ops.expm1, np.expm1, False), (ops.log2, np.log2, True), (ops.log10, np.log10, True),
    (ops.sqrt, np.sqrt, True), (ops.square, np.square, False), (ops.abs, np.abs, False),
    (ops.absolute, np.abs, False), (ops.negative, np.negative, False), (ops.sign, np.sign, False),
    (ops.floor, np.floor, False), (ops.ceil, np.ceil, False), (ops.sin, np.sin, False),
    (ops.cos, np.cos, False), (ops.tan, np.tan, False), (ops.tanh, np.tanh, False),
    (ops.sinh, np.sinh, False), (ops.cosh, np.cosh, False), (ops.arctan, np.arctan, False),
    (ops.arcsinh, np.arcsinh, False), (ops.reciprocal, np.reciprocal, True),
    (ops.trunc, np.trunc, False), (ops.exp2, np.exp2, False),
]


@pytest.mark.parametrize("op,ref,positive", UNARY, ids=[u[1].__name__ for u in UNARY])
def test_unary(op, ref, positive):
    a = _rand(3, 5, positive=positive)
    _close(op(a.astype(np.float32)), ref(a), rtol=1e-4, atol=1e-5)


def test_unary_integer_input_becomes_float():
    assert ops.exp(np.arange(3, dtype=np.int32)).dtype == torch.float32
    assert ops.sqrt([1, 4]).dtype == torch.float32
    assert ops.square(np.arange(3, dtype=np.int32)).dtype == torch.int32


def test_round_clip_nan_to_num():
    a = np.array([0.5, 1.5, 2.5, -1.26, 3.14159])
    _close(ops.round(a), np.round(a))
    _close(ops.round(a, decimals=1), np.round(a, 1))
    b = _rand(4, 5)
    _close(ops.clip(b, -0.5, 0.5), np.clip(b, -0.5, 0.5))
    lo, hi = _rand(5) - 1, _rand(5) + 1
    _close(ops.clip(b, lo, hi), np.clip(b, lo, hi))
    assert ops.clip(np.arange(5, dtype=np.int32), 1, 3).dtype == torch.int32
    c = np.array([np.nan, np.inf, -np.inf, 1.0])
    _close(ops.nan_to_num(c, posinf=9.0, neginf=-9.0), np.nan_to_num(c, posinf=9.0, neginf=-9.0))


# ------------------------------------------------------------------ products
@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 5)), ((2, 3, 4), (4, 6)), ((2, 1, 3, 4), (5, 4, 2)),
                                   ((4,), (4, 3)), ((3, 4), (4,))])
def test_matmul(sa, sb):
    a, b = _rand(*sa), _rand(*sb)
    _close(ops.matmul(a, b), np.matmul(a, b))


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3, 4)), ((2, 3, 4), (4,)),
                                   ((2, 3, 4), (5, 4, 6)), ((), (3, 2))])
def test_dot(sa, sb):
    a, b = _rand(*sa), _rand(*sb)
    _close(ops.dot(a, b), np.dot(a, b))


def test_tensordot_einsum_outer_inner():
    a, b = _rand(2, 3, 4), _rand(3, 4, 5)
    _close(ops.tensordot(a, b), np.tensordot(a, b))
    _close(ops.tensordot(a, b, axes=([1], [0])), np.tensordot(a, b, axes=([1], [0])))
    c = _rand(4, 5)
    _close(ops.tensordot(a, c, axes=1), np.tensordot(a, c, axes=1))
    _close(ops.einsum("ijk,jkl->il", a, b), np.einsum("ijk,jkl->il", a, b))
    _close(ops.einsum("ij->ji", a[0]), a[0].T)
    _close(ops.outer(a[0, 0], b[0, 0]), np.outer(a[0, 0], b[0, 0]))
    _close(ops.inner(a, b[:, 0, :4]), np.inner(a, b[:, 0, :4]))
    _close(ops.vdot(a, a), np.vdot(a, a))


def test_matmul_shape_mismatch_raises():
    with pytest.raises(ValueError, match="Incompatible shapes for matmul"):
        ops.matmul(np.ones((2, 3)), np.ones((4, 5)))


def test_integer_matmul_keeps_dtype():
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    out = ops.matmul(a, a.T)
    assert out.dtype == torch.int32
    np.testing.assert_array_equal(_np(out), a @ a.T)


# ------------------------------------------------------------------ reductions
AXES = [None, 0, -1, 1, (0, 2), (-1, 0)]
REDUCTIONS = [
    (ops.sum, np.sum), (ops.mean, np.mean), (ops.max, np.max), (ops.min, np.min),
    (ops.prod, np.prod), (ops.std, np.std), (ops.var, np.var), (ops.amax, np.amax),
    (ops.amin, np.amin),
]


@pytest.mark.parametrize("op,ref", REDUCTIONS, ids=[r[1].__name__ for r in REDUCTIONS])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(op, ref, axis, keepdims):
    a = _rand(3, 4, 2)
    _close(op(a, axis=axis, keepdims=keepdims), ref(a, axis=axis, keepdims=keepdims), rtol=1e-6)


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_and_logical_reductions(axis, keepdims):
    a = _rand(3, 4, 2)
    ref = np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims))
    _close(ops.logsumexp(a, axis=axis, keepdims=keepdims), ref)
    b = a > 0.5
    np.testing.assert_array_equal(_np(ops.any(b, axis=axis, keepdims=keepdims)),
                                  np.any(b, axis=axis, keepdims=keepdims))
    np.testing.assert_array_equal(_np(ops.all(b | (a < 1.5), axis=axis, keepdims=keepdims)),
                                  np.all(b | (a < 1.5), axis=axis, keepdims=keepdims))


def test_reduction_dtypes():
    i = np.arange(6, dtype=np.int32)
    assert ops.sum(i).dtype == torch.int32
    assert ops.sum(i > 2).dtype == torch.int32
    assert _np(ops.sum(i > 2)) == 3
    assert ops.mean(i).dtype == torch.float32
    assert ops.prod(i + 1, axis=0).dtype == torch.int32
    assert _np(ops.prod(i + 1)) == 720
    _close(ops.mean(i), 2.5)
    assert ops.max(np.zeros(3, np.float16)).dtype == torch.float16
    _close(ops.max(np.array([1.0, 2.0]), initial=5.0), 5.0)


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_argmin(axis, keepdims):
    a = _rand(4, 5)
    out = ops.argmax(a, axis=axis, keepdims=keepdims)
    assert out.dtype == torch.int32
    np.testing.assert_array_equal(_np(out), np.argmax(a, axis=axis, keepdims=keepdims))
    np.testing.assert_array_equal(_np(ops.argmin(a, axis=axis, keepdims=keepdims)),
                                  np.argmin(a, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_cumsum_cumprod(axis):
    a = _rand(3, 4)
    _close(ops.cumsum(a, axis=axis), np.cumsum(a, axis=axis))
    _close(ops.cumprod(a, axis=axis), np.cumprod(a, axis=axis))
    assert ops.cumsum(np.ones(3, np.int32)).dtype == torch.int32


@pytest.mark.parametrize(
    "ord,axis",
    [(None, None), (None, 1), (1, -1), (np.inf, 0), (0, 1), (3, 1), ("fro", (0, 1)),
     ("nuc", (1, 2)), (1, (0, 1)), (2, (1, 2)), (-np.inf, (2, 1))],
)
@pytest.mark.parametrize("keepdims", [False, True])
def test_norm(ord, axis, keepdims):
    a = _rand(3, 4, 5)
    if axis is None:
        ref = np.linalg.norm(a.ravel(), keepdims=False)
        ref = ref.reshape((1, 1, 1)) if keepdims else ref
    else:
        ref = np.linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims)
    _close(ops.norm(a, ord=ord, axis=axis, keepdims=keepdims), ref, rtol=1e-5)


def test_average_count_nonzero_trace():
    a = _rand(3, 4)
    w = np.abs(_rand(4))
    _close(ops.average(a, axis=1, weights=w), np.average(a, axis=1, weights=w))
    _close(ops.average(a), np.average(a))
    np.testing.assert_array_equal(_np(ops.count_nonzero(a > 0, axis=0)), np.count_nonzero(a > 0, axis=0))
    _close(ops.trace(a, offset=1), np.trace(a, offset=1))


# ------------------------------------------------------------------ shapes
def test_reshape_transpose_ravel():
    a = _rand(2, 3, 4)
    _close(ops.reshape(a, (-1, 4)), a.reshape(-1, 4))
    _close(ops.reshape(a, 24), a.reshape(24))
    _close(ops.transpose(a), a.T)
    _close(ops.transpose(a, (1, 0, 2)), a.transpose(1, 0, 2))
    _close(ops.ravel(a), a.ravel())
    with pytest.raises(ValueError, match="Cannot reshape"):
        ops.reshape(a, (5, -1))
    with pytest.raises(ValueError, match="Cannot reshape"):
        ops.reshape(a, (3, 9))
    with pytest.raises(ValueError, match="at most one"):
        ops.reshape(a, (-1, -1))
    with pytest.raises(ValueError, match="permutation"):
        ops.transpose(a, (0, 1))


def test_expand_squeeze():
    a = _rand(2, 1, 3, 1)
    _close(ops.squeeze(a), np.squeeze(a))
    _close(ops.squeeze(a, axis=1), np.squeeze(a, axis=1))
    _close(ops.squeeze(a, axis=(1, -1)), np.squeeze(a, axis=(1, 3)))
    _close(ops.expand_dims(a, 0), np.expand_dims(a, 0))
    _close(ops.expand_dims(a, -1), np.expand_dims(a, -1))
    _close(ops.expand_dims(a, (0, 2)), np.expand_dims(a, (0, 2)))
    with pytest.raises(ValueError, match="not 1"):
        ops.squeeze(a, axis=0)
    with pytest.raises(ValueError, match="out of bounds"):
        ops.squeeze(a, axis=7)


def test_concatenate_stack_split():
    a, b = _rand(2, 3), _rand(4, 3)
    _close(ops.concatenate([a, b]), np.concatenate([a, b]))
    _close(ops.concatenate([a, a], axis=-1), np.concatenate([a, a], axis=-1))
    _close(ops.stack([a, a], axis=1), np.stack([a, a], axis=1))
    _close(ops.hstack([a, a]), np.hstack([a, a]))
    _close(ops.vstack([a, b]), np.vstack([a, b]))
    _close(ops.append(a, b, axis=0), np.append(a, b, axis=0))
    _close(ops.append(a, b), np.append(a, b))
    for got, exp in zip(ops.split(b, 2), np.split(b, 2)):
        _close(got, exp)
    for got, exp in zip(ops.split(b, [1, 3], axis=0), np.split(b, [1, 3], axis=0)):
        _close(got, exp)
    with pytest.raises(ValueError, match="must match on all other axes"):
        ops.concatenate([a, b], axis=1)
    with pytest.raises(ValueError, match="same rank"):
        ops.concatenate([a, np.ones(3)])
    with pytest.raises(ValueError, match="same shape"):
        ops.stack([a, b])
    with pytest.raises(ValueError, match="equal sections"):
        ops.split(b, 3)


def test_concatenate_promotes_dtype():
    out = ops.concatenate([np.ones(2, np.int32), np.ones(2, np.float32)])
    assert out.dtype == torch.float32


def test_tile_repeat_take():
    a = _rand(2, 3)
    _close(ops.tile(a, 2), np.tile(a, 2))
    _close(ops.tile(a, (2, 1, 2)), np.tile(a, (2, 1, 2)))
    _close(ops.repeat(a, 2), np.repeat(a, 2))
    _close(ops.repeat(a, 3, axis=1), np.repeat(a, 3, axis=1))
    _close(ops.repeat(a, [1, 2], axis=0), np.repeat(a, [1, 2], axis=0))
    idx = np.array([[0, -1], [2, 1]])
    _close(ops.take(a, idx), np.take(a, idx))
    _close(ops.take(a, idx, axis=1), np.take(a, idx, axis=1))
    _close(ops.take(a, np.array([1, 0, 1]), axis=0), np.take(a, [1, 0, 1], axis=0))
    ind = RNG.integers(0, 3, size=(2, 4))
    _close(ops.take_along_axis(a, ind, axis=1), np.take_along_axis(a, ind, axis=1))
    ind0 = RNG.integers(0, 2, size=(3, 1))
    b = _rand(2, 1)
    _close(ops.take_along_axis(b, ind0, axis=0), np.take_along_axis(b, ind0, axis=0))


def test_where_and_nonzero():
    a, b = _rand(3, 4), _rand(4)
    cond = a > 0
    _close(ops.where(cond, a, b), np.where(cond, a, b))
    _close(ops.where(cond, a, 0.0), np.where(cond, a, 0.0))
    assert ops.where(cond, 1, 0).dtype == torch.int32
    for got, exp in zip(ops.where(cond), np.nonzero(cond)):
        np.testing.assert_array_equal(_np(got), exp)
    with pytest.raises(ValueError, match="both"):
        ops.where(cond, a)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap"])
@pytest.mark.parametrize("width", [1, ((1, 2), (0, 3)), ((2, 7), (1, 1))])
def test_pad(mode, width):
    a = _rand(3, 4)
    _close(ops.pad(a, width, mode=mode), np.pad(a, width, mode=mode))


def test_pad_constant_values_and_errors():
    a = _rand(2, 2)
    _close(ops.pad(a, (1, 2), constant_values=5.0), np.pad(a, (1, 2), constant_values=5.0))
    with pytest.raises(ValueError, match="constant_values"):
        ops.pad(a, 1, mode="edge", constant_values=1.0)
    with pytest.raises(ValueError, match="negative"):
        ops.pad(a, -1)
    with pytest.raises(ValueError, match="mode"):
        ops.pad(a, 1, mode="bogus")


def test_flip_roll_broadcast_moveaxis():
    a = _rand(2, 3, 4)
    _close(ops.flip(a), np.flip(a))
    _close(ops.flip(a, axis=(0, 2)), np.flip(a, axis=(0, 2)))
    _close(ops.roll(a, 2), np.roll(a, 2))
    _close(ops.roll(a, -1, axis=1), np.roll(a, -1, axis=1))
    _close(ops.broadcast_to(a[0, :, :1], (5, 3, 4)), np.broadcast_to(a[0, :, :1], (5, 3, 4)))
    _close(ops.moveaxis(a, 0, -1), np.moveaxis(a, 0, -1))
    _close(ops.moveaxis(a, (0, 1), (2, 0)), np.moveaxis(a, (0, 1), (2, 0)))
    _close(ops.swapaxes(a, 0, 2), np.swapaxes(a, 0, 2))
    with pytest.raises(ValueError, match="Cannot broadcast"):
        ops.broadcast_to(a, (3, 3, 4))


def test_diag_tril_triu_sort():
    a = _rand(4, 4)
    _close(ops.diag(a), np.diag(a))
    _close(ops.diag(a, k=1), np.diag(a, k=1))
    _close(ops.diag(a[0]), np.diag(a[0]))
    c = _rand(2, 3, 3)
    _close(ops.diagonal(c, offset=1, axis1=1, axis2=2), np.diagonal(c, offset=1, axis1=1, axis2=2))
    _close(ops.tril(a, -1), np.tril(a, -1))
    _close(ops.triu(a, 1), np.triu(a, 1))
    _close(ops.sort(a, axis=0), np.sort(a, axis=0))
    _close(ops.sort(a), np.sort(a))
    out = ops.argsort(a, axis=-1)
    assert out.dtype == torch.int32
    np.testing.assert_array_equal(_np(out), np.argsort(a, axis=-1, kind="stable"))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        ops.diag(_rand(2, 2, 2))


def test_top_k():
    a = _rand(3, 6)
    values, indices = ops.top_k(a, 2)
    order = np.argsort(-a, axis=-1)[:, :2]
    np.testing.assert_array_equal(_np(indices), order)
    _close(values, np.take_along_axis(a, order, axis=-1))
    assert indices.dtype == torch.int64  # what Keras on torch returns
    with pytest.raises(ValueError, match="k"):
        ops.top_k(a, 7)


def test_in_top_k_and_segments():
    preds = _rand(4, 5)
    targets = RNG.integers(0, 5, size=4)
    ranks = (preds > preds[np.arange(4), targets][:, None]).sum(axis=1)
    np.testing.assert_array_equal(_np(ops.in_top_k(targets, preds, 2)), ranks < 2)
    data = _rand(6, 3)
    ids = np.array([0, 2, 0, 1, 2, 2])
    expected = np.stack([data[ids == s].sum(0) for s in range(3)])
    _close(ops.segment_sum(data, ids, num_segments=3), expected)
    _close(ops.segment_sum(data, ids), expected)
    _close(ops.segment_max(data, ids, num_segments=3), np.stack([data[ids == s].max(0) for s in range(3)]))


def test_linalg():
    a = _rand(3, 3) + 3 * np.eye(3)
    b = _rand(3, 2)
    _close(ops.inv(a), np.linalg.inv(a), rtol=1e-4)
    _close(ops.det(a), np.linalg.det(a), rtol=1e-4)
    _close(ops.solve(a, b), np.linalg.solve(a, b), rtol=1e-4)
    spd = a @ a.T
    _close(ops.cholesky(spd), np.linalg.cholesky(spd), rtol=1e-4)


def test_misc_math():
    a = _rand(3, 4, positive=True)
    _close(ops.rsqrt(a), 1 / np.sqrt(a))
    x = np.linspace(-0.9, 0.9, 7)
    erf_np = np.vectorize(__import__("math").erf)
    _close(ops.erf(x), erf_np(x))
    _close(ops.erf(ops.erfinv(x)), x, atol=1e-5)
    _close(ops.diff(a, axis=0), np.diff(a, axis=0))
    _close(ops.diff(a, n=2), np.diff(a, n=2))
    gx, gy = ops.meshgrid(np.arange(3), np.arange(2))
    ex, ey = np.meshgrid(np.arange(3), np.arange(2))
    np.testing.assert_array_equal(_np(gx), ex)
    np.testing.assert_array_equal(_np(gy), ey)
    assert ops.ndim(a) == 2 and int(_np(ops.size(a))) == 12


# ------------------------------------------------------------------ comparison / logic
COMPARE = [(ops.equal, np.equal), (ops.not_equal, np.not_equal), (ops.less, np.less),
           (ops.less_equal, np.less_equal), (ops.greater, np.greater),
           (ops.greater_equal, np.greater_equal)]


@pytest.mark.parametrize("op,ref", COMPARE, ids=[c[1].__name__ for c in COMPARE])
def test_comparisons(op, ref):
    a = RNG.integers(0, 3, size=(3, 4)).astype(np.float32)
    b = RNG.integers(0, 3, size=(4,)).astype(np.float32)
    out = op(a, b)
    assert out.dtype == torch.bool
    np.testing.assert_array_equal(_np(out), ref(a, b))
    np.testing.assert_array_equal(_np(op(a, 1)), ref(a, 1))
    np.testing.assert_array_equal(_np(op(1, a)), ref(1, a))


def test_logic_and_special_values():
    p, q = RNG.random((3, 4)) > 0.5, RNG.random((4,)) > 0.5
    np.testing.assert_array_equal(_np(ops.logical_and(p, q)), np.logical_and(p, q))
    np.testing.assert_array_equal(_np(ops.logical_or(p, q)), np.logical_or(p, q))
    np.testing.assert_array_equal(_np(ops.logical_xor(p, q)), np.logical_xor(p, q))
    np.testing.assert_array_equal(_np(ops.logical_not(p)), np.logical_not(p))
    v = np.array([1.0, np.nan, np.inf, -np.inf, 0.0])
    np.testing.assert_array_equal(_np(ops.isnan(v)), np.isnan(v))
    np.testing.assert_array_equal(_np(ops.isinf(v)), np.isinf(v))
    np.testing.assert_array_equal(_np(ops.isfinite(v)), np.isfinite(v))
    a = _rand(5)
    np.testing.assert_array_equal(_np(ops.isclose(a, a + 1e-9)), np.isclose(a, a + 1e-9))
    np.testing.assert_array_equal(_np(ops.isclose(a, a + 1e-2)), np.isclose(a, a + 1e-2))


def test_invalid_axis_raises():
    with pytest.raises(ValueError, match="out of bounds"):
        ops.sum(np.ones((2, 3)), axis=2)
    with pytest.raises(ValueError, match="Repeated axis"):
        ops.mean(np.ones((2, 3)), axis=(0, 0))
    with pytest.raises(TypeError, match="axis"):
        ops.sum(np.ones((2, 3)), axis=1.5)
