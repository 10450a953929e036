"""Sequential's exact rewrite of ReLU convolution + max pooling: same numbers, less work."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.overrides import TorchFunctionMode

import cornu as keras
from cornu.models.layer_fusion import relu_pool_pairs
from tests.helpers import random_array


class ReluShapes(TorchFunctionMode):
    """Records the shape of every tensor ``torch.relu`` is called on."""

    def __init__(self):
        super().__init__()
        self.shapes: list[tuple] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is torch.relu:
            self.shapes.append(tuple(args[0].shape))
        return func(*args, **(kwargs or {}))


CASES = {
    "2d_valid": (2, (9, 9, 2), dict(kernel_size=3), dict(pool_size=2)),
    "2d_same": (2, (9, 7, 2), dict(kernel_size=3, padding="same"), dict(pool_size=3, strides=2, padding="same")),
    "2d_channels_first": (2, (2, 8, 8), dict(kernel_size=3, data_format="channels_first"),
                          dict(pool_size=2, data_format="channels_first")),
    "1d": (1, (12, 3), dict(kernel_size=3), dict(pool_size=2)),
    "3d": (3, (6, 6, 6, 1), dict(kernel_size=3), dict(pool_size=2)),
}


def build(case: str, fused: bool, seed: int = 0) -> keras.Sequential:
    rank, shape, conv_args, pool_args = CASES[case]
    conv = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}[rank]
    pool = {1: keras.layers.MaxPooling1D, 2: keras.layers.MaxPooling2D, 3: keras.layers.MaxPooling3D}[rank]
    keras.utils.set_random_seed(seed)
    layers = [keras.Input(shape), conv(4, activation="relu" if fused else "linear", name="conv", **conv_args),
              pool(name="pool", **pool_args)]
    if not fused:
        layers.append(keras.layers.Activation("relu", name="relu"))
    layers += [keras.layers.Flatten(name="flat"), keras.layers.Dense(3, name="head")]
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


@pytest.mark.parametrize("case", sorted(CASES))
def test_fused_pair_equals_relu_then_pool_exactly(case):
    """The model's call (fused) against its layers called one by one (relu inside the convolution, then the pool),
    bit for bit, outputs and every weight's gradient."""
    model = build(case, fused=True)
    x = torch.as_tensor(random_array((5, *CASES[case][1]), seed=1))
    conv, pool = model.layers[0], model.layers[1]
    assert relu_pool_pairs(list(model.layers)) == {0}
    with ReluShapes() as seen:
        fused = model(x, training=True)
    pooled_shape = tuple(pool.compute_output_shape((5, *conv.compute_output_shape((5, *CASES[case][1]))[1:])))
    assert seen.shapes[0] == pooled_shape  # ReLU ran on the pooled tensor
    reference = model.layers[3](model.layers[2](pool(conv(x))))  # the layers one by one
    assert torch.equal(fused, reference)
    grads_fused = torch.autograd.grad(fused.square().sum(), [w.value for w in model.trainable_weights])
    grads_ref = torch.autograd.grad(reference.square().sum(), [w.value for w in model.trainable_weights])
    for a, b in zip(grads_fused, grads_ref):
        assert torch.equal(a, b)


def test_training_matches_unfused_model():
    """Five Adam steps of the Sequential model (fused) equal the same layers as a functional model (which calls
    them one by one: ReLU before the pool)."""
    x = random_array((20, 9, 9, 2), seed=2)
    y = random_array((20, 3), seed=3)
    sequential = build("2d_valid", fused=True)
    keras.utils.set_random_seed(0)
    inp = keras.Input((9, 9, 2))
    functional = keras.Model(inp, keras.layers.Dense(3)(keras.layers.Flatten()(keras.layers.MaxPooling2D()(
        keras.layers.Conv2D(4, 3, activation="relu")(inp)))))
    functional.set_weights(sequential.get_weights())
    functional.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    history = [m.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0).history["loss"]
               for m in (sequential, functional)]
    assert history[0] == history[1]
    for a, b in zip(sequential.get_weights(), functional.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_not_fused_where_it_would_change_what_runs():
    # Another activation, an average pool, or a pool of another layout: left alone.
    assert relu_pool_pairs([keras.layers.Conv2D(2, 3, activation="gelu"), keras.layers.MaxPooling2D()]) == set()
    assert relu_pool_pairs([keras.layers.Conv2D(2, 3, activation="relu"), keras.layers.AveragePooling2D()]) == set()
    assert relu_pool_pairs([keras.layers.Conv2D(2, 3, activation="relu"),
                            keras.layers.MaxPooling2D(data_format="channels_first")]) == set()
    # An activity regularizer on the convolution sees the unpooled ReLU output: the call is not rewritten.
    model = keras.Sequential([keras.Input((6, 6, 1)),
                              keras.layers.Conv2D(2, 3, activation="relu", activity_regularizer="l2"),
                              keras.layers.MaxPooling2D()])
    with ReluShapes() as seen:
        model(torch.ones(2, 6, 6, 1))
    assert seen.shapes == [(2, 4, 4, 2)]
    assert len(model.losses) == 1
