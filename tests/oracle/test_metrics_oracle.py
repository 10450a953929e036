"""Differential tests against real Keras 3 (torch backend): IoU, X-at-Y and correlation metrics.

Both libraries get the same seeded batches (several ``update_state`` calls, with
and without ``sample_weight``, then ``reset_state`` and one more batch); results,
result dtypes, state variables, configs and argument errors must agree.
"""
import re

import numpy as np
import pytest

import cornu
from tests.helpers import random_probs, seeded

N = 24


def to_np(x):
    return np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x)


def labels(shape, classes, seed):
    return seeded(seed).integers(0, classes, shape)


def weights(shape, seed, integer=False):
    w = seeded(seed).uniform(0.1, 2.0, shape)
    return np.round(w * 2).astype("int64") if integer else w.astype("float32")


def play(metric, batches):
    """Feed ``batches``, read the result, reset, feed the first batch again, read again."""
    for y, p, w in batches:
        metric.update_state(y, p, sample_weight=w)
    first = metric.result()
    metric.reset_state()
    y, p, w = batches[0]
    metric.update_state(y, p, sample_weight=w)
    return first, metric.result()


def assert_same(make, batches, keras_ref):
    ours, ref = make(cornu), make(keras_ref)
    assert ours.get_config() == ref.get_config()
    assert [(v.name, tuple(v.shape)) for v in ours.variables] == [(v.name, tuple(v.shape)) for v in ref.variables]
    for a, b in zip(play(ours, batches), play(ref, batches)):
        assert str(a.dtype) == str(b.dtype) and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-5, atol=1e-6)
    for a, b in zip(ours.variables, ref.variables):
        np.testing.assert_allclose(to_np(a.value), to_np(b.value), rtol=1e-5, atol=1e-5)


# IoU family ---------------------------------------------------------------------------------------------------------

def int_label_batches(classes=5, shape=(N,), integer_weights=True):
    out = []
    for i in range(3):
        w = None if i == 1 else weights(shape, 10 + i, integer=integer_weights)
        out.append((labels(shape, classes, i), labels(shape, classes, 20 + i), w))
    return out


def float_pred_batches():
    """Labels and predictions with fractional, negative and out-of-range values."""
    out = []
    for i in range(3):
        rng = seeded(30 + i)
        y = rng.integers(-1, 5, N).astype("float32")
        p = rng.uniform(-0.9, 4.9, N).astype("float32")
        out.append((y, p, None if i == 2 else weights(N, 40 + i, integer=True)))
    return out


def dense_batches(classes=4, sparse_pred=False, axis=-1):
    out = []
    for i in range(3):
        y = np.eye(classes, dtype="float32")[labels(N, classes, 50 + i)]
        p = random_probs((N, classes), seed=60 + i)
        if sparse_pred:
            p = p.argmax(-1)
        if axis == 0:
            y, p = y.T, p.T
        out.append((y, p, None if i == 0 else weights(N, 70 + i)))
    return out


