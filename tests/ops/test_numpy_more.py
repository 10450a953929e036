"""The NumPy-style ops added in "keras.ops complete" (part 5) against NumPy float64 references."""
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
    one = np.float32(1.0)
    assert _np(ops.nextafter(np.array([1.0], "float32"), np.array([2.0], "float32")))[0] == one + np.finfo("float32").eps


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
