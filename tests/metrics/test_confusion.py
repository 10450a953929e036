"""Confusion counts, Precision, Recall and AUC vs NumPy reference computations."""
import numpy as np
import pytest

from cornu import metrics

RNG = np.random.default_rng(5)
EPS = 1e-7


def np_counts(y, p, w, thresholds):
    y, p, w = (np.asarray(a, dtype=float).ravel() for a in np.broadcast_arrays(y, p, w))
    pos = p[:, None] > np.asarray(thresholds)[None, :]
    lab = (y != 0)[:, None]
    return {"tp": (w[:, None] * (pos & lab)).sum(0), "fp": (w[:, None] * (pos & ~lab)).sum(0),
            "fn": (w[:, None] * (~pos & lab)).sum(0), "tn": (w[:, None] * (~pos & ~lab)).sum(0)}


Y = RNG.integers(0, 2, (20, 3))
P = RNG.uniform(size=(20, 3))
W = RNG.uniform(size=(20, 1))


@pytest.mark.parametrize("cls, key", [(metrics.TruePositives, "tp"), (metrics.FalsePositives, "fp"),
                                      (metrics.TrueNegatives, "tn"), (metrics.FalseNegatives, "fn")])
def test_counts_stream_with_thresholds_and_weights(cls, key):
    thresholds = [0.2, 0.5, 0.9]
    m = cls(thresholds=thresholds, dtype="float64")
    m.update_state(Y[:8], P[:8], sample_weight=W[:8])
    m.update_state(Y[8:], P[8:], sample_weight=W[8:])
    np.testing.assert_allclose(m.result().numpy(), np_counts(Y, P, W, thresholds)[key], rtol=1e-5)
    single = cls(dtype="float64")
    assert single(Y, P).item() == pytest.approx(np_counts(Y, P, 1.0, [0.5])[key][0])


def test_precision_recall_streaming():
    c = np_counts(Y, P, W, [0.5])
    prec, rec = metrics.Precision(dtype="float64"), metrics.Recall(dtype="float64")
    for sl in (slice(0, 11), slice(11, 20)):
        prec.update_state(Y[sl], P[sl], sample_weight=W[sl])
        rec.update_state(Y[sl], P[sl], sample_weight=W[sl])
    assert prec.result().ndim == 0
    assert prec.result().item() == pytest.approx(c["tp"][0] / (c["tp"][0] + c["fp"][0]), rel=1e-5)
    assert rec.result().item() == pytest.approx(c["tp"][0] / (c["tp"][0] + c["fn"][0]), rel=1e-5)
    prec.reset_state()
    assert prec.result().item() == 0.0


def test_precision_multiple_thresholds_class_id_top_k():
    thresholds = [0.3, 0.7]
    c = np_counts(Y[:, 1], P[:, 1], 1.0, thresholds)
    m = metrics.Precision(thresholds=thresholds, class_id=1, dtype="float64")
    np.testing.assert_allclose(m(Y, P).numpy(), c["tp"] / (c["tp"] + c["fp"]), rtol=1e-5)
    top1 = P == P.max(-1, keepdims=True)
    tp = (top1 & (Y == 1)).sum()
    r = metrics.Recall(top_k=1, dtype="float64")(Y, P).item()
    assert r == pytest.approx(tp / Y.sum(), rel=1e-5)
    p = metrics.Precision(top_k=1, dtype="float64")(Y, P).item()
    assert p == pytest.approx(tp / top1.sum(), rel=1e-5)


def test_threshold_validation():
    with pytest.raises(ValueError, match="Threshold"):
        metrics.Precision(thresholds=[0.5, 1.5])


def _np_auc(y, p, w, num_thresholds, curve="ROC", summation="interpolation"):
    inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    c = np_counts(y, p, w, [-EPS] + inner + [1 + EPS])
    tp, fp, tn, fn = c["tp"], c["fp"], c["tn"], c["fn"]
    div = lambda a, b: np.where(b == 0, 0.0, a / np.where(b == 0, 1, b))  # noqa: E731
    if curve == "PR" and summation == "interpolation":
        dtp = tp[:-1] - tp[1:]
        pp = tp + fp
        dp = pp[:-1] - pp[1:]
        slope = div(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * pp[1:]
        ratio = np.where((pp[:-1] > 0) & (pp[1:] > 0), div(pp[:-1], np.maximum(pp[1:], 0)), 1.0)
        return div(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)).sum()
    recall = div(tp, tp + fn)
    x, yv = (div(fp, fp + tn), recall) if curve == "ROC" else (recall, div(tp, tp + fp))
    heights = {"interpolation": (yv[:-1] + yv[1:]) / 2, "minoring": np.minimum(yv[:-1], yv[1:]),
               "majoring": np.maximum(yv[:-1], yv[1:])}[summation]
    return ((x[:-1] - x[1:]) * heights).sum()


@pytest.mark.parametrize("curve, summation", [("ROC", "interpolation"), ("ROC", "minoring"), ("ROC", "majoring"),
                                              ("PR", "interpolation"), ("PR", "majoring")])
def test_auc_streaming_matches_reference(curve, summation):
    m = metrics.AUC(num_thresholds=50, curve=curve, summation_method=summation, dtype="float64")
    m.update_state(Y[:9], P[:9], sample_weight=W[:9])
    m.update_state(Y[9:], P[9:], sample_weight=W[9:])
    assert m.result().item() == pytest.approx(_np_auc(Y, P, W, 50, curve, summation), rel=1e-5)


def test_auc_roc_equals_exact_rank_auc_when_scores_fall_between_thresholds():
    labels = RNG.integers(0, 2, 200)
    scores = (RNG.integers(0, 9, 200) + 0.5) / 9  # bucket midpoints of 10 evenly spaced thresholds
    pos, neg = scores[labels == 1], scores[labels == 0]
    exact = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (len(pos) * len(neg))
    assert metrics.AUC(num_thresholds=10, dtype="float64")(labels, scores).item() == pytest.approx(exact, rel=1e-5)


def test_auc_from_logits_and_multi_label():
    logits = np.log(P / (1 - P))
    plain = metrics.AUC(dtype="float64")(Y, P).item()
    assert metrics.AUC(from_logits=True, dtype="float64")(Y, logits).item() == pytest.approx(plain, rel=1e-5)
    per_label = [_np_auc(Y[:, i], P[:, i], 1.0, 200) for i in range(3)]
    multi = metrics.AUC(multi_label=True, dtype="float64")
    assert multi(Y, P).item() == pytest.approx(np.mean(per_label), rel=1e-5)
    lw = [1.0, 2.0, 0.5]
    weighted = metrics.AUC(multi_label=True, num_labels=3, label_weights=lw, dtype="float64")(Y, P).item()
    assert weighted == pytest.approx(np.dot(per_label, lw) / sum(lw), rel=1e-5)


def test_auc_validation_and_config():
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="curve"):
        metrics.AUC(curve="XY")
    m = metrics.AUC(thresholds=[0.6, 0.2], curve="PR")
    assert m.num_thresholds == 4 and m.thresholds == pytest.approx([-EPS, 0.2, 0.6, 1 + EPS])
    clone = metrics.AUC.from_config(m.get_config())
    assert clone.get_config() == m.get_config()
    assert clone(Y, P).item() == pytest.approx(m(Y, P).item())
