"""Masks in functional models: computed at graph construction, carried by KerasTensors, passed at call time."""
import numpy as np
import pytest
import torch

import cornu as keras
from cornu import layers
from cornu.symbolic import KerasTensor
from tests.helpers import assert_close, f64, random_array

TOKENS = np.array([[3, 5, 2, 0, 0], [7, 1, 0, 0, 0], [4, 4, 4, 4, 1]])
VALID = TOKENS != 0


class Recorder(layers.Layer):
    """Returns its input; remembers the mask each call received."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.seen = []

    def call(self, inputs, mask=None):
        self.seen.append(mask)
        return inputs * 1.0


class DropsMaskPassThrough(layers.Layer):
    """Returns its very input object and does not support masking: its output has no mask."""

    def call(self, inputs):
        return inputs


def test_masking_layer_zeroes_and_masks_steps():
    x = random_array((2, 4, 3), seed=1)
    x[0, 1] = 0.0
    x[1, 3] = 0.0
    layer = layers.Masking()
    out = layer(x)
    valid = np.abs(x).sum(-1) != 0
    assert_close(out, x * valid[..., None])
    np.testing.assert_array_equal(out._keras_mask.numpy(), valid)
    x[0, 2] = 5.0
    assert f64(layers.Masking(mask_value=5.0)(x)._keras_mask).tolist() == (x != 5.0).any(-1).tolist()
    symbolic = layers.Masking()(keras.Input((4, 3)))
    assert symbolic._keras_mask.shape == (None, 4) and symbolic._keras_mask.dtype == "bool"
    config = layers.Masking(mask_value=-1.0, name="m").get_config()
    assert config["mask_value"] == -1.0 and layers.Masking.from_config(config).get_config() == config


def test_masks_are_symbolic_at_graph_construction():
    inp = keras.Input((5,), dtype="int32")
    emb = layers.Embedding(10, 4, mask_zero=True)(inp)
    assert isinstance(emb._keras_mask, KerasTensor) and emb._keras_mask.shape == (None, 5)
    dense = layers.Dense(3)(emb)
    assert dense._keras_mask is emb._keras_mask  # passed through unchanged, no recomputation
    assert layers.GlobalAveragePooling1D()(dense)._keras_mask is None
    assert layers.Embedding(10, 4)(inp)._keras_mask is None
    assert inp._keras_mask is None


def test_embedding_average_pooling_dense_matches_numpy():
    inp = keras.Input((5,), dtype="int32")
    emb = layers.Embedding(10, 4, mask_zero=True)
    out = layers.Dense(2)(layers.GlobalAveragePooling1D()(emb(inp)))
    model = keras.Model(inp, out)
    table = f64(emb.get_weights()[0])
    kernel, bias = (f64(w) for w in model.layers[-1].get_weights())
    means = np.stack([table[row[row != 0]].mean(0) for row in TOKENS])
    assert_close(model.predict(TOKENS, verbose=0), means @ kernel + bias)


def test_functional_model_passes_each_node_its_mask():
    inp = keras.Input((5,), dtype="int32")
    emb = layers.Embedding(10, 4, mask_zero=True)(inp)
    rec = Recorder()
    out = rec(layers.Dense(3)(emb))
    model = keras.Model(inp, out)
    rec.seen.clear()
    result = model(TOKENS)
    assert len(rec.seen) == 1
    np.testing.assert_array_equal(rec.seen[0].numpy(), VALID)
    np.testing.assert_array_equal(result._keras_mask.numpy(), VALID)


@pytest.mark.parametrize("masked_branch_first", [True, False])
def test_one_tensor_object_two_graph_tensors(masked_branch_first):
    inp = keras.Input((5,), dtype="int32")
    emb = layers.Embedding(10, 4, mask_zero=True)(inp)
    plain = DropsMaskPassThrough()(emb)
    assert plain._keras_mask is None
    with_mask, without_mask = Recorder(), Recorder()
    outs = [with_mask(emb), without_mask(plain)]
    model = keras.Model(inp, outs if masked_branch_first else outs[::-1])
    with_mask.seen.clear()
    without_mask.seen.clear()
    model(TOKENS)
    np.testing.assert_array_equal(with_mask.seen[0].numpy(), VALID)
    assert without_mask.seen == [None]


def test_nested_model_carries_its_output_mask():
    inner_in = keras.Input((5,), dtype="int32")
    inner = keras.Model(inner_in, layers.Dense(3)(layers.Embedding(10, 4, mask_zero=True)(inner_in)))
    inp = keras.Input((5,), dtype="int32")
    seq = inner(inp)
    assert seq._keras_mask is not None and seq._keras_mask.shape == (None, 5)
    rec = Recorder()
    model = keras.Model(inp, layers.GlobalAveragePooling1D()(rec(seq)))
    rec.seen.clear()
    got = model.predict(TOKENS, verbose=0)
    np.testing.assert_array_equal(rec.seen[-1].numpy(), VALID)
    steps = f64(inner.predict(TOKENS, verbose=0))
    assert_close(got, (steps * VALID[..., None]).sum(1) / VALID.sum(1, keepdims=True))


def test_model_called_with_an_explicit_mask():
    inp = keras.Input((5, 2))
    rec = Recorder()
    model = keras.Model(inp, rec(layers.Dense(2)(inp)))
    rec.seen.clear()
    model(random_array((3, 5, 2)), mask=torch.tensor(VALID))
    np.testing.assert_array_equal(rec.seen[-1].numpy(), VALID)


def test_attention_layers_get_masks_in_a_functional_model():
    x = random_array((3, 5, 4), seed=2)
    x[~VALID] = 0.0
    inp = keras.Input((5, 4))
    masked = layers.Masking()(inp)
    mha = layers.MultiHeadAttention(2, 3)
    att = layers.Attention()
    model = keras.Model(inp, [mha(masked, masked), att([masked, masked])])
    got_mha, got_att = model.predict(x, verbose=0)
    xt = torch.tensor(x)
    xt._keras_mask = torch.tensor(VALID)
    assert_close(got_mha, mha(xt, xt), atol=1e-6)
    assert_close(got_att, att([xt, xt]), atol=1e-6)
    unmasked = mha(torch.tensor(x), torch.tensor(x))
    assert np.abs(f64(unmasked) - got_mha).max() > 1e-3


def test_masked_steps_do_not_count_in_loss_and_metrics():
    y = random_array((3, 5, 2), seed=3)
    inp = keras.Input((5,), dtype="int32")
    model = keras.Model(inp, layers.Dense(2)(layers.Embedding(10, 4, mask_zero=True)(inp)))
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    pred = f64(model.predict(TOKENS, verbose=0))
    err = pred - f64(y)
    loss, mae = model.evaluate(TOKENS, y, verbose=0)
    assert_close(loss, (err ** 2).mean(-1)[VALID].mean())
    assert_close(mae, np.abs(err).mean(-1)[VALID].mean())
    before = model.get_weights()
    y_changed = y.copy()
    y_changed[~VALID] = 100.0  # targets of padded steps must not matter
    model.train_on_batch(TOKENS, y_changed)
    after_changed = model.get_weights()
    model.set_weights(before)
    model.compile(optimizer="sgd", loss="mse")
    model.train_on_batch(TOKENS, y)
    for a, b in zip(after_changed, model.get_weights()):
        assert_close(a, b)


def test_model_outputs_carry_exactly_their_graph_masks():
    inp = keras.Input((5,), dtype="int32")
    emb = layers.Embedding(10, 4, mask_zero=True)(inp)
    model = keras.Model(inp, [emb, DropsMaskPassThrough()(emb)])
    masked, unmasked = model(TOKENS)
    assert masked is unmasked  # one tensor object stands for both graph tensors
    single = keras.Model(inp, DropsMaskPassThrough()(layers.Embedding(10, 4, mask_zero=True)(inp)))
    assert getattr(single(TOKENS), "_keras_mask", None) is None  # so a loss on it counts every step
    np.testing.assert_array_equal(keras.Model(inp, emb)(TOKENS)._keras_mask.numpy(), VALID)


def _mask_recorder(lib):
    seen = []

    class Recorder(lib.layers.Layer):
        def call(self, x, other=None, mask=None, other_mask=None):
            seen.append((None if mask is None else tuple(mask.shape),
                         None if other_mask is None else tuple(other_mask.shape)))
            return x

    return Recorder, seen


@pytest.mark.parametrize("lib_name", ["cornu", "keras"])
def test_several_tensor_arguments_fill_argument_masks_not_mask(request, lib_name):
    lib = keras if lib_name == "cornu" else request.getfixturevalue("keras_ref")
    embedding = lib.layers.Embedding(10, 4, mask_zero=True)
    a, b = embedding(np.array([[1, 2, 0]])), embedding(np.array([[3, 0, 0, 0]]))
    Recorder, seen = _mask_recorder(lib)
    Recorder()(a)
    Recorder()(a, b)
    Recorder()(a, other=b)
    assert seen == [((1, 3), None), (None, (1, 4)), (None, (1, 4))]
