"""Sequential: construction, add/pop, shape errors at add(), summary, count_params, weights."""
import json
import re

import numpy as np
import pytest

import cornu as keras
from cornu import layers


def tutorial_model():
    return keras.models.Sequential([
        layers.Conv2D(filters=32, kernel_size=(3, 3), activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(units=128, activation="relu"),
        layers.Dropout(rate=0.5),
        layers.Dense(units=10, activation="softmax"),
    ])


def test_tutorial_model_shapes_and_params():
    model = tutorial_model()
    assert model.built
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert [l.output.shape for l in model.layers] == [
        (None, 26, 26, 32), (None, 13, 13, 32), (None, 5408), (None, 128), (None, 128), (None, 10)]
    # 3*3*1*32+32, 5408*128+128, 128*10+10
    assert model.count_params() == 320 + 692352 + 1290


def test_conv_after_softmax_is_rejected_at_add_time_like_keras():
    model = tutorial_model()
    n = len(model.layers)
    with pytest.raises(ValueError) as err:
        model.add(layers.Conv2D(filters=32, kernel_size=(3, 3), activation="relu"))
    msg = str(err.value)
    assert re.search(r'layer "conv2d_\d+" is incompatible', msg)
    assert "expected ndim=4, found ndim=2" in msg and "(None, 10)" in msg
    assert len(model.layers) == n  # the rejected layer is not kept: the model still trains


def test_add_without_input_shape_builds_on_first_call_and_pop():
    model = keras.Sequential()
    model.add(layers.Dense(4, activation="relu"))
    model.add(layers.Dense(2))
    assert not model.built
    out = model.predict(np.ones((3, 5), "float32"), verbose=0)
    assert out.shape == (3, 2) and model.built
    assert model.output_shape == (3, 2)  # built from data: Keras keeps the first batch's size
    assert model.predict(np.ones((7, 5), "float32"), verbose=0).shape == (7, 2)  # other sizes still run
    popped = model.pop()
    assert isinstance(popped, layers.Dense) and popped.units == 2
    assert len(model.layers) == 1


def test_add_rejects_non_layers_and_accepts_input():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    assert model.output_shape == (None, 2)
    with pytest.raises(ValueError, match="Only instances of `keras.Layer`"):
        model.add("dense")


def test_summary_matches_keras_table(capsys):
    tutorial_model().summary()
    out = capsys.readouterr().out
    assert out.startswith('Model: "sequential')
    assert "┃ Layer (type)" in out and "Output Shape" in out and "Param #" in out
    assert re.search(r"│ conv2d(_\d+)? \(Conv2D\)\s+│ \(None, 26, 26, 32\)\s+│\s+320 │", out)
    assert re.search(r"│ dense(_\d+)? \(Dense\)\s+│ \(None, 128\)\s+│\s+692,352 │", out)
    assert "Total params: 693,962 (2.65 MB)" in out
    assert "Trainable params: 693,962 (2.65 MB)" in out
    assert "Non-trainable params: 0 (0.00 B)" in out


def test_get_and_set_weights_round_trip_in_keras_layouts():
    model = tutorial_model()
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(3, 3, 1, 32), (32,), (5408, 128), (128,), (128, 10), (10,)]
    rng = np.random.default_rng(0)
    new = [rng.normal(size=s).astype("float32") for s in shapes]
    model.set_weights(new)
    for a, b in zip(model.get_weights(), new):
        np.testing.assert_array_equal(a, b)


def test_same_seed_gives_same_weights():
    keras.utils.set_random_seed(7)
    a = tutorial_model().get_weights()
    keras.utils.set_random_seed(7)
    b = tutorial_model().get_weights()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("how", ["call", "fit", "predict", "build"])
def test_batch_size_kept_when_built_from_data_like_keras(keras_ref, how):
    """``model(x)``, ``fit`` and ``predict`` build a Sequential model from data: Keras writes the batch size
    they saw in the input layer and the build config; ``build((None, ...))`` keeps None."""
    def built(k):
        k.backend.clear_session()
        model = k.Sequential([k.layers.Dense(4, name="d1"), k.layers.Dense(2, name="d2")], name="s")
        x, y = np.zeros((32, 8), "float32"), np.zeros((32, 2), "float32")
        if how == "call":
            model(x)
        elif how == "fit":
            model.compile(optimizer="adam", loss="mse")
            model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        elif how == "predict":
            model.predict(x, batch_size=8, verbose=0)
        else:
            model.build((None, 8))
        config = model.get_config()
        return config["layers"][0], model.get_build_config(), tuple(model.input_shape), tuple(model.output_shape)

    ours, theirs = json.loads(json.dumps(built(keras))), json.loads(json.dumps(built(keras_ref)))
    assert ours == theirs
