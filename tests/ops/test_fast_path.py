"""The eager fast path of keras.ops: same results as the general path, graph building and errors unchanged."""
import numpy as np
import pytest
import torch

from cornu import ops
from cornu.symbolic import KerasTensor
from cornu.variables import Variable
from tests.helpers import random_array

A = torch.tensor(random_array((4, 6), seed=1, low=0.1, high=2.0))
B = torch.tensor(random_array((4, 6), seed=2, low=0.1, high=2.0))
M = torch.tensor(random_array((6, 3), seed=3))

CALLS = {
    "add": lambda x: ops.add(x(A), x(B)), "multiply": lambda x: ops.multiply(x(A), x(B)),
    "matmul": lambda x: ops.matmul(x(A), x(M)), "maximum": lambda x: ops.maximum(x(A), x(B)),
    "minimum": lambda x: ops.minimum(x(A), x(B)), "where": lambda x: ops.where(x(A > 1), x(A), x(B)),
    "sum": lambda x: ops.sum(x(A), axis=-1), "mean": lambda x: ops.mean(x(A), axis=0, keepdims=True),
    "reshape": lambda x: ops.reshape(x(A), (6, 4)), "transpose": lambda x: ops.transpose(x(A)),
    "concatenate": lambda x: ops.concatenate([x(A), x(B)], axis=1),
    "expand_dims": lambda x: ops.expand_dims(x(A), -1), "squeeze": lambda x: ops.squeeze(x(A[:1]), 0),
    "clip": lambda x: ops.clip(x(A), 0.5, 1.5), "exp": lambda x: ops.exp(x(A)), "abs": lambda x: ops.abs(x(A)),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_fast_path_equals_general_path(name):
    fast = CALLS[name](lambda t: t)  # plain tensors: the fast path
    general = CALLS[name](lambda t: t.numpy())  # NumPy arrays: conversion and promotion
    assert fast.dtype == general.dtype and fast.shape == general.shape
    np.testing.assert_allclose(fast.numpy(), general.numpy(), rtol=1e-6)


def test_symbolic_and_variable_arguments_still_take_the_general_path():
    x = KerasTensor((None, 6))
    assert isinstance(ops.add(x, A[0]), KerasTensor)
    assert ops.concatenate([x, x], axis=1).shape == (None, 12)
    assert ops.where(KerasTensor((None, 6), dtype="bool"), x, x).shape == (None, 6)
    v = Variable(A.numpy())
    np.testing.assert_allclose(ops.add(v, B).detach().numpy(), (A + B).numpy())


def test_errors_are_unchanged():
    with pytest.raises(ValueError, match="Cannot reshape"):
        ops.reshape(A, (5, 5))
    with pytest.raises(ValueError, match="Incompatible shapes for matmul"):
        ops.matmul(A, B)
    with pytest.raises(ValueError, match="must match on all other axes"):
        ops.concatenate([A, M], axis=0)
    with pytest.raises(ValueError, match="out of bounds"):
        ops.expand_dims(A, 4)
    with pytest.raises(ValueError, match="not 1"):
        ops.squeeze(A, 0)


def test_mixed_dtypes_promote_as_keras():
    assert ops.add(A.to(torch.int32), A).dtype == torch.float32
    assert ops.maximum(A.double(), A.double()).dtype == torch.float32  # Keras's result_type narrows
    assert ops.where(A > 1, A.to(torch.int8), A.to(torch.int16)).dtype == torch.int16
