"""F-beta and F1 scores, accumulated per class from thresholded predictions."""
from __future__ import annotations

from typing import Any

import torch

from cornu import config
from cornu.metrics.base import Metric

_AVERAGES = (None, "micro", "macro", "weighted")


class FBetaScore(Metric):
    """``(1 + beta**2) * P * R / (beta**2 * P + R)`` per class, optionally averaged.

    Predictions are positive above ``threshold``; with ``threshold=None`` the
    arg-max of each row is positive. ``average``: None (per class), ``"micro"``,
    ``"macro"`` or ``"weighted"`` (by class support).
    """

    def __init__(self, average: str | None = None, beta: float = 1.0, threshold: float | None = None,
                 name: str = "fbeta_score", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        if average not in _AVERAGES:
            raise ValueError(f"Invalid `average` argument value. Expected one of: {list(_AVERAGES)}. "
                             f"Received: average={average!r}")
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or beta <= 0.0:
            raise ValueError(f"`beta` should be a positive float. Received: beta={beta!r}")
        if threshold is not None and (not isinstance(threshold, (int, float)) or not 0.0 < threshold <= 1.0):
            raise ValueError(f"`threshold` should be a float in the range (0, 1]. Received: threshold={threshold!r}")
        self.average = average
        self.beta = float(beta)
        self.threshold = threshold
        self._num_classes: int | None = None

    def _build(self, num_classes: int) -> None:
        self._num_classes = num_classes
        shape = () if self.average == "micro" else (num_classes,)  # micro keeps scalar totals, as Keras
        for name in ("true_positives", "false_positives", "false_negatives", "intermediate_weights"):
            setattr(self, name, self.add_variable(shape, "zeros", name=name))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        self._to_device(y_pred, y_true)
        dt = config.torch_dtype(self.dtype)
        y_pred = self._tensor(y_pred, dtype=dt).detach()
        y_true = self._tensor(y_true, dtype=dt).detach()
        if y_pred.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(f"FBetaScore expects y_true and y_pred of the same rank-2 shape (batch, classes). "
                             f"Received: y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}")
        if self._num_classes is None:
            self._build(y_pred.shape[-1])
        elif y_pred.shape[-1] != self._num_classes:
            raise ValueError(f"FBetaScore was built for {self._num_classes} classes; received "
                             f"y_pred.shape={tuple(y_pred.shape)}")
        if self.threshold is None:
            top = torch.amax(y_pred, dim=-1, keepdim=True)
            predicted = (y_pred >= top) & (torch.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.to(dt)
        weight = None if sample_weight is None else self._tensor(sample_weight, dtype=dt)
        micro = self.average == "micro"
        if weight is not None:
            # Keras multiplies by ``expand_dims(sample_weight, 1)``: per-class sums need (batch,) weights;
            # the micro total of that broadcast is ``sum_c (sum_j w[j, c]) * (sum_i x[i, c])`` for 2-D weights.
            batch, classes = y_pred.shape
            if (weight.ndim == 1 and weight.shape[0] != batch) or (weight.ndim == 2
                                                                  and weight.shape[-1] not in (1, classes)):
                raise RuntimeError(f"`sample_weight` of shape {tuple(weight.shape)} does not broadcast against "
                                   f"the predictions of shape {(batch, classes)}")
            if not (weight.ndim == 1 or (micro and weight.ndim == 2)):
                raise ValueError(f"`sample_weight` must have shape (batch_size,) = ({batch},). "
                                 f"Received: sample_weight.shape={tuple(weight.shape)}")

        def weighted_sum(x: torch.Tensor) -> torch.Tensor:
            if weight is None:
                return torch.sum(x) if micro else torch.sum(x, dim=0)
            if weight.ndim == 2:
                return torch.sum(torch.sum(weight, dim=0) * torch.sum(x, dim=0))
            x = x * weight.unsqueeze(-1)
            return torch.sum(x) if micro else torch.sum(x, dim=0)

        with torch.no_grad():
            self.true_positives.value.add_(weighted_sum(predicted * y_true))
            self.false_positives.value.add_(weighted_sum(predicted * (1.0 - y_true)))
            self.false_negatives.value.add_(weighted_sum((1.0 - predicted) * y_true))
            self.intermediate_weights.value.add_(weighted_sum(y_true))

    def result(self) -> torch.Tensor:
        if self._num_classes is None:
            return torch.zeros((), dtype=config.torch_dtype(self.dtype), device=self._device)
        eps = config.epsilon()
        tp, fp, fn = self.true_positives.value, self.false_positives.value, self.false_negatives.value
        precision = tp / (tp + fp + eps)
        recall = tp / (tp + fn + eps)
        b2 = self.beta**2
        score = (1.0 + b2) * precision * recall / (b2 * precision + recall + eps)
        if self.average == "weighted":
            support = self.intermediate_weights.value
            score = torch.sum(score * support / (torch.sum(support) + eps))
        elif self.average is not None:
            score = torch.mean(score)
        return score.detach().clone()

    def get_config(self) -> dict:
        return {**super().get_config(), "beta": self.beta, "average": self.average, "threshold": self.threshold}


class F1Score(FBetaScore):
    """``FBetaScore`` with ``beta=1``: harmonic mean of precision and recall."""

    def __init__(self, average: str | None = None, threshold: float | None = None, name: str = "f1_score",
                 dtype: Any = None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("beta")
        return config
