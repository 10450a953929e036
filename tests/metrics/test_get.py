"""metrics.get / serialize / deserialize."""
import pytest

from cornu import metrics


@pytest.mark.parametrize("name, cls", [
    ("accuracy", metrics.Accuracy), ("Accuracy", metrics.Accuracy), ("mse", metrics.MeanSquaredError),
    ("MAE", metrics.MeanAbsoluteError), ("binary_accuracy", metrics.BinaryAccuracy), ("auc", metrics.AUC),
    ("AUC", metrics.AUC), ("precision", metrics.Precision), ("f1_score", metrics.F1Score),
    ("kl_divergence", metrics.KLDivergence), ("sparse_top_k_categorical_accuracy",
                                              metrics.SparseTopKCategoricalAccuracy),
    ("bce", metrics.BinaryCrossentropy), ("root_mean_squared_error", metrics.RootMeanSquaredError),
])
def test_get_names_give_fresh_instances(name, cls):
    a, b = metrics.get(name), metrics.get(name)
    assert type(a) is cls and a is not b


def test_get_passthrough_and_classes():
    assert metrics.get(None) is None
    m = metrics.Recall()
    assert metrics.get(m) is m
    assert metrics.get(metrics.categorical_accuracy) is metrics.categorical_accuracy
    assert isinstance(metrics.get(metrics.Hinge), metrics.Hinge)


def test_get_unknown_lists_valid_names():
    with pytest.raises(ValueError, match="accuracy") as err:
        metrics.get("acuracy")
    assert "'acuracy'" in str(err.value)
    with pytest.raises(ValueError):
        metrics.get(12)


@pytest.mark.parametrize("metric", [
    metrics.SparseTopKCategoricalAccuracy(k=3, name="top3"), metrics.Precision(thresholds=[0.2, 0.4], class_id=1),
    metrics.AUC(num_thresholds=20, curve="PR", multi_label=True), metrics.F1Score(average="macro"),
    metrics.CategoricalCrossentropy(from_logits=True), metrics.Mean(name="m", dtype="float64"),
])
def test_serialize_roundtrip(metric):
    restored = metrics.deserialize(metrics.serialize(metric))
    assert type(restored) is type(metric) and restored.get_config() == metric.get_config()


def test_function_serialization():
    config = metrics.serialize(metrics.binary_accuracy)
    assert config == {"module": "builtins", "class_name": "function", "config": "binary_accuracy",
                      "registered_name": "function"}
    assert metrics.deserialize(config) is metrics.binary_accuracy
    assert metrics.deserialize("sparse_categorical_accuracy") is metrics.SparseCategoricalAccuracy
