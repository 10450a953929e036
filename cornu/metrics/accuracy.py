"""Accuracy functions (one 0/1 match per sample) and their streaming metric classes."""
from __future__ import annotations

from typing import Any

import torch

from cornu import config
from cornu.losses import _pred, squeeze_or_expand_to_same_rank, to_tensor
from cornu.metrics.base import MeanMetricWrapper


def _floatx() -> torch.dtype:
    return config.torch_dtype(config.floatx())


def accuracy(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Fraction of exactly equal entries, per sample (mean over the last axis)."""
    y_pred = to_tensor(y_pred)
    y_true = to_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return torch.mean((y_true == y_pred).to(_floatx()), dim=-1)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> torch.Tensor:
    """1 where ``y_pred > threshold`` matches the 0/1 label, per entry (Keras keeps every axis)."""
    y_pred = _pred(y_pred)
    y_true = to_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    predicted = (y_pred > threshold).to(y_true.dtype)
    return (y_true == predicted).to(_floatx())


def categorical_accuracy(y_true: Any, y_pred: Any) -> torch.Tensor:
    """1 where the arg-max of the one-hot target equals the arg-max of the prediction."""
    y_pred = to_tensor(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    return (torch.argmax(y_true, dim=-1) == torch.argmax(y_pred, dim=-1)).to(_floatx())


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> torch.Tensor:
    """1 where the integer target equals the arg-max of the prediction; targets ``(b,)`` or ``(b, 1)``."""
    y_pred = to_tensor(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    original_shape = y_true.shape
    squeezed = y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1
    if squeezed:
        y_true = y_true.squeeze(-1)
    predicted = torch.argmax(y_pred, dim=-1)
    matches = (y_true.to(predicted.dtype) == predicted).to(_floatx())
    if squeezed:
        matches = matches.reshape(original_shape)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = matches.squeeze(-1)
    return matches


def _in_top_k(targets: torch.Tensor, predictions: torch.Tensor, k: int) -> torch.Tensor:
    """Whether each target's score is among the ``k`` largest (ties count as in)."""
    if k == 0:  # nothing is in the top 0, as in Keras
        return torch.zeros(targets.shape, dtype=torch.bool, device=predictions.device)
    k = min(k, predictions.shape[-1])
    kth = torch.topk(predictions, k, dim=-1).values[..., -1:]
    target_scores = torch.gather(predictions, -1, targets.long().unsqueeze(-1))
    return (target_scores >= kth).squeeze(-1)


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> torch.Tensor:
    """1 where the one-hot target's class is among the ``k`` highest predictions."""
    y_pred = _pred(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    targets = torch.argmax(y_true, dim=-1)
    shape = targets.shape
    matches = _in_top_k(targets.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1]), k)
    return matches.reshape(shape).to(_floatx())


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5,
                                      from_sorted_ids: bool = False) -> torch.Tensor:
    """1 where the integer target is among the ``k`` highest predictions.

    With ``from_sorted_ids=True``, ``y_pred`` holds class ids sorted by score
    (best first) instead of scores.
    """
    y_pred = to_tensor(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    shape = y_true.shape
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    targets = y_true.reshape(-1)
    preds = y_pred.reshape(-1, y_pred.shape[-1])
    if from_sorted_ids:
        matches = torch.any(preds[:, :k].long() == targets.long().unsqueeze(-1), dim=-1)
    else:
        matches = _in_top_k(targets, preds if preds.is_floating_point() else preds.to(_floatx()), k)
    return matches.reshape(shape).to(_floatx())


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels."""

    def __init__(self, name: str = "accuracy", dtype: Any = None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches binary labels."""

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max prediction matches the one-hot label."""

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max prediction matches the integer label."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is in the top ``k`` predictions."""

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is in the top ``k`` predictions."""

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype: Any = None,
                 from_sorted_ids: bool = False):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)

    def get_config(self) -> dict:
        """Keras writes ``from_sorted_ids`` only when it is True."""
        config = super().get_config()
        if not config.get("from_sorted_ids"):
            config.pop("from_sorted_ids", None)
        return config
