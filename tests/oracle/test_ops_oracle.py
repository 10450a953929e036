"""keras.ops and normalization layers against real Keras 3 (torch backend); skipped without Keras."""

import numpy as np
import pytest

from tests.helpers import keras_oracle_module

keras_ref = keras_oracle_module()

import cornu  # noqa: E402

rng = np.random.default_rng(0)
A = rng.normal(size=(3, 4, 5)).astype("float32")
B = rng.normal(size=(5,)).astype("float32")
M = rng.normal(size=(5, 2)).astype("float32")
P = rng.random((3, 4, 5)).astype("float32") + 0.1
I = rng.integers(0, 5, (3, 4))

CASES = [
    ("add", (A, B), {}), ("multiply", (A, B), {}), ("divide", (A, P), {}), ("matmul", (A, M), {}),
    ("sum", (A,), {"axis": (0, 2), "keepdims": True}), ("mean", (A,), {"axis": -1}), ("max", (A,), {"axis": 1}),
    ("std", (A,), {"axis": 0}), ("var", (A,), {}), ("logsumexp", (A,), {"axis": -1}), ("cumsum", (A,), {"axis": 1}),
    ("argmax", (A,), {"axis": -1}), ("transpose", (A,), {"axes": (2, 0, 1)}), ("reshape", (A,), {"newshape": (-1, 10)}),
    ("expand_dims", (A,), {"axis": 1}), ("concatenate", ([A, A],), {"axis": -1}), ("stack", ([B, B],), {"axis": 1}),
    ("tile", (B, (2, 1)), {}), ("repeat", (A, 2), {"axis": 1}), ("take", (A, I), {"axis": 2}),
    ("where", (A > 0, A, B), {}), ("pad", (A, ((0, 0), (1, 2), (0, 1))), {}), ("flip", (A,), {"axis": 1}),
    ("roll", (A, 2), {"axis": -1}), ("clip", (A, -0.5, 0.5), {}), ("einsum", ("ijk,kl->ijl", A, M), {}),
    ("softmax", (A,), {"axis": 1}), ("log_softmax", (A,), {}), ("gelu", (A,), {}), ("silu", (A,), {}),
    ("one_hot", (I, 5), {}), ("normalize", (A,), {"axis": -1}), ("square", (A,), {}), ("sqrt", (P,), {}),
    ("log", (P,), {}), ("power", (P, 1.5), {}), ("round", (A * 3,), {}), ("sign", (A,), {}),
    ("categorical_crossentropy", (np.eye(5, dtype="float32")[I], P), {}),
    ("conv", (rng.normal(size=(2, 7, 7, 3)).astype("float32"), rng.normal(size=(3, 3, 3, 4)).astype("float32")),
     {"strides": 2, "padding": "same"}),
    ("max_pool", (A[..., None],), {"pool_size": 2, "padding": "same"}),
    ("average_pool", (A[..., None],), {"pool_size": 2, "strides": 1, "padding": "valid"}),
]


@pytest.mark.parametrize("name,args,kwargs", CASES, ids=[c[0] for c in CASES])
def test_op_matches_keras(name, args, kwargs):
    ref = keras_ref.ops.convert_to_numpy(getattr(keras_ref.ops, name)(*args, **kwargs))
    ours = cornu.ops.convert_to_numpy(getattr(cornu.ops, name)(*args, **kwargs))
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name,kwargs", [("BatchNormalization", {"momentum": 0.9}), ("LayerNormalization", {}),
                                         ("Embedding", {"input_dim": 7, "output_dim": 3})])
def test_layer_forward_and_state_match_keras(name, kwargs):
    x = rng.integers(0, 7, (4, 5)) if name == "Embedding" else rng.normal(size=(8, 6, 3)).astype("float32")
    ref, ours = getattr(keras_ref.layers, name)(**kwargs), getattr(cornu.layers, name)(**kwargs)
    ref(x)
    ours(x)
    ours.set_weights(ref.get_weights())
    for training in (True, False):
        np.testing.assert_allclose(cornu.ops.convert_to_numpy(ours(x, training=training)),
                                   keras_ref.ops.convert_to_numpy(ref(x, training=training)), rtol=1e-5, atol=1e-5)
    for a, b in zip(ours.get_weights(), ref.get_weights()):  # BatchNormalization's moving statistics
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_symbolic_shapes_match_keras():
    shapes = []
    for lib in (keras_ref, cornu):
        x = lib.Input((None, 6))
        y = lib.layers.Conv1D(4, 3, strides=2, padding="same")(x)
        z = lib.ops.sum(lib.ops.transpose(y, (0, 2, 1)), axis=-1)
        shapes.append((y.shape, z.shape, (x[:, 0] * 2).shape))
    assert shapes[1] == shapes[0]
