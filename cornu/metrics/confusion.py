"""Confusion-matrix metrics: TP/FP/TN/FN counts, Precision, Recall, AUC and the X-at-Y metrics
(``PrecisionAtRecall``, ``RecallAtPrecision``, ``SensitivityAtSpecificity``, ``SpecificityAtSensitivity``).

A prediction counts as positive at threshold ``t`` when ``y_pred > t``; labels
are positive when non-zero. All counting is tensor arithmetic on the state's
device (no host sync).
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from cornu import config
from cornu.losses import divide_no_nan, squeeze_or_expand_to_same_rank
from cornu.metrics.base import Metric

_NEG_INF = -1e10


def _parse_thresholds(thresholds: Any, default: float) -> list[float]:
    """A list of thresholds in ``[0, 1]`` (``default`` when None)."""
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple)) else [thresholds]
    invalid = [t for t in values if t is None or not 0 <= t <= 1]
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return [float(t) for t in values]


def _filter_top_k(x: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the ``k`` largest entries along the last axis; set the rest to -inf."""
    top = torch.topk(x, min(k, x.shape[-1]), dim=-1).indices
    keep = torch.zeros_like(x, dtype=torch.bool).scatter_(-1, top, True)
    return torch.where(keep, x, torch.full_like(x, float("-inf")))


