"""Correlation metrics: Pearson's ``r`` and Lin's concordance correlation coefficient.

The functions give one coefficient per slice along ``axis`` (per sample for
``axis=-1``); the metric classes are streaming (weighted) means of those values,
like every ``MeanMetricWrapper``.
"""
from __future__ import annotations

from typing import Any

import torch

from cornu import config
from cornu.losses import _pred, squeeze_or_expand_to_same_rank, to_tensor
from cornu.metrics.base import MeanMetricWrapper


def _pair(y_true: Any, y_pred: Any) -> tuple[torch.Tensor, torch.Tensor]:
    y_pred = _pred(y_pred)
    y_true = to_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def pearson_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Pearson correlation along ``axis``: the mean product of the standardized values.

    Standard deviations are population ones (divisor ``n``); a constant slice gives NaN.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    true_norm = (y_true - y_true.mean(dim=axis, keepdim=True)) / y_true.std(dim=axis, correction=0, keepdim=True)
    pred_norm = (y_pred - y_pred.mean(dim=axis, keepdim=True)) / y_pred.std(dim=axis, correction=0, keepdim=True)
    return torch.mean(true_norm * pred_norm, dim=axis)


def concordance_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Lin's concordance correlation along ``axis``: ``2 cov / (var_t + var_p + (mean_t - mean_p)**2)``.

    Population (co)variances; ``epsilon()`` in the denominator makes two equal constants give 0.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    true_mean = y_true.mean(dim=axis, keepdim=True)
    pred_mean = y_pred.mean(dim=axis, keepdim=True)
    covariance = torch.mean((y_true - true_mean) * (y_pred - pred_mean), dim=axis)
    spread = (y_true.var(dim=axis, correction=0) + y_pred.var(dim=axis, correction=0)
              + torch.square(true_mean - pred_mean).squeeze(axis))
    return 2.0 * covariance / (spread + config.epsilon())


class PearsonCorrelation(MeanMetricWrapper):
    """Streaming mean of ``pearson_correlation`` over samples (and batches)."""

    def __init__(self, name: str = "pearson_correlation", dtype: Any = None, axis: int = -1):
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class ConcordanceCorrelation(MeanMetricWrapper):
    """Streaming mean of ``concordance_correlation`` over samples (and batches)."""

    def __init__(self, name: str = "concordance_correlation", dtype: Any = None, axis: int = -1):
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis
