"""Models and custom objects shared by the saving tests."""
import numpy as np
import pytest

import cornu as keras
from cornu.saving import register_keras_serializable


@register_keras_serializable(package="SavingTests")
class ScaledDense(keras.layers.Layer):
    """A custom layer with a trainable kernel and a non-trainable scale."""

    def __init__(self, units: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.scale = self.add_weight(shape=(), initializer="ones", trainable=False, name="scale")

    def call(self, x):
        return (x @ self.kernel) * self.scale

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@register_keras_serializable(package="SavingTests")
class TwoBlockNet(keras.Model):
    """A subclassed model with an attribute layer and a list of layers."""

    def __init__(self, hidden: int = 5, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.encoder = keras.layers.Dense(hidden, activation="relu")
        self.blocks = [ScaledDense(3), keras.layers.Dense(1)]

    def call(self, x):
        x = self.encoder(x)
        for block in self.blocks:
            x = block(x)
        return x

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden}


def tutorial_cnn(dropout: bool = True) -> keras.Model:
    layers = [keras.Input((12, 12, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
              keras.layers.MaxPooling2D(), keras.layers.Flatten()]
    if dropout:
        layers.append(keras.layers.Dropout(0.5))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    return keras.Sequential(layers)


def mlp(names=("first", "second"), use_bias: bool = True) -> keras.Model:
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name=names[0], use_bias=use_bias),
                             keras.layers.Dense(2, name=names[1])])


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    return rng.random((16, 12, 12, 1), dtype=np.float32), rng.integers(0, 10, 16)


@pytest.fixture
def vectors():
    rng = np.random.default_rng(1)
    return rng.random((16, 4), dtype=np.float32), rng.random((16, 1), dtype=np.float32)


@pytest.fixture
def scaled_dense():
    return ScaledDense


@pytest.fixture
def two_block_net():
    return TwoBlockNet


@pytest.fixture
def make_cnn():
    return tutorial_cnn


@pytest.fixture
def make_mlp():
    return mlp
