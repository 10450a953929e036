"""Registered custom activations survive a save/load; a direct build() call is recorded for saving."""
import numpy as np
import torch

import cornu as keras


@keras.saving.register_keras_serializable(package="Tests")
def scaled_tanh(x):
    return 2.0 * torch.tanh(x)


def test_registered_activation_round_trips_through_a_keras_archive(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation=scaled_tanh)])
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.layers[0].activation is scaled_tanh
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_direct_build_call_marks_built_and_records_shape():
    layer = keras.layers.Dense(3)
    layer.build((None, 5))
    assert layer.built and layer.get_build_config() == {"input_shape": (None, 5)}
