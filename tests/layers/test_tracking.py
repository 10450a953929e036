"""One weight-tracking mechanism: containers, torch modules, variables, trainable toggles, caching."""
import numpy as np
import pytest
import torch

import cornu
from cornu import layers
from cornu.layers.layer import Layer
from cornu.utils import tracking
from tests.helpers import random_array


class Blocks(cornu.Model):
    """The Keras pattern: an empty list in __init__, layers appended afterwards; nested dict of lists."""

    def __init__(self):
        super().__init__()
        self.blocks = []
        for _ in range(3):
            self.blocks.append(layers.Dense(4))
        self.heads = {"a": [layers.Dense(2)], "b": (layers.Dense(2),)}

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        return self.heads["a"][0](x) + self.heads["b"][0](x)


class TorchInside(cornu.Model):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 4)
        self.head = layers.Dense(1)

    def call(self, x):
        return self.head(torch.relu(self.lin(x)))


def test_appended_and_nested_layers_are_tracked_and_trained():
    model = Blocks()
    x = random_array((16, 3))
    model(x)
    assert len(model.weights) == 10
    assert [tuple(w.shape) for w in model.weights] == [(3, 4), (4,), (4, 4), (4,), (4, 4), (4,), (4, 2), (2,),
                                                       (4, 2), (2,)]
    before = [w.numpy() for w in model.weights]
    model.compile(optimizer=cornu.optimizers.SGD(0.1), loss="mse")
    model.fit(x, random_array((16, 2), seed=1), epochs=1, verbose=0)
    assert all(not np.allclose(a, w.numpy()) for a, w in zip(before, model.weights))


def test_list_mutations_update_weights():
    model = Blocks()
    model(random_array((2, 3)))
    model.blocks.pop()
    assert len(model.weights) == 8
    model.blocks.insert(0, layers.Dense(3))
    model.blocks[0].build((None, 3))
    assert len(model.weights) == 10
    del model.heads["b"]
    assert len(model.weights) == 8
    assert isinstance(model.blocks, list) and isinstance(model.heads, dict)


