"""Losses and metrics against real Keras 3.15 (torch backend): what a differential sweep found.

Configs (keys Keras leaves out or adds), ``serialize`` formats, label smoothing
with a non-default ``axis``, ``R2Score`` counting and empty state, micro-averaged
F-scores, sample weights of every rank across reductions, and ``get`` errors.
"""
import numpy as np
import pytest
import torch

import cornu
from tests.helpers import random_probs, seeded


def to_np(x):
    return np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x)


def assert_same_tensor(ours, ref, rtol=1e-5, atol=1e-6):
    assert str(ours.dtype) == str(ref.dtype) and tuple(ours.shape) == tuple(ref.shape)
    np.testing.assert_allclose(to_np(ours), to_np(ref), rtol=rtol, atol=atol)


# Losses ----------------------------------------------------------------------------------------------------------

LOSS_CONFIGS = [
    ("Huber", {"delta": 0.3}), ("Huber", {"reduction": "sum", "name": "h"}), ("CosineSimilarity", {"axis": 0}),
    ("MeanSquaredError", {"dtype": "float16"}), ("BinaryCrossentropy", {"dtype": "bfloat16", "from_logits": True}),
    ("CategoricalFocalCrossentropy", {"alpha": 0.5, "label_smoothing": 0.1, "axis": 1, "reduction": None}),
    ("SparseCategoricalCrossentropy", {"ignore_class": 2, "dtype": "float64"}),
]


@pytest.mark.parametrize("cls_name, kwargs", LOSS_CONFIGS)
def test_loss_configs_and_serialize_equal_keras(keras_ref, cls_name, kwargs):
    ours, ref = getattr(cornu.losses, cls_name)(**kwargs), getattr(keras_ref.losses, cls_name)(**kwargs)
    assert ours.get_config() == ref.get_config()
    assert cornu.losses.serialize(ours) == keras_ref.losses.serialize(ref)
    assert type(ours).from_config(ref.get_config()).get_config() == ref.get_config()


@pytest.mark.parametrize("fn", ["mean_squared_error", "huber", "categorical_crossentropy"])
def test_loss_function_serialize_equals_keras(keras_ref, fn):
    config = keras_ref.losses.serialize(getattr(keras_ref.losses, fn))
    assert cornu.losses.serialize(getattr(cornu.losses, fn)) == config
    assert cornu.losses.deserialize(config) is getattr(cornu.losses, fn)


@pytest.mark.parametrize("fn", ["categorical_crossentropy", "categorical_focal_crossentropy"])
@pytest.mark.parametrize("shape", [(6, 5), (4, 3, 5)])
def test_label_smoothing_with_axis_zero_matches_keras(keras_ref, fn, shape):
    rng = seeded(1)
    y = np.eye(shape[-1], dtype="float32")[rng.integers(0, shape[-1], shape[:-1])]
    logits = rng.normal(size=shape).astype("float32")
    convert = keras_ref.ops.convert_to_tensor
    ref = getattr(keras_ref.losses, fn)(convert(y), convert(logits), from_logits=True, label_smoothing=0.2, axis=0)
    ours = getattr(cornu.losses, fn)(torch.tensor(y), torch.tensor(logits), from_logits=True, label_smoothing=0.2,
                                     axis=0)
    assert_same_tensor(ours, ref)


def test_label_smoothing_spreads_over_the_last_axis():
    """Plain check: smoothing uses 1/classes of the last axis even when reducing over axis 0."""
    y = np.eye(3)[[0, 2, 1, 1]]
    logits = seeded(2).normal(size=(4, 3))
    smoothed = y * 0.8 + 0.2 / 3
    log_p = logits - np.log(np.exp(logits).sum(0, keepdims=True))
    expected = -(smoothed * log_p).sum(0)
    ours = cornu.losses.categorical_crossentropy(torch.tensor(y), torch.tensor(logits), from_logits=True,
                                                 label_smoothing=0.2, axis=0)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-10)


def _loss_inputs(kind, shape):
    rng = seeded(3)
    if kind == "reg":
        return rng.normal(size=shape).astype("float32"), rng.normal(size=shape).astype("float32")
    if kind == "bin":
        return rng.integers(0, 2, shape).astype("float32"), rng.uniform(0.02, 0.98, shape).astype("float32")
    return np.eye(shape[-1], dtype="float32")[rng.integers(0, shape[-1], shape[:-1])], random_probs(shape, seed=4)


