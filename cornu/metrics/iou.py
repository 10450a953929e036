"""Intersection-over-union metrics: ``IoU``, ``MeanIoU``, ``BinaryIoU``, ``OneHotIoU``, ``OneHotMeanIoU``.

State is one ``(num_classes, num_classes)`` confusion matrix (rows: true class,
columns: predicted class), accumulated on the inputs' device with one
``index_add_`` per update. A class's IoU is ``tp / (tp + fp + fn)``; the result
averages it over the target classes that occurred at all.

As in Keras, labels and weights are cast to the metric's dtype first (``int32``
by default, so float weights are truncated), and pairs whose true or
predicted class falls outside ``[0, num_classes)`` are not counted.
"""
from __future__ import annotations

import numbers
import operator
import warnings
from collections.abc import Sequence
from typing import Any

import torch

from cornu import config
from cornu.metrics.base import Metric


def _check_num_classes(num_classes: Any, wrong_type: type[Exception] = ValueError) -> int:
    """``num_classes`` if a positive integer; ``wrong_type`` for a non-integer (``MeanIoU`` raises TypeError there)."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise wrong_type(f"Argument `num_classes` must be a positive integer. Received: num_classes={num_classes!r}")
    if num_classes <= 0:
        raise ValueError(f"Argument `num_classes` must be a positive integer. Received: num_classes={num_classes!r}")
    return int(num_classes)


def _check_target_class_ids(target_class_ids: Sequence[int], num_classes: int) -> list[int]:
    try:
        ids = [operator.index(i) for i in target_class_ids]
    except TypeError:
        raise TypeError(f"Argument `target_class_ids` must be a sequence of integer class ids. "
                        f"Received: target_class_ids={target_class_ids!r}") from None
    if not ids:
        raise ValueError(f"Argument `target_class_ids` must not be empty. Received: target_class_ids={ids!r}")
    for i in ids:  # negative ids count from the end, as Keras's indexing does
        if not -num_classes <= i < num_classes:
            raise ValueError(f"Target class id {i} is out of range, which is [0, {num_classes}).")
    return ids


class IoU(Metric):
    """Mean IoU over ``target_class_ids`` (classes absent from both labels and predictions are skipped).

    Labels and predictions are class ids, or (``sparse_y_true=False`` /
    ``sparse_y_pred=False``) scores whose arg-max along ``axis`` is the class.
    """

    def __init__(self, num_classes: int, target_class_ids: Sequence[int], name: str | None = None,
                 dtype: Any = None, ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1):
        super().__init__(name=name, dtype=dtype or "int32")
        self.num_classes = _check_num_classes(num_classes)
        self.target_class_ids = _check_target_class_ids(target_class_ids, self.num_classes)
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable((num_classes, num_classes), "zeros", name="total_confusion_matrix")

    def _predicted_classes(self, y_pred: torch.Tensor) -> torch.Tensor:
        """Class ids from ``y_pred`` (sparse ids as given, else the arg-max along ``axis``)."""
        return y_pred if self.sparse_y_pred else torch.argmax(y_pred, dim=self.axis)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        self._to_device(y_pred, y_true)
        state = self.total_cm.value
        dt = state.dtype
        y_true = self._tensor(y_true).detach()
        if not self.sparse_y_true:
            y_true = torch.argmax(y_true, dim=self.axis)
        y_true = y_true.to(dt).reshape(-1)
        y_pred = self._predicted_classes(self._tensor(y_pred).detach()).to(dt).reshape(-1)
        if y_true.shape != y_pred.shape:
            raise RuntimeError(f"`y_true` and `y_pred` must hold the same number of labels (torch's RuntimeError "
                               f"in Keras). Received: {y_true.numel()} true and {y_pred.numel()} predicted labels")
        n = self.num_classes
        valid = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            valid = valid & (y_true != self.ignore_class)
        if sample_weight is None:
            weight = valid.to(dt)
        else:
            weight = self._tensor(sample_weight).detach()
            if weight.is_floating_point() and not dt.is_floating_point:
                warnings.warn("You are passing weight as `float`, but dtype is `int`. This may result in an "
                              "incorrect weight due to type casting. Consider using integer weights.", stacklevel=2)
            weight = weight.to(dt)
            if weight.ndim > 1:
                weight = weight.reshape(-1)
            try:
                weight = torch.broadcast_to(weight, y_true.shape)
            except RuntimeError:  # Keras's torch backend lets torch's RuntimeError through
                raise RuntimeError(f"`sample_weight` of shape {tuple(weight.shape)} cannot be broadcast to the "
                                   f"{y_true.numel()} labels of this batch") from None
            weight = torch.where(valid, weight, torch.zeros_like(weight))
        if dt.is_floating_point:
            y_true, y_pred = torch.floor(y_true), torch.floor(y_pred)
        index = torch.where(valid, y_true.long() * n + y_pred.long(), torch.zeros_like(y_true, dtype=torch.long))
        with torch.no_grad():
            state.view(-1).index_add_(0, index, weight)


    def result(self) -> torch.Tensor:
        cm = self.total_cm.value.detach().to(torch.float32)  # Keras's result is float32 whatever the dtype
        true_positives = torch.diagonal(cm)
        denominator = cm.sum(dim=0) + cm.sum(dim=1) - true_positives
        if self.target_class_ids != list(range(self.num_classes)):
            true_positives = torch.stack([true_positives[i] for i in self.target_class_ids])
            denominator = torch.stack([denominator[i] for i in self.target_class_ids])
        eps = config.epsilon()
        num_valid = (denominator > 1e-9).to(cm.dtype).sum()
        return (true_positives / (denominator + eps)).sum() / (num_valid + eps)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class BinaryIoU(IoU):
    """IoU of a binary task: predictions ``>= threshold`` are class 1; ``target_class_ids`` from ``(0, 1)``."""

    def __init__(self, target_class_ids: Sequence[int] = (0, 1), threshold: float = 0.5, name: str | None = None,
                 dtype: Any = None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def _predicted_classes(self, y_pred: torch.Tensor) -> torch.Tensor:
        return y_pred >= self.threshold

    def get_config(self) -> dict:
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold, "name": self.name,
                "dtype": self.dtype}


class MeanIoU(IoU):
    """IoU averaged over all ``num_classes`` classes."""

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True, sparse_y_pred: bool = True,
                 axis: int = -1):
        super().__init__(num_classes, list(range(_check_num_classes(num_classes, TypeError))), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred,
                         axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotIoU(IoU):
    """``IoU`` for one-hot labels (and, unless ``sparse_y_pred``, per-class scores): arg-max along ``axis``."""

    def __init__(self, num_classes: int, target_class_ids: Sequence[int], name: str | None = None,
                 dtype: Any = None, ignore_class: int | None = None, sparse_y_pred: bool = False, axis: int = -1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids, "name": self.name,
                "dtype": self.dtype, "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class OneHotMeanIoU(MeanIoU):
    """``MeanIoU`` for one-hot labels (and, unless ``sparse_y_pred``, per-class scores)."""

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_pred: bool = False, axis: int = -1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}
