import numpy as np
import pytest
import torch

import cornu
from tests.helpers import assert_close, f64, random_array

X = random_array((40, 3, 4), seed=3, low=-2, high=5)


def _ref(x, keep):
    red = tuple(d for d in range(x.ndim) if d not in keep)
    return f64(x).mean(axis=red, keepdims=True), f64(x).var(axis=red, keepdims=True)


def test_given_statistics_normalize_and_invert():
    x = random_array((5, 2), seed=0)
    layer = cornu.layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 4.0])
    assert_close(layer(x), (f64(x) - [1.0, 2.0]) / [1.0, 2.0])
    assert layer.weights == []
    inv = cornu.layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 4.0], invert=True)
    assert_close(inv(x), f64(x) * [1.0, 2.0] + [1.0, 2.0])


def test_scalar_statistics_broadcast():
    x = random_array((3, 4), seed=1)
    assert_close(cornu.layers.Normalization(mean=1.0, variance=4.0)(x), (f64(x) - 1) / 2)


@pytest.mark.parametrize("axis,keep", [(-1, (2,)), ((1,), (1,)), ((1, 2), (1, 2)), (None, ())])
def test_adapt_array_matches_numpy(axis, keep):
    layer = cornu.layers.Normalization(axis=axis)
    layer.adapt(X, batch_size=7)
    mean, var = _ref(X, keep)
    assert_close(layer.weights[0], mean.reshape(layer.weights[0].shape))
    assert_close(layer.weights[1], var.reshape(layer.weights[1].shape))
    assert int(layer.weights[2].numpy()) == X.size // max(int(np.prod(layer.weights[0].shape)), 1)
    assert_close(layer(X), (f64(X) - mean) / np.sqrt(var), rtol=1e-4, atol=1e-5)


def test_adapt_streams_generators_tensors_and_py_datasets():
    mean, var = _ref(X, (2,))

    def gen():
        for i in range(0, 40, 6):
            yield X[i:i + 6]

    class Data(cornu.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return X[i * 10:(i + 1) * 10], np.zeros(10)

    for data in (gen(), torch.tensor(X), Data()):
        layer = cornu.layers.Normalization()
        layer.adapt(data)
        assert_close(layer.weights[0], mean.reshape(4))
        assert_close(layer.weights[1], var.reshape(4))


def test_adapt_steps_limits_batches():
    layer = cornu.layers.Normalization()
    layer.adapt(X, batch_size=10, steps=2)
    mean, var = _ref(X[:20], (2,))
    assert_close(layer.weights[0], mean.reshape(4))
    assert_close(layer.weights[1], var.reshape(4))


def test_weights_are_non_trainable_and_named_as_keras():
    layer = cornu.layers.Normalization()
    layer.build((None, 4))
    assert [w.name for w in layer.weights] == ["mean", "variance", "count"]
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 3
    assert layer.weights[2].dtype == "int32"
    x = random_array((2, 4), seed=5)
    assert_close(layer(x), x)  # before adapt: mean 0, variance 1, as Keras


def test_errors():
    with pytest.raises(ValueError, match="mean"):
        cornu.layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="axis"):
        cornu.layers.Normalization(axis=3).build((None, 3))
    with pytest.raises(ValueError, match="known shape"):
        cornu.layers.Normalization().build((None, None))
    layer = cornu.layers.Normalization()
    layer.build((None, 3))
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt(np.ones((4, 5)))


def test_config_and_save_round_trip(tmp_path):
    layer = cornu.layers.Normalization(axis=(1, 2), invert=True, name="n")
    cfg = layer.get_config()
    assert cfg["axis"] == (1, 2) and cfg["invert"] is True and cfg["mean"] is None
    assert cornu.layers.Normalization.from_config(cfg).get_config() == cfg
    cfg = cornu.layers.Normalization(mean=np.array([1.0]), variance=np.array([2.0])).get_config()
    assert cfg["mean"] == [1.0] and cfg["variance"] == [2.0]
    model = cornu.Sequential([cornu.Input((3, 4)), cornu.layers.Normalization()])
    model.layers[0].adapt(X)
    model.save_weights(tmp_path / "n.weights.h5")
    other = cornu.Sequential([cornu.Input((3, 4)), cornu.layers.Normalization()])
    other.load_weights(tmp_path / "n.weights.h5")
    assert_close(other(X), model(X))
