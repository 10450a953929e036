"""Losses (``keras.losses``): per-sample loss functions and reducing ``Loss`` classes.

Functions take ``(y_true, y_pred)`` and return one value per sample (the last
axis reduced), on ``y_pred``'s device. ``Loss`` objects call such a function,
apply ``sample_weight`` and a mask, then reduce. Crossentropies on
probabilities normalise and clip to ``[epsilon, 1 - epsilon]`` so saturated
predictions give finite values; ``from_logits=True`` uses log-softmax /
stable sigmoid formulas.
"""
from __future__ import annotations

import inspect
import math
import numbers
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from cornu import config
from cornu.utils.naming import to_snake_case

# ----------------------------------------------------------------- helpers


def to_tensor(x: Any, dtype: Any = None, device: torch.device | None = None) -> torch.Tensor:
    """``x`` as a torch tensor; ``dtype``/``device`` cast or move it when given.

    Python floats and lists of floats become floatx; numpy arrays keep their
    dtype; non-tensors go to ``device`` or, if None, ``config.device()``.
    """
    if hasattr(x, "keras_value") and not isinstance(x, torch.Tensor):
        x = x.keras_value
    if isinstance(x, (bool, int, float, np.generic)):
        # Filled on the device (no host-to-device copy, which would synchronise CUDA).
        scalar_dtype = dtype or (config.floatx() if isinstance(x, float) else np.asarray(x).dtype)
        return torch.full((), x.item() if isinstance(x, np.generic) else x,
                          dtype=config.torch_dtype(scalar_dtype), device=device or config.device())
    if not isinstance(x, torch.Tensor):
        arr = np.asarray(x)
        if arr.dtype.kind not in "biuf":
            # Keras's torch backend raises ValueError for strings and objects.
            raise ValueError(f"Expected numeric values, received an array of dtype {arr.dtype}: {x!r}")
        if dtype is None and arr.dtype.kind == "f" and not isinstance(x, np.ndarray):
            dtype = config.floatx()
        x = torch.as_tensor(arr, device=device or config.device())
    if dtype is not None:
        dt = config.torch_dtype(dtype)
        if x.dtype != dt:
            x = x.to(dt)
    if device is not None and x.device != torch.device(device):
        x = x.to(device)
    return x


def _pred(y_pred: Any) -> torch.Tensor:
    """Predictions as a floating tensor (integer input becomes floatx)."""
    y_pred = to_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(config.torch_dtype(config.floatx()))
    return y_pred


def _true_like(y_true: Any, y_pred: torch.Tensor) -> torch.Tensor:
    return to_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)


def _upcast(x: torch.Tensor) -> torch.Tensor:
    """Half precisions compute logs in float32 (1 - epsilon rounds to 1 in float16)."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def squeeze_or_expand_to_same_rank(x1: torch.Tensor, x2: torch.Tensor,
                                   expand_rank_1: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Make ranks equal when they differ by one trailing size-1 axis (Keras's rule).

    A rank-1 partner is expanded (``(b,)`` vs ``(b, 1)`` -> both ``(b, 1)``) when
    ``expand_rank_1``; otherwise the trailing 1 is squeezed.
    """
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def standardize_compute_dtype(dtype: Any) -> str | None:
    """A dtype name for a loss or metric ``dtype`` argument; a policy (``"mixed_float16"``, a ``DTypePolicy``)
    gives its compute dtype, as in Keras. None stays None."""
    if dtype is None:
        return None
    if hasattr(dtype, "compute_dtype") or (isinstance(dtype, str) and dtype.startswith("mixed_")):
        from cornu import dtype_policies

        return dtype_policies.get(dtype).compute_dtype
    return config.standardize_dtype(dtype)


