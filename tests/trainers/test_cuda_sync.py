"""On CUDA, the training loop reads nothing back to the host between epoch ends."""
import warnings

import numpy as np
import pytest
import torch

import cornu as keras
from cornu import layers

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


class SyncWatch(keras.callbacks.Callback):
    """Turns torch's sync detector on for the steps of each epoch (not the epoch-end read-out)."""

    _accepts_tensor_logs = True

    def __init__(self, steps):
        super().__init__()
        self.steps = steps

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0:
            torch.cuda.set_sync_debug_mode("error")  # any host sync now raises

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.steps - 1:
            torch.cuda.set_sync_debug_mode("default")


def test_fit_steps_do_not_synchronize_with_the_host():
    previous = keras.config.device()
    keras.config.set_device("cuda")
    try:
        rng = np.random.default_rng(0)
        x = rng.random((512, 12, 12, 1), dtype=np.float32)
        y = keras.utils.to_categorical(rng.integers(0, 10, 512), 10)
        model = keras.Sequential([keras.Input((12, 12, 1)), layers.Conv2D(8, 3, activation="relu"),
                                  layers.MaxPooling2D(), layers.Flatten(), layers.Dropout(0.5),
                                  layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss=keras.losses.categorical_crossentropy, metrics=["accuracy"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch notes that its sync detector is a prototype
            hist = model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[SyncWatch(16)])
        assert len(hist.history["loss"]) == 2
    finally:
        torch.cuda.set_sync_debug_mode("default")
        keras.config.set_device(previous)
