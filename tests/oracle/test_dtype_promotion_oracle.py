"""Result dtypes of binary ops for every pair of Keras dtypes, and of reductions, equal Keras 3's on torch.

Keras on torch is not one table: ``add`` / ``multiply`` / ``where`` ... promote as torch does, while
``maximum`` / ``matmul`` / ``arctan2`` ... go through ``result_type`` (which narrows 64-bit results);
uint16 / uint32 are held as int32 / int64 and uint64 is refused. cornu's single helper
(``cornu.ops.core._weak_result_dtype``) reproduces both; these tests pin every cell.
"""
import itertools

import numpy as np
import pytest

from tests.helpers import keras_oracle_module

keras_ref = keras_oracle_module()

import cornu  # noqa: E402

DTYPES = ["bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
          "bfloat16", "float16", "float32", "float64"]
BINARY = ["add", "multiply", "subtract", "divide", "true_divide", "floor_divide", "power", "maximum", "minimum",
          "logaddexp", "arctan2", "matmul", "where"]
REDUCTIONS = ["mean", "sum", "prod", "cumsum", "cumprod", "var", "std", "max", "argmax", "abs", "negative",
              "square", "sqrt", "exp", "sign"]
DATA = np.array([[1, 0], [1, 1]])


def _outcome(fn):
    """The result's dtype name, or the exception class it raised."""
    try:
        return fn()
    except Exception as e:  # the class is what is compared
        return type(e).__name__


def _binary_dtype(lib, op, a, b):
    def run():
        x1, x2 = (lib.ops.cast(lib.ops.convert_to_tensor(DATA), d) for d in (a, b))
        if op == "where":
            return lib.ops.dtype(lib.ops.where(lib.ops.convert_to_tensor(DATA > 0), x1, x2))
        return lib.ops.dtype(getattr(lib.ops, op)(x1, x2))
    return _outcome(run)


@pytest.mark.parametrize("op", BINARY)
def test_binary_result_dtypes_for_all_pairs(op):
    diffs = [(a, b, ref, ours) for a, b in itertools.product(DTYPES, DTYPES)
             if (ref := _binary_dtype(keras_ref, op, a, b)) != (ours := _binary_dtype(cornu, op, a, b))]
    assert diffs == [], f"{op}: (x1, x2, keras, cornu) {diffs}"


def test_result_type_table():
    weak = [int, float, bool]
    for a, b in itertools.product(DTYPES + weak, DTYPES + weak):
        ref = _outcome(lambda: keras_ref.backend.result_type(a, b))
        assert _outcome(lambda: cornu.backend.result_type(a, b)) == ref, (a, b)
    for dtypes in [(), ("int8",), ("int8", "uint8", "float16"), ("int32", float), ("bool", int, "bfloat16")]:
        assert cornu.backend.result_type(*dtypes) == keras_ref.backend.result_type(*dtypes), dtypes


@pytest.mark.parametrize("op", REDUCTIONS)
def test_unary_and_reduction_dtypes(op):
    def run(lib, d):
        return _outcome(lambda: lib.ops.dtype(getattr(lib.ops, op)(lib.ops.cast(lib.ops.convert_to_tensor(DATA), d))))
    diffs = [(d, ref, ours) for d in DTYPES if (ref := run(keras_ref, d)) != (ours := run(cornu, d))]
    assert diffs == [], f"{op}: (dtype, keras, cornu) {diffs}"


@pytest.mark.parametrize("op", ["cumsum", "cumprod", "prod"])
def test_explicit_accumulator_dtypes(op):
    for d, target in itertools.product(["int8", "int32", "float16", "float64"], ["int32", "int64", "float64"]):
        def run(lib):
            x = lib.ops.cast(lib.ops.convert_to_tensor(DATA), d)
            return _outcome(lambda: lib.ops.dtype(getattr(lib.ops, op)(x, dtype=target)))
        assert run(cornu) == run(keras_ref), (op, d, target)


@pytest.mark.parametrize("op", ["add", "multiply", "subtract", "divide", "maximum", "power", "floor_divide"])
def test_python_scalars_are_weak(op):
    # bool ** True: Keras on torch raises NotImplementedError (no bool pow kernel); cornu answers bool.
    scalars = [2, 2.5] if op == "power" else [2, 2.5, True]
    for d, scalar in itertools.product(["bool", "uint8", "int8", "int32", "int64", "float16", "float32"], scalars):
        def run(lib):
            x = lib.ops.cast(lib.ops.convert_to_tensor(DATA), d)
            return _outcome(lambda: lib.ops.dtype(getattr(lib.ops, op)(x, scalar)))
        assert run(cornu) == run(keras_ref), (op, d, scalar)