def divide_no_nan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a / b`` with 0 where ``b == 0``; a float64 quotient comes back float32.

    Keras's torch backend returns float32 from ``divide_no_nan`` of float64
    operands, so in Keras a float64 loss's mean reductions and a float64
    ``Mean``-style metric's result are float32; this keeps that.
    """
    safe = torch.where(b == 0, torch.ones_like(b), b)
    out = torch.where(b == 0, torch.zeros_like(a / safe), a / safe)
    return out.to(torch.float32) if out.dtype == torch.float64 else out


def _check_same_shape(y_true: torch.Tensor, y_pred: torch.Tensor) -> None:
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
        )


def _check_axis(axis: Any) -> None:
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise TypeError(f"`axis` must be of type `int`. Received: axis={axis!r} of type {type(axis)}")


# ------------------------------------------------------- regression losses


def mean_squared_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean((y_true - y_pred)**2, axis=-1)``."""
    y_pred = _pred(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(_true_like(y_true, y_pred), y_pred)
    return torch.mean(torch.square(y_true - y_pred), dim=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean(|y_true - y_pred|, axis=-1)``."""
    y_pred = _pred(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(_true_like(y_true, y_pred), y_pred)
    return torch.mean(torch.abs(y_true - y_pred), dim=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``100 * mean(|(y_true - y_pred) / max(|y_true|, epsilon)|, axis=-1)``."""
    y_pred = _pred(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(_true_like(y_true, y_pred), y_pred)
    diff = torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=config.epsilon()))
    return 100.0 * torch.mean(diff, dim=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2, axis=-1)``."""
    y_pred = _pred(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(_true_like(y_true, y_pred), y_pred)
    eps = config.epsilon()
    diff = torch.log1p(torch.clamp(y_pred, min=eps)) - torch.log1p(torch.clamp(y_true, min=eps))
    return torch.mean(torch.square(diff), dim=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> torch.Tensor:
    """Quadratic ``0.5 * e**2`` for ``|e| <= delta``, linear ``delta * (|e| - 0.5 * delta)`` beyond."""
    if isinstance(delta, (str, bytes)) or delta is None:
        raise ValueError(f"`delta` must be a number. Received: delta={delta!r}")
    y_pred = _pred(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(_true_like(y_true, y_pred), y_pred)
    error = y_pred - y_true
    abs_error = torch.abs(error)
    loss = torch.where(abs_error <= delta, 0.5 * torch.square(error), delta * abs_error - 0.5 * delta**2)
    return torch.mean(loss, dim=-1)


def log_cosh(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed without overflow."""
    y_pred = _pred(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(_true_like(y_true, y_pred), y_pred)
    x = y_pred - y_true
    return torch.mean(x + F.softplus(-2.0 * x) - math.log(2.0), dim=-1)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Negative cosine similarity along ``axis`` (-1 means identical direction)."""
    y_pred = _pred(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(_true_like(y_true, y_pred), y_pred)
    y_true = F.normalize(y_true, dim=axis, eps=1e-12)
    y_pred = F.normalize(y_pred, dim=axis, eps=1e-12)
    return -torch.sum(y_true * y_pred, dim=axis)


# ------------------------------------------------------------ hinge losses
# Like Keras, hinge, squared_hinge, kl_divergence, poisson and categorical_focal_crossentropy do not
# align ranks themselves: (b,) against (b, 1) broadcasts. ``Loss`` classes align ranks before calling.


def _hinge_labels(y_true: torch.Tensor) -> torch.Tensor:
    """Map 0/1 labels to -1/1 (labels already in {-1, 1} pass through); no host sync."""
    is_binary = torch.all((y_true == 0) | (y_true == 1))
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)`` with 0/1 labels mapped to -1/1."""
    y_pred = _pred(y_pred)
    y_true = _hinge_labels(_true_like(y_true, y_pred))
    return torch.mean(torch.relu(1.0 - y_true * y_pred), dim=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean(max(1 - y_true * y_pred, 0)**2, axis=-1)`` with 0/1 labels mapped to -1/1."""
    y_pred = _pred(y_pred)
    y_true = _hinge_labels(_true_like(y_true, y_pred))
    return torch.mean(torch.square(torch.relu(1.0 - y_true * y_pred)), dim=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` over the last axis."""
    y_pred = _pred(y_pred)
    y_true = _true_like(y_true, y_pred)
    pos = torch.sum(y_true * y_pred, dim=-1)
    neg = torch.amax((1.0 - y_true) * y_pred, dim=-1)
    return torch.relu(neg - pos + 1.0)


# --------------------------------------------------- probabilistic losses


def kl_divergence(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``sum(y_true * log(y_true / y_pred), axis=-1)``, both clipped to ``[epsilon, 1]``."""
    y_pred = _pred(y_pred)
    y_true = _true_like(y_true, y_pred)
    y_true = torch.clamp(_upcast(y_true), config.epsilon(), 1.0)
    y_pred = torch.clamp(_upcast(y_pred), config.epsilon(), 1.0)
    return torch.sum(y_true * torch.log(y_true / y_pred), dim=-1)


def poisson(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``."""
    y_pred = _pred(y_pred)
    y_true = _true_like(y_true, y_pred)
    return torch.mean(y_pred - y_true * torch.log(y_pred + config.epsilon()), dim=-1)


def _log_probs(y_pred: torch.Tensor, from_logits: bool, axis: int) -> torch.Tensor:
    """Log-probabilities along ``axis``: log-softmax of logits, or log of normalised clipped probabilities."""
    y_pred = _upcast(y_pred)
    if from_logits:
        return torch.log_softmax(y_pred, dim=axis)
    eps = config.epsilon()
    probs = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
    return torch.log(torch.clamp(probs, eps, 1.0 - eps))


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                             axis: int = -1) -> torch.Tensor:
    """``-sum(y_true * log(p), axis)`` for one-hot (or soft) targets."""
    _check_axis(axis)
    y_pred = _pred(y_pred)
    y_true = _true_like(y_true, y_pred)
    _check_same_shape(y_true, y_pred)
    if label_smoothing:
        num_classes = y_true.shape[-1]  # Keras spreads the smoothing over the last axis whatever ``axis`` is
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    return -torch.sum(y_true * _log_probs(y_pred, from_logits, axis), dim=axis)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1) -> torch.Tensor:
    """Crossentropy for integer targets of shape ``y_pred.shape`` minus the class axis (or with a trailing 1).

    With ``ignore_class``, those targets give 0 and the result carries a
    ``_keras_mask`` so ``Loss`` reductions average over the valid entries only.
    """
    _check_axis(axis)
    y_pred = _pred(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    axis = axis % y_pred.ndim
    expected = y_pred.shape[:axis] + y_pred.shape[axis + 1:]
    if y_true.shape != expected:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the class axis. "
            f"Received: target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
        )
    labels = y_true.long() if y_true.dtype != torch.long else y_true
    valid = None
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = torch.where(valid, labels, torch.zeros_like(labels))
    log_prob = _log_probs(y_pred, from_logits, axis)
    loss = -torch.gather(log_prob, axis, labels.unsqueeze(axis)).squeeze(axis)
    if valid is not None:
        loss = torch.where(valid, loss, torch.zeros_like(loss))
        loss._keras_mask = valid
    return loss


def _binary_crossentropy_elementwise(y_true: torch.Tensor, y_pred: torch.Tensor, from_logits: bool) -> torch.Tensor:
    y_true, y_pred = _upcast(y_true), _upcast(y_pred)
    if from_logits:
        return F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    eps = config.epsilon()
    p = torch.clamp(y_pred, eps, 1.0 - eps)
    return -(y_true * torch.log(p) + (1.0 - y_true) * torch.log1p(-p))


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1) -> torch.Tensor:
    """``mean(-(y log p + (1 - y) log(1 - p)), axis)``; smoothing pulls targets towards 0.5."""
    _check_axis(axis)
    y_pred = _pred(y_pred)
    y_true = _true_like(y_true, y_pred)
    _check_same_shape(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return torch.mean(_binary_crossentropy_elementwise(y_true, y_pred, from_logits), dim=axis)


def binary_focal_crossentropy(y_true: Any, y_pred: Any, apply_class_balancing: bool = False, alpha: float = 0.25,
                              gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0,
                              axis: int = -1) -> torch.Tensor:
    """Binary crossentropy scaled by ``(1 - p_t)**gamma`` (and ``alpha`` weights when balancing)."""
    _check_axis(axis)
    y_pred = _pred(y_pred)
    y_true = _true_like(y_true, y_pred)
    _check_same_shape(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    bce = _binary_crossentropy_elementwise(y_true, y_pred, from_logits)
    probs = torch.sigmoid(_upcast(y_pred)) if from_logits else _upcast(y_pred)
    y_true = _upcast(y_true)
    p_t = y_true * probs + (1.0 - y_true) * (1.0 - probs)
    focal = torch.pow(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return torch.mean(focal, dim=axis)


def categorical_focal_crossentropy(y_true: Any, y_pred: Any, alpha: float = 0.25, gamma: float = 2.0,
                                   from_logits: bool = False, label_smoothing: float = 0.0,
                                   axis: int = -1) -> torch.Tensor:
    """Categorical crossentropy with each class term scaled by ``alpha * (1 - p)**gamma``."""
    _check_axis(axis)
    y_pred = _pred(y_pred)
    y_true = _true_like(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]  # as Keras: the last axis
    if from_logits:  # Keras softmaxes, then clips like probabilities (saturated logits cost -log(epsilon))
        y_pred = torch.softmax(_upcast(y_pred), dim=axis)
    log_p = _log_probs(y_pred, False, axis)
    weight = alpha * torch.pow(1.0 - torch.exp(log_p), gamma)
    return -torch.sum(weight * _upcast(y_true) * log_p, dim=axis)


# -------------------------------------------------- segmentation losses


def _sum_over(x: torch.Tensor, axis: Any) -> torch.Tensor:
    """Sum over ``axis`` (an int or a sequence of ints), or over every axis when it is None."""
    return torch.sum(x) if axis is None else torch.sum(x, dim=axis)


def dice(y_true: Any, y_pred: Any, axis: Any = None) -> torch.Tensor:
    """``1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + epsilon)`` over ``axis`` (all if None)."""
    y_pred = _pred(y_pred)
    y_true = _true_like(y_true, y_pred)
    intersection = _sum_over(y_true * y_pred, axis)
    total = _sum_over(y_true, axis) + _sum_over(y_pred, axis)
    return 1.0 - 2.0 * intersection / (total + config.epsilon())


def tversky(y_true: Any, y_pred: Any, alpha: float = 0.5, beta: float = 0.5, axis: Any = None) -> torch.Tensor:
    """``1 - TP / (TP + alpha * FN + beta * FP + epsilon)`` with soft counts summed over ``axis``."""
    y_pred = _pred(y_pred)
    y_true = _true_like(y_true, y_pred)
    true_pos = _sum_over(y_true * y_pred, axis)
    false_neg = _sum_over(y_true * (1.0 - y_pred), axis)
    false_pos = _sum_over((1.0 - y_true) * y_pred, axis)
    return 1.0 - true_pos / (true_pos + alpha * false_neg + beta * false_pos + config.epsilon())


# ----------------------------------------------------- integer-label losses


def _labels(y_true: Any, device: torch.device) -> torch.Tensor:
    """Class labels as int64 (``Loss`` hands them over as floats)."""
    labels = to_tensor(y_true, device=device)
    return labels if labels.dtype == torch.long else labels.long()


def categorical_generalized_cross_entropy(y_true: Any, y_pred: Any, q: float) -> torch.Tensor:
    """``(1 - p_y**q) / q`` for integer labels ``y`` and class probabilities ``p`` (Zhang & Sabuncu, 2018).

    Robust to noisy labels: ``q -> 0`` tends to crossentropy, ``q = 1`` is MAE.
    A label outside ``[0, classes)`` selects no class (``p_y = 0``). Labels of
    shape ``(batch, 1)`` are read as ``(batch,)``.
    """
    y_pred = _pred(y_pred)
    labels = _labels(y_true, y_pred.device)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    classes = torch.arange(y_pred.shape[-1], device=y_pred.device)
    is_label = labels.unsqueeze(-1) == classes
    p = torch.sum(torch.where(is_label, y_pred, torch.zeros_like(y_pred)), dim=-1)
    return (1.0 - torch.pow(p, q)) / q


def _masked_logsumexp(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """logsumexp of each row over its ``mask`` entries; rows without any stay finite (callers mask them)."""
    return torch.logsumexp(torch.where(mask, x, torch.full_like(x, torch.finfo(x.dtype).min)), dim=-1)


def circle(y_true: Any, y_pred: Any, ref_labels: Any = None, ref_embeddings: Any = None,
           remove_diagonal: bool = True, gamma: float = 80, margin: float = 0.4) -> torch.Tensor:
    """Circle loss (Sun et al., 2020) of each embedding against the reference batch.

    ``y_pred`` should be L2-normalised embeddings (it is not normalised here);
    similarities are dot products capped at 1. Per row:
    ``softplus(logsumexp_pos(-gamma * relu(1 + m - s) * (s - (1 - m)))
    + logsumexp_neg(gamma * relu(s + m) * (s - m)))``, with positives the other
    rows of the same label (and the row itself unless ``remove_diagonal``).
    Rows lacking a positive or a negative give 0 and are masked out of mean
    reductions (through ``_keras_mask``).
    """
    y_pred = _pred(y_pred)
    labels = _labels(y_true, y_pred.device)
    ref_labels = labels if ref_labels is None else _labels(ref_labels, y_pred.device)
    ref = y_pred if ref_embeddings is None else _true_like(ref_embeddings, y_pred)
    similarity = torch.clamp(torch.matmul(y_pred, ref.transpose(-1, -2)), max=1.0)
    same = labels.reshape(-1, 1) == ref_labels.reshape(1, -1)
    positive = same
    if remove_diagonal:
        positive = same & ~torch.eye(*same.shape, dtype=torch.bool, device=same.device)
    negative = ~same
    pos_logits = -gamma * torch.relu(1.0 + margin - similarity) * (similarity - (1.0 - margin))
    neg_logits = gamma * torch.relu(similarity + margin) * (similarity - margin)
    valid = torch.any(positive, dim=-1) & torch.any(negative, dim=-1)
    logits = _masked_logsumexp(pos_logits, positive) + _masked_logsumexp(neg_logits, negative)
    safe = torch.where(valid, logits, torch.zeros_like(logits))
    loss = torch.where(valid, F.softplus(safe), torch.zeros_like(safe))
    loss._keras_mask = valid
    return loss


def ctc(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Connectionist temporal classification loss per sample, on torch's CTC kernel.

    ``y_true``: ``(batch, max_label_length)`` integer labels in ``[1, classes)``,
    padded with 0; each label's length is its count of non-zero entries.
    ``y_pred``: ``(batch, time, classes)`` scores that are log-softmaxed over
    classes (so logits; probabilities are treated the same way). Class 0 is
    the blank and every sequence uses all ``time`` steps. An infeasible
    alignment gives ``inf``.
    """
    y_pred = _pred(y_pred)
    labels = _labels(y_true, y_pred.device)
    if labels.ndim != 2:
        raise ValueError(
            "Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` in integer format. "
            f"Received: y_true.shape={tuple(labels.shape)}"
        )
    if y_pred.ndim != 3:
        raise ValueError(
            "Logits `y_pred` are expected to be a tensor of shape `(batch_size, max_length, num_classes)`. "
            f"Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    batch, time = y_pred.shape[0], y_pred.shape[1]
    label_lengths = torch.sum(labels != 0, dim=-1)
    input_lengths = torch.full((batch,), time, dtype=torch.long, device=y_pred.device)
    log_probs = torch.log_softmax(_upcast(y_pred), dim=-1).transpose(0, 1)
    return F.ctc_loss(log_probs, labels, input_lengths, label_lengths, blank=0, reduction="none")


# Keras's short aliases.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy

# ---------------------------------------------------------------- reduction

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def standardize_reduction(reduction: str | None) -> str | None:
    """Validate ``reduction`` against Keras's allowed values."""
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Invalid value for argument `reduction`. Expected one of {list(REDUCTIONS)}. "
            f"Received: reduction={reduction!r}"
        )
    return reduction


def apply_mask(sample_weight: torch.Tensor | None, mask: torch.Tensor | None, dtype: torch.dtype,
               reduction: str | None) -> torch.Tensor | None:
    """Fold a boolean mask into the weights; for mean reductions masked-out entries leave the denominator."""
    if mask is None:
        return sample_weight
    mask = mask.to(dtype)
    if reduction in ("mean", "sum_over_batch_size"):
        valid = torch.sum(mask)
        scale = mask.numel() / (valid + config.epsilon())
        # Nothing valid: weight 0 (in half precision the scale would overflow to inf and 0 * inf is NaN).
        mask = mask * torch.where(valid == 0, torch.zeros_like(scale), scale)
    if sample_weight is None:
        return mask
    mask, sample_weight = squeeze_or_expand_to_same_rank(mask, sample_weight.to(dtype))
    return sample_weight * mask


def reduce_values(values: torch.Tensor, sample_weight: torch.Tensor | None = None,
                  reduction: str | None = "sum_over_batch_size") -> torch.Tensor:
    """Sum, or sum divided by the element count (or the weight total for ``mean_with_sample_weight``)."""
    if reduction is None or reduction == "none" or values.ndim == 0 or values.numel() == 0:
        return values
    loss = torch.sum(values)
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return divide_no_nan(loss, torch.sum(sample_weight).to(loss.dtype))
    loss = loss / values.numel()
    return loss.to(torch.float32) if loss.dtype == torch.float64 else loss  # as divide_no_nan


def reduce_weighted_values(values: torch.Tensor, sample_weight: Any = None, mask: torch.Tensor | None = None,
                           reduction: str | None = "sum_over_batch_size", dtype: Any = None) -> torch.Tensor:
    """Weight per-sample losses by ``sample_weight`` (and ``mask``), then reduce."""
    reduction = standardize_reduction(reduction)
    dt = config.torch_dtype(dtype or values.dtype)
    values = values.to(dt)
    if sample_weight is not None:
        sample_weight = to_tensor(sample_weight, dtype=dt, device=values.device)
    sample_weight = apply_mask(sample_weight, mask, dt, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


# ------------------------------------------------------------------ classes


class Loss:
    """Base class: subclasses implement ``call(y_true, y_pred)`` returning per-sample losses."""

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size", dtype: Any = None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Argument `name` must be a string. Received: name={name!r}")
        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype_arg = standardize_compute_dtype(dtype)

    @property
    def dtype(self) -> str:
        """Dtype inputs are cast to and the loss is computed in (floatx by default)."""
        return self._dtype_arg or config.floatx()

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> torch.Tensor:
        in_mask = getattr(y_pred, "_keras_mask", None)
        dt = config.torch_dtype(self.dtype)
        y_pred = to_tensor(y_pred, dtype=dt)
        y_true = to_tensor(y_true, dtype=dt, device=y_pred.device)
        losses = self.call(y_true, y_pred)
        out_mask = getattr(losses, "_keras_mask", None)
        if in_mask is not None and out_mask is not None:
            mask = in_mask.to(torch.bool) & out_mask.to(torch.bool)
        else:
            mask = out_mask if out_mask is not None else in_mask
        return reduce_weighted_values(losses, sample_weight=sample_weight, mask=mask, reduction=self.reduction,
                                      dtype=dt)

    def call(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement `call(y_true, y_pred)`.")

    def get_config(self) -> dict:
        """Keras's ``name`` and ``reduction`` (Keras 3.15 does not save ``dtype``)."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a per-sample function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn: Callable, reduction: str | None = "sum_over_batch_size", name: str | None = None,
                 dtype: Any = None, **kwargs):
        if not callable(fn):
            raise TypeError(f"`fn` must be callable. Received: fn={fn!r}")
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        config = {**super().get_config(), **self._fn_kwargs}
        if type(self) is LossFunctionWrapper:
            config["fn"] = serialize(self.fn)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        config = dict(config)
        if cls is LossFunctionWrapper:
            fn = config.pop("fn")
            return cls(get(fn) if isinstance(fn, (str, dict)) else fn, **config)
        return cls(**config)


_SOB = "sum_over_batch_size"


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors."""

    def __init__(self, reduction: str | None = _SOB, name: str = "mean_squared_error", dtype: Any = None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors."""

    def __init__(self, reduction: str | None = _SOB, name: str = "mean_absolute_error", dtype: Any = None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Mean absolute percentage error."""

    def __init__(self, reduction: str | None = _SOB, name: str = "mean_absolute_percentage_error",
                 dtype: Any = None):
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean squared logarithmic error."""

    def __init__(self, reduction: str | None = _SOB, name: str = "mean_squared_logarithmic_error",
                 dtype: Any = None):
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name, dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis``."""

    def __init__(self, axis: int = -1, reduction: str | None = _SOB, name: str = "cosine_similarity",
                 dtype: Any = None):
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis)

    def get_config(self) -> dict:
        """Keras 3.15 saves only ``name`` and ``reduction`` (``axis`` is not written)."""
        return Loss.get_config(self)


class Huber(LossFunctionWrapper):
    """Huber loss: quadratic below ``delta``, linear above."""

    def __init__(self, delta: float = 1.0, reduction: str | None = _SOB, name: str = "huber_loss",
                 dtype: Any = None):
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)

    def get_config(self) -> dict:
        """Keras 3.15 saves only ``name`` and ``reduction`` (``delta`` is not written)."""
        return Loss.get_config(self)


class LogCosh(LossFunctionWrapper):
    """Logarithm of the hyperbolic cosine of the error."""

    def __init__(self, reduction: str | None = _SOB, name: str = "log_cosh", dtype: Any = None):
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class Hinge(LossFunctionWrapper):
    """Hinge loss for -1/1 (or 0/1) labels."""

    def __init__(self, reduction: str | None = _SOB, name: str = "hinge", dtype: Any = None):
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss for -1/1 (or 0/1) labels."""

    def __init__(self, reduction: str | None = _SOB, name: str = "squared_hinge", dtype: Any = None):
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss for one-hot labels."""

    def __init__(self, reduction: str | None = _SOB, name: str = "categorical_hinge", dtype: Any = None):
        super().__init__(categorical_hinge, reduction=reduction, name=name, dtype=dtype)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence between target and predicted distributions."""

    def __init__(self, reduction: str | None = _SOB, name: str = "kl_divergence", dtype: Any = None):
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(LossFunctionWrapper):
    """Poisson negative log-likelihood (up to a constant)."""

    def __init__(self, reduction: str | None = _SOB, name: str = "poisson", dtype: Any = None):
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary crossentropy for 0/1 (or soft) targets."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = _SOB, name: str = "binary_crossentropy", dtype: Any = None):
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary crossentropy down-weighting well-classified examples by ``(1 - p_t)**gamma``."""

    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25, gamma: float = 2.0,
                 from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = _SOB, name: str = "binary_focal_crossentropy", dtype: Any = None):
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy for one-hot (or soft) targets."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = _SOB, name: str = "categorical_crossentropy", dtype: Any = None):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical crossentropy with each class term scaled by ``alpha * (1 - p)**gamma``."""

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                 label_smoothing: float = 0.0, axis: int = -1, reduction: str | None = _SOB,
                 name: str = "categorical_focal_crossentropy", dtype: Any = None):
        super().__init__(categorical_focal_crossentropy, reduction=reduction, name=name, dtype=dtype, alpha=alpha,
                         gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy for integer class targets; ``ignore_class`` entries are left out of the mean."""

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None, reduction: str | None = _SOB,
                 axis: int = -1, name: str = "sparse_categorical_crossentropy", dtype: Any = None):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("axis", None)  # Keras 3.15 does not write it
        return config


class Dice(LossFunctionWrapper):
    """Dice loss, ``1 - 2|A n B| / (|A| + |B|)`` of soft masks; reduces every axis when ``axis`` is None."""

    def __init__(self, reduction: str | None = _SOB, name: str = "dice", axis: Any = None, dtype: Any = None):
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=axis)


class Tversky(LossFunctionWrapper):
    """Tversky loss: Dice with false negatives weighted by ``alpha`` and false positives by ``beta``."""

    def __init__(self, alpha: float = 0.5, beta: float = 0.5, reduction: str | None = _SOB, name: str = "tversky",
                 axis: Any = None, dtype: Any = None):
        super().__init__(tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha, beta=beta, axis=axis)


class Circle(LossFunctionWrapper):
    """Circle loss between integer labels and L2-normalised embeddings (pairs within the batch)."""

    def __init__(self, gamma: float = 80.0, margin: float = 0.4, remove_diagonal: bool = True,
                 reduction: str | None = _SOB, name: str = "circle", dtype: Any = None):
        super().__init__(circle, reduction=reduction, name=name, dtype=dtype, gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Generalized crossentropy ``(1 - p_y**q) / q`` for integer labels; ``q`` in ``(0, 1)``."""

    def __init__(self, q: float = 0.5, reduction: str | None = _SOB,
                 name: str = "categorical_generalized_cross_entropy", dtype: Any = None):
        if isinstance(q, bool) or not isinstance(q, numbers.Real):
            raise TypeError(f"`q` must be a number in the interval (0, 1). Received: q={q!r}")
        if not 0 < q < 1:
            raise ValueError(f"q must be in the interval (0, 1). Received: q={q!r}")
        super().__init__(categorical_generalized_cross_entropy, reduction=reduction, name=name, dtype=dtype, q=q)


class CTC(LossFunctionWrapper):
    """CTC loss for 0-padded label sequences against per-step class scores (class 0 is the blank)."""

    def __init__(self, reduction: str | None = _SOB, name: str = "ctc", dtype: Any = None):
        super().__init__(ctc, reduction=reduction, name=name, dtype=dtype)


# ----------------------------------------------------------------- lookup

_CLASSES = (
    Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, Huber, LogCosh, Hinge, SquaredHinge, CategoricalHinge,
    KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    BinaryFocalCrossentropy, CategoricalFocalCrossentropy, Dice, Tversky, Circle, CategoricalGeneralizedCrossEntropy,
    CTC,
)
_FUNCTIONS = (
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
    cosine_similarity, huber, log_cosh, hinge, squared_hinge, categorical_hinge, kl_divergence, poisson,
    binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy, binary_focal_crossentropy,
    categorical_focal_crossentropy, dice, tversky, circle, categorical_generalized_cross_entropy, ctc,
)
ALL_OBJECTS_DICT: dict[str, Any] = {obj.__name__: obj for obj in _CLASSES + _FUNCTIONS}
ALL_OBJECTS_DICT.update({
    "mse": mse, "MSE": mse, "mae": mae, "MAE": mae, "mape": mape, "MAPE": mape, "msle": msle, "MSLE": msle,
    "kld": kld, "KLD": kld, "kullback_leibler_divergence": kld, "logcosh": log_cosh, "bce": bce, "BCE": bce,
})


def serialize(loss: Any) -> dict:
    """Keras's serialized form: ``{"module", "class_name", "config", "registered_name"}``.

    A ``Loss`` is written as the saving code writes objects; a function as
    Keras's ``losses.serialize`` writes one (module ``"builtins"``).
    """
    if isinstance(loss, Loss) or hasattr(loss, "get_config"):
        from cornu.saving.serialization import serialize_keras_object

        return serialize_keras_object(loss)
    if callable(loss) and hasattr(loss, "__name__"):
        return serialize_function(loss)
    raise TypeError(f"Cannot serialize loss {loss!r}: expected a Loss or a function.")


def serialize_function(fn: Callable) -> dict:
    """A function as Keras's ``losses.serialize`` / ``metrics.serialize`` write it."""
    return {"module": "builtins", "class_name": "function", "config": fn.__name__, "registered_name": "function"}


def deserialize(config: str | dict, custom_objects: dict | None = None) -> Any:
    """Inverse of ``serialize``: a function for a name, a ``Loss`` for a class dict."""
    objects = {**ALL_OBJECTS_DICT, **(custom_objects or {})}
    if isinstance(config, dict):
        if "class_name" not in config:
            raise ValueError(f"Loss config dict needs a 'class_name' key. Received: {config!r}")
        name, inner = config["class_name"], config.get("config") or {}
        if name == "function":
            return deserialize(inner, custom_objects)
        if name not in objects:
            raise ValueError(f"Unknown loss: {name!r}. Valid names are: {sorted(ALL_OBJECTS_DICT)}")
        cls = objects[name]
        return cls.from_config(inner) if inspect.isclass(cls) else cls
    if not isinstance(config, str):
        raise TypeError(f"Loss config must be a string or dict. Received: {config!r}")
    if config not in objects:
        raise ValueError(f"Unknown loss: {config!r}. Valid names are: {sorted(ALL_OBJECTS_DICT)}")
    return objects[config]


def get(identifier: Any) -> Any:
    """Resolve None, a name (function or class), a config dict, a class, an instance or a function."""
    if identifier is None:
        return None
    obj = deserialize(identifier) if isinstance(identifier, (str, dict)) else identifier
    if inspect.isclass(obj):
        return obj()
    if callable(obj):
        return obj
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")


__all__ = [obj.__name__ for obj in _CLASSES + _FUNCTIONS] + [
    "mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD", "kullback_leibler_divergence",
    "logcosh", "bce", "BCE", "get", "serialize", "deserialize", "reduce_weighted_values",
    "squeeze_or_expand_to_same_rank",
]
