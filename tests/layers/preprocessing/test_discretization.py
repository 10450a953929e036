import numpy as np
import pytest
import torch

import cornu
from tests.helpers import assert_close, random_array

BINS = [-0.5, 0.0, 0.75]
X = np.array([[-1.0, -0.5, -0.2, 0.0, 0.5, 0.75, 2.0, np.inf, -np.inf]])


def _ids(x, bins):
    return np.searchsorted(np.asarray(bins, "float64"), np.asarray(x, "float64"), side="right")


def test_int_ids_follow_right_closed_bins():
    out = cornu.layers.Discretization(bin_boundaries=BINS)(X)
    assert out.dtype == torch.int32
    np.testing.assert_array_equal(out.numpy(), _ids(X, BINS))
    ints = np.array([[-3, 0, 1]])
    np.testing.assert_array_equal(cornu.layers.Discretization(bin_boundaries=BINS)(ints).numpy(), _ids(ints, BINS))


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_encoded_outputs(mode):
    x = random_array((5, 4), seed=0, low=-2, high=2)
    ids = _ids(x, BINS)
    hits = (ids[..., None] == np.arange(4)).astype("float64")
    expected = {"one_hot": hits, "multi_hot": hits.max(axis=1), "count": hits.sum(axis=1)}[mode]
    out = cornu.layers.Discretization(bin_boundaries=BINS, output_mode=mode)(x)
    assert out.dtype == torch.float32
    assert_close(out, expected)


def test_adapt_exact_quantiles_while_the_summary_holds_everything():
    data = random_array((30, 2), seed=4)
    layer = cornu.layers.Discretization(num_bins=4, epsilon=0.01)
    layer.adapt(data, batch_size=7)
    assert_close(layer.bin_boundaries, np.quantile(data.astype("float64"), [0.25, 0.5, 0.75]))
    np.testing.assert_array_equal(layer(data).numpy(), _ids(data, layer.bin_boundaries))


def test_adapt_streams_with_bounded_rank_error():
    data = np.random.default_rng(1).normal(size=(4000,))
    layer = cornu.layers.Discretization(num_bins=5, epsilon=0.01)
    layer.adapt(data[i:i + 500] for i in range(0, 4000, 500))
    ranks = np.searchsorted(np.sort(data), layer.bin_boundaries) / data.size
    np.testing.assert_allclose(ranks, [0.2, 0.4, 0.6, 0.8], atol=0.01)
    assert layer.get_config()["bin_boundaries"] == layer.bin_boundaries


def test_errors_and_config():
    with pytest.raises(ValueError, match="either"):
        cornu.layers.Discretization()
    with pytest.raises(ValueError, match="num_bins=3"):
        cornu.layers.Discretization(num_bins=3, bin_boundaries=[1.0, 2.0])
    with pytest.raises(ValueError, match="output_mode=x"):
        cornu.layers.Discretization(bin_boundaries=[1.0], output_mode="x")
    with pytest.raises(ValueError, match="sparse"):
        cornu.layers.Discretization(bin_boundaries=[1.0], sparse=True)
    with pytest.raises(ValueError, match="adapt"):
        cornu.layers.Discretization(num_bins=3)(X)
    with pytest.raises(ValueError, match="num_bins"):
        cornu.layers.Discretization(bin_boundaries=[1.0]).adapt(X)
    cfg = cornu.layers.Discretization(bin_boundaries=BINS, output_mode="count", name="d").get_config()
    assert cfg == {"bin_boundaries": BINS, "num_bins": None, "epsilon": 0.01, "output_mode": "count",
                   "sparse": False, "name": "d", "dtype": "float32"}
    assert cornu.layers.Discretization.from_config(cfg).get_config() == cfg


def test_symbolic_shapes_and_dtypes():
    inp = cornu.Input((3,))
    assert tuple(cornu.layers.Discretization(bin_boundaries=BINS)(inp).shape) == (None, 3)
    out = cornu.layers.Discretization(bin_boundaries=BINS, output_mode="multi_hot")(inp)
    assert tuple(out.shape) == (None, 4)
