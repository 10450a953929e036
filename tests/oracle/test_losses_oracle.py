"""Dice, Tversky, Circle, CategoricalGeneralizedCrossEntropy and CTC against real Keras 3 (torch backend)."""
import numpy as np
import pytest
import torch

import cornu
from tests.helpers import assert_close, random_probs, seeded

REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]


def _inputs(kind):
    """(y_true, y_pred, sample_weight) as float32/int NumPy arrays, the same for both libraries."""
    rng = seeded({"mask": 0, "embed": 1, "probs": 2, "ctc": 3}[kind])
    if kind == "mask":
        return ((rng.random((4, 6, 5)) > 0.5).astype("float32"), rng.random((4, 6, 5)).astype("float32"),
                rng.random(4).astype("float32"))
    if kind == "embed":
        e = rng.normal(size=(10, 6))
        e = (e / np.linalg.norm(e, axis=1, keepdims=True)).astype("float32")
        return np.array([0, 1, 0, 2, 1, 3, 0, 1, 4, 2]), e, rng.random(10).astype("float32")
    if kind == "probs":
        return rng.integers(0, 5, 12), random_probs((12, 5), seed=4), rng.random(12).astype("float32")
    y = rng.integers(1, 6, (5, 4))
    y[1, 2:] = 0
    y[3, 1:] = 0
    return y, rng.normal(size=(5, 11, 6)).astype("float32"), rng.random(5).astype("float32")


