"""``keras.RematScope``: layers created inside checkpoint their calls (or their activation) as Keras's modes say."""
import numpy as np
import pytest
import torch

import cornu as keras
from tests.helpers import assert_close, random_array


class Counting(keras.layers.Layer):
    """``tanh(x @ w)`` (or ``activation(x @ w)``), counting how often ``call`` runs."""

    calls = 0

    def __init__(self, units=4, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation) if activation else None

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")

    def call(self, x):
        Counting.calls += 1
        y = x @ self.w.value
        return self.activation(y) if self.activation is not None else torch.tanh(y)


def _calls_in_forward_and_backward(make, scope=None, shape=(2, 3)):
    """Build the layer (created in ``scope``), then count ``call`` runs over one forward and backward pass."""
    if scope is not None:
        with scope:
            layer = make()
    else:
        layer = make()
    x = torch.as_tensor(random_array(shape))
    layer(x)
    Counting.calls = 0
    layer(x).sum().backward()
    return Counting.calls


R = keras.RematScope


@pytest.mark.parametrize("scope, shape, expected", [
    (None, (2, 3), 1),
    (R("full"), (2, 3), 2),  # the forward again in the backward pass
    (R(None), (2, 3), 1),
    (R("list_of_layers", layer_names=["named"]), (2, 3), 2),
    (R("list_of_layers", layer_names=["other"]), (2, 3), 1),
    (R("larger_than", output_size_threshold=8), (2, 3), 1),  # output 2 x 4 = 8 elements: not larger
    (R("larger_than", output_size_threshold=7), (2, 3), 2),
    (R("larger_than", output_size_threshold=8), (3, 3), 2),
    (R("activations"), (2, 3), 1),  # only activations are checkpointed
])
def test_modes_select_layers(scope, shape, expected):
    assert _calls_in_forward_and_backward(lambda: Counting(name="named"), scope, shape) == expected


def test_scope_applies_at_creation_and_nests():
    layer = Counting(name="late")
    x = torch.as_tensor(random_array((2, 3)))
    layer(x)
    Counting.calls = 0
    with R("full"):
        layer(x).sum().backward()
    assert Counting.calls == 1  # created outside the scope: not checkpointed
    with R("full"):
        with R(None):
            inner = Counting(name="inner")
        outer = Counting(name="outer")
    assert inner._remat_mode is None and outer._remat_mode.mode == "full"


def test_activations_mode_recomputes_the_activation():
    runs = []

    def act(x):
        runs.append(1)
        return torch.relu(x)

    for mode, expected in (("activations", 2), ("full", 2), (None, 1)):
        with R(mode):
            dense = keras.layers.Dense(4, activation=act, name=f"d_{mode}")
        x = torch.as_tensor(random_array((2, 3)))
        dense(x)
        runs.clear()
        dense(x).sum().backward()
        assert len(runs) == expected, mode
        assert dense.activation is act


def test_gradients_equal_with_and_without_remat():
    x = random_array((4, 5), seed=1)

    def grads(scope):
        with scope:
            model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(6, activation="relu", name="a"),
                                      keras.layers.Dropout(0.3, seed=1, name="drop"),
                                      keras.layers.Dense(3, activation="tanh", name="b")])
        model.set_weights([random_array(w.shape, seed=i) for i, w in enumerate(model.get_weights())])
        torch.manual_seed(0)
        out = model(torch.as_tensor(x), training=True)
        (out ** 2).sum().backward()
        return out.detach(), [w.value.grad.clone() for w in model.trainable_weights]

    plain_out, plain = grads(R(None))
    for mode in ("full", "activations", "larger_than"):
        out, g = grads(R(mode, output_size_threshold=10))
        assert_close(out, plain_out)
        for a, b in zip(g, plain):
            assert_close(a, b)


def test_no_checkpoint_without_gradients():
    with R("full"):
        layer = Counting(name="nograd")
    x = torch.as_tensor(random_array((2, 3)))
    with torch.no_grad():
        Counting.calls = 0
        out = layer(x)
    assert Counting.calls == 1 and not out.requires_grad
    np.testing.assert_allclose(out.numpy(), np.tanh(x.numpy() @ layer.w.numpy()), rtol=1e-6)


def test_modes_match_keras(keras_ref):
    """The same call counts in Keras (which also runs ``call`` once more to infer shapes in "larger_than")."""

    class KCounting(keras_ref.layers.Layer):
        calls = 0

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 4))

        def call(self, x):
            KCounting.calls += 1
            return keras_ref.ops.tanh(x @ self.w)

    def keras_count(scope):
        with scope:
            layer = KCounting(name="named")
        x = torch.ones(2, 3)
        layer(x)
        KCounting.calls = 0
        layer(x).sum().backward()
        return KCounting.calls

    KR = keras_ref.RematScope
    for ours, theirs in ((R("full"), KR("full")), (R(None), KR(None)),
                         (R("list_of_layers", layer_names=["named"]), KR("list_of_layers", layer_names=["named"])),
                         (R("list_of_layers", layer_names=["x"]), KR("list_of_layers", layer_names=["x"]))):
        assert _calls_in_forward_and_backward(lambda: Counting(name="named"), ours) == keras_count(theirs)


def test_fit_under_remat_matches_plain_fit():
    x, y = random_array((16, 5), seed=3), random_array((16, 2), seed=4)

    def trained(mode):
        with R(mode):
            model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu", name="h"),
                                      keras.layers.BatchNormalization(name="bn"), keras.layers.Dense(2, name="o")])
        model.set_weights([random_array(w.shape, seed=i) if w.ndim == 2 else w.numpy()
                           for i, w in enumerate(model.weights)])
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        return [w.numpy() for w in model.weights]  # moving statistics updated once per step, too

    for a, b in zip(trained("full"), trained(None)):
        assert_close(a, b, rtol=1e-5, atol=1e-6)
