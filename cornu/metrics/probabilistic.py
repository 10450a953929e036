"""Probabilistic metrics: streaming means of the crossentropy, KL and Poisson losses."""
from __future__ import annotations

from typing import Any

from cornu import losses
from cornu.metrics.base import MeanMetricWrapper


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary crossentropy."""

    def __init__(self, name: str = "binary_crossentropy", dtype: Any = None, from_logits: bool = False,
                 label_smoothing: float = 0.0):
        super().__init__(losses.binary_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical crossentropy (one-hot targets)."""

    def __init__(self, name: str = "categorical_crossentropy", dtype: Any = None, from_logits: bool = False,
                 label_smoothing: float = 0.0, axis: int = -1):
        super().__init__(losses.categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical crossentropy (integer targets)."""

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, ignore_class: int | None = None, axis: int = -1):
        super().__init__(losses.sparse_categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         ignore_class=ignore_class, axis=axis)


class KLDivergence(MeanMetricWrapper):
    """Mean Kullback-Leibler divergence."""

    def __init__(self, name: str = "kl_divergence", dtype: Any = None):
        super().__init__(losses.kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """Mean Poisson loss."""

    def __init__(self, name: str = "poisson", dtype: Any = None):
        super().__init__(losses.poisson, name=name, dtype=dtype)