CASES = [
    ("Dice", "dice", {"axis": (1, 2)}, "mask"),
    ("Dice", "dice", {}, "mask"),
    ("Tversky", "tversky", {"alpha": 0.3, "beta": 0.7, "axis": (1, 2)}, "mask"),
    ("Tversky", "tversky", {}, "mask"),
    ("Circle", "circle", {}, "embed"),
    ("Circle", "circle", {"gamma": 4.0, "margin": 0.25, "remove_diagonal": False}, "embed"),
    ("CategoricalGeneralizedCrossEntropy", "categorical_generalized_cross_entropy", {"q": 0.3}, "probs"),
    ("CTC", "ctc", {}, "ctc"),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


def _np(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_classes_match_keras(keras_ref, case, reduction, weighted):
    cls_name, _, kwargs, kind = case
    y_true, y_pred, w = _inputs(kind)
    w = w if weighted else None
    ref = getattr(keras_ref.losses, cls_name)(reduction=reduction, **kwargs)(y_true, y_pred, sample_weight=w)
    ours = getattr(cornu.losses, cls_name)(reduction=reduction, **kwargs)(y_true, y_pred, sample_weight=w)
    assert tuple(ours.shape) == tuple(ref.shape) and ours.dtype == ref.dtype
    assert_close(ours, _np(ref), rtol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_loss_functions_match_keras(keras_ref, case):
    _, fn_name, kwargs, kind = case
    y_true, y_pred, _ = _inputs(kind)
    kwargs = {"q": 0.5} if fn_name.startswith("categorical") else kwargs
    convert = keras_ref.ops.convert_to_tensor
    ref = getattr(keras_ref.losses, fn_name)(convert(y_true), convert(y_pred), **kwargs)
    ours = getattr(cornu.losses, fn_name)(torch.tensor(y_true), torch.tensor(y_pred), **kwargs)
    assert tuple(ours.shape) == tuple(ref.shape) and ours.dtype == ref.dtype
    assert_close(ours, _np(ref), rtol=1e-5)
    ref_mask = getattr(ref, "_keras_mask", None)
    if ref_mask is not None:
        np.testing.assert_array_equal(_np(ours._keras_mask), _np(ref_mask))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradients_match_keras(keras_ref, case):
    cls_name, _, kwargs, kind = case
    y_true, y_pred, w = _inputs(kind)
    grads = []
    for lib in (keras_ref, cornu):
        x = torch.tensor(y_pred, requires_grad=True)
        getattr(lib.losses, cls_name)(**kwargs)(y_true, x, sample_weight=w).backward()
        grads.append(x.grad)
    assert torch.isfinite(grads[1]).all()
    assert_close(grads[1], grads[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls_name", ["Dice", "Tversky", "Circle", "CategoricalGeneralizedCrossEntropy", "CTC"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_dtypes_match_keras(keras_ref, cls_name, dtype):
    case = next(c for c in CASES if c[0] == cls_name)
    y_true, y_pred, _ = _inputs(case[3])
    ref = getattr(keras_ref.losses, cls_name)(dtype=dtype)(y_true, y_pred)
    ours = getattr(cornu.losses, cls_name)(dtype=dtype)(y_true, y_pred)
    assert ours.dtype == ref.dtype
    assert_close(ours.float(), _np(ref.float()), rtol=2e-2)


CONFIGS = [
    ("Dice", {}), ("Dice", {"axis": (1, 2), "reduction": "sum", "name": "d"}), ("Dice", {"axis": [1]}),
    ("Tversky", {}), ("Tversky", {"alpha": 1, "beta": 0, "axis": -1, "reduction": None}),
    ("Circle", {}), ("Circle", {"gamma": 2, "margin": 1, "remove_diagonal": False, "name": "c"}),
    ("CategoricalGeneralizedCrossEntropy", {}), ("CategoricalGeneralizedCrossEntropy", {"q": 0.25}),
    ("CTC", {}), ("CTC", {"reduction": "mean_with_sample_weight", "name": "x"}),
]


@pytest.mark.parametrize("cls_name,kwargs", CONFIGS)
def test_configs_equal_keras(keras_ref, cls_name, kwargs):
    ref = getattr(keras_ref.losses, cls_name)(**kwargs).get_config()
    ours = getattr(cornu.losses, cls_name)(**kwargs)
    assert ours.get_config() == ref
    assert type(ours).from_config(ref).get_config() == ref


@pytest.mark.parametrize("name", ["dice", "tversky", "circle", "ctc", "Dice", "Tversky", "Circle", "CTC"])
def test_get_resolves_like_keras(keras_ref, name):
    ref, ours = keras_ref.losses.get(name), cornu.losses.get(name)
    assert callable(ours) and (isinstance(ours, cornu.losses.Loss) == isinstance(ref, keras_ref.losses.Loss))
    if isinstance(ref, keras_ref.losses.Loss):
        assert type(ours).__name__ == type(ref).__name__ and ours.get_config() == ref.get_config()
    else:
        assert ours.__name__ == ref.__name__


def test_ctc_padding_rule_matches_keras(keras_ref):
    # Keras counts a label's length as its non-zero entries and reads that many from the front of the row.
    rng = seeded(5)
    logits = rng.normal(size=(4, 7, 5)).astype("float32")
    y = np.array([[1, 0, 2, 0], [0, 3, 0, 0], [4, 1, 0, 0], [0, 0, 0, 0]])
    convert = keras_ref.ops.convert_to_tensor
    ref = keras_ref.losses.ctc(convert(y), convert(logits))
    assert_close(cornu.losses.ctc(torch.tensor(y), torch.tensor(logits)), _np(ref), rtol=1e-5)


def _bad_calls(lib):
    ones = np.ones
    return [
        lambda: lib.losses.Dice()(ones((3, 4), "float32"), ones((3, 5), "float32")),
        lambda: lib.losses.Tversky(axis=-1)(ones((3, 4), "float32"), ones((3, 5), "float32")),
        lambda: lib.losses.Dice(reduction="bogus"),
        lambda: lib.losses.CTC()(ones(3), ones((3, 4, 5), "float32")),
        lambda: lib.losses.CTC()(ones((3, 2)), ones((3, 4), "float32")),
        lambda: lib.losses.CTC()(ones((3, 2)), ones((2, 4, 5), "float32")),
        lambda: lib.losses.Circle()(np.zeros(4), ones((3, 4), "float32")),
        lambda: lib.losses.Circle()(np.zeros((3, 2)), ones((3, 4), "float32")),
        lambda: lib.losses.CategoricalGeneralizedCrossEntropy(q=0.0),
        lambda: lib.losses.CategoricalGeneralizedCrossEntropy(q=1.0),
        lambda: lib.losses.CategoricalGeneralizedCrossEntropy(q="a"),
        lambda: lib.losses.CategoricalGeneralizedCrossEntropy()(np.zeros(4), ones((3, 4), "float32")),
    ]


@pytest.mark.parametrize("index", range(12))
def test_bad_inputs_raise_the_keras_error_class(keras_ref, index):
    with pytest.raises(Exception) as ref:
        _bad_calls(keras_ref)[index]()
    with pytest.raises(type(ref.value)):
        _bad_calls(cornu)[index]()
