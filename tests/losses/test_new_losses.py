"""Dice, Tversky, Circle, CategoricalGeneralizedCrossEntropy and CTC vs float64 NumPy references (no Keras)."""
import itertools

import numpy as np
import pytest
import torch

from cornu import losses
from tests.helpers import assert_close, random_probs, seeded

EPS = 1e-7
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]


def np_reduce(values, weights, reduction, valid=None):
    """Keras's reduction of per-sample ``values``; ``valid`` rows alone count towards mean denominators."""
    valid = np.ones(values.shape, bool) if valid is None else valid
    weighted = values * (np.ones_like(values) if weights is None else weights) * valid
    if reduction in (None, "none"):
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if reduction == "mean_with_sample_weight" and weights is not None:
        return weighted.sum() / (weights * valid).sum()
    return weighted.sum() / valid.sum()


# ------------------------------------------------------------ dice / tversky


def np_dice(t, p, axis=None):
    return 1 - 2 * (t * p).sum(axis) / (t.sum(axis) + p.sum(axis) + EPS)


def np_tversky(t, p, alpha=0.5, beta=0.5, axis=None):
    tp, fn, fp = (t * p).sum(axis), (t * (1 - p)).sum(axis), ((1 - t) * p).sum(axis)
    return 1 - tp / (tp + alpha * fn + beta * fp + EPS)


def _masks(seed=0, shape=(3, 4, 5)):
    rng = seeded(seed)
    return (rng.random(shape) > 0.5).astype(np.float64), rng.random(shape)


@pytest.mark.parametrize("axis", [None, -1, (1, 2), [0, 2]])
def test_dice_function_matches_formula(axis):
    t, p = _masks()
    np_axis = None if axis is None else tuple(np.atleast_1d(axis))
    assert_close(losses.dice(torch.tensor(t), torch.tensor(p), axis=axis), np_dice(t, p, np_axis), rtol=1e-12)


@pytest.mark.parametrize("alpha,beta,axis", [(0.5, 0.5, None), (0.3, 0.7, (1, 2)), (1.0, 0.0, -1)])
def test_tversky_function_matches_formula(alpha, beta, axis):
    t, p = _masks(1)
    out = losses.tversky(torch.tensor(t), torch.tensor(p), alpha=alpha, beta=beta, axis=axis)
    assert_close(out, np_tversky(t, p, alpha, beta, axis), rtol=1e-12)


def test_dice_and_tversky_perfect_and_empty_masks():
    t = np.array([[1.0, 0.0, 1.0]])
    assert_close(losses.dice(torch.tensor(t), torch.tensor(t)), 1 - 4 / (4 + EPS), rtol=1e-12)
    zeros = torch.zeros(2, 3, dtype=torch.float64)
    # Nothing predicted and nothing to find: epsilon keeps the ratio at 0, so the loss is 1 (not NaN).
    assert losses.dice(zeros, zeros).item() == 1.0 and losses.tversky(zeros, zeros).item() == 1.0


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_dice_and_tversky_classes_reduce_per_sample_values(reduction, weighted):
    t, p = _masks(2)
    w = seeded(3).random(3) if weighted else None
    dice = losses.Dice(reduction=reduction, axis=(1, 2), dtype="float64")(t, p, sample_weight=w)
    assert_close(dice, np_reduce(np_dice(t, p, (1, 2)), w, reduction), rtol=1e-12)
    tv = losses.Tversky(0.2, 0.8, reduction=reduction, axis=(1, 2), dtype="float64")(t, p, sample_weight=w)
    assert_close(tv, np_reduce(np_tversky(t, p, 0.2, 0.8, (1, 2)), w, reduction), rtol=1e-12)


def test_dice_default_axis_gives_one_value_that_weights_broadcast_over():
    t, p = _masks(4)
    w = np.array([1.0, 2.0, 3.0])
    out = losses.Dice(reduction="none", dtype="float64")(t, p, sample_weight=w)
    assert_close(out, np_dice(t, p) * w, rtol=1e-12)


def test_dice_shape_mismatch_raises_like_keras():
    # Keras (torch backend) lets the elementwise product fail: a RuntimeError naming both sizes.
    with pytest.raises(RuntimeError, match="size"):
        losses.Dice()(np.ones((3, 4)), np.ones((3, 5)))


