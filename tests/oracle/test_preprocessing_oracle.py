"""Preprocessing layers against real Keras 3.15 (torch backend): same inputs, same outputs, configs, errors, files.

Skipped when Keras is not installed; cornu never imports it.
"""
import numpy as np
import pytest

from tests.helpers import keras_oracle_module

keras_ref = keras_oracle_module()

import cornu  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.uniform(-2, 5, (24, 3, 4)).astype("float32")


def _np(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def assert_same(ours, ref, rtol=1e-5, atol=1e-6):
    ours, ref = _np(ours), _np(ref)
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=atol)


def _config(layer):
    cfg = dict(layer.get_config())
    cfg.pop("name")
    cfg["dtype"] = cfg["dtype"]["config"]["name"] if isinstance(cfg["dtype"], dict) else cfg["dtype"]
    return cfg


def _both(name, *args, **kwargs):
    return getattr(cornu.layers, name)(*args, **kwargs), getattr(keras_ref.layers, name)(*args, **kwargs)


@pytest.mark.parametrize("kwargs", [dict(scale=1 / 255.0), dict(scale=2.0, offset=-1.0),
                                    dict(scale=[1.0, 2.0, 3.0, 4.0], offset=[0.0, 1.0, 2.0, 3.0])])
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_rescaling(kwargs, dtype):
    ours, ref = _both("Rescaling", **kwargs)
    x = (X * 10).astype(dtype)
    assert_same(ours(x), ref(x))
    assert _config(ours) == _config(ref)


@pytest.mark.parametrize("kwargs", [dict(mean=[1.0, 2.0, 0.5, -1.0], variance=[1.0, 4.0, 0.25, 9.0]),
                                    dict(mean=1.5, variance=2.0), dict(mean=1.5, variance=2.0, invert=True),
                                    dict(axis=1, mean=np.array([1.0, 2.0, 3.0]), variance=np.array([1.0, 2.0, 3.0]))])
def test_normalization_given_statistics(kwargs):
    ours, ref = _both("Normalization", **kwargs)
    assert_same(ours(X), ref(X))
    assert _config(ours) == _config(ref)
    assert len(ours.weights) == len(ref.weights) == 0


@pytest.mark.parametrize("axis", [-1, 1, (1, 2), None])
@pytest.mark.parametrize("invert", [False, True])
def test_normalization_adapt(axis, invert):
    ours, ref = _both("Normalization", axis=axis, invert=invert)
    ours.adapt(X, batch_size=5)
    ref.adapt(X)
    assert [w.name for w in ours.weights] == [w.name for w in ref.weights]
    for a, b in zip(ours.weights[:2], ref.weights[:2]):
        assert_same(a.numpy(), b.numpy())
    assert ours.weights[2].numpy().dtype == ref.weights[2].numpy().dtype
    assert_same(ours(X), ref(X), rtol=1e-4, atol=1e-5)
    assert _config(ours) == _config(ref)


def test_normalization_adapt_generator_matches_keras_array_statistics():
    ours, ref = _both("Normalization")
    ours.adapt(X[i:i + 5] for i in range(0, len(X), 5))
    ref.adapt(X)
    for a, b in zip(ours.weights[:2], ref.weights[:2]):
        assert_same(a.numpy(), b.numpy())


def test_normalization_unadapted_is_identity_as_keras():
    ours, ref = _both("Normalization")
    assert_same(ours(X), ref(X))


@pytest.mark.parametrize("make,call", [
    (lambda L: L.Normalization(mean=1.0), None),
    (lambda L: L.Normalization(axis=3), lambda layer: layer.build((None, 3))),
    (lambda L: L.Normalization(), lambda layer: layer.build((None, None))),
    (lambda L: L.Normalization(), lambda layer: (layer.build((None, 3)), layer.adapt(np.ones((4, 5))))),
])
def test_normalization_errors(make, call):
    errors = []
    for lib in (cornu.layers, keras_ref.layers):
        try:
            layer = make(lib)
            call(layer)
        except Exception as e:  # noqa: BLE001 - the class is what is compared
            errors.append(type(e))
        else:
            errors.append(None)
    assert errors[0] is not None and errors[0] == errors[1]


def test_saved_weights_load_in_keras(tmp_path):
    model = cornu.Sequential([cornu.Input((3, 4)), cornu.layers.Rescaling(0.5, offset=1.0),
                              cornu.layers.Normalization(axis=(1, 2)), cornu.layers.Flatten(),
                              cornu.layers.Dense(2)])
    model.layers[1].adapt(X * 0.5 + 1.0)
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    K = keras_ref.layers
    ref = keras_ref.Sequential([keras_ref.Input((3, 4)), K.Rescaling(0.5, offset=1.0), K.Normalization(axis=(1, 2)),
                                K.Flatten(), K.Dense(2)])
    ref.load_weights(path)
    assert_same(model(X), ref(X), rtol=1e-4, atol=1e-5)
    assert_same(ref.layers[1].weights[0].numpy(), model.layers[1].weights[0].numpy())


IDS = np.array([[0, 1, 1], [3, 2, -1], [2, 2, 2]])


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
@pytest.mark.parametrize("ids", [IDS, IDS[:, :1], IDS[0], IDS.reshape(3, 3, 1), IDS * 0.7,
                                 np.abs(IDS).reshape(3, 1, 3), np.abs(IDS).reshape(1, 3, 3, 1)])
