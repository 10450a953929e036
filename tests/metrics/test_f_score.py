"""F-beta / F1 scores vs NumPy."""
import numpy as np
import pytest

from cornu import metrics

EPS = 1e-7
RNG = np.random.default_rng(6)


def np_fbeta(y, pred, beta, average, w=None):
    w = np.ones(len(y)) if w is None else w
    tp = (w[:, None] * pred * y).sum(0)
    fp = (w[:, None] * pred * (1 - y)).sum(0)
    fn = (w[:, None] * (1 - pred) * y).sum(0)
    support = (w[:, None] * y).sum(0)
    if average == "micro":
        tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
    prec, rec = tp / (tp + fp + EPS), tp / (tp + fn + EPS)
    f = (1 + beta**2) * prec * rec / (beta**2 * prec + rec + EPS)
    if average == "weighted":
        return (f * support / (support.sum() + EPS)).sum()
    return f if average is None else np.mean(f)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_f1_threshold(average):
    y = RNG.integers(0, 2, (15, 3)).astype(float)
    p = RNG.uniform(size=(15, 3))
    w = RNG.uniform(size=15)
    m = metrics.F1Score(average=average, threshold=0.5, dtype="float64")
    m.update_state(y[:6], p[:6], sample_weight=w[:6])
    m.update_state(y[6:], p[6:], sample_weight=w[6:])
    np.testing.assert_allclose(m.result().numpy(), np_fbeta(y, (p > 0.5).astype(float), 1.0, average, w),
                               rtol=1e-10)


def test_fbeta_argmax_default_and_beta():
    y = np.eye(4)[RNG.integers(0, 4, 12)]
    p = RNG.uniform(size=(12, 4))
    pred = (p == p.max(-1, keepdims=True)).astype(float)
    m = metrics.FBetaScore(beta=2.0, average="macro", dtype="float64")
    assert m(y, p).item() == pytest.approx(np_fbeta(y, pred, 2.0, "macro"), rel=1e-10)


def test_f_score_validation_and_reset():
    with pytest.raises(ValueError, match="average"):
        metrics.F1Score(average="mean")
    with pytest.raises(ValueError, match="beta"):
        metrics.FBetaScore(beta=0)
    with pytest.raises(ValueError, match="threshold"):
        metrics.F1Score(threshold=1.5)
    m = metrics.F1Score(average="micro")
    m([[1, 0]], [[0.9, 0.1]])
    m.reset_state()
    assert m([[1, 0]], [[0.1, 0.9]]).item() == 0.0
