"""keras.utils.PyDataset: batches by index, epoch hooks, threaded prefetch, training through fit."""
import threading

import numpy as np
import pytest

import cornu as keras


class Squares(keras.utils.PyDataset):
    def __init__(self, n_batches=5, batch_size=4, **kwargs):
        super().__init__(**kwargs)
        self.n_batches, self.batch_size = n_batches, batch_size
        self.epochs_ended = 0
        self.threads = set()

    def __len__(self):
        return self.n_batches

    def __getitem__(self, i):
        self.threads.add(threading.get_ident())
        x = np.arange(i * self.batch_size, (i + 1) * self.batch_size, dtype="float32").reshape(-1, 1)
        return x, 2 * x

    def on_epoch_end(self):
        self.epochs_ended += 1


@pytest.mark.parametrize("workers", [1, 3])
def test_fit_evaluate_predict_on_a_py_dataset(workers):
    ds = Squares(workers=workers)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.001), loss="mse")
    hist = model.fit(ds, epochs=3, verbose=0)
    assert len(hist.history["loss"]) == 3 and ds.epochs_ended == 3
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    preds = model.predict(ds, verbose=0)
    assert preds.shape == (20, 1)
    k, b = model.get_weights()
    np.testing.assert_allclose(preds[:, 0], np.arange(20) * k[0, 0] + b[0], rtol=1e-5)
    if workers > 1:
        assert threading.get_ident() not in ds.threads


def test_bad_arguments():
    with pytest.raises(ValueError, match="workers"):
        Squares(workers=0)