class _ConfusionMetric(Metric):
    """Shared input handling: labels/predictions/weights as float tensors of one shape."""

    # Keras on torch: mismatched shapes surface as torch's RuntimeError, except on its evenly-spaced-thresholds
    # path (AUC, X-at-Y), whose segment sum raises ValueError.
    _shape_error: type[Exception] = RuntimeError

    def _prepare(self, y_true: Any, y_pred: Any, sample_weight: Any, top_k: int | None = None,
                 class_id: int | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        self._to_device(y_pred, y_true)
        dt = torch.float32  # Keras keeps confusion counts in float32 whatever the metric's dtype
        y_pred = self._tensor(y_pred, dtype=dt).detach()
        y_true = (self._tensor(y_true).detach() != 0).to(dt)
        y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
        if y_pred.shape != y_true.shape:
            raise self._shape_error(
                f"`y_true` and `y_pred` must have the same shape. Received: y_true.shape={tuple(y_true.shape)}, "
                f"y_pred.shape={tuple(y_pred.shape)}"
            )
        weight = torch.ones_like(y_pred) if sample_weight is None else self._tensor(sample_weight, dtype=dt).detach()
        while weight.ndim > y_pred.ndim and weight.shape[-1] == 1:
            weight = weight.squeeze(-1)
        while weight.ndim < y_pred.ndim:
            weight = weight.unsqueeze(-1)
        weight = torch.broadcast_to(weight, y_pred.shape)
        if top_k is not None:
            y_pred = _filter_top_k(y_pred, top_k)
        if class_id is not None:
            if y_pred.ndim < 2:
                raise ValueError("When class_id is provided, y_pred must be a 2D array with shape "
                                 f"(num_samples, num_classes), found shape: {tuple(y_pred.shape)}")
            y_true, y_pred, weight = y_true[..., class_id], y_pred[..., class_id], weight[..., class_id]
        return y_true, y_pred, weight

    def _constant(self, values: Sequence[float], like: torch.Tensor) -> torch.Tensor:
        """``values`` as a tensor on ``like``'s device, built once (avoids a synchronising copy per update)."""
        cache = self.__dict__.setdefault("_constants", {})
        key = (tuple(values), like.device, like.dtype)
        if key not in cache:
            cache[key] = torch.tensor(list(values), dtype=like.dtype, device=like.device)
        return cache[key]


def _threshold_counts(y_true: torch.Tensor, y_pred: torch.Tensor, weight: torch.Tensor,
                      thresholds: torch.Tensor) -> dict[str, torch.Tensor]:
    """Weighted tp/fp/tn/fn at each threshold (one entry per threshold)."""
    predicted = (y_pred.reshape(-1, 1) > thresholds.reshape(1, -1)).to(weight.dtype)
    pos = (weight * y_true).reshape(1, -1)
    neg = (weight * (1.0 - y_true)).reshape(1, -1)
    tp = (pos @ predicted).squeeze(0)
    fp = (neg @ predicted).squeeze(0)
    return {"tp": tp, "fp": fp, "fn": pos.sum() - tp, "tn": neg.sum() - fp}


class _ThresholdCount(_ConfusionMetric):
    """One weighted confusion count (``_KIND``) per threshold."""

    _KIND = "tp"

    def __init__(self, thresholds: Any = None, name: str | None = None, dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(thresholds, 0.5)
        self.accumulator = self.add_variable((len(self.thresholds),), "zeros", dtype="float32", name="accumulator")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred, weight = self._prepare(y_true, y_pred, sample_weight)
        thresholds = self._constant(self.thresholds, y_pred)
        with torch.no_grad():
            self.accumulator.value.add_(_threshold_counts(y_true, y_pred, weight, thresholds)[self._KIND])

    def result(self) -> torch.Tensor:
        value = self.accumulator.value.detach().clone()
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ThresholdCount):
    """Weighted count of positive labels predicted positive."""

    _KIND = "tp"


class FalsePositives(_ThresholdCount):
    """Weighted count of negative labels predicted positive."""

    _KIND = "fp"


class TrueNegatives(_ThresholdCount):
    """Weighted count of negative labels predicted negative."""

    _KIND = "tn"


class FalseNegatives(_ThresholdCount):
    """Weighted count of positive labels predicted negative."""

    _KIND = "fn"


class _PrecisionRecall(_ConfusionMetric):
    """Shared state of ``Precision`` and ``Recall``: tp plus fp (precision) or fn (recall)."""

    _OTHER = "fp"

    def __init__(self, thresholds: Any = None, top_k: int | None = None, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.thresholds = _parse_thresholds(thresholds, 0.5 if top_k is None else _NEG_INF)
        n = len(self.thresholds)
        self.true_positives = self.add_variable((n,), "zeros", dtype="float32", name="true_positives")
        other_name = "false_positives" if self._OTHER == "fp" else "false_negatives"
        setattr(self, other_name, self.add_variable((n,), "zeros", dtype="float32", name=other_name))
        self._other = getattr(self, other_name)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred, weight = self._prepare(y_true, y_pred, sample_weight, self.top_k, self.class_id)
        thresholds = self._constant(self.thresholds, y_pred)
        counts = _threshold_counts(y_true, y_pred, weight, thresholds)
        with torch.no_grad():
            self.true_positives.value.add_(counts["tp"])
            self._other.value.add_(counts[self._OTHER])

    def result(self) -> torch.Tensor:
        tp = self.true_positives.value.detach()
        value = divide_no_nan(tp, tp + self._other.value.detach())
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """``tp / (tp + fp)`` at each threshold (a scalar for one threshold)."""

    _OTHER = "fp"


class Recall(_PrecisionRecall):
    """``tp / (tp + fn)`` at each threshold (a scalar for one threshold)."""

    _OTHER = "fn"


_CURVES = {"roc": "ROC", "pr": "PR"}
_SUMMATIONS = ("interpolation", "minoring", "majoring")


class AUC(_ConfusionMetric):
    """Area under the ROC or precision-recall curve, from counts at ``num_thresholds`` thresholds.

    Thresholds are evenly spaced in ``(0, 1)`` plus ``-epsilon`` and
    ``1 + epsilon`` endpoints (or the sorted ``thresholds`` given plus the
    endpoints). ``multi_label=True`` keeps per-label curves and averages the
    areas (weighted by ``label_weights``).
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "interpolation",
                 name: str | None = None, dtype: Any = None, thresholds: Sequence[float] | None = None,
                 multi_label: bool = False, num_labels: int | None = None, label_weights: Any = None,
                 from_logits: bool = False):
        super().__init__(name=name, dtype=dtype)
        if str(curve).lower() not in _CURVES:
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC"]')
        if str(summation_method).lower() not in _SUMMATIONS:
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             f"Expected values are {list(_SUMMATIONS)}")
        self._thresholds_given = thresholds is not None
        if thresholds is not None:
            inner = sorted(_parse_thresholds(list(thresholds), 0.5))
            self.num_thresholds = len(inner) + 2
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) or num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds!r}")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        eps = config.epsilon()
        self._thresholds = [0.0 - eps] + inner + [1.0 + eps]
        evenly = [(i + 1) / (len(inner) + 1) for i in range(len(inner))]
        self._shape_error = ValueError if np.allclose(inner, evenly) else RuntimeError
        self.curve = _CURVES[str(curve).lower()]
        self.summation_method = str(summation_method).lower()
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.from_logits = from_logits
        self.label_weights = None if label_weights is None else [float(w) for w in label_weights]
        if self.label_weights is not None and any(w < 0 for w in self.label_weights):
            raise ValueError(f"All values of `label_weights` must be non-negative. Received: {label_weights}")
        self._built = False
        if not multi_label or num_labels is not None:
            self._build(num_labels if multi_label else None)

    @property
    def thresholds(self) -> list[float]:
        return list(self._thresholds)

    def _build(self, num_labels: int | None) -> None:
        shape = (self.num_thresholds,) if num_labels is None else (self.num_thresholds, num_labels)
        self.num_labels = num_labels if self.multi_label else self.num_labels
        self.true_positives = self.add_variable(shape, "zeros", dtype="float32", name="true_positives")
        self.false_positives = self.add_variable(shape, "zeros", dtype="float32", name="false_positives")
        self.true_negatives = self.add_variable(shape, "zeros", dtype="float32", name="true_negatives")
        self.false_negatives = self.add_variable(shape, "zeros", dtype="float32", name="false_negatives")
        self._built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred, weight = self._prepare(y_true, y_pred, sample_weight)
        if self.from_logits:
            y_pred = torch.sigmoid(y_pred)
        if self.multi_label:
            if y_pred.ndim != 2:
                raise ValueError(f"AUC with multi_label=True expects rank-2 inputs (batch, labels). "
                                 f"Received: y_pred.shape={tuple(y_pred.shape)}")
            if not self._built:
                self._build(y_pred.shape[-1])
        elif self.label_weights is not None:
            weight = weight * self._constant(self.label_weights, weight)
        num_labels = y_pred.shape[-1] if self.multi_label else 1
        counts = self._bucket_counts(y_true.reshape(-1, num_labels), y_pred.reshape(-1, num_labels),
                                     weight.reshape(-1, num_labels))
        with torch.no_grad():
            for var, key in ((self.true_positives, "tp"), (self.false_positives, "fp"),
                             (self.true_negatives, "tn"), (self.false_negatives, "fn")):
                value = counts[key]
                var.value.add_(value if self.multi_label else value.squeeze(-1))

    def _bucket_counts(self, y_true: torch.Tensor, y_pred: torch.Tensor,
                       weight: torch.Tensor) -> dict[str, torch.Tensor]:
        """Counts of shape ``(num_thresholds, labels)`` via one bucketize + scatter-add (O(n log T))."""
        thresholds = self._constant(self._thresholds, y_pred)
        n_t, n_l = self.num_thresholds, y_pred.shape[-1]
        bucket = torch.bucketize(y_pred, thresholds)  # number of thresholds strictly below each prediction
        key = (bucket * n_l + torch.arange(n_l, device=y_pred.device)).reshape(-1)

        def above(values: torch.Tensor) -> torch.Tensor:
            hist = torch.zeros((n_t + 1) * n_l, dtype=values.dtype, device=values.device)
            hist.scatter_add_(0, key, values.reshape(-1))
            hist = hist.reshape(n_t + 1, n_l)
            return torch.flip(torch.cumsum(torch.flip(hist, [0]), 0), [0])[1:]

        pos = weight * y_true
        neg = weight * (1.0 - y_true)
        tp, fp = above(pos), above(neg)
        return {"tp": tp, "fp": fp, "fn": pos.sum(0) - tp, "tn": neg.sum(0) - fp}

    def _interpolate_pr_auc(self) -> torch.Tensor:
        """Davis & Goadrich (2006) interpolation of the PR curve between thresholds."""
        tp, fp, fn = self.true_positives.value, self.false_positives.value, self.false_negatives.value
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = divide_no_nan(dtp, torch.clamp(dp, min=0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = torch.where((p[:-1] > 0) & (p[1:] > 0),
                                   divide_no_nan(p[:-1], torch.clamp(p[1:], min=0)), torch.ones_like(p[1:]))
        increment = divide_no_nan(prec_slope * (dtp + intercept * torch.log(safe_p_ratio)),
                                  torch.clamp(tp[1:] + fn[1:], min=0))
        return self._aggregate(increment)

    def _aggregate(self, terms: torch.Tensor) -> torch.Tensor:
        if not self.multi_label:
            return torch.sum(terms)
        by_label = torch.sum(terms, dim=0)
        if self.label_weights is None:
            return torch.mean(by_label)
        w = self._constant(self.label_weights, by_label)
        return divide_no_nan(torch.sum(by_label * w), torch.sum(w))

    def result(self) -> torch.Tensor:
        if not self._built:
            return torch.zeros((), dtype=torch.float32, device=self._device)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc().detach()
        tp, fp = self.true_positives.value, self.false_positives.value
        tn, fn = self.true_negatives.value, self.false_negatives.value
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        return self._aggregate((x[:-1] - x[1:]) * heights).detach()

    def get_config(self) -> dict:
        """Keras's keys; ``thresholds`` only when they were passed explicitly."""
        config = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels, "label_weights": self.label_weights, "from_logits": self.from_logits}
        if self._thresholds_given:
            config["thresholds"] = self._thresholds[1:-1]
        return config


def _evenly_spaced_counts(y_true: torch.Tensor, y_pred: torch.Tensor, weight: torch.Tensor,
                          num_thresholds: int) -> dict[str, torch.Tensor]:
    """Weighted tp/fp/tn/fn at the thresholds ``i / (num_thresholds - 1)`` in one scatter-add (O(n)).

    Predictions are clipped to ``[0, 1]``; one in bucket ``ceil(y_pred * (num_thresholds - 1))``
    counts as positive at every threshold below that bucket's index. This is Keras's
    bucketing, so a prediction at a threshold lands on the same side as in Keras.
    """
    steps = num_thresholds - 1
    bucket = torch.ceil(torch.clamp(y_pred, 0.0, 1.0) * steps).long().clamp_(0, steps).reshape(-1)
    pos = (weight * y_true).reshape(-1)
    neg = (weight * (1.0 - y_true)).reshape(-1)
    hist = torch.zeros((2, num_thresholds), dtype=weight.dtype, device=weight.device)
    hist.index_add_(1, bucket, torch.stack([pos, neg]))
    at_or_above = torch.flip(torch.cumsum(torch.flip(hist, [1]), 1), [1])
    above = torch.cat([at_or_above[:, 1:], torch.zeros_like(hist[:, :1])], dim=1)
    tp, fp = above[0], above[1]
    return {"tp": tp, "fp": fp, "fn": pos.sum() - tp, "tn": neg.sum() - fp}


class _AtThreshold(_ConfusionMetric):
    """Best value of one rate among the thresholds where another rate reaches ``value``.

    Counts are kept at ``num_thresholds`` thresholds evenly spaced over ``[0, 1]``
    (just ``0.5`` when ``num_thresholds == 1``); labels are positive when non-zero.
    Subclasses name the constraint argument (``_ARG``) and give the
    (constrained, maximised) rate pair.
    """

    _ARG = "value"
    _shape_error = ValueError

    def __init__(self, value: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"Argument `{self._ARG}` must be a number in [0, 1]. Received: {self._ARG}={value!r}")
        if not 0 <= value <= 1:
            raise ValueError(f"Argument `{self._ARG}` must be in the range [0, 1]. Received: {self._ARG}={value}")
        if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, numbers.Integral):
            raise TypeError(f"Argument `num_thresholds` must be an integer > 0. "
                            f"Received: num_thresholds={num_thresholds!r}")
        if num_thresholds <= 0:
            raise ValueError(f"Argument `num_thresholds` must be an integer > 0. "
                             f"Received: num_thresholds={num_thresholds}")
        self.value = value
        setattr(self, self._ARG, value)
        self.class_id = class_id
        self.num_thresholds = int(num_thresholds)
        if self.num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            inner = [(i + 1) * 1.0 / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
            self.thresholds = [0.0] + inner + [1.0]
        shape = (self.num_thresholds,)
        self.true_positives = self.add_variable(shape, "zeros", dtype="float32", name="true_positives")
        self.false_positives = self.add_variable(shape, "zeros", dtype="float32", name="false_positives")
        self.true_negatives = self.add_variable(shape, "zeros", dtype="float32", name="true_negatives")
        self.false_negatives = self.add_variable(shape, "zeros", dtype="float32", name="false_negatives")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred, weight = self._prepare(y_true, y_pred, sample_weight, class_id=self.class_id)
        if self.num_thresholds == 1:
            counts = _threshold_counts(y_true, y_pred, weight, torch.full((1,), 0.5, dtype=y_pred.dtype,
                                                                          device=y_pred.device))
        else:
            counts = _evenly_spaced_counts(y_true, y_pred, weight, self.num_thresholds)
        with torch.no_grad():
            for var, key in ((self.true_positives, "tp"), (self.false_positives, "fp"),
                             (self.true_negatives, "tn"), (self.false_negatives, "fn")):
                var.value.add_(counts[key])

    def _rates(self) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def result(self) -> torch.Tensor:
        constrained, dependent = self._rates()
        feasible = constrained >= self.value
        return torch.where(feasible, dependent, torch.zeros_like(dependent)).max().clamp(min=0).detach()

    def _counts(self) -> tuple[torch.Tensor, ...]:
        return tuple(v.value.detach() for v in (self.true_positives, self.false_positives, self.true_negatives,
                                                self.false_negatives))

    def get_config(self) -> dict:
        return {**super().get_config(), "class_id": self.class_id, "num_thresholds": self.num_thresholds,
                self._ARG: self.value}


class SensitivityAtSpecificity(_AtThreshold):
    """Best sensitivity (recall) among thresholds whose specificity is ``>= specificity``."""

    _ARG = "specificity"

    def __init__(self, specificity: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None):
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def _rates(self) -> tuple[torch.Tensor, torch.Tensor]:
        tp, fp, tn, fn = self._counts()
        return divide_no_nan(tn, tn + fp), divide_no_nan(tp, tp + fn)


class SpecificityAtSensitivity(_AtThreshold):
    """Best specificity among thresholds whose sensitivity (recall) is ``>= sensitivity``."""

    _ARG = "sensitivity"

    def __init__(self, sensitivity: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None):
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def _rates(self) -> tuple[torch.Tensor, torch.Tensor]:
        tp, fp, tn, fn = self._counts()
        return divide_no_nan(tp, tp + fn), divide_no_nan(tn, tn + fp)


class PrecisionAtRecall(_AtThreshold):
    """Best precision among thresholds whose recall is ``>= recall``."""

    _ARG = "recall"

    def __init__(self, recall: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None):
        super().__init__(recall, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def _rates(self) -> tuple[torch.Tensor, torch.Tensor]:
        tp, fp, _, fn = self._counts()
        return divide_no_nan(tp, tp + fn), divide_no_nan(tp, tp + fp)


class RecallAtPrecision(_AtThreshold):
    """Best recall among thresholds whose precision is ``>= precision``."""

    _ARG = "precision"

    def __init__(self, precision: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None):
        super().__init__(precision, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def _rates(self) -> tuple[torch.Tensor, torch.Tensor]:
        tp, fp, _, fn = self._counts()
        return divide_no_nan(tp, tp + fp), divide_no_nan(tp, tp + fn)