def binary_batches():
    out = []
    for i in range(3):
        rng = seeded(80 + i)
        y = rng.integers(0, 2, (N // 4, 4)).astype("float32")
        p = np.round(rng.uniform(size=(N // 4, 4)), 1).astype("float32")  # some exactly on the threshold
        out.append((y, p, None if i == 1 else weights((N // 4, 4), 90 + i)))
    return out


IOU_CASES = {
    "iou_int_state": (lambda lib: lib.metrics.IoU(5, [0, 2, 4], name="iou"), int_label_batches),
    "iou_float_ignore_2d": (
        lambda lib: lib.metrics.IoU(5, [1, 3], name="iou", dtype="float32", ignore_class=2),
        lambda: [(y.reshape(4, -1), p.reshape(4, -1), w) for y, p, w in int_label_batches(integer_weights=False)]),
    "mean_iou_truncation": (lambda lib: lib.metrics.MeanIoU(5, name="m"), float_pred_batches),
    "mean_iou_float_floor": (lambda lib: lib.metrics.MeanIoU(5, name="m", dtype="float32"), float_pred_batches),
    "mean_iou_ignore_negative": (lambda lib: lib.metrics.MeanIoU(5, name="m", ignore_class=-1), float_pred_batches),
    "mean_iou_dense_pred": (
        lambda lib: lib.metrics.MeanIoU(4, name="m", dtype="float32", sparse_y_pred=False),
        lambda: [(y.argmax(-1), p, w) for y, p, w in dense_batches()]),
    "mean_iou_dense_axis0": (
        lambda lib: lib.metrics.MeanIoU(4, name="m", dtype="float32", sparse_y_true=False, sparse_y_pred=False,
                                        axis=0),
        lambda: [(y, p, None) for y, p, _ in dense_batches(axis=0)]),
    "binary_iou": (lambda lib: lib.metrics.BinaryIoU(name="b", dtype="float32"), binary_batches),
    "binary_iou_threshold_one_class": (
        lambda lib: lib.metrics.BinaryIoU(target_class_ids=[1], threshold=0.3, name="b", dtype="float32"),
        binary_batches),
    "binary_iou_int": (lambda lib: lib.metrics.BinaryIoU(name="b"),
                       lambda: [(y, p, None) for y, p, _ in binary_batches()]),
    "one_hot_iou": (lambda lib: lib.metrics.OneHotIoU(4, [0, 3], name="o", dtype="float32"), dense_batches),
    "one_hot_mean_iou_sparse_pred": (
        lambda lib: lib.metrics.OneHotMeanIoU(4, name="o", dtype="float32", sparse_y_pred=True, ignore_class=1),
        lambda: dense_batches(sparse_pred=True)),
}


@pytest.mark.parametrize("case", sorted(IOU_CASES))
def test_iou_metrics_match_keras(case, keras_ref):
    make, batches = IOU_CASES[case]
    assert_same(make, batches(), keras_ref)


# X-at-Y metrics -----------------------------------------------------------------------------------------------------

AT_Y = ["PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity", "SpecificityAtSensitivity"]


def score_batches(columns=3):
    out = []
    for i in range(3):
        rng = seeded(100 + i)
        y = rng.integers(0, 2, (N, columns)).astype("float32")
        p = np.clip(0.3 * y + rng.uniform(-0.1, 0.8, (N, columns)), -0.2, 1.2).astype("float32")
        out.append((y, p, None if i == 1 else weights((N, 1) if i == 0 else (N,), 110 + i)))
    return out


@pytest.mark.parametrize("name", AT_Y)
@pytest.mark.parametrize("value, kwargs", [(0.5, {}), (0.8, {"num_thresholds": 1}),
                                           (0.3, {"num_thresholds": 7, "class_id": 1}), (1.0, {"num_thresholds": 50}),
                                           (0.0, {"num_thresholds": 2})])
def test_at_y_metrics_match_keras(name, value, kwargs, keras_ref):
    assert_same(lambda lib: getattr(lib.metrics, name)(value, name="x", **kwargs), score_batches(), keras_ref)


@pytest.mark.parametrize("name", AT_Y)
def test_at_y_bucketing_on_threshold_boundaries(name, keras_ref):
    """Predictions on and next to each float32 threshold fall on Keras's side of it."""
    thresholds = np.array([0.0] + [(i + 1) / 199 for i in range(198)] + [1.0], dtype="float32")
    p = np.concatenate([thresholds, np.nextafter(thresholds, np.float32(2)), np.nextafter(thresholds, np.float32(-1))])
    y = seeded(7).integers(0, 2, p.shape).astype("float32")
    assert_same(lambda lib: getattr(lib.metrics, name)(0.6, name="x"), [(y, p, None)], keras_ref)


# Correlation metrics ------------------------------------------------------------------------------------------------

def regression_batches(shape=(N // 2, 6)):
    out = []
    for i in range(3):
        rng = seeded(120 + i)
        t = rng.normal(size=shape).astype("float32")
        p = (0.6 * t + rng.normal(scale=0.7, size=shape) + 0.2).astype("float32")
        out.append((t, p, None if i == 2 else weights(shape[:1], 130 + i)))
    return out


CORRELATION_CASES = {
    "pearson": (lambda lib: lib.metrics.PearsonCorrelation(), regression_batches),
    "concordance": (lambda lib: lib.metrics.ConcordanceCorrelation(), regression_batches),
    "pearson_axis0": (lambda lib: lib.metrics.PearsonCorrelation(name="p0", axis=0),
                      lambda: [(t, p, None) for t, p, _ in regression_batches()]),
    "concordance_axis0": (lambda lib: lib.metrics.ConcordanceCorrelation(name="c0", axis=0),
                          lambda: [(t, p, None) for t, p, _ in regression_batches()]),
    "pearson_rank1": (lambda lib: lib.metrics.PearsonCorrelation(),
                      lambda: [(t, p, None) for t, p, _ in regression_batches((9,))]),
    "concordance_rank1_weighted": (lambda lib: lib.metrics.ConcordanceCorrelation(),
                                   lambda: [(t, p, 1.5) for t, p, _ in regression_batches((9,))]),
    "pearson_rank3": (lambda lib: lib.metrics.PearsonCorrelation(), lambda: regression_batches((4, 3, 5))),
}


@pytest.mark.parametrize("case", sorted(CORRELATION_CASES))
def test_correlation_metrics_match_keras(case, keras_ref):
    make, batches = CORRELATION_CASES[case]
    assert_same(make, batches(), keras_ref)


@pytest.mark.parametrize("fn", ["pearson_correlation", "concordance_correlation"])
@pytest.mark.parametrize("shape, axis", [((8, 6), -1), ((8, 6), 0), ((3, 4, 5), 1), ((7,), -1)])
def test_correlation_functions_match_keras(fn, shape, axis, keras_ref):
    t, p, _ = regression_batches(shape)[0]
    ours = getattr(cornu.metrics, fn)(t, p, axis=axis)
    ref = getattr(keras_ref.metrics, fn)(t, p, axis=axis)
    assert str(ours.dtype) == str(ref.dtype) and tuple(ours.shape) == tuple(ref.shape)
    np.testing.assert_allclose(to_np(ours), to_np(ref), rtol=1e-5, atol=1e-6)


# Names, configs and errors ------------------------------------------------------------------------------------------

DEFAULTS = {
    "IoU": (3, [0, 2]), "MeanIoU": (3,), "BinaryIoU": (), "OneHotIoU": (4, [1]), "OneHotMeanIoU": (2,),
    "PrecisionAtRecall": (0.4,), "RecallAtPrecision": (0.4,), "SensitivityAtSpecificity": (0.4,),
    "SpecificityAtSensitivity": (0.4,), "PearsonCorrelation": (), "ConcordanceCorrelation": (),
}


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_default_configs_and_get_match_keras(name, keras_ref):
    ours, ref = getattr(cornu.metrics, name)(*DEFAULTS[name]), getattr(keras_ref.metrics, name)(*DEFAULTS[name])
    ref_config = ref.get_config()
    ref_config["name"] = re.sub(r"_\d+$", "", ref_config["name"])  # Keras numbers repeated default names
    assert ours.get_config() == ref_config
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()
    snake = cornu.utils.naming.to_snake_case(name)
    for key in (name, snake):
        try:
            expected = type(keras_ref.metrics.get(key)).__name__
        except TypeError as err:  # needs constructor arguments
            with pytest.raises(type(err)):
                cornu.metrics.get(key)
        else:
            assert type(cornu.metrics.get(key)).__name__ == expected


BAD_ARGUMENTS = [
    ("IoU", (3, [0, 3]), {}), ("IoU", (3, []), {}), ("IoU", (0, [0]), {}), ("MeanIoU", (-2,), {}),
    ("MeanIoU", (2.5,), {}), ("MeanIoU", ("a",), {}), ("BinaryIoU", (), {"target_class_ids": [0, 2]}),
    ("OneHotIoU", (3, [5]), {}), ("OneHotMeanIoU", (0,), {}),
    ("PrecisionAtRecall", (1.5,), {}), ("RecallAtPrecision", (-0.1,), {}), ("SensitivityAtSpecificity", ("a",), {}),
    ("SpecificityAtSensitivity", (None,), {}), ("PrecisionAtRecall", (0.5,), {"num_thresholds": 0}),
    ("RecallAtPrecision", (0.5,), {"num_thresholds": 2.5}),
    ("SensitivityAtSpecificity", (0.5,), {"num_thresholds": "a"}),
]


@pytest.mark.parametrize("name, args, kwargs", BAD_ARGUMENTS)
def test_bad_arguments_raise_the_keras_error_class(name, args, kwargs, keras_ref):
    with pytest.raises(Exception) as expected:
        getattr(keras_ref.metrics, name)(*args, **kwargs)
    with pytest.raises(expected.type):
        getattr(cornu.metrics, name)(*args, **kwargs)


def test_bad_shapes_raise_value_error_like_keras(keras_ref):
    y, p = np.zeros((6, 3), "float32"), np.zeros((3, 3), "float32")
    for lib in (keras_ref, cornu):
        with pytest.raises(ValueError):
            lib.metrics.PrecisionAtRecall(0.5).update_state(y, p)