# ------------------------------------------- categorical generalized crossentropy


def np_gce(labels, p, q):
    return (1 - p[np.arange(len(labels)), labels] ** q) / q


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_generalized_crossentropy_matches_formula(q):
    labels = seeded(5).integers(0, 4, 10)
    p = random_probs((10, 4), seed=6).astype(np.float64)
    out = losses.categorical_generalized_cross_entropy(torch.tensor(labels), torch.tensor(p), q)
    assert_close(out, np_gce(labels, p, q), rtol=1e-12)
    # Labels of shape (batch, 1) and float labels (as Loss passes them) mean the same.
    cls = losses.CategoricalGeneralizedCrossEntropy(q=q, reduction="none", dtype="float64")
    assert_close(cls(labels[:, None].astype("float32"), p), np_gce(labels, p, q), rtol=1e-12)


def test_generalized_crossentropy_limits():
    labels = np.array([0, 2, 1])
    p = random_probs((3, 3), seed=7).astype(np.float64)
    # q -> 0 tends to crossentropy -log(p_y); out-of-range labels select no class (p_y = 0 -> 1/q).
    small_q = losses.categorical_generalized_cross_entropy(torch.tensor(labels), torch.tensor(p), 1e-6)
    assert_close(small_q, -np.log(p[np.arange(3), labels]), rtol=1e-5)
    out = losses.categorical_generalized_cross_entropy(torch.tensor([5, -1]), torch.tensor(p[:2]), 0.25)
    assert_close(out, [4.0, 4.0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_generalized_crossentropy_class_reductions(reduction):
    labels = seeded(8).integers(0, 5, 6)
    p = random_probs((6, 5), seed=9).astype(np.float64)
    w = seeded(10).random(6)
    out = losses.CategoricalGeneralizedCrossEntropy(q=0.7, reduction=reduction, dtype="float64")(labels, p, w)
    assert_close(out, np_reduce(np_gce(labels, p, 0.7), w, reduction), rtol=1e-12)


@pytest.mark.parametrize("q,error", [(0.0, ValueError), (1.0, ValueError), (-0.2, ValueError), (2, ValueError),
                                     ("0.5", TypeError), (None, TypeError)])
def test_generalized_crossentropy_rejects_q_outside_unit_interval(q, error):
    with pytest.raises(error, match=r"q"):
        losses.CategoricalGeneralizedCrossEntropy(q=q)


# -------------------------------------------------------------------- circle


def np_circle(labels, emb, ref_labels=None, ref_emb=None, remove_diagonal=True, gamma=80.0, margin=0.4):
    """Per-anchor loop over explicit positive/negative lists; returns (loss, valid)."""
    ref_labels = labels if ref_labels is None else ref_labels
    ref_emb = emb if ref_emb is None else ref_emb
    sim = np.minimum(emb @ ref_emb.T, 1.0)
    out, valid = np.zeros(len(labels)), np.zeros(len(labels), bool)
    for i in range(len(labels)):
        pos = [j for j in range(len(ref_labels)) if ref_labels[j] == labels[i] and not (remove_diagonal and i == j)]
        neg = [j for j in range(len(ref_labels)) if ref_labels[j] != labels[i]]
        if not pos or not neg:
            continue
        lp = [-gamma * max(1 + margin - sim[i, j], 0) * (sim[i, j] - (1 - margin)) for j in pos]
        ln = [gamma * max(sim[i, j] + margin, 0) * (sim[i, j] - margin) for j in neg]
        out[i] = np.logaddexp(0.0, np.logaddexp.reduce(lp) + np.logaddexp.reduce(ln))
        valid[i] = True
    return out, valid


def _embeddings(n=8, d=5, seed=11):
    e = seeded(seed).normal(size=(n, d))
    return e / np.linalg.norm(e, axis=1, keepdims=True)


LABELS = np.array([0, 1, 0, 2, 1, 3, 0, 1])


@pytest.mark.parametrize("kwargs", [{}, {"gamma": 2.0, "margin": 0.1}, {"remove_diagonal": False, "gamma": 5.0}])
def test_circle_function_matches_pairwise_reference(kwargs):
    e = _embeddings()
    out = losses.circle(torch.tensor(LABELS), torch.tensor(e), **kwargs)
    expected, valid = np_circle(LABELS, e, **kwargs)
    assert_close(out, expected, rtol=1e-10)
    np.testing.assert_array_equal(out._keras_mask.numpy(), valid)


def test_circle_against_reference_batch_and_unnormalised_embeddings():
    e = _embeddings(seed=12) * seeded(13).uniform(0.5, 3.0, (8, 1))  # dot products past 1 are capped
    ref_labels, ref = LABELS[:5], _embeddings(5, seed=14)
    for rd in (True, False):
        out = losses.circle(torch.tensor(LABELS), torch.tensor(e), ref_labels=torch.tensor(ref_labels),
                            ref_embeddings=torch.tensor(ref), remove_diagonal=rd, gamma=3.0, margin=0.25)
        assert_close(out, np_circle(LABELS, e, ref_labels, ref, rd, 3.0, 0.25)[0], rtol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_circle_class_averages_only_anchors_with_positives_and_negatives(reduction):
    e, w = _embeddings(seed=15), seeded(16).random(8)
    values, valid = np_circle(LABELS, e, gamma=4.0)
    assert not valid.all()  # labels 2 and 3 occur once: those anchors have no positive
    out = losses.Circle(gamma=4.0, reduction=reduction, dtype="float64")(LABELS[:, None], e, sample_weight=w)
    assert_close(out, np_reduce(values, w, reduction, valid), rtol=1e-10)


def test_circle_without_any_pair_is_zero_with_finite_gradient():
    e = torch.tensor(_embeddings(4, seed=17), requires_grad=True)
    for labels in ([0, 1, 2, 3], [0, 0, 0, 0]):  # no positives; no negatives
        loss = losses.Circle()(np.array(labels), e)
        loss.backward()
        assert loss.item() == 0.0 and torch.isfinite(e.grad).all()


# ----------------------------------------------------------------------- ctc


def np_log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def np_ctc_forward(log_probs, label):
    """-log p(label | x) by the CTC forward recursion over the blank-interleaved label (blank 0)."""
    ext = [0]
    for c in label:
        ext += [int(c), 0]
    steps, n = log_probs.shape[0], len(ext)
    alpha = np.full((steps, n), -np.inf)
    alpha[0, 0] = log_probs[0, 0]
    if n > 1:
        alpha[0, 1] = log_probs[0, ext[1]]
    for t in range(1, steps):
        for s in range(n):
            terms = [alpha[t - 1, s]] + ([alpha[t - 1, s - 1]] if s >= 1 else [])
            if s >= 2 and ext[s] != 0 and ext[s] != ext[s - 2]:
                terms.append(alpha[t - 1, s - 2])
            alpha[t, s] = np.logaddexp.reduce(terms) + log_probs[t, ext[s]]
    return -np.logaddexp.reduce(alpha[-1, -2:] if n > 1 else alpha[-1, -1:])


def np_ctc_brute_force(log_probs, label):
    """-log of the summed probability of every path that collapses (merge repeats, drop blanks) to label."""
    steps, classes = log_probs.shape
    total = -np.inf
    for path in itertools.product(range(classes), repeat=steps):
        collapsed = [c for i, c in enumerate(path) if c != 0 and (i == 0 or c != path[i - 1])]
        if collapsed == list(label):
            total = np.logaddexp(total, sum(log_probs[t, c] for t, c in enumerate(path)))
    return -total


def np_ctc(y_true, logits):
    """Keras's conventions: 0 pads each label row (and is the blank); logits are log-softmaxed."""
    return np.array([np_ctc_forward(np_log_softmax(z), row[:np.count_nonzero(row)])
                     for row, z in zip(y_true, logits)])


def test_ctc_forward_reference_agrees_with_brute_force():
    logits = seeded(20).normal(size=(5, 3))
    for label in ([], [1], [2, 1], [1, 1], [1, 2, 1]):
        assert np.isclose(np_ctc_forward(np_log_softmax(logits), label),
                          np_ctc_brute_force(np_log_softmax(logits), label), rtol=1e-12)


def test_ctc_function_matches_brute_force_on_tiny_problems():
    logits = seeded(21).normal(size=(4, 5, 3))
    y = np.array([[1, 2, 0], [1, 1, 0], [2, 0, 0], [0, 0, 0]])  # 0-padded; [1, 1] needs a blank in between
    expected = [np_ctc_brute_force(np_log_softmax(z), row[:np.count_nonzero(row)]) for row, z in zip(y, logits)]
    assert_close(losses.ctc(torch.tensor(y), torch.tensor(logits)), expected, rtol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ctc_class_matches_forward_reference(reduction):
    rng = seeded(22)
    logits, y = rng.normal(size=(6, 12, 6)), rng.integers(1, 6, (6, 4))
    y[1, 2:] = 0
    y[4, 1:] = 0
    w = rng.random(6)
    out = losses.CTC(reduction=reduction, dtype="float64")(y.astype("float32"), logits, sample_weight=w)
    assert_close(out, np_reduce(np_ctc(y, logits), w, reduction), rtol=1e-10)


def test_ctc_float32_and_infeasible_alignment():
    logits = seeded(23).normal(size=(2, 3, 4)).astype("float32")
    y = np.array([[1, 2, 0, 0], [1, 1, 1, 0]])  # [1, 1, 1] needs 5 steps; only 3 exist
    out = losses.ctc(torch.tensor(y), torch.tensor(logits))
    assert out.dtype == torch.float32
    assert_close(out[0], np_ctc(y[:1], logits[:1].astype(np.float64))[0], rtol=1e-5)
    assert torch.isinf(out[1])


@pytest.mark.parametrize("y_true,y_pred,match", [
    (np.ones(3), np.ones((3, 4, 5)), r"y_true.shape=\(3,\)"),
    (np.ones((3, 2)), np.ones((3, 4)), r"y_pred.shape=\(3, 4\)"),
])
def test_ctc_rejects_wrong_ranks(y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        losses.ctc(torch.tensor(y_true), torch.tensor(y_pred))


# ------------------------------------------------------------ common surface


NEW = {
    "Dice": ("dice", {"axis": None}),
    "Tversky": ("tversky", {"alpha": 0.5, "beta": 0.5, "axis": None}),
    "Circle": ("circle", {"gamma": 80.0, "margin": 0.4, "remove_diagonal": True}),
    "CategoricalGeneralizedCrossEntropy": ("categorical_generalized_cross_entropy", {"q": 0.5}),
    "CTC": ("ctc", {}),
}


@pytest.mark.parametrize("cls_name", sorted(NEW))
def test_names_configs_and_lookup(cls_name):
    fn_name, args = NEW[cls_name]
    cls, fn = getattr(losses, cls_name), getattr(losses, fn_name)
    assert cls_name in losses.__all__ and fn_name in losses.__all__
    assert losses.get(fn_name) is fn and type(losses.get(cls_name)) is cls
    loss = cls()
    assert loss.get_config() == {"name": fn_name, "reduction": "sum_over_batch_size", **args}
    custom = cls(reduction="sum", name="custom", dtype="float64")
    assert "dtype" not in custom.get_config()  # Keras 3.15 does not save a loss's dtype
    restored = losses.deserialize(losses.serialize(custom))
    assert type(restored) is cls and restored.get_config() == custom.get_config()


def test_invalid_reduction_names_the_value():
    with pytest.raises(ValueError, match="bogus"):
        losses.Tversky(reduction="bogus")


def _grad_inputs():
    rng = seeded(30)
    t, _ = _masks(31)
    return [
        (losses.Dice(), t, rng.random((3, 4, 5))),
        (losses.Tversky(alpha=0.7, beta=0.3), t, rng.random((3, 4, 5))),
        (losses.Circle(), LABELS, _embeddings(seed=32)),
        (losses.CategoricalGeneralizedCrossEntropy(q=0.3), LABELS % 4, random_probs((8, 4), seed=33)),
        (losses.CTC(), rng.integers(0, 5, (3, 4)), rng.normal(size=(3, 9, 5))),
    ]


@pytest.mark.parametrize("case", range(5))
def test_gradients_are_finite(case):
    loss, y_true, y_pred = _grad_inputs()[case]
    x = torch.tensor(y_pred, dtype=torch.float32, requires_grad=True)
    value = loss(y_true, x)
    value.backward()
    assert value.dtype == torch.float32 and torch.isfinite(value) and torch.isfinite(x.grad).all()
    assert x.grad.abs().sum() > 0
