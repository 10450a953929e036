import numpy as np
import pytest
import torch

import cornu
from tests.helpers import assert_close

IDS = np.array([[0, 1, 1], [3, 2, -1], [2, 2, 2]])


def _ref(ids, num_tokens, mode, weights=None):
    """float64 NumPy reference: negative ids are dropped."""
    if mode == "one_hot":
        ids = ids[..., 0] if ids.ndim > 1 and ids.shape[-1] == 1 else ids
        return (ids[..., None] == np.arange(num_tokens)).astype("float64")
    hits = (ids[..., None] == np.arange(num_tokens)).astype("float64")
    axis = 0 if ids.ndim == 1 else 1  # Keras reduces axis 1 of a batch whatever its rank
    if mode == "multi_hot":
        return hits.max(axis=axis)
    w = np.ones(ids.shape) if weights is None else weights
    return (hits * w[..., None]).sum(axis=axis)


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
@pytest.mark.parametrize("ids", [IDS, IDS[:, :1], IDS[0], IDS.reshape(3, 3, 1), np.abs(IDS).reshape(3, 1, 3)])
def test_modes_match_reference(mode, ids):
    layer = cornu.layers.CategoryEncoding(num_tokens=5, output_mode=mode)
    out = layer(ids)
    assert out.dtype == torch.float32
    assert_close(out, _ref(ids, 5, mode))
    assert tuple(layer.compute_output_shape(ids.shape)) == out.shape


def test_count_weights_sum_per_token():
    w = np.random.default_rng(0).uniform(size=IDS.shape)
    out = cornu.layers.CategoryEncoding(4, output_mode="count")(IDS, count_weights=w)
    assert_close(out, _ref(IDS, 4, "count", w))


def test_float_ids_truncate_and_layer_dtype_sets_output_dtype():
    out = cornu.layers.CategoryEncoding(3, dtype="int32")(np.array([[1.7, 0.2]]))
    assert out.dtype == torch.int32
    assert out.tolist() == [[1, 1, 0]]


def test_errors_and_config():
    with pytest.raises(ValueError, match="num_tokens"):
        cornu.layers.CategoryEncoding()
    with pytest.raises(ValueError, match="num_tokens=0"):
        cornu.layers.CategoryEncoding(0)
    with pytest.raises(ValueError, match="tf_idf"):
        cornu.layers.CategoryEncoding(3, output_mode="tf_idf")
    with pytest.raises(ValueError, match="count_weights"):
        cornu.layers.CategoryEncoding(3)(IDS, count_weights=np.ones(IDS.shape))
    with pytest.raises(RuntimeError):
        cornu.layers.CategoryEncoding(3)(np.array([[0, 5]]))
    cfg = cornu.layers.CategoryEncoding(7, output_mode="count").get_config()
    assert cfg["num_tokens"] == 7 and cfg["output_mode"] == "count"
    assert cornu.layers.CategoryEncoding.from_config(cfg).get_config() == cfg


def test_symbolic_shape():
    out = cornu.layers.CategoryEncoding(6)(cornu.Input((4,), dtype="int32"))
    assert tuple(out.shape) == (None, 6)
