"""InputLayer / Input: the input's dtype, the layer's policy, configs as Keras writes them."""
import numpy as np
import pytest

import cornu


def test_input_layer_dtype_policy_and_config():
    layer = cornu.layers.InputLayer(shape=(3,), dtype="int32", name="ids")
    assert layer.dtype == "int32" and layer.dtype_policy.name == "float32"
    assert layer.get_config() == {"batch_shape": (None, 3), "dtype": "int32", "sparse": False, "ragged": False,
                                  "name": "ids", "optional": False}
    assert cornu.Input((2,), dtype="int").dtype == "int32" and cornu.Input((2,), dtype=int).dtype == "int32"
    with pytest.raises(ValueError, match="Ragged"):
        cornu.layers.InputLayer(shape=(3,), ragged=True)


def test_bfloat16_outputs_and_weights_come_back_as_numpy():
    layer = cornu.layers.Dense(2, dtype="bfloat16")
    layer.build((None, 3))
    weights = layer.get_weights()
    assert weights[0].shape == (3, 2) and "bfloat16" in str(weights[0].dtype)
    model = cornu.Sequential([cornu.Input((3,)), cornu.layers.Dense(2, dtype="mixed_bfloat16")])
    out = model.predict(np.ones((4, 3), "float32"), verbose=0)
    assert out.shape == (4, 2) and "bfloat16" in str(out.dtype)


def test_clear_session_resets_the_global_policy():
    cornu.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        cornu.backend.clear_session()
        assert cornu.mixed_precision.global_policy().name == "float32"
    finally:
        cornu.mixed_precision.set_global_policy("float32")


def test_input_layer_matches_keras(keras_ref):
    ours = cornu.layers.InputLayer(shape=(3,), dtype="int32", name="ids")
    ref = keras_ref.layers.InputLayer(shape=(3,), dtype="int32", name="ids")
    assert ours.get_config() == ref.get_config()
    assert (ours.dtype, ours.dtype_policy.name) == (ref.dtype, ref.dtype_policy.name)
    assert cornu.Input((2,), dtype="int").dtype == keras_ref.Input((2,), dtype="int").dtype
