"""IoU metrics vs a float64 NumPy confusion matrix and the written-out IoU formula."""
import numpy as np
import pytest
import torch

from cornu import metrics
from tests.helpers import assert_close, f64, no_host_sync, random_probs, seeded

EPS = 1e-7


def np_confusion(y_true, y_pred, weight, num_classes, ignore_class=None):
    """Rows: true class, columns: predicted class; pairs outside [0, num_classes) are left out."""
    t, p = np.floor(f64(y_true).ravel()), np.floor(f64(y_pred).ravel())
    w = np.broadcast_to(f64(weight).ravel() if np.ndim(weight) > 1 else f64(weight), t.shape)
    keep = (t >= 0) & (t < num_classes) & (p >= 0) & (p < num_classes)
    if ignore_class is not None:
        keep &= t != ignore_class
    cm = np.zeros((num_classes, num_classes))
    np.add.at(cm, (t[keep].astype(int), p[keep].astype(int)), w[keep])
    return cm


def np_iou(cm, class_ids):
    """Mean of tp / (tp + fp + fn) over the given classes that occur at all."""
    tp = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - tp
    tp, union = tp[class_ids], union[class_ids]
    return (tp / (union + EPS)).sum() / ((union > 1e-9).sum() + EPS)


def batches(n=60, classes=4, seed=0):
    rng = seeded(seed)
    return rng.integers(0, classes, n), rng.integers(0, classes, n), rng.uniform(0.1, 2.0, n)


def test_iou_streams_weighted_batches_and_resets():
    y, p, w = batches()
    m = metrics.IoU(num_classes=4, target_class_ids=[0, 2, 3], dtype="float64")
    for sl in (slice(0, 25), slice(25, 40), slice(40, 60)):
        m.update_state(y[sl], p[sl], sample_weight=w[sl])
    cm = np_confusion(y, p, w, 4)
    assert_close(m.total_cm.value, cm, rtol=1e-12)
    assert_close(m.result(), np_iou(cm, [0, 2, 3]), rtol=1e-6)
    m.reset_state()
    assert float(m.result()) == 0.0
    m.update_state(y[:10], p[:10])
    assert_close(m.result(), np_iou(np_confusion(y[:10], p[:10], 1.0, 4), [0, 2, 3]), rtol=1e-6)


def test_mean_iou_is_iou_over_every_class():
    y, p, w = batches(seed=1)
    m = metrics.MeanIoU(num_classes=4, dtype="float64")
    m.update_state(y, p, sample_weight=w)
    assert m.target_class_ids == [0, 1, 2, 3]
    assert_close(m.result(), np_iou(np_confusion(y, p, w, 4), [0, 1, 2, 3]), rtol=1e-6)


def test_two_by_two_by_hand():
    m = metrics.MeanIoU(num_classes=2)
    m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    # Each class: 1 hit, union of 3 (1 hit + 1 false positive + 1 false negative).
    assert_close(m.result(), (1 / (3 + EPS) + 1 / (3 + EPS)) / (2 + EPS))
    assert m.result().dtype == torch.float32


def test_default_int_state_truncates_labels_and_weights():
    m = metrics.MeanIoU(num_classes=3)
    assert m.dtype == "int32" and m.total_cm.value.dtype == torch.int32
    with pytest.warns(UserWarning, match="float"):
        m.update_state(np.array([0, 1, 2, 2]), np.array([0.7, 1.9, -0.5, 2.2]),
                       sample_weight=np.array([0.5, 1.5, 2.0, 3.0]))
    # -0.5 truncates to class 0; weights 0.5 -> 0, 1.5 -> 1.
    expected = np.zeros((3, 3))
    expected[1, 1], expected[2, 0], expected[2, 2] = 1, 2, 3
    assert_close(m.total_cm.value, expected)
    assert_close(m.result(), np_iou(expected, [0, 1, 2]))


def test_out_of_range_and_ignored_labels_are_not_counted():
    y = np.array([0, 1, 2, 3, -1, 1, 2, 0])
    p = np.array([0.0, 1.5, -0.5, 1.0, 1.0, 5.0, 2.9, 0.0])
    m = metrics.MeanIoU(num_classes=3, dtype="float32")
    m.update_state(y, p)
    assert_close(m.total_cm.value, np_confusion(y, p, 1.0, 3))
    ignored = metrics.MeanIoU(num_classes=3, dtype="float32", ignore_class=0)
    ignored.update_state(y, p, sample_weight=np.arange(1.0, 9.0))
    cm = np_confusion(y, p, np.arange(1.0, 9.0), 3, ignore_class=0)
    assert cm[0].sum() == 0
    assert_close(ignored.total_cm.value, cm)
    assert_close(ignored.result(), np_iou(cm, [0, 1, 2]))


def test_dense_labels_and_scores_use_argmax_along_axis():
    rng = seeded(2)
    labels = rng.integers(0, 3, (5, 4))
    probs = random_probs((5, 4, 3), seed=3)
    one_hot = np.eye(3)[labels]
    m = metrics.OneHotMeanIoU(num_classes=3, dtype="float64")
    m.update_state(one_hot, probs)
    cm = np_confusion(labels, probs.argmax(-1), 1.0, 3)
    assert_close(m.total_cm.value, cm)
    assert_close(m.result(), np_iou(cm, [0, 1, 2]), rtol=1e-6)
    sparse_pred = metrics.OneHotIoU(num_classes=3, target_class_ids=[1], sparse_y_pred=True, dtype="float64")
    sparse_pred.update_state(one_hot, probs.argmax(-1))
    assert_close(sparse_pred.result(), np_iou(cm, [1]), rtol=1e-6)
    axis0 = metrics.IoU(3, [0, 1, 2], sparse_y_true=False, sparse_y_pred=False, axis=0, dtype="float64")
    axis0.update_state(one_hot[:3, 0].T, probs[:3, 0].T)
    assert_close(axis0.total_cm.value, np_confusion(labels[:3, 0], probs[:3, 0].argmax(-1), 1.0, 3))


