"""Metric base, Mean, Sum and MeanMetricWrapper: streaming, weights, reset, config."""
import numpy as np
import pytest
import torch

from cornu import metrics

RNG = np.random.default_rng(1)


def test_mean_streams_over_batches_with_weights():
    batches = [RNG.normal(size=4), RNG.normal(size=3), RNG.normal(size=5)]
    weights = [RNG.uniform(size=4), None, RNG.uniform(size=5)]
    m = metrics.Mean(dtype="float64")
    for values, w in zip(batches, weights):
        m.update_state(values, sample_weight=w)
    full_w = np.concatenate([weights[0], np.ones(3), weights[2]])
    full_v = np.concatenate(batches)
    result = m.result()
    assert isinstance(result, torch.Tensor) and result.ndim == 0
    assert result.item() == pytest.approx((full_v * full_w).sum() / full_w.sum(), rel=1e-6)


def test_mean_reduces_extra_axes_per_sample():
    values = RNG.normal(size=(4, 3))
    w = RNG.uniform(size=4)
    m = metrics.Mean(dtype="float64")
    m.update_state(values, sample_weight=w)
    assert m.result().item() == pytest.approx((values.mean(1) * w).sum() / w.sum(), rel=1e-6)


def test_mean_of_scalars_and_empty_result():
    m = metrics.Mean()
    assert m.result().item() == 0.0
    m.update_state(torch.tensor(2.0))
    m.update_state(torch.tensor(5.0), sample_weight=2)
    assert m.result().item() == pytest.approx((2.0 + 10.0) / 3.0)


def test_sum_and_reset_state():
    m = metrics.Sum(dtype="float64")
    m.update_state([1.0, 2.0, 3.0])
    m.update_state([[4.0, 1.0]], sample_weight=[0.5])
    assert m.result().item() == pytest.approx(6.0 + 0.5 * 5.0)
    m.reset_state()
    assert m.result().item() == 0.0
    assert all(float(v.numpy().sum()) == 0.0 for v in m.variables)


def test_call_updates_then_returns_running_result():
    m = metrics.Mean()
    assert m([1.0, 3.0]).item() == pytest.approx(2.0)
    assert m([5.0]).item() == pytest.approx(3.0)


def test_result_is_not_a_live_view_of_state():
    m = metrics.Sum()
    first = m([1.0])
    m.update_state([2.0])
    assert first.item() == 1.0 and m.result().item() == 3.0


def test_variables_and_dtype():
    m = metrics.Mean(name="avg", dtype="float64")
    assert m.name == "avg" and m.dtype == "float64"
    assert [v.name for v in m.variables] == ["total", "count"]
    assert all(not v.trainable for v in m.variables)


def test_mean_metric_wrapper_with_kwargs_and_weights():
    def scaled_abs(y_true, y_pred, scale):
        return scale * torch.mean(torch.abs(y_true - y_pred), dim=-1)

    m = metrics.MeanMetricWrapper(scaled_abs, name="scaled", dtype="float64", scale=3.0)
    y1, p1 = RNG.normal(size=(4, 2)), RNG.normal(size=(4, 2))
    y2, p2 = RNG.normal(size=(2, 2)), RNG.normal(size=(2, 2))
    w2 = np.array([0.25, 2.0])
    m.update_state(y1, p1)
    m.update_state(y2, p2, sample_weight=w2)
    per = np.concatenate([3 * np.abs(y1 - p1).mean(-1), 3 * np.abs(y2 - p2).mean(-1)])
    w = np.concatenate([np.ones(4), w2])
    assert m.name == "scaled"
    assert m.result().item() == pytest.approx((per * w).sum() / w.sum(), rel=1e-6)
    assert m.get_config()["scale"] == 3.0


def test_custom_metric_with_add_variable_and_assign_add():
    class CountPositives(metrics.Metric):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.positives = self.add_variable((), "zeros", name="positives")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.positives.assign_add(torch.sum(torch.as_tensor(y_pred) > 0).float())

        def result(self):
            return self.positives.value.detach().clone()

    m = CountPositives()
    assert m.name == "count_positives"
    m.update_state(None, [1.0, -2.0, 3.0])
    m.update_state(None, [4.0])
    assert m.result().item() == 3.0
    m.reset_state()
    assert m.result().item() == 0.0


def test_config_roundtrip():
    m = metrics.Mean(name="loss_avg", dtype="float64")
    clone = metrics.Mean.from_config(m.get_config())
    assert clone.name == "loss_avg" and clone.dtype == "float64"
