"""Regression metrics streamed over several batches vs NumPy."""
import numpy as np
import pytest

from cornu import metrics

RNG = np.random.default_rng(3)
EPS = 1e-7

BATCHES = [(RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3)), RNG.uniform(size=5)),
           (RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3)), None)]


def _stream(metric):
    for y, p, w in BATCHES:
        metric.update_state(y, p, sample_weight=w)
    return metric.result().item()


def _weighted_mean(per_sample_fn):
    per = np.concatenate([per_sample_fn(y, p) for y, p, _ in BATCHES])
    w = np.concatenate([np.ones(len(y)) if w is None else w for y, _, w in BATCHES])
    return (per * w).sum() / w.sum()


@pytest.mark.parametrize("cls, fn", [
    (metrics.MeanSquaredError, lambda y, p: ((y - p) ** 2).mean(-1)),
    (metrics.MeanAbsoluteError, lambda y, p: np.abs(y - p).mean(-1)),
    (metrics.MeanAbsolutePercentageError, lambda y, p: 100 * np.abs((y - p) / np.maximum(np.abs(y), EPS)).mean(-1)),
    (metrics.MeanSquaredLogarithmicError,
     lambda y, p: ((np.log1p(np.maximum(p, EPS)) - np.log1p(np.maximum(y, EPS))) ** 2).mean(-1)),
    (metrics.LogCoshError, lambda y, p: np.log(np.cosh(p - y)).mean(-1)),
    (metrics.CosineSimilarity,
     lambda y, p: (y * p).sum(-1) / (np.linalg.norm(y, axis=-1) * np.linalg.norm(p, axis=-1))),
])
def test_mean_regression_metrics(cls, fn):
    assert _stream(cls(dtype="float64")) == pytest.approx(_weighted_mean(fn), rel=1e-6)


def test_root_mean_squared_error():
    m = metrics.RootMeanSquaredError(dtype="float64")
    expected = np.sqrt(_weighted_mean(lambda y, p: ((y - p) ** 2).mean(-1)))
    assert _stream(m) == pytest.approx(expected, rel=1e-6)
    m.reset_state()
    assert m.result().item() == 0.0


def test_r2_score():
    y = RNG.normal(size=(12, 2))
    p = y + 0.3 * RNG.normal(size=(12, 2))
    m = metrics.R2Score(dtype="float64")
    m.update_state(y[:5], p[:5])
    m.update_state(y[5:], p[5:])
    ss_res = ((y - p) ** 2).sum(0)
    ss_tot = ((y - y.mean(0)) ** 2).sum(0)
    per_output = 1 - ss_res / ss_tot
    assert m.result().item() == pytest.approx(per_output.mean(), rel=1e-5)
    none = metrics.R2Score(class_aggregation=None, dtype="float64")
    np.testing.assert_allclose(none(y, p).numpy(), per_output, rtol=1e-5)
    adjusted = metrics.R2Score(num_regressors=2, dtype="float64")(y, p).item()
    n = y.size  # Keras counts every entry (12 rows x 2 outputs) as a sample for the adjustment
    assert adjusted == pytest.approx(1 - (1 - per_output.mean()) * (n - 1) / (n - 2 - 1), rel=1e-5)
    constant = metrics.R2Score(class_aggregation=None, dtype="float64")(np.ones((4, 2)), p[:4])
    np.testing.assert_array_equal(constant.numpy(), [0.0, 0.0])  # residual / 0 = inf, reported as 0
    empty = metrics.R2Score(dtype="float64")
    empty.update_state(y, p)
    empty.reset_state()
    assert np.isnan(empty.result().item())  # no data: 0 / 0, as Keras
    with pytest.raises(ValueError, match="2D"):
        metrics.R2Score()(y[:, 0], p[:, 0])
    with pytest.raises(ValueError, match="class_aggregation"):
        metrics.R2Score(class_aggregation="median")
