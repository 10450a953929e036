"""SwapEMAWeights: evaluation on the EMA weights, checked against a float64 NumPy replay of SGD + EMA."""
from __future__ import annotations

import numpy as np
import pytest

import cornu as keras
from tests.helpers import assert_close

X = np.array([[1.0, 2.0], [3.0, 4.0], [-1.0, 0.5]], "float32")
Y = np.array([[0.0], [1.0], [0.5]], "float32")
LR, MOMENTUM = 0.1, 0.5


def _model(use_ema: bool = True) -> keras.Model:
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")])
    model.compile(optimizer=keras.optimizers.SGD(LR, use_ema=use_ema, ema_momentum=MOMENTUM), loss="mse")
    return model


def _replay(epochs: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weights, EMA) after each epoch of per-sample SGD on the MSE, EMA taken after each update."""
    w = np.ones(2)
    ema = None
    out = []
    for _ in range(epochs):
        for x, y in zip(X.astype(np.float64), Y[:, 0].astype(np.float64)):
            w = w - LR * 2.0 * (x @ w - y) * x
            ema = w.copy() if ema is None else MOMENTUM * ema + (1 - MOMENTUM) * w
        out.append((w.copy(), ema.copy()))
    return out


def _mse(w: np.ndarray) -> float:
    return float(np.mean((X.astype(np.float64) @ w - Y[:, 0]) ** 2))


def _kernel(model) -> np.ndarray:
    return model.layers[0].kernel.numpy().ravel()


def _average(model) -> np.ndarray:
    return model.optimizer._averages[0].numpy().ravel()


class _Spy(keras.callbacks.Callback):
    """Records the model kernel and the optimizer's average at each hook (placed after SwapEMAWeights)."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def _record(self, hook):
        average = _average(self.model) if self.model.optimizer._averages else None
        self.seen.append((hook, _kernel(self.model), average))

    def on_epoch_begin(self, epoch, logs=None):
        self._record(f"epoch_begin {epoch}")

    def on_test_begin(self, logs=None):
        self._record("test_begin")

    def on_test_end(self, logs=None):
        self._record("test_end")

    def on_epoch_end(self, epoch, logs=None):
        self._record(f"epoch_end {epoch}")


def _fit(model, swap_on_epoch: bool, epochs: int = 3):
    spy = _Spy()
    history = model.fit(X, Y, epochs=epochs, batch_size=1, shuffle=False, validation_data=(X, Y), verbose=0,
                        callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=swap_on_epoch), spy])
    return history, {hook: (k, a) for hook, k, a in spy.seen if "test" not in hook}, spy.seen


def test_validation_runs_on_ema_weights():
    model = _model()
    history, _, seen = _fit(model, swap_on_epoch=False)
    replay = _replay(3)
    assert_close(history.history["val_loss"], [_mse(ema) for _, ema in replay])
    tests = [(k, a) for hook, k, a in seen if hook.startswith("test")]
    for epoch, (w, ema) in enumerate(replay):
        (begin_kernel, begin_avg), (end_kernel, end_avg) = tests[2 * epoch], tests[2 * epoch + 1]
        assert_close(begin_kernel, ema)  # evaluated on the EMA
        assert_close(begin_avg, w)  # swapped in place: the training weights wait in the average slot
        assert_close(end_kernel, w)  # and come back afterwards
        assert_close(end_avg, ema)
    assert_close(_kernel(model), replay[-1][1])  # fit ends on the EMA weights (finalize_variable_values)


def test_swap_on_epoch_holds_ema_between_epochs():
    model = _model()
    _, hooks, _ = _fit(model, swap_on_epoch=True)
    replay = _replay(3)
    for epoch in (0, 1):
        w, ema = replay[epoch]
        assert_close(hooks[f"epoch_end {epoch}"][0], ema)
        assert_close(hooks[f"epoch_end {epoch}"][1], w)
        assert_close(hooks[f"epoch_begin {epoch + 1}"][0], w)  # training resumes on the training weights
        assert_close(hooks[f"epoch_begin {epoch + 1}"][1], ema)
    last_kernel, last_average = hooks["epoch_end 2"]
    assert_close(last_kernel, replay[2][1])  # the last epoch copies the EMA in rather than swapping
    assert_close(last_average, replay[2][1])
    assert_close(_kernel(model), replay[2][1])


def test_swap_on_epoch_keeps_ema_when_training_is_stopped_early():
    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    model = _model()
    model.fit(X, Y, epochs=3, batch_size=1, shuffle=False, verbose=0,
              callbacks=[Stop(), keras.callbacks.SwapEMAWeights(swap_on_epoch=True)])
    assert_close(_kernel(model), _replay(1)[0][1])


def test_evaluate_and_predict_use_ema_then_restore():
    model = _model()
    model.fit(X, Y, epochs=1, batch_size=1, shuffle=False, verbose=0)
    ema = _replay(1)[0][1]
    moved = np.array([[5.0], [-6.0]], "float32")
    model.layers[0].kernel.assign(moved)
    loss = model.evaluate(X, Y, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])
    assert_close(loss, _mse(ema))
    assert_close(_kernel(model), moved.ravel())
    assert_close(_average(model), ema)
    predictions = model.predict(X, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])
    assert_close(predictions, X.astype(np.float64) @ ema[:, None])
    assert_close(_kernel(model), moved.ravel())


def test_unbuilt_optimizer_leaves_weights_alone():
    model = _model()
    expected = model.evaluate(X, Y, verbose=0)
    assert_close(model.evaluate(X, Y, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()]), expected)
    assert_close(expected, _mse(np.ones(2)))


def test_requires_use_ema():
    model = _model(use_ema=False)
    model.fit(X, Y, epochs=1, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])  # nothing to swap yet
    with pytest.raises(ValueError, match="use_ema=False"):
        model.evaluate(X, Y, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])


def test_get_config_round_trip():
    callback = keras.callbacks.SwapEMAWeights(swap_on_epoch=True)
    assert callback.get_config() == {"swap_on_epoch": True}
    assert keras.callbacks.SwapEMAWeights.from_config(callback.get_config()).swap_on_epoch is True
