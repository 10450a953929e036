"""Metrics (``keras.metrics``): streaming ``Metric`` objects and per-sample metric functions.

``get`` resolves strings the way Keras 3 does: class names, their snake_case
forms and the short aliases (``"mse"``, ``"mae"``, ...) give a fresh metric
instance (``"accuracy"`` -> ``Accuracy()``).
"""
from __future__ import annotations

import inspect
from typing import Any

from cornu import losses as _losses
from cornu.losses import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from cornu.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from cornu.metrics.base import Mean, MeanMetricWrapper, Metric, Sum
from cornu.metrics.confusion import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from cornu.metrics.correlation import (
    ConcordanceCorrelation,
    PearsonCorrelation,
    concordance_correlation,
    pearson_correlation,
)
from cornu.metrics.f_score import F1Score, FBetaScore
from cornu.metrics.hinge import CategoricalHinge, Hinge, SquaredHinge
from cornu.metrics.iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from cornu.metrics.probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
)
from cornu.metrics.regression import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    R2Score,
    RootMeanSquaredError,
)
from cornu.utils.naming import to_snake_case

# Taken after the imports: importing the ``cornu.metrics.hinge`` submodule binds the name ``hinge`` to it.
hinge = _losses.hinge

_CLASSES = (
    Metric, Mean, Sum, MeanMetricWrapper,
    MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, R2Score,
    AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives,
    Hinge, SquaredHinge, CategoricalHinge,
    KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    F1Score, FBetaScore,
    PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity,
    IoU, MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU,
    PearsonCorrelation, ConcordanceCorrelation,
)
ALL_OBJECTS_DICT: dict[str, type] = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
ALL_OBJECTS_DICT.update({
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
    "MAPE": MeanAbsolutePercentageError, "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
})

# Aliases Keras exports under ``keras.metrics``.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
logcosh = log_cosh


def serialize(metric: Any) -> dict:
    """Keras's ``{"module", "class_name", "config", "registered_name"}`` for a ``Metric`` or a function."""
    if hasattr(metric, "get_config"):
        from cornu.saving.serialization import serialize_keras_object

        return serialize_keras_object(metric)
    if callable(metric) and hasattr(metric, "__name__"):
        return _losses.serialize_function(metric)
    raise TypeError(f"Cannot serialize metric {metric!r}: expected a Metric or a function.")


def deserialize(config: str | dict, custom_objects: dict | None = None) -> Any:
    """Inverse of ``serialize``: a ``Metric`` for a class dict or name, a function for a function name."""
    objects = {**ALL_OBJECTS_DICT, **(custom_objects or {})}
    if isinstance(config, dict):
        if "class_name" not in config:
            raise ValueError(f"Metric config dict needs a 'class_name' key. Received: {config!r}")
        name, inner = config["class_name"], config.get("config") or {}
        if name == "function":
            functions = {**{fn.__name__: fn for fn in _FUNCTIONS}, **(custom_objects or {})}
            if inner not in functions:
                raise ValueError(f"Unknown metric function: {inner!r}. Valid names are: {sorted(functions)}")
            return functions[inner]
        if name not in objects:
            raise ValueError(f"Unknown metric: {name!r}. Valid names are: {sorted(ALL_OBJECTS_DICT)}")
        return objects[name].from_config(inner)
    if not isinstance(config, str):
        raise TypeError(f"Metric config must be a string or dict. Received: {config!r}")
    if config in objects:
        return objects[config]
    raise ValueError(f"Unknown metric: {config!r}. Valid names are: {sorted(ALL_OBJECTS_DICT)}")


def get(identifier: Any) -> Any:
    """Resolve None, a name, a config dict, a class, a ``Metric`` or a function."""
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier not in ALL_OBJECTS_DICT:
        raise ValueError(f"Unknown metric: {identifier!r}. Valid names are: {sorted(ALL_OBJECTS_DICT)}")
    obj = deserialize(identifier) if isinstance(identifier, (str, dict)) else identifier
    if inspect.isclass(obj):
        return obj()
    if callable(obj):
        return obj
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


_FUNCTIONS = (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, top_k_categorical_accuracy,
    sparse_top_k_categorical_accuracy, binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_focal_crossentropy, sparse_categorical_crossentropy, categorical_hinge, hinge, squared_hinge,
    huber, kl_divergence, log_cosh, mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, poisson, pearson_correlation, concordance_correlation,
)

__all__ = [cls.__name__ for cls in _CLASSES] + [fn.__name__ for fn in _FUNCTIONS] + [
    "mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD", "logcosh",
    "get", "serialize", "deserialize",
]
