"""NASNetMobile / NASNetLarge: Keras's layer count, names, parameter counts and argument checks.

Keras 3.15.1 refuses to build NASNet on its torch backend, so there is no ``keras_ref`` test here: the
expected figures below (layer counts, first/last names, variable paths, parameter counts) were read
from Keras 3.15.1 on the JAX backend, whose full ``get_config()`` and layer list cornu's matched exactly.
"""
import numpy as np
import pytest

import cornu
from cornu import layers
from cornu.applications import nasnet
from tests.helpers import assert_close, f64, random_array

MOBILE_PARAMS = 5_326_716
MOBILE_WIDTH = 1056  # penultimate_filters of NASNet-A Mobile


@pytest.fixture(scope="module")
def mobile():
    cornu.backend.clear_session()  # auto-generated layer names (activation, input_layer) count from zero, as Keras's
    return nasnet.NASNetMobile(weights=None, input_shape=(32, 32, 3))


def test_mobile_structure_as_keras(mobile):
    assert len(mobile.layers) == 771
    assert mobile.count_params() == MOBILE_PARAMS
    names = [l.name for l in mobile.layers]
    assert names[:4] == ["input_layer", "stem_conv1", "stem_bn1", "activation"]
    assert names[-3:] == ["activation_187", "global_average_pooling2d", "predictions"]
    assert mobile.output_shape == (None, 1000)
    assert mobile.get_layer("normal_concat_12").output.shape == (None, 1, 1, MOBILE_WIDTH)
    assert mobile.get_layer("reduction_concat_stem_1").output.shape == (None, 8, 8, 44)
    paths = [w.path for w in mobile.weights]
    assert paths[:2] == ["stem_conv1/kernel", "stem_bn1/gamma"]
    assert "reduction_A_block_stem_1/reduction_conv_1_stem_1/kernel" in paths
    assert len(paths) == 1126


def test_mobile_parameter_count_without_top_is_the_dense_less():
    model = nasnet.NASNetMobile(weights=None, include_top=False, pooling="max", input_shape=(32, 32, 3))
    assert model.count_params() == MOBILE_PARAMS - (MOBILE_WIDTH * 1000 + 1000)
    assert isinstance(model.layers[-1], layers.GlobalMaxPooling2D)
    assert model.output_shape == (None, MOBILE_WIDTH)


def test_predict_and_weights_round_trip(mobile, tmp_path):
    x = random_array((2, 32, 32, 3), low=-1.0, high=1.0)
    probs = mobile.predict(x, verbose=0)
    assert probs.shape == (2, 1000)
    assert_close(probs.sum(axis=1), np.ones(2), rtol=1e-5)
    path = str(tmp_path / "nasnet.weights.h5")
    mobile.save_weights(path)
    loaded = nasnet.NASNetMobile(weights=path, input_shape=(32, 32, 3))
    assert_close(loaded.predict(x, verbose=0), probs)


def test_preprocess_input_is_tf_mode():
    x = random_array((2, 4, 4, 3), low=0.0, high=255.0)
    assert_close(nasnet.preprocess_input(x.copy()), f64(x) / 127.5 - 1.0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="classes=10"):
        nasnet.NASNetMobile(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="at least 32x32"):
        nasnet.NASNetMobile(weights=None, include_top=False, input_shape=(31, 31, 3))
    with pytest.raises(ValueError, match=r"must be static .*\(None, None, 3\)"):
        nasnet.NASNetMobile(weights="imagenet", include_top=False, input_shape=(None, None, 3))
    with pytest.raises(ValueError, match=r"should be \(224, 224, 3\)"):
        nasnet.NASNetMobile(weights="imagenet", input_shape=(32, 32, 3))
    with pytest.raises(ValueError, match=r"should be \(331, 331, 3\)"):
        nasnet.NASNetLarge(weights="imagenet", input_shape=(224, 224, 3))
    with pytest.raises(ValueError, match="penultimate_filters"):
        nasnet.NASNet((32, 32, 3), penultimate_filters=100, weights=None)


@pytest.mark.slow
def test_large_structure_as_keras():
    cornu.backend.clear_session()
    model = nasnet.NASNetLarge(weights=None, input_shape=(32, 32, 3))
    assert len(model.layers) == 1041
    assert model.count_params() == 88_949_818
    assert [l.name for l in model.layers[-2:]] == ["global_average_pooling2d", "predictions"]
    assert model.get_layer("normal_concat_18").output.shape == (None, 1, 1, 4032)
