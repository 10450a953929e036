"""scikit-learn estimators (classifier, regressor, transformer) that build, fit and call a cornu ``Model``.

The model is a compiled ``Model`` (cloned before each cold fit) or a callable ``model(X=..., y=..., **model_kwargs)``
returning one, so its input/output sizes can follow the data. Targets are encoded for the network the way Keras
does: one-hot columns (classes sorted) for the classifier, a ``(n, 1)`` column for the others.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    def _validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)


def _float_inputs(X: np.ndarray) -> np.ndarray:
    """Integer/bool features as ``floatx`` (scikit-learn passes such arrays; the layers compute in floats)."""
    if X.dtype.kind in "iub":
        from cornu.config import floatx

        return X.astype(floatx())
    return X


class SKLBase(BaseEstimator):
    """Shared fit/predict plumbing; subclasses encode the target and decode the model's output."""

    def __init__(self, model: Any, warm_start: bool = False, model_kwargs: dict | None = None,
                 fit_kwargs: dict | None = None):
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        return tags

    def _get_model(self, X: np.ndarray, y: np.ndarray):
        """A fresh compiled model: a clone of ``self.model``, or what the callable returns for this data."""
        from cornu.models import Model, clone_model

        if isinstance(self.model, Model):
            model = clone_model(self.model)
        else:
            model = self.model(X=X, y=y, **(self.model_kwargs or {}))
        if not isinstance(model, Model):
            raise TypeError(f"`model` must be a compiled Model or a callable returning one; got {model!r}")
        if not model.compiled:
            raise RuntimeError("Given model needs to be compiled, and have a loss and an optimizer.")
        return model

    def fit(self, X: Any, y: Any, **kwargs) -> "SKLBase":
        """Fit the (new, or with ``warm_start`` the previous) model; ``kwargs`` override ``fit_kwargs``."""
        X, y = _validate_data(self, X, y)
        X = _float_inputs(X)
        y = self._process_target(y, reset=True)
        if not (self.warm_start and hasattr(self, "model_")):
            self.model_ = self._get_model(X, y)
        fit_kwargs = {**(self.fit_kwargs or {}), **kwargs}
        self.history_ = self.model_.fit(X, y, **fit_kwargs)
        return self

    def _predict_raw(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = _float_inputs(_validate_data(self, X, reset=False))
        return np.asarray(self.model_.predict(X))

    def predict(self, X: Any) -> np.ndarray:
        """The model's predictions, decoded back into the target's form."""
        return self._reverse_process_target(self._predict_raw(X))

    def _process_target(self, y: np.ndarray, reset: bool = False) -> np.ndarray:
        y = np.asarray(y)
        if y.dtype == object:  # numbers held as Python objects: the network needs a numeric array
            y = y.astype("float64")
        return y.reshape(-1, 1)

    def _reverse_process_target(self, y: np.ndarray) -> np.ndarray:
        return y.ravel() if y.ndim == 2 and y.shape[1] == 1 else y


class SKLearnClassifier(ClassifierMixin, SKLBase):
    """A scikit-learn classifier: labels (any sortable values) are one-hot encoded for the model, and
    ``predict`` returns the label of the highest output. ``classes_`` holds the sorted labels."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags

    def _process_target(self, y: np.ndarray, reset: bool = False) -> np.ndarray:
        if reset:
            target_type = type_of_target(y, input_name="y", raise_unknown=True)
            if target_type not in ("binary", "multiclass"):
                raise ValueError("Only binary and multiclass target types are supported. Target type: "
                                 f"{target_type}")
        y = np.asarray(y).reshape(-1, 1)
        if reset:
            self._target_encoder = OneHotEncoder(sparse_output=False).fit(y)
            self.classes_ = self._target_encoder.categories_[0]
        return self._target_encoder.transform(y)

    def _reverse_process_target(self, y: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(y.reshape(y.shape[0], -1), axis=1)]

    def decision_function(self, X: Any) -> np.ndarray:
        """The model's raw outputs, one column per class (probabilities or logits, as the model gives)."""
        return self._predict_raw(X)


class SKLearnRegressor(RegressorMixin, SKLBase):
    """A scikit-learn regressor: the 1-D target is fed as a ``(n, 1)`` column and predictions come back 1-D."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        return tags


class SKLearnTransformer(TransformerMixin, SKLBase):
    """A scikit-learn transformer whose ``transform`` is the fitted model's output (an embedding, say)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # outputs are the model's floatx, whatever came in
        return tags

    def transform(self, X: Any) -> np.ndarray:
        """The fitted model's outputs for ``X``, as a 2-D array."""
        return self._predict_raw(X)
