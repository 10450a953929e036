"""Crossentropy, KL, Poisson and hinge metrics streamed vs NumPy."""
import numpy as np
import pytest

from cornu import metrics

RNG = np.random.default_rng(4)
EPS = 1e-7


def _probs(shape):
    p = RNG.uniform(0.05, 1, size=shape)
    return p / p.sum(-1, keepdims=True)


def test_categorical_and_sparse_crossentropy_stream():
    labels = RNG.integers(0, 4, 9)
    p = _probs((9, 4))
    w = RNG.uniform(size=9)
    per = -np.log(p[np.arange(9), labels])
    expected = (per * w).sum() / w.sum()
    cce = metrics.CategoricalCrossentropy(dtype="float64")
    scce = metrics.SparseCategoricalCrossentropy(dtype="float64")
    for sl in (slice(0, 4), slice(4, 9)):
        cce.update_state(np.eye(4)[labels[sl]], p[sl], sample_weight=w[sl])
        scce.update_state(labels[sl], p[sl], sample_weight=w[sl])
    assert cce.result().item() == pytest.approx(expected, rel=1e-6)
    assert scce.result().item() == pytest.approx(expected, rel=1e-6)


def test_crossentropy_metrics_from_logits_and_smoothing():
    z = RNG.normal(size=(6, 3))
    labels = RNG.integers(0, 3, 6)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    m = metrics.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")
    assert m(labels, z).item() == pytest.approx(-logp[np.arange(6), labels].mean(), rel=1e-6)
    y = np.eye(3)[labels] * 0.7 + 0.1
    m = metrics.CategoricalCrossentropy(from_logits=True, label_smoothing=0.3, dtype="float64")
    assert m(np.eye(3)[labels], z).item() == pytest.approx(-(y * logp).sum(-1).mean(), rel=1e-6)


def test_binary_crossentropy_metric():
    y = RNG.integers(0, 2, (7, 2)).astype(float)
    p = RNG.uniform(size=(7, 2))
    p[0, 0] = 1.0
    y[0, 0] = 0.0
    pc = np.clip(p, EPS, 1 - EPS)
    per = -(y * np.log(pc) + (1 - y) * np.log(1 - pc)).mean(-1)
    m = metrics.BinaryCrossentropy(dtype="float64")
    m.update_state(y[:3], p[:3])
    m.update_state(y[3:], p[3:])
    assert np.isfinite(m.result().item())
    assert m.result().item() == pytest.approx(per.mean(), rel=1e-6)


def test_kl_poisson_hinge_metrics():
    y, p = _probs((5, 3)), _probs((5, 3))
    kl = (y * np.log(y / p)).sum(-1).mean()
    assert metrics.KLDivergence(dtype="float64")(y, p).item() == pytest.approx(kl, rel=1e-6)
    counts, rate = RNG.integers(0, 5, (5, 3)).astype(float), RNG.uniform(0.5, 4, (5, 3))
    expected = (rate - counts * np.log(rate + EPS)).mean(-1).mean()
    assert metrics.Poisson(dtype="float64")(counts, rate).item() == pytest.approx(expected, rel=1e-6)
    y01, s = RNG.integers(0, 2, (5, 3)).astype(float), RNG.normal(size=(5, 3))
    margin = np.maximum(1 - (2 * y01 - 1) * s, 0)
    assert metrics.Hinge(dtype="float64")(y01, s).item() == pytest.approx(margin.mean(), rel=1e-6)
    assert metrics.SquaredHinge(dtype="float64")(y01, s).item() == pytest.approx((margin**2).mean(), rel=1e-6)
    onehot = np.eye(3)[RNG.integers(0, 3, 5)]
    ch = np.maximum(((1 - onehot) * s).max(-1) - (onehot * s).sum(-1) + 1, 0).mean()
    assert metrics.CategoricalHinge(dtype="float64")(onehot, s).item() == pytest.approx(ch, rel=1e-6)