WEIGHT_SHAPES = {"none": None, "scalar": 0.7, "batch": (6,), "column": (6, 1), "timestep": (6, 3), "full": (6, 3, 5)}


@pytest.mark.parametrize("cls_name, kind, kwargs", [
    ("MeanSquaredError", "reg", {}), ("Huber", "reg", {"delta": 0.4}), ("LogCosh", "reg", {}),
    ("BinaryCrossentropy", "bin", {"label_smoothing": 0.1}), ("BinaryFocalCrossentropy", "bin", {"gamma": 1.5}),
    ("CategoricalCrossentropy", "cat", {}), ("KLDivergence", "cat", {}), ("CategoricalHinge", "cat", {}),
])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", None])
@pytest.mark.parametrize("weight", sorted(WEIGHT_SHAPES))
def test_3d_losses_with_weights_of_every_rank_match_keras(keras_ref, cls_name, kind, kwargs, reduction, weight):
    y_true, y_pred = _loss_inputs(kind, (6, 3, 5))
    w = WEIGHT_SHAPES[weight]
    w = seeded(5).uniform(0, 2, w).astype("float32") if isinstance(w, tuple) else w
    try:
        ref = getattr(keras_ref.losses, cls_name)(reduction=reduction, **kwargs)(y_true, y_pred, sample_weight=w)
    except Exception as err:  # (6,) and (6, 3, 5) weights do not broadcast against (6, 3) losses in Keras
        with pytest.raises(type(err)):
            getattr(cornu.losses, cls_name)(reduction=reduction, **kwargs)(y_true, y_pred, sample_weight=w)
        return
    ours = getattr(cornu.losses, cls_name)(reduction=reduction, **kwargs)(y_true, y_pred, sample_weight=w)
    assert_same_tensor(ours, ref)


@pytest.mark.parametrize("identifier", [{"config": {}}, "not_a_loss", 3])
def test_loss_get_errors_match_keras(keras_ref, identifier):
    with pytest.raises(Exception) as ref:
        keras_ref.losses.get(identifier)
    with pytest.raises(type(ref.value)):
        cornu.losses.get(identifier)


# Metrics ---------------------------------------------------------------------------------------------------------

METRIC_CONFIGS = [
    ("CosineSimilarity", {"axis": 0}), ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 1}),
    ("SparseTopKCategoricalAccuracy", {"k": 2}), ("SparseTopKCategoricalAccuracy", {"k": 2, "from_sorted_ids": True}),
    ("AUC", {}), ("AUC", {"num_thresholds": 9, "curve": "PR"}), ("AUC", {"thresholds": [0.25, 0.5, 0.75]}),
    ("R2Score", {"num_regressors": 2}), ("F1Score", {"average": "micro"}), ("FBetaScore", {"beta": 2.0}),
]


@pytest.mark.parametrize("cls_name, kwargs", METRIC_CONFIGS)
def test_metric_configs_and_serialize_equal_keras(keras_ref, cls_name, kwargs):
    ours = getattr(cornu.metrics, cls_name)(name="m", **kwargs)
    ref = getattr(keras_ref.metrics, cls_name)(name="m", **kwargs)
    assert ours.get_config() == ref.get_config()
    assert cornu.metrics.serialize(ours) == keras_ref.metrics.serialize(ref)
    assert type(ours).from_config(ref.get_config()).get_config() == ref.get_config()


def test_metric_function_serialize_equals_keras(keras_ref):
    config = keras_ref.metrics.serialize(keras_ref.metrics.binary_accuracy)
    assert cornu.metrics.serialize(cornu.metrics.binary_accuracy) == config
    assert cornu.metrics.deserialize(config) is cornu.metrics.binary_accuracy


def _play(metric, batches):
    """Result after each batch, after a reset, and after one more batch; then the state variables."""
    out = []
    for y, p, w in batches:
        metric.update_state(y, p, sample_weight=w)
        out.append(to_np(metric.result()).copy())
    metric.reset_state()
    out.append(to_np(metric.result()).copy())
    metric.update_state(*batches[0][:2], sample_weight=batches[0][2])
    out.append(to_np(metric.result()).copy())
    return out, [(v.name, tuple(v.shape)) for v in metric.variables]


def _regression_batches(weighted):
    rng = seeded(6)
    return [(rng.normal(size=(8, 4)).astype("float32"), rng.normal(size=(8, 4)).astype("float32"),
             rng.uniform(0, 2, 8).astype("float32") if weighted and i != 1 else None) for i in range(3)]


