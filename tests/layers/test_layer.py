"""The Layer base: naming, lazy build, weights API, trainable, add_weight/add_loss, symbolic calls."""
import numpy as np
import pytest
import torch

from cornu.layers import Dense, Layer
from cornu.symbolic import KerasTensor
from cornu.utils import naming


class Scale(Layer):
    """A custom layer: y = x * w + b, with a regularizer on w and an activity loss."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w",
                                 regularizer=lambda w: 0.5 * torch.sum(w ** 2))
        self.b = self.add_weight(shape=(), initializer="zeros", name="b", trainable=False)

    def call(self, inputs):
        self.add_loss(torch.sum(inputs) * 0.0 + 1.0)
        return inputs * self.w + self.b


def test_auto_names_follow_keras():
    naming.reset_names()
    assert [Dense(1).name, Dense(1).name, Dense(1, name="x").name, Dense(1).name] == \
        ["dense", "dense_1", "x", "dense_2"]
    assert Scale().name == "scale"


def test_lazy_build_and_weight_lists():
    layer = Scale()
    assert not layer.built and layer.weights == []
    y = layer(torch.ones(2, 3))
    assert layer.built and y.shape == (2, 3)
    assert [v.name for v in layer.weights] == ["w", "b"]
    assert [v.name for v in layer.trainable_weights] == ["w"]
    assert [v.name for v in layer.non_trainable_weights] == ["b"]
    assert layer.count_params() == 4


def test_losses_collects_add_loss_and_regularizers_and_resets_per_call():
    layer = Scale()
    layer(torch.ones(2, 3))
    layer(torch.ones(2, 3))
    values = sorted(float(l.detach()) for l in layer.losses)
    assert values == [1.0, 1.5]  # one activity loss (last call only) + 0.5 * sum(ones(3)^2)


def test_trainable_flag_freezes_weights():
    layer = Dense(2)
    layer.build((None, 3))
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    assert not layer.kernel.value.requires_grad
    layer.trainable = True
    assert len(layer.trainable_weights) == 2


def test_variable_assign_and_math():
    layer = Scale()
    layer.build((None, 2))
    layer.w.assign(np.array([2.0, 3.0]))
    np.testing.assert_array_equal(layer.w.numpy(), [2.0, 3.0])
    np.testing.assert_array_equal((torch.ones(2) * layer.w).detach().numpy(), [2.0, 3.0])
    with pytest.raises(ValueError, match="shape"):
        layer.w.assign(np.zeros(3))


def test_symbolic_call_infers_shape_without_compute_output_shape():
    out = Scale()(KerasTensor((None, 4)))
    assert isinstance(out, KerasTensor) and out.shape == (None, 4)


def test_unknown_constructor_kwarg_is_value_error_as_in_keras():
    with pytest.raises(ValueError, match="bogus"):
        Dense(2, bogus=1)


def test_layer_is_a_torch_module_with_parameters():
    layer = Dense(3)
    layer.build((None, 2))
    assert isinstance(layer, torch.nn.Module)
    assert {n for n, _ in layer.named_parameters()} == {"kernel", "bias"}


def test_masks_propagate_from_embedding_to_masked_average_pooling():
    import cornu as keras

    tokens = np.array([[3, 5, 0, 0], [7, 0, 0, 0]])
    inp = keras.Input((4,), dtype="int64")
    emb = keras.layers.Embedding(10, 3, mask_zero=True)
    out = keras.layers.GlobalAveragePooling1D()(keras.layers.Dense(3)(emb(inp)))
    model = keras.Model(inp, out)
    got = model.predict(tokens, verbose=0)
    table = emb.get_weights()[0]
    k, b = model.layers[2].get_weights()
    ref = np.stack([np.mean(table[row[row > 0]] @ k + b, axis=0) for row in tokens])
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_layers_without_mask_support_drop_the_mask():
    x = torch.ones(2, 3)
    x._keras_mask = torch.tensor([True, False])
    assert getattr(Dense(2)(x), "_keras_mask", None) is not None  # Dense passes masks through
    assert getattr(Scale()(x), "_keras_mask", None) is None


def test_add_weight_overwrite_with_gradient_and_aggregation():
    import torch

    import cornu

    class Scaled(cornu.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
            self.scale = self.add_weight(shape=(), initializer="zeros", overwrite_with_gradient=True,
                                         aggregation="sum")

        def call(self, x):
            return x * self.w + self.scale * 0.0

    layer = Scaled()
    x = torch.ones(2, 3)
    layer(x)
    assert layer.scale.overwrite_with_gradient and layer.scale.aggregation == "sum"
    optimizer = cornu.optimizers.SGD(0.5)
    grads = [torch.full((3,), 2.0), torch.tensor(7.0)]
    optimizer.apply(grads, [layer.w, layer.scale])
    np.testing.assert_allclose(layer.w.numpy(), np.zeros(3))  # 1 - 0.5 * 2
    assert layer.scale.numpy() == 7.0  # took its gradient as its value, no step


def test_overwrite_with_gradient_matches_keras(keras_ref):
    import torch

    values = []
    for lib in (keras_ref, __import__("cornu")):
        layer = lib.layers.Layer()
        w = layer.add_weight(shape=(2,), initializer="ones")
        s = layer.add_weight(shape=(), initializer="zeros", overwrite_with_gradient=True)
        optimizer = lib.optimizers.SGD(0.5)
        optimizer.apply([torch.tensor([2.0, 4.0]), torch.tensor(3.0)], [w, s])
        values.append((np.asarray(w.numpy()), float(np.asarray(s.numpy()))))
    np.testing.assert_allclose(values[1][0], values[0][0])
    assert values[1][1] == values[0][1]


def test_layers_keras_builds_in_their_constructor_have_no_build_config():
    from cornu.layers import Dense, Dropout, Identity

    dropout, dense = Dropout(0.5), Dense(2)
    assert dropout.built and not dense.built
    dropout(torch.ones(2, 3))
    dense(torch.ones(2, 3))
    assert dropout.get_build_config() is None
    assert dense.get_build_config() == {"input_shape": (2, 3)}
    dropout.build_from_config(None)
    mask = torch.tensor([[True, False, True]])
    assert torch.equal(Identity().compute_mask(torch.ones(1, 3), mask), mask)


def test_explicit_mask_to_a_call_without_mask_is_a_type_error():
    from cornu.layers import Dense, Softmax

    with pytest.raises(TypeError, match="unexpected keyword argument 'mask'"):
        Dense(2)(torch.ones(2, 3), mask=None)
    out = Softmax()(np.zeros((1, 3), "float32"), mask=np.array([[True, False, True]]))
    np.testing.assert_allclose(out.numpy(), [[0.5, 0.0, 0.5]])
