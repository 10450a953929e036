import warnings

import numpy as np
import pytest
import torch

from cornu.layers.embedding import Embedding, ReversibleEmbedding
from cornu.symbolic import KerasTensor

RNG = np.random.default_rng(3)


def _layer_with_table(input_dim=10, output_dim=4, **kwargs):
    layer = Embedding(input_dim, output_dim, **kwargs)
    layer.build()
    table = RNG.standard_normal((input_dim, output_dim)).astype("float32")
    layer.set_weights([table])
    return layer, table


def test_lookup_matches_numpy_take():
    layer, table = _layer_with_table()
    idx = RNG.integers(0, 10, size=(3, 5))
    out = layer(idx).detach().numpy()
    assert out.shape == (3, 5, 4)
    np.testing.assert_array_equal(out, np.take(table, idx, axis=0))
    assert [w.name for w in layer.weights] == ["embeddings"]


@pytest.mark.parametrize("dtype", [torch.int32, torch.int16, torch.float32])
def test_index_dtypes_are_accepted(dtype):
    layer, table = _layer_with_table()
    idx = torch.tensor([[1, 9], [0, 3]]).to(dtype)
    np.testing.assert_array_equal(layer(idx).detach().numpy(), table[idx.long().numpy()])


def test_symbolic_and_compute_output_shape():
    layer = Embedding(7, 3)
    out = layer(KerasTensor((None, 5), dtype="int32"))
    assert isinstance(out, KerasTensor) and out.shape == (None, 5, 3)
    assert layer.compute_output_shape((None, None, 2)) == (None, None, 2, 3)


def test_default_initializer_is_uniform_005():
    layer = Embedding(50, 20)
    layer.build()
    table = layer.get_weights()[0]
    assert table.shape == (50, 20)
    assert np.all(np.abs(table) <= 0.05) and table.std() > 0.01


def test_mask_zero():
    idx = np.array([[3, 0, 2], [0, 0, 1]])
    np.testing.assert_array_equal(Embedding(5, 2, mask_zero=True).compute_mask(torch.tensor(idx)).numpy(), idx != 0)
    assert Embedding(5, 2).compute_mask(torch.tensor(idx)) is None


def test_out_of_range_index_raises_clear_error():
    layer = Embedding(10, 2)
    with pytest.raises(IndexError, match=r"indices in \[2, 12\].*\[0, 10\)"):
        layer(np.array([[2, 12]]))
    with pytest.raises(IndexError, match="input_dim=10"):
        layer(np.array([[-1]]))


def test_gradient_accumulates_per_index():
    layer = Embedding(6, 3)
    idx = np.array([[1, 1, 4], [0, 1, 5]])
    layer(idx).sum().backward()
    counts = np.bincount(idx.ravel(), minlength=6).astype("float64")
    np.testing.assert_allclose(layer.embeddings.value.grad.numpy(), np.repeat(counts[:, None], 3, axis=1))


def test_config_round_trip():
    layer = Embedding(12, 5, embeddings_initializer="zeros", mask_zero=True, embeddings_regularizer="l2",
                      name="emb_cfg")
    config = layer.get_config()
    clone = Embedding.from_config(config)
    assert clone.get_config() == config
    assert (clone.input_dim, clone.output_dim, clone.mask_zero) == (12, 5, True)
    clone.build()
    np.testing.assert_array_equal(clone.get_weights()[0], np.zeros((12, 5)))


def test_constructor_arguments():
    table = RNG.standard_normal((4, 2)).astype("float32")
    np.testing.assert_array_equal(Embedding(4, 2, weights=table).get_weights()[0], table)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Embedding(4, 2, input_length=7)
    assert any("input_length" in str(w.message) for w in caught)
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        Embedding(4, 2, max_norm=1.0)
    with pytest.raises(ValueError, match="input_dim"):
        Embedding(0, 2)
    with pytest.raises(ValueError, match="output_dim"):
        Embedding(4, 2.5)
    with pytest.raises(ValueError, match="rank"):
        Embedding(4, 2, lora_rank=-1).build()


def test_lora_adds_a_scaled_low_rank_update_and_freezes_the_table():
    layer = Embedding(6, 4, lora_rank=2, name="e")
    idx = torch.tensor([[1, 5, 0]])
    layer(idx)
    assert [(w.path, w.trainable) for w in layer.weights] == [
        ("e/embeddings", False), ("e/lora_embeddings_a", True), ("e/lora_embeddings_b", True)]
    rng = np.random.default_rng(0)
    table, a, b = (rng.standard_normal(s).astype("float32") for s in ((6, 4), (6, 2), (2, 4)))
    layer.set_weights([table, a, b])
    expected = (table.astype(np.float64) + a.astype(np.float64) @ b * (2 / 2))[idx.numpy()]
    np.testing.assert_allclose(layer(idx).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="already enabled"):
        layer.enable_lora(2)
    with pytest.raises(ValueError, match="constraint"):
        constrained = Embedding(6, 4, embeddings_constraint="non_neg")
        constrained.build()
        constrained.enable_lora(2)


def test_reversible_embedding_projects_back_with_the_tied_or_separate_table():
    h = np.random.default_rng(0).standard_normal((2, 3, 4)).astype("float32")
    tied = ReversibleEmbedding(6, 4, logit_soft_cap=3.0)
    tied.build()
    table = tied.get_weights()[0].astype(np.float64)
    np.testing.assert_allclose(tied(torch.as_tensor(h), reverse=True).detach().numpy(),
                               np.tanh(h @ table.T / 3.0) * 3.0, rtol=1e-5, atol=1e-6)
    untied = ReversibleEmbedding(6, 4, tie_weights=False)
    untied.build()
    reverse = untied.get_weights()[1]
    assert reverse.shape == (4, 6)
    np.testing.assert_allclose(untied(torch.as_tensor(h), reverse=True).detach().numpy(),
                               h.astype(np.float64) @ reverse, rtol=1e-5, atol=1e-6)
    assert untied.compute_output_shape((None, 3, 4), reverse=True) == (None, 3, 6)
    assert untied.compute_output_shape((None, 3)) == (None, 3, 4)