@pytest.mark.parametrize("dtype", [None, "int32"])
def test_category_encoding(mode, ids, dtype):
    ours, ref = _both("CategoryEncoding", num_tokens=4, output_mode=mode, dtype=dtype)
    out = ours(ids)
    assert_same(out, ref(ids))
    assert _config(ours) == _config(ref)
    assert tuple(ours.compute_output_shape(ids.shape)) == tuple(out.shape)
    if ids.ndim <= 2:  # for higher ranks Keras's compute_output_shape disagrees with its own call
        assert tuple(ours.compute_output_shape(ids.shape)) == tuple(ref.compute_output_shape(ids.shape))


def test_category_encoding_count_weights():
    w = RNG.uniform(size=IDS.shape)
    ours, ref = _both("CategoryEncoding", num_tokens=4, output_mode="count")
    assert_same(ours(IDS, count_weights=w), ref(IDS, count_weights=w))


@pytest.mark.parametrize("kwargs,ids,weights", [
    (dict(), None, None), (dict(num_tokens=0), None, None), (dict(num_tokens=3, output_mode="tf_idf"), None, None),
    (dict(num_tokens=3), np.array([[0, 5]]), None), (dict(num_tokens=3), IDS, np.ones(IDS.shape)),
])
def test_category_encoding_errors(kwargs, ids, weights):
    errors = []
    for lib in (cornu.layers, keras_ref.layers):
        try:
            layer = lib.CategoryEncoding(**kwargs)
            if ids is not None:
                layer(ids, count_weights=weights)
        except Exception as e:  # noqa: BLE001 - the class is what is compared
            errors.append(type(e))
        else:
            errors.append(None)
    assert errors[0] is not None and errors[0] == errors[1]


BINS = [-0.5, 0.0, 0.75]
DX = np.concatenate([RNG.uniform(-2, 2, (4, 6)), [[-0.5, 0.0, 0.75, np.inf, -np.inf, np.nan]]]).astype("float32")


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
@pytest.mark.parametrize("x", [DX, DX[0], DX.reshape(5, 6, 1), DX.reshape(5, 2, 3),
                               np.nan_to_num(DX * 2, posinf=9, neginf=-9).astype("int32")])
@pytest.mark.parametrize("dtype", [None, "float64"])
def test_discretization(mode, x, dtype):
    ours, ref = _both("Discretization", bin_boundaries=BINS, output_mode=mode, dtype=dtype)
    assert_same(ours(x), ref(x))
    assert ours.get_config() == {**ref.get_config(), "name": ours.name}
    if x.ndim <= 2:
        assert tuple(ours.compute_output_shape(x.shape)) == tuple(ref.compute_output_shape(x.shape))


@pytest.mark.parametrize("kwargs,call", [
    (dict(), None), (dict(num_bins=3, bin_boundaries=[1.0, 2.0]), None),
    (dict(bin_boundaries=[1.0], output_mode="x"), None), (dict(bin_boundaries=[1.0], sparse=True), None),
    (dict(bin_boundaries=[1.0], trainable=False), None),
    (dict(num_bins=3), lambda layer: layer(DX)), (dict(bin_boundaries=[1.0]), lambda layer: layer.adapt(DX)),
])
def test_discretization_errors(kwargs, call):
    errors = []
    for lib in (cornu.layers, keras_ref.layers):
        try:
            layer = lib.Discretization(**kwargs)
            if call is not None:
                call(layer)
        except Exception as e:  # noqa: BLE001 - the class is what is compared
            errors.append(type(e))
        else:
            errors.append(None)
    assert errors[0] is not None and errors[0] == errors[1]


def test_hashing_documented_examples_where_keras_can_run_it():
    """Keras's Hashing needs TensorFlow even on the torch backend; compare when it is there."""
    try:
        ref = keras_ref.layers.Hashing(num_bins=7, salt=[3, 4])
    except ImportError:
        pytest.skip("Keras's Hashing layer requires TensorFlow")
    x = np.array([["a", "bb"], ["", "a long string of more than sixty-four bytes, to hash in blocks ......"]])
    ours = cornu.layers.Hashing(num_bins=7, salt=[3, 4])
    assert_same(ours(x), ref(x))
    assert _config(ours) == _config(ref)


def test_hashed_crossing_where_keras_can_run_it():
    """Keras's HashedCrossing needs TensorFlow even on the torch backend; compare when it is there."""
    try:
        ref = keras_ref.layers.HashedCrossing(num_bins=9)
    except ImportError:
        pytest.skip("Keras's HashedCrossing layer requires TensorFlow")
    feats = (np.array(["a", "b", "c"]), np.array([1, -2, 3]))
    ours = cornu.layers.HashedCrossing(num_bins=9)
    assert_same(ours(feats), ref(feats))
    assert _config(ours) == _config(ref)


def test_saved_weights_with_encoding_layers_load_in_keras(tmp_path):
    def build(lib, layers):
        return lib.Sequential([lib.Input((3,)), layers.Discretization(bin_boundaries=BINS, output_mode="int"),
                               layers.CategoryEncoding(num_tokens=4, output_mode="count"), layers.Dense(2)])

    model = build(cornu, cornu.layers)
    path = str(tmp_path / "e.weights.h5")
    model.save_weights(path)
    ref = build(keras_ref, keras_ref.layers)
    ref.load_weights(path)
    x = DX[:, :3]
    assert_same(model(x), ref(x))