def _binary_batches(weighted):
    rng = seeded(7)
    return [(rng.integers(0, 2, (8, 4)).astype("float32"), np.round(rng.uniform(size=(8, 4)), 1).astype("float32"),
             rng.uniform(0, 2, 8).astype("float32") if weighted and i != 1 else None) for i in range(3)]


STREAM_CASES = [
    ("R2Score", {}, _regression_batches), ("R2Score", {"num_regressors": 1}, _regression_batches),
    ("R2Score", {"num_regressors": 3, "class_aggregation": None}, _regression_batches),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, _regression_batches),
    ("F1Score", {"average": "micro"}, _binary_batches), ("F1Score", {"average": "micro", "threshold": 0.4},
                                                         _binary_batches),
    ("FBetaScore", {"average": "weighted", "beta": 0.5}, _binary_batches),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1},
     lambda weighted: [(seeded(i).integers(0, 4, 8), random_probs((8, 4), seed=i),
                        seeded(10 + i).uniform(0, 2, 8).astype("float32") if weighted else None) for i in range(3)]),
]


@pytest.mark.parametrize("cls_name, kwargs, batches", STREAM_CASES)
@pytest.mark.parametrize("weighted", [False, True])
def test_streaming_metrics_match_keras(keras_ref, cls_name, kwargs, batches, weighted):
    data = batches(weighted)
    (ours, ours_vars), (ref, ref_vars) = (_play(getattr(lib.metrics, cls_name)(name="m", **kwargs), data)
                                          for lib in (cornu, keras_ref))
    assert ours_vars == ref_vars
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_r2_constant_target_and_rank1_error_match_keras(keras_ref):
    y = np.ones((5, 2), "float32")
    p = seeded(8).normal(size=(5, 2)).astype("float32")
    for aggregation in (None, "uniform_average"):
        ours = cornu.metrics.R2Score(class_aggregation=aggregation)(y, p)
        ref = keras_ref.metrics.R2Score(class_aggregation=aggregation)(y, p)
        assert_same_tensor(ours, ref)
    for lib in (cornu, keras_ref):
        with pytest.raises(ValueError):
            lib.metrics.R2Score()(y[:, 0], p[:, 0])


@pytest.mark.parametrize("average", [None, "macro", "weighted"])
@pytest.mark.parametrize("weight", [(8, 1), (8, 4), ()])
def test_fbeta_non_batch_weights_raise_like_keras(keras_ref, average, weight):
    y, p, _ = _binary_batches(False)[0]
    w = 0.5 if weight == () else np.ones(weight, "float32")
    for lib in (cornu, keras_ref):
        with pytest.raises(ValueError):
            lib.metrics.F1Score(average=average).update_state(y, p, sample_weight=w)


@pytest.mark.parametrize("identifier", [{"config": {}}, "not_a_metric", 3])
def test_metric_get_errors_match_keras(keras_ref, identifier):
    with pytest.raises(Exception) as ref:
        keras_ref.metrics.get(identifier)
    with pytest.raises(type(ref.value)):
        cornu.metrics.get(identifier)


FLOAT32_STATE = [("Precision", ()), ("Recall", ()), ("TruePositives", ()), ("FalseNegatives", ()), ("AUC", ()),
                 ("PrecisionAtRecall", (0.5,)), ("R2Score", ())]


@pytest.mark.parametrize("cls_name, args", FLOAT32_STATE)
@pytest.mark.parametrize("dtype", ["float16", "float64"])
def test_confusion_and_r2_state_stay_float32_like_keras(keras_ref, cls_name, args, dtype):
    y, p, w = _binary_batches(True)[0]
    results = []
    for lib in (cornu, keras_ref):
        m = getattr(lib.metrics, cls_name)(*args, dtype=dtype)
        m.update_state(y, p, sample_weight=w)
        results.append((m.result(), [str(v.dtype).replace("torch.", "") for v in m.variables]))
    (ours, ours_dtypes), (ref, ref_dtypes) = results
    assert ours_dtypes == ref_dtypes
    assert_same_tensor(ours, ref)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "mean", "mean_with_sample_weight", "sum", None])
@pytest.mark.parametrize("weighted", [False, True])
def test_float64_loss_result_dtypes_match_keras(keras_ref, reduction, weighted):
    y, p = _loss_inputs("bin", (6, 5))
    w = seeded(9).uniform(0, 2, 6) if weighted else None
    for cls_name in ("MeanSquaredError", "BinaryCrossentropy"):
        ref = getattr(keras_ref.losses, cls_name)(reduction=reduction, dtype="float64")(y, p, sample_weight=w)
        ours = getattr(cornu.losses, cls_name)(reduction=reduction, dtype="float64")(y, p, sample_weight=w)
        assert_same_tensor(ours, ref)


