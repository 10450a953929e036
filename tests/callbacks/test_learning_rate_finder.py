"""LearningRateFinder / find_learning_rate: exact restore, geometric sweep, stop rule, suggestion."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import cornu as keras
from cornu.callbacks.learning_rate_finder import (
    LearningRateFinder,
    LRFinderResult,
    find_learning_rate,
    suggest_learning_rate,
)
from tests.helpers import assert_close

N, D = 128, 6


def _regression(seed: int = 0):
    """``y = X w`` with feature scales 0.5..2, so the MSE Hessian is well away from the identity."""
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(N, D)) * np.linspace(0.5, 2.0, D)).astype("float32")
    w = rng.normal(size=(D, 1)).astype("float32")
    return x, (x @ w).astype("float32")


def _max_stable_lr(x) -> float:
    """Full-batch gradient descent on ``mean((Xw - y)^2)`` converges iff ``lr < 2 / λmax(2 XᵀX / N)``."""
    x = x.astype(np.float64)
    return 2.0 / np.linalg.eigvalsh(2.0 / len(x) * x.T @ x).max()


def _linear_model(optimizer=None, seed: int = 1):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((D,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(optimizer=optimizer or keras.optimizers.SGD(), loss="mse")
    return model


def _mlp(optimizer, seed: int = 2):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((D,)),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def _optimizer_state(optimizer):
    return [np.array(v.numpy(), copy=True) for v in optimizer.variables]


@pytest.mark.parametrize("make_optimizer", [
    lambda: keras.optimizers.Adam(learning_rate=3e-3),
    lambda: keras.optimizers.Nadam(learning_rate=2e-3),
    lambda: keras.optimizers.SGD(learning_rate=1e-2, momentum=0.9, nesterov=True),
], ids=["adam", "nadam", "sgd_momentum"])
def test_restores_weights_and_optimizer_state_bit_exactly(make_optimizer):
    x, y = _regression()
    model = _mlp(make_optimizer())
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)  # non-zero slots, iterations == 4
    weights = [w.copy() for w in model.get_weights()]
    state = _optimizer_state(model.optimizer)
    lr, iterations = model.optimizer._learning_rate.host_value(), int(model.optimizer.iterations)
    history = model.history

    result = find_learning_rate(model, x, y, batch_size=16, start_lr=1e-5, end_lr=100.0, num_steps=30)

    assert len(result.losses) > 1
    for got, want in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(_optimizer_state(model.optimizer), state):
        np.testing.assert_array_equal(got, want)
    assert model.optimizer._learning_rate.host_value() == lr
    assert float(model.optimizer.learning_rate) == float(np.float32(lr))
    assert int(model.optimizer.iterations) == iterations
    assert model.history is history and not model.stop_training


def test_training_after_the_finder_matches_training_without_it():
    """Restored state is the whole state: the next epoch gives the same weights as an untouched twin."""
    x, y = _regression()
    a, b = _mlp(keras.optimizers.Adam(1e-2)), _mlp(keras.optimizers.Adam(1e-2))
    for model in (a, b):
        model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
    find_learning_rate(a, x, y, batch_size=32, num_steps=20)
    for model in (a, b):
        model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_schedule_is_put_back_after_the_sweep():
    x, y = _regression()
    schedule = keras.optimizers.schedules.OneCycle(0.1, total_steps=50)
    model = _linear_model(keras.optimizers.Adam(learning_rate=schedule))
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    find_learning_rate(model, x, y, batch_size=32, num_steps=12, end_lr=1.0)
    assert model.optimizer._learning_rate is schedule
    assert model.optimizer.learning_rate == schedule(4)


def test_learning_rates_are_exactly_geometric_and_reach_the_optimizer():
    x, y = _regression()
    model = _linear_model()
    seen = []
    spy = keras.callbacks.LambdaCallback(on_train_batch_begin=lambda batch, logs: seen.append(
        model.optimizer._learning_rate.host_value()))
    finder = LearningRateFinder(start_lr=1e-6, end_lr=1e-1, num_steps=25)
    model.fit(x, y, batch_size=32, epochs=25, verbose=0, callbacks=[finder, spy])
    want = 1e-6 * (1e-1 / 1e-6) ** (np.arange(25) / 24.0)
    assert_close(finder.learning_rates, want, rtol=1e-13, atol=0)
    assert_close(finder.learning_rates, np.geomspace(1e-6, 1e-1, 25), rtol=1e-12, atol=0)
    ratios = np.diff(np.log(finder.learning_rates))
    assert_close(ratios, np.full(24, np.log(1e5) / 24), rtol=1e-9, atol=0)
    assert finder.learning_rates[0] == 1e-6 and finder.learning_rates[-1] == pytest.approx(1e-1, rel=1e-15)
    assert seen == finder.learning_rates  # the rate each batch trained with; 25 steps over 7 epochs of 4 batches


def test_smoothed_loss_is_the_bias_corrected_moving_average():
    x, y = _regression()
    finder = LearningRateFinder(start_lr=1e-4, end_lr=1e-1, num_steps=15, beta=0.9)
    _linear_model().fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False, callbacks=[finder])
    average, want = 0.0, []
    for i, loss in enumerate(finder.raw_losses):
        average = 0.9 * average + 0.1 * loss
        want.append(average / (1 - 0.9 ** (i + 1)))
    assert_close(finder.losses, want, rtol=1e-12, atol=0)
    # raw losses are each batch's own mean squared error before its update, not the epoch's running mean
    model = _linear_model()
    first = model.predict(x[:16], verbose=0)
    assert finder.raw_losses[0] == pytest.approx(np.mean((first.astype(np.float64) - y[:16]) ** 2), rel=1e-5)


def test_early_stop_on_divergence():
    x, y = _regression()
    model = _linear_model()
    result = find_learning_rate(model, x, y, batch_size=N, start_lr=1e-3, end_lr=1e3, num_steps=100)
    losses = np.asarray(result.losses)
    assert 10 < len(losses) < 100
    assert losses[-1] > 4.0 * losses[:-1].min() or not np.isfinite(losses[-1])
    running_best = np.minimum.accumulate(losses[:-1])
    assert np.all(losses[1:-1] <= 4.0 * running_best[:-1])  # it stopped at the first point breaking the rule
    assert result.learning_rates[-1] > _max_stable_lr(x)


def test_stop_factor_is_the_rule():
    x, y = _regression()
    short = find_learning_rate(_linear_model(), x, y, batch_size=N, start_lr=1e-3, end_lr=1e3, stop_factor=1.5)
    long = find_learning_rate(_linear_model(), x, y, batch_size=N, start_lr=1e-3, end_lr=1e3, stop_factor=50.0)
    assert len(short.losses) < len(long.losses)
    assert short.losses[-1] > 1.5 * min(short.losses[:-1])


def test_non_finite_loss_stops_and_restores():
    x, y = _regression()
    model = _linear_model()
    before = model.get_weights()
    result = find_learning_rate(model, x * 1e3, y * 1e3, batch_size=N, start_lr=1.0, end_lr=1e20, num_steps=50,
                                stop_factor=1e30)
    assert not np.isfinite(result.losses[-1]) and len(result.losses) < 50
    np.testing.assert_array_equal(model.get_weights()[0], before[0])


def test_suggestion_lies_in_the_converging_range_of_linear_regression():
    x, y = _regression()
    lr_max = _max_stable_lr(x)
    result = find_learning_rate(_linear_model(), x, y, batch_size=N, start_lr=1e-4, end_lr=10.0, num_steps=100)
    assert lr_max / 100 < result.suggestion < lr_max
    # gradient descent at the suggested rate (float64 NumPy) converges: the loss falls every step
    w = np.zeros((D, 1))
    losses = []
    for _ in range(30):
        residual = x.astype(np.float64) @ w - y
        losses.append(np.mean(residual**2))
        w -= result.suggestion * 2.0 / N * x.T.astype(np.float64) @ residual
    assert np.all(np.diff(losses) < 0) and losses[-1] < 0.5 * losses[0]


def test_suggest_learning_rate_finds_the_steepest_point_and_skips_the_ends():
    lrs = np.geomspace(1e-5, 1.0, 101)
    centre = -2.5  # steepest descent of -tanh at log10(lr) == centre, a grid point
    losses = 2.0 - np.tanh(3.0 * (np.log10(lrs) - centre))
    assert suggest_learning_rate(list(lrs), list(losses)) == pytest.approx(10**centre, rel=1e-12)
    losses[3] = losses[2] - 50.0  # a cliff inside the skipped start is ignored
    losses[-1] = -1e9  # and so is the last point
    assert suggest_learning_rate(list(lrs), list(losses)) == pytest.approx(10**centre, rel=1e-12)
    losses[60] = np.nan
    assert suggest_learning_rate(list(lrs), list(losses)) == pytest.approx(10**centre, rel=1e-12)
    assert suggest_learning_rate(list(lrs[:11]), list(losses[:11])) is None


def test_plot_marks_the_suggestion_on_a_log_axis():
    plt = pytest.importorskip("matplotlib.pyplot")
    result = LRFinderResult([1e-3, 1e-2, 1e-1], [1.0, 0.5, 2.0], [1.0, 0.4, 3.0], suggestion=1e-2)
    ax = result.plot()
    assert ax.get_xscale() == "log"
    lines = ax.get_lines()
    np.testing.assert_array_equal(lines[0].get_xdata(), [1e-3, 1e-2, 1e-1])
    np.testing.assert_array_equal(lines[1].get_xdata(), [1e-2])
    np.testing.assert_array_equal(lines[1].get_ydata(), [0.5])
    plt.close(ax.figure)


def test_plot_without_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"cornu\[plot\]"):
        LRFinderResult([1e-3], [1.0]).plot()


def test_builds_an_unbuilt_model_first():
    x, y = _regression()
    model = keras.Sequential([keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    result = find_learning_rate(model, x, y, batch_size=32, num_steps=10, end_lr=1e-2)
    assert len(result.losses) == 10 and len(model.weights) == 2


@pytest.mark.parametrize("kwargs,error", [
    ({"start_lr": 0.0}, ValueError),
    ({"start_lr": 1.0, "end_lr": 0.5}, ValueError),
    ({"num_steps": 1}, ValueError),
    ({"num_steps": 10.0}, TypeError),
    ({"beta": 1.0}, ValueError),
    ({"stop_factor": 1.0}, ValueError),
])
def test_bad_arguments(kwargs, error):
    name = next(iter(kwargs))
    with pytest.raises(error, match=name):
        LearningRateFinder(**kwargs)


def test_config_round_trip():
    finder = LearningRateFinder(start_lr=1e-6, end_lr=1.0, num_steps=50, beta=0.9, stop_factor=3.0)
    config = finder.get_config()
    assert config == {"start_lr": 1e-6, "end_lr": 1.0, "num_steps": 50, "beta": 0.9, "stop_factor": 3.0,
                      "restore": True}
    assert LearningRateFinder.from_config(config).get_config() == config


def test_batch_losses_match_keras_trained_with_the_same_rates(keras_ref):
    """Keras 3 trained with the same weights, batches and per-batch rates sees the same batch losses."""
    x, y = _regression()
    model = _mlp(keras.optimizers.SGD(momentum=0.5))
    weights = model.get_weights()
    finder = LearningRateFinder(start_lr=1e-4, end_lr=0.1, num_steps=8, restore=False)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False, callbacks=[finder])

    ref = keras_ref.Sequential([
        keras_ref.Input((D,)),
        keras_ref.layers.Dense(8, activation="relu"),
        keras_ref.layers.BatchNormalization(),
        keras_ref.layers.Dense(1),
    ])
    ref.compile(optimizer=keras_ref.optimizers.SGD(momentum=0.5), loss="mse")
    ref.set_weights(weights)
    means = []

    class SetRate(keras_ref.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.model.optimizer.learning_rate = finder.learning_rates[batch]

        def on_train_batch_end(self, batch, logs=None):
            means.append(logs["loss"])

    ref.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False, callbacks=[SetRate()])
    # Keras logs the epoch's running mean; batch k's own loss is (k+1) m_k - k m_{k-1}
    means = np.asarray(means, dtype=np.float64)
    batch_losses = means * np.arange(1, 9) - np.concatenate([[0.0], means[:-1] * np.arange(1, 8)])
    assert_close(finder.raw_losses, batch_losses, rtol=1e-4, atol=1e-6)
    for got, want in zip(model.get_weights(), ref.get_weights()):
        assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_model_method_and_namespace_exports():
    import cornu

    model = cornu.Sequential([cornu.Input((3,)), cornu.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    rng = np.random.default_rng(0)
    result = model.find_learning_rate(rng.random((64, 3), dtype=np.float32), rng.random((64, 1), dtype=np.float32),
                                      num_steps=20, batch_size=8)
    assert isinstance(result, cornu.callbacks.LRFinderResult) and result.suggestion > 0
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert cornu.callbacks.find_learning_rate is not None and cornu.callbacks.LearningRateFinder is not None
