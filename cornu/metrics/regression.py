"""Regression metrics: streaming means of the regression losses, RMSE and R^2."""
from __future__ import annotations

from typing import Any

import torch

from cornu import config, losses
from cornu.losses import squeeze_or_expand_to_same_rank
from cornu.metrics.base import Mean, MeanMetricWrapper, Metric


def _cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Cosine similarity (positive: 1 means same direction)."""
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


class MeanSquaredError(MeanMetricWrapper):
    """Mean of ``(y_true - y_pred)**2``."""

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None):
        super().__init__(losses.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of ``|y_true - y_pred|``."""

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None):
        super().__init__(losses.mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean absolute percentage error."""

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None):
        super().__init__(losses.mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Mean squared logarithmic error."""

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None):
        super().__init__(losses.mean_squared_logarithmic_error, name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between targets and predictions along ``axis``."""

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1):
        super().__init__(_cosine_similarity, name=name, dtype=dtype, axis=axis)

    def get_config(self) -> dict:
        """Keras 3.15 writes only ``name`` and ``dtype`` (``axis`` is not saved)."""
        return {"name": self.name, "dtype": self.dtype}


class LogCoshError(MeanMetricWrapper):
    """Mean ``log(cosh(y_pred - y_true))``."""

    def __init__(self, name: str = "logcosh", dtype: Any = None):
        super().__init__(losses.log_cosh, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """``sqrt`` of the streaming (weighted) mean squared error."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        self._to_device(y_pred, y_true)
        dt = config.torch_dtype(self.dtype)
        y_pred = self._tensor(y_pred, dtype=dt)
        y_true = self._tensor(y_true, dtype=dt)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        super().update_state(torch.square(y_pred - y_true).detach(), sample_weight=sample_weight)

    def result(self) -> torch.Tensor:
        return torch.sqrt(super().result())


class R2Score(Metric):
    """Coefficient of determination ``1 - SS_res / SS_tot`` per output, aggregated.

    ``class_aggregation``: ``"uniform_average"`` (default), ``"variance_weighted_average"``
    or None (one score per output). ``num_regressors`` gives the adjusted R^2.
    """

    _AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")

    def __init__(self, class_aggregation: str | None = "uniform_average", num_regressors: int = 0,
                 name: str = "r2_score", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in self._AGGREGATIONS:
            raise ValueError(
                f"Invalid value for argument `class_aggregation`. Expected one of {list(self._AGGREGATIONS)}. "
                f"Received: class_aggregation={class_aggregation!r}"
            )
        if num_regressors < 0:
            raise ValueError(
                f"Invalid value for argument `num_regressors`. Expected a value >= 0. "
                f"Received: num_regressors={num_regressors!r}"
            )
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable((), "zeros", dtype="float32", name="num_samples")
        self._built_outputs: int | None = None

    def _build(self, num_outputs: int) -> None:
        self._built_outputs = num_outputs
        self.squared_sum = self.add_variable((num_outputs,), "zeros", dtype="float32", name="squared_sum")
        self.sum = self.add_variable((num_outputs,), "zeros", dtype="float32", name="sum")
        self.total_mse = self.add_variable((num_outputs,), "zeros", dtype="float32", name="residual")
        self.count = self.add_variable((num_outputs,), "zeros", dtype="float32", name="count")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        self._to_device(y_pred, y_true)
        dt = config.torch_dtype(self.dtype)  # inputs in the metric dtype; the state stays float32 (as Keras)
        y_pred = self._tensor(y_pred, dtype=dt).detach()
        y_true = self._tensor(y_true, dtype=dt).detach()
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if y_pred.ndim != 2 or y_true.ndim != 2:
            raise ValueError("R2Score expects 2D inputs with shape (batch_size, output_dim). Received input shapes: "
                             f"y_pred.shape={tuple(y_pred.shape)} and y_true.shape={tuple(y_true.shape)}.")
        if self._built_outputs is None:
            self._build(y_pred.shape[-1])
        elif y_pred.shape[-1] != self._built_outputs:
            raise ValueError(f"R2Score was built for {self._built_outputs} outputs; received "
                             f"y_pred.shape={tuple(y_pred.shape)}")
        weight = torch.ones((), dtype=dt, device=y_pred.device) if sample_weight is None else \
            self._tensor(sample_weight, dtype=dt)
        if weight.ndim == 1:
            weight = weight.unsqueeze(-1)
        weight = torch.broadcast_to(weight, y_true.shape)
        with torch.no_grad():
            self.sum.value.add_(torch.sum(y_true * weight, dim=0))
            self.squared_sum.value.add_(torch.sum(y_true * y_true * weight, dim=0))
            self.total_mse.value.add_(torch.sum((y_true - y_pred) ** 2 * weight, dim=0))
            self.count.value.add_(torch.sum(weight, dim=0))
            self.num_samples.value.add_(float(y_true.numel()))  # Keras counts every entry, not rows

    def result(self) -> torch.Tensor:
        if self._built_outputs is None:
            return torch.zeros((), dtype=torch.float32, device=self._device)
        # Plain divisions as in Keras: no data gives NaN, constant targets give inf (then 0).
        mean = self.sum.value / self.count.value
        total = self.squared_sum.value - self.sum.value * mean
        raw = 1.0 - self.total_mse.value / total
        raw = torch.where(torch.isinf(raw), torch.zeros_like(raw), raw)
        if self.class_aggregation == "uniform_average":
            score = torch.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = torch.sum(raw * total) / torch.sum(total)
        else:
            score = raw
        if self.num_regressors:
            n = self.num_samples.value
            p = float(self.num_regressors)
            adjusted = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
            score = torch.where(n > p + 1.0, adjusted, score)
        return score.detach().clone()

    def get_config(self) -> dict:
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