@pytest.mark.parametrize("cls_name", ["Mean", "MeanSquaredError", "Accuracy", "BinaryAccuracy", "PearsonCorrelation",
                                      "F1Score", "Sum"])
def test_float64_metric_result_dtypes_match_keras(keras_ref, cls_name):
    y, p, w = _binary_batches(True)[0]
    results = []
    for lib in (cornu, keras_ref):
        m = getattr(lib.metrics, cls_name)(dtype="float64")
        if cls_name in ("Mean", "Sum"):
            m.update_state(p, sample_weight=w)
        else:
            m.update_state(y, p, sample_weight=w)
        results.append(m.result())
    assert_same_tensor(*results)


@pytest.mark.parametrize("make", [lambda lib: lib.metrics.Precision(class_id=1),
                                  lambda lib: lib.metrics.Recall(class_id=0, top_k=1),
                                  lambda lib: lib.metrics.PrecisionAtRecall(0.5, class_id=2)])
@pytest.mark.parametrize("shape", [(8,), (8, 4), (8, 3, 4)])
def test_class_id_needs_a_class_axis_like_keras(keras_ref, make, shape):
    rng = seeded(11)
    y, p = rng.integers(0, 2, shape).astype("float32"), rng.uniform(size=shape).astype("float32")
    if len(shape) == 1:
        for lib in (cornu, keras_ref):
            with pytest.raises(ValueError):
                make(lib).update_state(y, p)
        return
    ours, ref = make(cornu), make(keras_ref)
    ours.update_state(y, p)
    ref.update_state(y, p)
    assert_same_tensor(ours.result(), ref.result())


@pytest.mark.parametrize("fn", ["hinge", "squared_hinge", "kl_divergence", "poisson", "categorical_focal_crossentropy",
                                "mean_squared_error", "binary_crossentropy"])
@pytest.mark.parametrize("shapes", [((6,), (6, 1)), ((6, 1), (6,)), ((6, 4), (6, 4))])
def test_functions_align_ranks_only_where_keras_does(keras_ref, fn, shapes):
    """Keras's hinge/KL/Poisson/focal functions broadcast (b,) against (b, 1); MSE and BCE align ranks first."""
    rng = seeded(12)
    y = (rng.uniform(size=shapes[0]) > 0.5).astype("float32")
    p = rng.uniform(0.05, 0.95, shapes[1]).astype("float32")
    try:
        ref = getattr(keras_ref.losses, fn)(y, p)
    except Exception as err:
        with pytest.raises(type(err)):
            getattr(cornu.losses, fn)(y, p)
        return
    assert_same_tensor(getattr(cornu.losses, fn)(y, p), ref)


@pytest.mark.parametrize("cls_name", ["Hinge", "SquaredHinge", "KLDivergence", "Poisson", "MeanSquaredError"])
def test_metrics_on_mixed_ranks_match_keras(keras_ref, cls_name):
    rng = seeded(13)
    y, p = (rng.uniform(size=(6, 1)) > 0.5).astype("float32"), rng.uniform(0.05, 0.95, 6).astype("float32")
    ours, ref = (getattr(lib.metrics, cls_name)() for lib in (cornu, keras_ref))
    for m in (ours, ref):
        m.update_state(y, p, sample_weight=np.arange(1.0, 7.0))
    assert_same_tensor(ours.result(), ref.result())


def _string_calls(lib):
    return [
        lambda: lib.losses.MeanSquaredError()(np.array(["a"]), np.array(["b"])),
        lambda: lib.losses.mean_squared_error(["a"], ["b"]),
        lambda: lib.metrics.MeanSquaredError()(["a"], ["b"]),
        lambda: lib.metrics.Accuracy()(["a"], ["b"]),
        lambda: lib.losses.Huber(delta="a")(np.ones((3, 4), "float32"), np.ones((3, 4), "float32")),
    ]


@pytest.mark.parametrize("index", range(5))
def test_string_inputs_raise_value_error_like_keras(keras_ref, index):
    with pytest.raises(ValueError):
        _string_calls(keras_ref)[index]()
    with pytest.raises(ValueError):
        _string_calls(cornu)[index]()


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16", "policy_object"])
def test_policy_dtypes_give_the_compute_dtype_like_keras(keras_ref, policy):
    y, p = _loss_inputs("reg", (4, 3))
    out = []
    for lib in (cornu, keras_ref):
        dtype = lib.dtype_policies.DTypePolicy("mixed_float16") if policy == "policy_object" else policy
        loss, metric = lib.losses.MeanSquaredError(dtype=dtype), lib.metrics.MeanSquaredError(dtype=dtype)
        metric.update_state(y, p)
        out.append((loss.dtype, loss(y, p), metric.dtype, metric.result(), metric.get_config(), loss.get_config()))
    ours, ref = out
    assert ours[0] == ref[0] and ours[2] == ref[2] and ours[4] == ref[4] and ours[5] == ref[5]
    for a, b in ((ours[1], ref[1]), (ours[3], ref[3])):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(to_np(a.float()), to_np(b.float()), rtol=1e-2)


IOU_MAKERS = {"IoU": (4, [0, 2]), "MeanIoU": (4,), "BinaryIoU": (), "OneHotIoU": (4, [1, 3]), "OneHotMeanIoU": (4,)}


def _iou_batch(cls_name, weight_kind):
    rng = seeded(14)
    if cls_name.startswith("OneHot"):
        y, p = np.eye(4)[rng.integers(0, 4, 8)], rng.uniform(size=(8, 4)).astype("float32")
    elif cls_name == "BinaryIoU":
        y, p = rng.integers(0, 2, (8, 4)), rng.uniform(size=(8, 4)).astype("float32")
    else:
        y, p = rng.integers(0, 4, (8, 4)), rng.integers(0, 4, (8, 4))
    w = None if weight_kind == "none" else rng.uniform(0, 2, 8 if weight_kind == "batch" else (8, 4)).astype("float32")
    return y, p, w


@pytest.mark.parametrize("cls_name", sorted(IOU_MAKERS))
@pytest.mark.parametrize("dtype", ["float16", "float64"])
@pytest.mark.parametrize("weight_kind", ["none", "batch", "entries"])
def test_iou_results_are_float32_and_weight_errors_match_keras(keras_ref, cls_name, dtype, weight_kind):
    y, p, w = _iou_batch(cls_name, weight_kind)
    ours, ref = (getattr(lib.metrics, cls_name)(*IOU_MAKERS[cls_name], dtype=dtype) for lib in (cornu, keras_ref))
    try:
        ref.update_state(y, p, sample_weight=w)
    except Exception as err:  # weights that do not match the labels: torch's RuntimeError in Keras
        with pytest.raises(type(err)):
            ours.update_state(y, p, sample_weight=w)
        return
    ours.update_state(y, p, sample_weight=w)
    assert_same_tensor(ours.result(), ref.result(), rtol=1e-3)


@pytest.mark.parametrize("cls_name", ["MeanIoU", "IoU"])
def test_iou_label_count_mismatch_raises_like_keras(keras_ref, cls_name):
    for lib in (keras_ref, cornu):
        with pytest.raises(RuntimeError):
            getattr(lib.metrics, cls_name)(*IOU_MAKERS[cls_name]).update_state([0, 1, 2], [0, 1])


@pytest.mark.parametrize("cls_name", ["TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy"])
def test_top_zero_accuracy_is_zero_like_keras(keras_ref, cls_name):
    p = random_probs((5, 3), seed=15)
    y = np.arange(5) % 3 if cls_name.startswith("Sparse") else np.eye(3)[np.arange(5) % 3]
    ours, ref = (getattr(lib.metrics, cls_name)(k=0)(y, p) for lib in (cornu, keras_ref))
    assert_same_tensor(ours, ref)


@pytest.mark.parametrize("weight_shape", [(8,), (8, 1), (8, 4)])
@pytest.mark.parametrize("threshold", [None, 0.5])
def test_micro_fscore_weights_of_rank_two_match_keras(keras_ref, weight_shape, threshold):
    y, p, _ = _binary_batches(False)[0]
    w = seeded(16).uniform(0, 2, weight_shape).astype("float32")
    ours, ref = (lib.metrics.FBetaScore(average="micro", beta=2.0, threshold=threshold) for lib in (cornu, keras_ref))
    for m in (ours, ref):
        m.update_state(y, p, sample_weight=w)
        m.update_state(y, p)
    assert_same_tensor(ours.result(), ref.result())


