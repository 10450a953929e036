"""``keras.wrappers``: scikit-learn estimators around Keras models.

scikit-learn is imported only when a wrapper is first used, so ``import cornu`` never needs it.
"""
_NAMES = ("SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer")


def __getattr__(name: str):
    if name in _NAMES:
        from cornu.wrappers import sklearn_wrapper

        value = getattr(sklearn_wrapper, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cornu.wrappers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_NAMES))
