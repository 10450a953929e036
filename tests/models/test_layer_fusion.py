"""The exact rewrite of ReLU convolution + max pooling (Sequential and functional): same numbers, less work."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.overrides import TorchFunctionMode

import cornu as keras
from cornu.models.layer_fusion import relu_pool_nodes, relu_pool_pairs
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


def functional_model(conv_activation: str, separate_relu: bool) -> keras.Model:
    """Conv2D -> [ReLU layer] -> MaxPooling2D -> Flatten -> Dense as a functional model."""
    inp = keras.Input((9, 9, 2))
    h = keras.layers.Conv2D(4, 3, activation=conv_activation)(inp)
    if separate_relu:
        h = keras.layers.Activation("relu")(h)
    out = keras.layers.Dense(3)(keras.layers.Flatten()(keras.layers.MaxPooling2D()(h)))
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_training_matches_unfused_model(kind):
    """Five Adam steps of the fused model equal those of the same layers with ReLU as its own layer before the
    pool (nothing to rewrite there)."""
    x = random_array((20, 9, 9, 2), seed=2)
    y = random_array((20, 3), seed=3)
    fused = build("2d_valid", fused=True) if kind == "sequential" else functional_model("relu", False)
    unfused = functional_model("linear", True)
    assert relu_pool_nodes(unfused._nodes, unfused.outputs) == {}
    unfused.set_weights(fused.get_weights())
    history = [m.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0).history["loss"]
               for m in (fused, unfused)]
    assert history[0] == history[1]
    for a, b in zip(fused.get_weights(), unfused.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_functional_pair_is_fused_exactly():
    model = functional_model("relu", False)
    conv, pool = model.layers[1], model.layers[2]
    assert relu_pool_nodes(model._nodes, model.outputs) == {0: 1}
    x = torch.as_tensor(random_array((5, 9, 9, 2), seed=1))
    with ReluShapes() as seen:
        fused = model(x)
    assert seen.shapes == [(5, 3, 3, 4)]  # ReLU ran on the pooled tensor only
    reference = model.layers[4](model.layers[3](pool(conv(x))))
    assert torch.equal(fused, reference)


def test_functional_pair_left_alone_when_the_convolution_output_is_read_elsewhere():
    inp = keras.Input((8, 8, 1))
    h = keras.layers.Conv2D(2, 3, activation="relu")(inp)
    branch = keras.models.Model(inp, [keras.layers.MaxPooling2D()(h), keras.layers.GlobalAveragePooling2D()(h)])
    assert relu_pool_nodes(branch._nodes, branch.outputs) == {}
    as_output = keras.models.Model(inp, [keras.layers.MaxPooling2D()(h), h])
    assert relu_pool_nodes(as_output._nodes, as_output.outputs) == {}
    with ReluShapes() as seen:
        as_output(torch.ones(2, 8, 8, 1))
    assert seen.shapes == [(2, 6, 6, 2)]


def test_not_fused_where_it_would_change_what_runs():
    # Another activation, an average pool, or a pool of another layout: left alone.
    assert relu_pool_pairs([keras.layers.Conv2D(2, 3, activation="gelu"), keras.layers.MaxPooling2D()]) == set()
    assert relu_pool_pairs([keras.layers.Conv2D(2, 3, activation="relu"), keras.layers.AveragePooling2D(2)]) == set()
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