def test_binary_iou_thresholds_predictions():
    rng = seeded(4)
    y = rng.integers(0, 2, (8, 3))
    p = rng.uniform(size=(8, 3))
    w = rng.uniform(size=(8, 3))
    for threshold in (0.3, 0.5):
        m = metrics.BinaryIoU(target_class_ids=[1], threshold=threshold, dtype="float64")
        m.update_state(y[:4], p[:4], sample_weight=w[:4])
        m.update_state(y[4:], p[4:], sample_weight=w[4:])
        cm = np_confusion(y, (p >= threshold).astype(float), w, 2)
        assert_close(m.result(), np_iou(cm, [1]), rtol=1e-6)
    at_threshold = metrics.BinaryIoU(dtype="float32")
    at_threshold.update_state([1, 0], [0.5, 0.5])
    assert_close(at_threshold.total_cm.value, [[0, 1], [0, 1]])


def test_sample_weight_shapes():
    y, p = np.array([[0, 1], [2, 1]]), np.array([[2, 1], [2, 1]])
    m = metrics.MeanIoU(3, dtype="float64")
    m.update_state(y, p, sample_weight=np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert_close(m.total_cm.value, np_confusion(y, p, np.array([1.0, 2.0, 3.0, 4.0]), 3))
    with pytest.raises(RuntimeError, match="sample_weight"):
        m.update_state(y, p, sample_weight=np.array([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="same number"):
        m.update_state([0, 1, 2], [0, 1])


def test_configs_round_trip():
    for m in (metrics.IoU(4, [1, 3], name="iou", ignore_class=0, axis=1), metrics.MeanIoU(3, dtype="float32"),
              metrics.BinaryIoU(target_class_ids=(1,), threshold=0.3), metrics.OneHotIoU(3, [2], sparse_y_pred=True),
              metrics.OneHotMeanIoU(5, ignore_class=-1)):
        config = m.get_config()
        clone = type(m).from_config(config)
        assert clone.get_config() == config
    assert metrics.BinaryIoU().get_config() == {"target_class_ids": [0, 1], "threshold": 0.5, "name": "binary_io_u",
                                                 "dtype": "int32"}
    assert set(metrics.OneHotIoU(3, [0]).get_config()) == {"num_classes", "target_class_ids", "name", "dtype",
                                                             "ignore_class", "sparse_y_pred", "axis"}


@pytest.mark.parametrize("make", [
    lambda: metrics.IoU(3, [0, 3]), lambda: metrics.IoU(3, []), lambda: metrics.IoU(0, [0]),
    lambda: metrics.IoU(2.5, [0]), lambda: metrics.MeanIoU(-2), lambda: metrics.BinaryIoU(target_class_ids=[2]),
    lambda: metrics.OneHotIoU(3, [5]), lambda: metrics.OneHotMeanIoU(0),
])
def test_bad_arguments_raise_value_error(make):
    with pytest.raises(ValueError, match="Received|out of range"):
        make()


def test_non_integer_class_count_for_mean_iou_is_a_type_error():
    # As in Keras: MeanIoU builds range(num_classes) first, IoU validates the count as a shape.
    for bad in (2.5, "3"):
        with pytest.raises(TypeError, match="num_classes"):
            metrics.MeanIoU(bad)
    with pytest.raises(TypeError, match="target_class_ids"):
        metrics.IoU(3, [0.5])


def test_get_resolves_names():
    assert isinstance(metrics.get("binary_io_u"), metrics.BinaryIoU)
    assert isinstance(metrics.get("BinaryIoU"), metrics.BinaryIoU)
    assert metrics.ALL_OBJECTS_DICT["mean_io_u"] is metrics.MeanIoU
    assert metrics.ALL_OBJECTS_DICT["one_hot_mean_io_u"] is metrics.OneHotMeanIoU
    with pytest.raises(TypeError):
        metrics.get("io_u")  # needs num_classes and target_class_ids
    with pytest.raises(ValueError):
        metrics.get("iou")
    restored = metrics.deserialize(metrics.serialize(metrics.IoU(3, [1], name="c1")))
    assert isinstance(restored, metrics.IoU) and restored.target_class_ids == [1] and restored.name == "c1"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_updates_and_results_do_not_sync():
    y, p, w = (torch.as_tensor(a) for a in batches())
    for make in (lambda: metrics.IoU(4, [0, 2], dtype="float32"), lambda: metrics.MeanIoU(4),
                 lambda: metrics.BinaryIoU(dtype="float32"), lambda: metrics.OneHotMeanIoU(4)):
        gpu, cpu = make(), make()
        dense = isinstance(gpu, metrics.OneHotMeanIoU)
        yy = torch.nn.functional.one_hot(y, 4) if dense else y
        pp = torch.nn.functional.one_hot(p, 4).float() if dense \
            else p.float() / 4 if isinstance(gpu, metrics.BinaryIoU) else p
        ww = w.round().long() if gpu.dtype == "int32" else w
        gpu.update_state(yy.cuda(), pp.cuda(), sample_weight=ww.cuda())
        with no_host_sync():
            gpu.update_state(yy.cuda(), pp.cuda(), sample_weight=ww.cuda())
            result = gpu.result()
        for _ in range(2):
            cpu.update_state(yy, pp, sample_weight=ww)
        assert result.device.type == "cuda"
        assert_close(result.cpu(), cpu.result())