def test_plain_torch_module_is_wrapped_and_trained():
    model = TorchInside()
    assert isinstance(model.lin, cornu.layers.TorchModuleWrapper)
    x, y = random_array((32, 3)), random_array((32, 1), seed=1)
    model(x)
    assert [tuple(w.shape) for w in model.trainable_weights] == [(4, 3), (4,), (4, 1), (1,)]
    w0 = model.lin.module.weight.detach().clone()
    model.compile(optimizer=cornu.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert not torch.allclose(w0, model.lin.module.weight.detach())


def test_torch_module_wrapper_forward_matches_module():
    lin = torch.nn.Linear(3, 2)
    wrapper = cornu.layers.TorchModuleWrapper(lin)
    x = torch.as_tensor(random_array((5, 3)))
    torch.testing.assert_close(wrapper(x), lin(x))
    assert wrapper.built and len(wrapper.trainable_weights) == 2


def test_torch_module_wrapper_config_needs_unsafe_mode():
    wrapper = cornu.layers.TorchModuleWrapper(torch.nn.Linear(3, 2), name="tw")
    config = wrapper.get_config()
    assert config["name"] == "tw" and isinstance(config["module"], str) and config["output_shape"] is None
    with pytest.raises(ValueError, match="safe_mode=False"):
        cornu.layers.TorchModuleWrapper.from_config(config)
    with cornu.saving.serialization.SafeModeScope(False):
        clone = cornu.layers.TorchModuleWrapper.from_config(config)
    x = torch.as_tensor(random_array((4, 3)))
    torch.testing.assert_close(clone(x), wrapper(x))


def test_lazy_torch_module_builds_on_first_call():
    wrapper = cornu.layers.TorchModuleWrapper(torch.nn.LazyLinear(5))
    assert not wrapper.built
    out = wrapper(torch.as_tensor(random_array((2, 7))))
    assert out.shape == (2, 5) and [tuple(w.shape) for w in wrapper.weights] == [(5, 7), (5,)]


def test_parameters_and_variables_assigned_as_attributes_are_weights():
    class Own(Layer):
        def __init__(self):
            super().__init__()
            self.scale = cornu.Variable(np.ones(3, "float32"), name="scale")
            self.shift = torch.nn.Parameter(torch.zeros(3))
            self.extra = [cornu.Variable(initializer="zeros", shape=(2,), name="e")]

        def call(self, x):
            return x * self.scale + self.shift

    layer = Own()
    assert [w.name for w in layer.weights] == ["scale", "shift", "e"]
    assert {id(p) for p in layer.parameters()} == {id(w.value) for w in layer.weights}
    out = layer(torch.ones(2, 3))
    out.sum().backward()
    assert layer.scale.value.grad is not None and layer.shift.grad is not None


def test_trainable_toggle_from_callback_takes_effect_mid_fit():
    model = cornu.Sequential([cornu.Input((3,)), layers.Dense(4, name="first"), layers.Dense(1)])
    model.compile(optimizer=cornu.optimizers.SGD(0.1), loss="mse")
    x, y = random_array((32, 3)), random_array((32, 1), seed=1)
    snapshots = {}

    class Freeze(cornu.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.get_layer("first").trainable = False
                snapshots["frozen"] = model.get_layer("first").get_weights()

    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[Freeze()])
    for a, b in zip(snapshots["frozen"], model.get_layer("first").get_weights()):
        np.testing.assert_array_equal(a, b)
    assert len(model.trainable_weights) == 2


def test_trainable_toggle_restores_variables_created_trainable_only():
    bn = layers.BatchNormalization()
    bn.build((None, 3))
    bn.trainable = False
    assert bn.trainable_weights == []
    bn.trainable = True
    assert [w.name for w in bn.trainable_weights] == ["gamma", "beta"]
    assert [w.name for w in bn.non_trainable_weights] == ["moving_mean", "moving_variance"]


def test_weight_listing_is_cached_and_linear():
    model = cornu.Sequential([cornu.Input((2,))] + [layers.Dense(2) for _ in range(50)])
    misses = []
    original = Layer._flat_layers

    def counting(self):
        cache = self.__dict__.get("_layers_cache")
        if cache is None or cache[0] != tracking.version():
            misses.append(self)
        return original(self)

    Layer._flat_layers = counting
    try:
        tracking.bump()
        first = model.weights
        # Each layer's sub-layer list is computed once: linear in the number of layers.
        assert len(misses) <= 51
        misses.clear()
        assert model.weights == first and misses == []
    finally:
        Layer._flat_layers = original
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 98


def test_keras_variable_constructor():
    v = cornu.Variable(initializer="ones", shape=(2, 3), dtype="float32", name="v")
    assert v.shape == (2, 3) and v.trainable and np.all(v.numpy() == 1.0) and v.path == "v"
    with pytest.raises(ValueError, match="shape"):
        cornu.Variable(initializer="ones")
    w = cornu.Variable(np.arange(3))
    assert w.dtype == "int64" and w.name.startswith("variable")
    assert cornu.Variable(np.zeros(2), trainable=False).trainable is False


def test_weights_order_and_shapes_match_keras(keras_ref):
    def build(lib):
        class M(lib.layers.Layer):
            def __init__(self):
                super().__init__()
                self.blocks = []
                self.blocks.append(lib.layers.Dense(3))
                self.d = {"a": lib.layers.Dense(2)}
                self.lin = torch.nn.Linear(3, 4)
                self.v = lib.Variable(np.zeros(3, "float32"), name="vv")

            def call(self, x):
                return self.d["a"](self.blocks[0](x))

        m = M()
        m(np.zeros((1, 4), "float32"))
        return m

    ours, ref = build(cornu), build(keras_ref)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in ref.weights]
    assert [w.name for w in ours.weights][:1] == [w.name for w in ref.weights][:1]
    assert type(ours.lin).__name__ == type(ref.lin).__name__ == "TorchModuleWrapper"
    ours.blocks[0].trainable = False
    ref.blocks[0].trainable = False
    assert len(ours.trainable_weights) == len(ref.trainable_weights)


def test_keras_variable_matches_keras(keras_ref):
    ours = cornu.Variable(initializer="ones", shape=(2,), name="x")
    ref = keras_ref.Variable(initializer="ones", shape=(2,), name="x")
    assert (ours.shape, ours.dtype, ours.name, ours.trainable) == (tuple(ref.shape), ref.dtype, ref.name,
                                                                   ref.trainable)
    for lib in (cornu, keras_ref):
        with pytest.raises(ValueError):
            lib.Variable(initializer="ones")