def test_fscore_micro_weights_plain():
    """(batch, 1) weights scale every count by their total, so the micro score equals the unweighted one."""
    y, p, _ = _binary_batches(False)[0]
    weighted, plain = cornu.metrics.F1Score(average="micro", threshold=0.5), cornu.metrics.F1Score(average="micro",
                                                                                                  threshold=0.5)
    weighted.update_state(y, p, sample_weight=np.full((8, 1), 3.0))
    plain.update_state(y, p)
    tp = ((p > 0.5) * y).sum()
    expected = 2 * tp / (2 * tp + ((p > 0.5) * (1 - y)).sum() + ((p <= 0.5) * y).sum())
    np.testing.assert_allclose(to_np(weighted.result()), expected, rtol=1e-5)
    np.testing.assert_allclose(to_np(plain.result()), expected, rtol=1e-5)


@pytest.mark.parametrize("weight_shape", [(5,), (8, 2)])
def test_fscore_unbroadcastable_weights_raise_like_keras(keras_ref, weight_shape):
    y, p, _ = _binary_batches(False)[0]
    for lib in (keras_ref, cornu):
        with pytest.raises(RuntimeError):
            lib.metrics.F1Score(average="micro").update_state(y, p, sample_weight=np.ones(weight_shape))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
@pytest.mark.parametrize("labels", [[0, 0, 0, 0, 0, 0], [0, 1, 0, 1, 0, 0]])
def test_ignore_class_reductions_in_half_precision_match_keras(keras_ref, dtype, labels):
    y, p = np.array(labels), np.full((6, 2), 0.5, "float32")
    ours, ref = (lib.losses.SparseCategoricalCrossentropy(ignore_class=0, dtype=dtype)(y, p)
                 for lib in (cornu, keras_ref))
    assert ours.dtype == ref.dtype and torch.isfinite(ours)
    np.testing.assert_allclose(to_np(ours.float()), to_np(ref.float()), rtol=1e-3)


def test_categorical_focal_from_saturated_logits_clips_like_keras(keras_ref):
    y = np.array([[0, 1, 1, 0], [1, 0, 0, 1]], "float32")
    logits = np.array([[-100.0, 100.0, 30.0, -30.0], [50.0, -50.0, 0.0, 1e-3]], "float32")
    for lib_fn in ("categorical_focal_crossentropy",):
        ref = getattr(keras_ref.losses, lib_fn)(y, logits, from_logits=True)
        assert_same_tensor(getattr(cornu.losses, lib_fn)(y, logits, from_logits=True), ref)
    grads = []
    for lib in (keras_ref, cornu):
        x = torch.tensor(logits * 0.05, requires_grad=True)
        lib.losses.CategoricalFocalCrossentropy(from_logits=True, gamma=1.5)(y, x).backward()
        grads.append(x.grad)
    np.testing.assert_allclose(to_np(grads[1]), to_np(grads[0]), rtol=1e-4, atol=1e-6)


def test_categorical_focal_from_logits_plain():
    """Softmax, clip to [eps, 1 - eps], then ``-alpha * (1 - p)**gamma * y * log(p)`` summed over classes."""
    y = np.array([[0.0, 1.0, 0.0]])
    logits = np.array([[40.0, -40.0, 0.0]])
    p = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    p = np.clip(p, 1e-7, 1 - 1e-7)
    expected = -(0.25 * (1 - p) ** 2 * y * np.log(p)).sum(-1)
    ours = cornu.losses.categorical_focal_crossentropy(torch.tensor(y), torch.tensor(logits), from_logits=True)
    np.testing.assert_allclose(to_np(ours), expected, rtol=1e-6)


@pytest.mark.parametrize("make", [lambda lib: lib.metrics.Precision(), lambda lib: lib.metrics.TruePositives(),
                                  lambda lib: lib.metrics.Recall(thresholds=[0.25, 0.5, 0.75]),
                                  lambda lib: lib.metrics.AUC(),
                                  lambda lib: lib.metrics.AUC(thresholds=[0.2, 0.5, 0.7]),
                                  lambda lib: lib.metrics.AUC(thresholds=[0.25, 0.5, 0.75]),
                                  lambda lib: lib.metrics.RecallAtPrecision(0.5)])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 5)), ((6, 3), (3, 3)), ((3,), (4,))])
def test_confusion_shape_errors_match_keras_classes(keras_ref, make, shapes):
    y, p = np.ones(shapes[0]), np.full(shapes[1], 0.5)
    with pytest.raises(Exception) as ref:
        make(keras_ref).update_state(y, p)
    with pytest.raises(type(ref.value)):
        make(cornu).update_state(y, p)
