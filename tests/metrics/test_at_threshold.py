"""PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity vs NumPy."""
import numpy as np
import pytest
import torch

from cornu import metrics
from tests.helpers import assert_close, f64, no_host_sync, seeded


def np_thresholds(num_thresholds):
    if num_thresholds == 1:
        return np.array([0.5])
    return np.linspace(0.0, 1.0, num_thresholds)


def np_counts(y, p, w, thresholds):
    """Weighted tp/fp/tn/fn per threshold; predictions clipped to [0, 1], labels positive when non-zero."""
    y, p, w = (f64(a).ravel() for a in np.broadcast_arrays(y, p, w))
    above = np.clip(p, 0, 1)[:, None] > thresholds[None, :]
    pos = (y != 0)[:, None]
    w = w[:, None]
    return (w * (above & pos)).sum(0), (w * (above & ~pos)).sum(0), (w * (~above & ~pos)).sum(0), \
        (w * (~above & pos)).sum(0)


def ratio(a, b):
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


def np_best(constrained, dependent, value):
    """Largest ``dependent`` where ``constrained >= value`` (0 when no threshold qualifies)."""
    return max(0.0, np.where(constrained >= value, dependent, 0.0).max())


def np_result(name, value, tp, fp, tn, fn):
    sensitivity, specificity, precision = ratio(tp, tp + fn), ratio(tn, tn + fp), ratio(tp, tp + fp)
    pairs = {"SensitivityAtSpecificity": (specificity, sensitivity),
             "SpecificityAtSensitivity": (sensitivity, specificity),
             "PrecisionAtRecall": (sensitivity, precision),
             "RecallAtPrecision": (precision, sensitivity)}
    return np_best(*pairs[name], value)


NAMES = ["SensitivityAtSpecificity", "SpecificityAtSensitivity", "PrecisionAtRecall", "RecallAtPrecision"]


def data(n=90, labels=1, seed=0):
    rng = seeded(seed)
    y = rng.integers(0, 2, (n, labels))
    # Scores correlated with the labels, with a few outside [0, 1].
    p = np.clip(0.35 * y + rng.uniform(-0.1, 0.75, (n, labels)), -0.2, 1.2)
    return y, p, rng.uniform(0.2, 1.5, (n, 1))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("value, num_thresholds", [(0.5, 200), (0.8, 7), (0.3, 1), (1.0, 50), (0.0, 3)])
def test_streaming_weighted_result_matches_reference(name, value, num_thresholds):
    y, p, w = data()
    m = getattr(metrics, name)(value, num_thresholds=num_thresholds, dtype="float64")
    for sl in (slice(0, 30), slice(30, 31), slice(31, 90)):
        m.update_state(y[sl], p[sl], sample_weight=w[sl])
    counts = np_counts(y, p, w, np_thresholds(num_thresholds))
    for var, expected in zip((m.true_positives, m.false_positives, m.true_negatives, m.false_negatives), counts):
        assert_close(var.value, expected, rtol=1e-5, atol=1e-5)  # float32 state, as Keras
    assert_close(m.result(), np_result(name, value, *counts), rtol=1e-5)
    m.reset_state()
    assert float(m.result()) == 0.0 and all(float(v.value.sum()) == 0.0 for v in m.variables)
    m.update_state(y[:20], p[:20])
    assert_close(m.result(), np_result(name, value, *np_counts(y[:20], p[:20], 1.0, np_thresholds(num_thresholds))))


@pytest.mark.parametrize("name", NAMES)
def test_class_id_selects_one_label(name):
    y, p, w = data(40, labels=3, seed=1)
    m = getattr(metrics, name)(0.6, num_thresholds=20, class_id=2, dtype="float64")
    m.update_state(y, p, sample_weight=w[:, 0])
    counts = np_counts(y[:, 2], p[:, 2], w[:, 0], np_thresholds(20))
    assert_close(m.result(), np_result(name, 0.6, *counts), rtol=1e-5)


def test_predictions_on_thresholds_and_outside_the_unit_interval():
    m = metrics.SensitivityAtSpecificity(0.5, num_thresholds=5)
    m.update_state([1, 0, 1, 0, 1, 1], [0.0, 0.25, 0.5, 1.5, 2.0, -0.5])
    # A prediction exactly on a threshold is not above it; 1.5 and 2.0 count as 1.0, -0.5 as 0.0.
    counts = np_counts(np.array([1, 0, 1, 0, 1, 1]), np.array([0.0, 0.25, 0.5, 1.5, 2.0, -0.5]), 1.0,
                       np_thresholds(5))
    for var, expected in zip(m.variables, counts):
        assert_close(var.value, expected)


def test_no_feasible_threshold_gives_zero():
    m = metrics.PrecisionAtRecall(1.0, num_thresholds=1)
    m.update_state([1, 1, 0], [0.9, 0.2, 0.1])  # recall at 0.5 is 1/2 < 1
    assert float(m.result()) == 0.0


def test_config_and_attributes():
    m = metrics.RecallAtPrecision(0.7, num_thresholds=3, class_id=1, name="rp")
    assert m.get_config() == {"name": "rp", "dtype": "float32", "class_id": 1, "num_thresholds": 3,
                              "precision": 0.7}
    assert m.precision == 0.7 and m.thresholds == [0.0, 0.5, 1.0]
    assert metrics.PrecisionAtRecall(0.2, num_thresholds=1).thresholds == [0.5]
    for name in NAMES:
        original = getattr(metrics, name)(0.25, num_thresholds=9, name="x", dtype="float64")
        clone = type(original).from_config(original.get_config())
        assert clone.get_config() == original.get_config()
        assert metrics.ALL_OBJECTS_DICT[original.__class__.__name__] is type(original)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kwargs, error", [
    ({"value": 1.5}, ValueError), ({"value": -0.1}, ValueError), ({"value": "a"}, TypeError),
    ({"value": None}, TypeError), ({"value": 0.5, "num_thresholds": 0}, ValueError),
    ({"value": 0.5, "num_thresholds": 2.5}, TypeError), ({"value": 0.5, "num_thresholds": "a"}, TypeError),
])
def test_bad_arguments(name, kwargs, error):
    kwargs = dict(kwargs)
    value = kwargs.pop("value")
    with pytest.raises(error, match=r"Received"):
        getattr(metrics, name)(value, **kwargs)


def test_shape_mismatch_raises_value_error():
    with pytest.raises(ValueError, match="shape"):
        metrics.PrecisionAtRecall(0.5).update_state(np.zeros((6, 3)), np.zeros((3, 3)))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("num_thresholds", [1, 200])
def test_cuda_updates_and_results_do_not_sync(num_thresholds):
    y, p, w = (torch.as_tensor(a, dtype=torch.float32) for a in data(labels=3))
    for name in NAMES:
        gpu, cpu = (getattr(metrics, name)(0.5, num_thresholds=num_thresholds, class_id=1) for _ in range(2))
        gpu.update_state(y.cuda(), p.cuda(), sample_weight=w.cuda())
        with no_host_sync():
            gpu.update_state(y.cuda(), p.cuda(), sample_weight=w.cuda())
            result = gpu.result()
        for _ in range(2):
            cpu.update_state(y, p, sample_weight=w)
        assert result.device.type == "cuda"
        assert_close(result.cpu(), cpu.result())
