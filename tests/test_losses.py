"""Losses vs float64 NumPy formulas: extremes, logits, smoothing, weights and reductions."""
import numpy as np
import pytest
import torch

from cornu import losses
from tests.helpers import no_host_sync

EPS = 1e-7
RNG = np.random.default_rng(0)


def _t(x):
    return torch.tensor(np.asarray(x, dtype=np.float64))


def _probs(shape):
    p = RNG.uniform(0.05, 1.0, size=shape)
    return p / p.sum(-1, keepdims=True)


def _onehot(labels, n):
    return np.eye(n)[labels]


def np_cce(y, p, axis=-1):
    p = p / p.sum(axis, keepdims=True)
    return -(y * np.log(np.clip(p, EPS, 1 - EPS))).sum(axis)


def np_log_softmax(z, axis=-1):
    z = z - z.max(axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis, keepdims=True))


def np_bce(y, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def np_bce_logits(y, z):
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


# ------------------------------------------------------------ crossentropy


def test_categorical_crossentropy_matches_numpy():
    y = _onehot(RNG.integers(0, 5, 8), 5)
    p = _probs((8, 5))
    np.testing.assert_allclose(losses.categorical_crossentropy(_t(y), _t(p)).numpy(), np_cce(y, p), rtol=1e-12)


def test_categorical_crossentropy_unnormalised_probs_are_normalised():
    y = _onehot([0, 2], 3)
    p = np.array([[2.0, 1.0, 1.0], [0.5, 0.5, 3.0]])
    np.testing.assert_allclose(losses.categorical_crossentropy(_t(y), _t(p)).numpy(), np_cce(y, p), rtol=1e-12)


def test_categorical_crossentropy_extreme_probabilities_are_finite():
    y = _onehot([1, 0, 2], 3)
    p = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    out = losses.categorical_crossentropy(_t(y), _t(p)).numpy()
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, [-np.log(EPS), -np.log(1 - EPS), -np.log(1 - EPS)], rtol=1e-10)
    out32 = losses.categorical_crossentropy(torch.tensor(y, dtype=torch.float32), torch.tensor(p, dtype=torch.float32))
    assert torch.isfinite(out32).all()


def test_categorical_crossentropy_from_logits():
    y = _onehot(RNG.integers(0, 4, 6), 4)
    z = RNG.normal(size=(6, 4)) * 5
    out = losses.categorical_crossentropy(_t(y), _t(z), from_logits=True).numpy()
    np.testing.assert_allclose(out, -(y * np_log_softmax(z)).sum(-1), rtol=1e-12)
    softmaxed = np.exp(np_log_softmax(z))
    np.testing.assert_allclose(losses.categorical_crossentropy(_t(y), _t(softmaxed)).numpy(), out, rtol=1e-5)


def test_categorical_crossentropy_huge_logits_finite_with_gradient():
    z = _t([[1000.0, -1000.0, 0.0]]).requires_grad_()
    loss = losses.categorical_crossentropy(_t([[0.0, 1.0, 0.0]]), z, from_logits=True)
    loss.sum().backward()
    assert loss.item() == pytest.approx(2000.0)
    assert torch.isfinite(z.grad).all()


def test_categorical_crossentropy_label_smoothing():
    y = _onehot(RNG.integers(0, 4, 5), 4)
    p = _probs((5, 4))
    smooth = y * 0.8 + 0.2 / 4
    out = losses.categorical_crossentropy(_t(y), _t(p), label_smoothing=0.2).numpy()
    np.testing.assert_allclose(out, np_cce(smooth, p), rtol=1e-12)


def test_categorical_crossentropy_axis():
    y = np.moveaxis(_onehot(RNG.integers(0, 3, (2, 4)), 3), -1, 1)  # (2, 3, 4): classes on axis 1
    p = np.moveaxis(_probs((2, 4, 3)), -1, 1)
    out = losses.categorical_crossentropy(_t(y), _t(p), axis=1).numpy()
    np.testing.assert_allclose(out, np_cce(y, p, axis=1), rtol=1e-12)


def test_categorical_crossentropy_shape_mismatch():
    with pytest.raises(ValueError, match="shape"):
        losses.categorical_crossentropy(_t(np.zeros((2, 3))), _t(np.ones((2, 4))))


@pytest.mark.parametrize("label_shape", ["flat", "column"])
@pytest.mark.parametrize("label_dtype", [np.int64, np.float32])
def test_sparse_categorical_crossentropy_target_shapes(label_shape, label_dtype):
    labels = RNG.integers(0, 5, 7)
    p = _probs((7, 5))
    y = labels if label_shape == "flat" else labels[:, None]
    out = losses.sparse_categorical_crossentropy(y.astype(label_dtype), _t(p)).numpy()
    np.testing.assert_allclose(out, np_cce(_onehot(labels, 5), p), rtol=1e-12)


def test_sparse_categorical_crossentropy_logits_and_extremes():
    labels = np.array([0, 1, 2])
    z = np.array([[50.0, -50.0, 0.0], [50.0, -50.0, 0.0], [0.0, 0.0, 1.0]])
    out = losses.sparse_categorical_crossentropy(labels, _t(z), from_logits=True).numpy()
    np.testing.assert_allclose(out, -np_log_softmax(z)[np.arange(3), labels], rtol=1e-12)
    p = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    out = losses.sparse_categorical_crossentropy(labels, _t(p)).numpy()
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, [-np.log(1 - EPS), -np.log(EPS), -np.log(1 - EPS)], rtol=1e-10)


def test_sparse_categorical_crossentropy_channels_first_axis():
    labels = RNG.integers(0, 3, (2, 4))
    z = RNG.normal(size=(2, 3, 4))
    out = losses.sparse_categorical_crossentropy(labels, _t(z), from_logits=True, axis=1).numpy()
    logp = np_log_softmax(z, axis=1)
    expected = -np.take_along_axis(logp, labels[:, None, :], axis=1)[:, 0, :]
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_sparse_categorical_crossentropy_bad_shape():
    with pytest.raises(ValueError, match="shape"):
        losses.sparse_categorical_crossentropy(np.zeros((3, 2)), _t(np.ones((3, 4))))


def test_sparse_ignore_class_excluded_from_mean():
    labels = np.array([0, 2, -1, 1, -1])
    z = RNG.normal(size=(5, 3))
    per_sample = -np_log_softmax(z)[np.arange(5), np.where(labels < 0, 0, labels)]
    valid = labels != -1
    fn_out = losses.sparse_categorical_crossentropy(labels, _t(z), from_logits=True, ignore_class=-1).numpy()
    np.testing.assert_allclose(fn_out, np.where(valid, per_sample, 0.0), rtol=1e-12)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, dtype="float64")
    expected = per_sample[valid].sum() / (valid.sum() + EPS)
    assert loss(labels, _t(z)).item() == pytest.approx(expected, rel=1e-6)


def test_binary_crossentropy_matches_numpy_and_extremes():
    y = RNG.integers(0, 2, (6, 3)).astype(np.float64)
    p = RNG.uniform(size=(6, 3))
    p[0] = [0.0, 1.0, 0.0]
    y[0] = [1.0, 0.0, 0.0]
    out = losses.binary_crossentropy(_t(y), _t(p)).numpy()
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, np_bce(y, p).mean(-1), rtol=1e-10)
    out32 = losses.binary_crossentropy(torch.tensor(y, dtype=torch.float32), torch.tensor(p, dtype=torch.float32))
    assert torch.isfinite(out32).all()


def test_binary_crossentropy_from_logits_stable():
    y = np.array([[0.0, 1.0, 1.0, 0.0]])
    z = np.array([[100.0, -100.0, 3.0, -2.0]])
    out = losses.binary_crossentropy(_t(y), _t(z), from_logits=True).numpy()
    np.testing.assert_allclose(out, np_bce_logits(y, z).mean(-1), rtol=1e-12)
    z2 = RNG.normal(size=(4, 3))
    y2 = RNG.integers(0, 2, (4, 3)).astype(float)
    np.testing.assert_allclose(losses.binary_crossentropy(_t(y2), _t(z2), from_logits=True).numpy(),
                               losses.binary_crossentropy(_t(y2), torch.sigmoid(_t(z2))).numpy(), rtol=1e-6)


def test_binary_crossentropy_label_smoothing():
    y = RNG.integers(0, 2, (5, 2)).astype(float)
    p = RNG.uniform(size=(5, 2))
    out = losses.binary_crossentropy(_t(y), _t(p), label_smoothing=0.1).numpy()
    np.testing.assert_allclose(out, np_bce(y * 0.9 + 0.05, p).mean(-1), rtol=1e-10)


def test_binary_focal_crossentropy():
    y = RNG.integers(0, 2, (5, 3)).astype(float)
    p = RNG.uniform(0.01, 0.99, size=(5, 3))
    p_t = y * p + (1 - y) * (1 - p)
    base = (1 - p_t) ** 2.0 * np_bce(y, p)
    out = losses.binary_focal_crossentropy(_t(y), _t(p)).numpy()
    np.testing.assert_allclose(out, base.mean(-1), rtol=1e-10)
    balanced = losses.binary_focal_crossentropy(_t(y), _t(p), apply_class_balancing=True, alpha=0.3).numpy()
    np.testing.assert_allclose(balanced, ((y * 0.3 + (1 - y) * 0.7) * base).mean(-1), rtol=1e-10)
    z = np.log(p / (1 - p))
    np.testing.assert_allclose(losses.binary_focal_crossentropy(_t(y), _t(z), from_logits=True).numpy(),
                               base.mean(-1), rtol=1e-8)


def test_categorical_focal_crossentropy():
    y = _onehot(RNG.integers(0, 4, 5), 4)
    p = _probs((5, 4))
    expected = -(0.25 * (1 - p) ** 2.0 * y * np.log(p)).sum(-1)
    np.testing.assert_allclose(losses.categorical_focal_crossentropy(_t(y), _t(p)).numpy(), expected, rtol=1e-10)


# -------------------------------------------------------------- regression

Y = RNG.normal(size=(6, 4))
P = RNG.normal(size=(6, 4))

REGRESSION = {
    "mean_squared_error": lambda y, p: ((y - p) ** 2).mean(-1),
    "mean_absolute_error": lambda y, p: np.abs(y - p).mean(-1),
    "mean_absolute_percentage_error": lambda y, p: 100 * np.abs((y - p) / np.maximum(np.abs(y), EPS)).mean(-1),
    "mean_squared_logarithmic_error": lambda y, p: (
        (np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(y, EPS) + 1)) ** 2).mean(-1),
    "log_cosh": lambda y, p: np.log(np.cosh(p - y)).mean(-1),
    "huber": lambda y, p: np.where(np.abs(p - y) <= 1.0, 0.5 * (p - y) ** 2, np.abs(p - y) - 0.5).mean(-1),
    "poisson": lambda y, p: (p - y * np.log(p + EPS)).mean(-1),
    "cosine_similarity": lambda y, p: -(y * p).sum(-1) / (np.linalg.norm(y, axis=-1) * np.linalg.norm(p, axis=-1)),
    "kl_divergence": lambda y, p: (np.clip(y, EPS, 1) * np.log(np.clip(y, EPS, 1) / np.clip(p, EPS, 1))).sum(-1),
}


@pytest.mark.parametrize("name", sorted(REGRESSION))
def test_regression_losses(name):
    y, p = Y, P
    if name in ("poisson", "mean_squared_logarithmic_error"):
        y, p = np.abs(Y) * 3, np.abs(P) * 3
    if name == "kl_divergence":
        y, p = _probs((6, 4)), _probs((6, 4))
    out = losses.get(name)(_t(y), _t(p)).numpy()
    np.testing.assert_allclose(out, REGRESSION[name](y, p), rtol=1e-10)


def test_aliases_are_the_functions():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("MAE") is losses.mean_absolute_error
    assert losses.get("kld") is losses.kl_divergence
    assert losses.get("logcosh") is losses.log_cosh


def test_huber_delta_and_log_cosh_large_errors():
    d = 0.5
    expected = np.where(np.abs(P - Y) <= d, 0.5 * (P - Y) ** 2, d * np.abs(P - Y) - 0.5 * d * d).mean(-1)
    np.testing.assert_allclose(losses.huber(_t(Y), _t(P), delta=d).numpy(), expected, rtol=1e-12)
    out = losses.log_cosh(_t([[0.0, 0.0]]), _t([[1000.0, -1000.0]])).numpy()
    np.testing.assert_allclose(out, [1000.0 - np.log(2.0)], rtol=1e-12)


def test_hinge_family():
    y01 = RNG.integers(0, 2, (5, 3)).astype(float)
    ypm = 2 * y01 - 1
    p = RNG.normal(size=(5, 3))
    expected = np.maximum(1 - ypm * p, 0).mean(-1)
    np.testing.assert_allclose(losses.hinge(_t(y01), _t(p)).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(losses.hinge(_t(ypm), _t(p)).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(losses.squared_hinge(_t(y01), _t(p)).numpy(),
                               (np.maximum(1 - ypm * p, 0) ** 2).mean(-1), rtol=1e-12)
    y = _onehot(RNG.integers(0, 3, 5), 3)
    expected = np.maximum(((1 - y) * p).max(-1) - (y * p).sum(-1) + 1, 0)
    np.testing.assert_allclose(losses.categorical_hinge(_t(y), _t(p)).numpy(), expected, rtol=1e-12)


# ------------------------------------------------------- Loss classes, reductions

PER_SAMPLE = ((Y - P) ** 2).mean(-1)
W = RNG.uniform(0.0, 2.0, size=6)


@pytest.mark.parametrize("reduction, expected", [
    ("sum_over_batch_size", (PER_SAMPLE * W).sum() / 6),
    ("mean", (PER_SAMPLE * W).sum() / 6),
    ("sum", (PER_SAMPLE * W).sum()),
    ("mean_with_sample_weight", (PER_SAMPLE * W).sum() / W.sum()),
])
def test_reductions_with_sample_weight(reduction, expected):
    loss = losses.MeanSquaredError(reduction=reduction, dtype="float64")
    assert loss(_t(Y), _t(P), sample_weight=W).item() == pytest.approx(expected, rel=1e-6)
    assert loss(_t(Y), _t(P), sample_weight=W[:, None]).item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("reduction", ["none", None])
def test_no_reduction_returns_weighted_per_sample(reduction):
    loss = losses.MeanSquaredError(reduction=reduction, dtype="float64")
    out = loss(_t(Y), _t(P), sample_weight=W)
    assert out.shape == (6,)
    np.testing.assert_allclose(out.numpy(), PER_SAMPLE * W, rtol=1e-12)


def test_default_reduction_unweighted_and_dtype():
    loss = losses.MeanSquaredError()
    out = loss(Y, P)
    assert out.ndim == 0 and out.dtype == torch.float32
    assert out.item() == pytest.approx(PER_SAMPLE.mean(), rel=1e-6)
    assert loss.name == "mean_squared_error" and loss.reduction == "sum_over_batch_size"


def test_per_timestep_sample_weight():
    y, p = RNG.normal(size=(3, 4, 2)), RNG.normal(size=(3, 4, 2))
    w = RNG.uniform(size=(3, 4))
    loss = losses.MeanAbsoluteError(dtype="float64")
    expected = (np.abs(y - p).mean(-1) * w).sum() / 12
    assert loss(_t(y), _t(p), sample_weight=w).item() == pytest.approx(expected, rel=1e-6)


def test_invalid_reduction():
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="average")


def test_wrapper_expands_rank_1_targets():
    y = RNG.integers(0, 2, 5).astype(float)
    p = RNG.uniform(size=(5, 1))
    out = losses.BinaryCrossentropy(dtype="float64")(y, _t(p)).item()
    assert out == pytest.approx(np_bce(y, p[:, 0]).mean(), rel=1e-6)


@pytest.mark.parametrize("cls, fn, kwargs", [
    (losses.CategoricalCrossentropy, losses.categorical_crossentropy, {"from_logits": True, "label_smoothing": 0.1}),
    (losses.SparseCategoricalCrossentropy, losses.sparse_categorical_crossentropy, {"from_logits": True}),
    (losses.BinaryCrossentropy, losses.binary_crossentropy, {"from_logits": True}),
    (losses.Huber, losses.huber, {"delta": 0.3}),
    (losses.KLDivergence, losses.kl_divergence, {}),
    (losses.CosineSimilarity, losses.cosine_similarity, {}),
])
def test_classes_reduce_their_function(cls, fn, kwargs):
    y = _onehot(RNG.integers(0, 4, 6), 4)
    if cls is losses.SparseCategoricalCrossentropy:
        y = RNG.integers(0, 4, 6)
    p = RNG.normal(size=(6, 4)) if kwargs.get("from_logits") else _probs((6, 4))
    expected = fn(_t(y), _t(p), **kwargs).numpy().mean()
    assert cls(**kwargs, dtype="float64")(y, _t(p)).item() == pytest.approx(expected, rel=1e-6)


def test_keras_mask_on_predictions_is_respected():
    p = _t(P)
    p._keras_mask = torch.tensor([True, True, False, True, False, True])
    out = losses.MeanSquaredError(dtype="float64")(_t(Y), p).item()
    valid = p._keras_mask.numpy()
    assert out == pytest.approx(PER_SAMPLE[valid].sum() / (valid.sum() + EPS), rel=1e-6)


def test_custom_function_wrapper_and_subclass():
    wrapped = losses.LossFunctionWrapper(lambda y, p, scale: scale * (y - p).abs().sum(-1), scale=2.0,
                                         reduction="sum", dtype="float64")
    assert wrapped(_t(Y), _t(P)).item() == pytest.approx(2.0 * np.abs(Y - P).sum(), rel=1e-6)

    class Cubed(losses.Loss):
        def call(self, y_true, y_pred):
            return ((y_true - y_pred) ** 3).mean(-1)

    loss = Cubed(dtype="float64")
    assert loss.name == "cubed"
    assert loss(_t(Y), _t(P)).item() == pytest.approx(((Y - P) ** 3).mean(-1).mean(), rel=1e-6)


def test_loss_stays_on_device_and_keeps_grad():
    p = _t(P).requires_grad_()
    out = losses.MeanSquaredError()(_t(Y).float(), p)
    assert out.device == p.device and out.requires_grad
    out.backward()
    np.testing.assert_allclose(p.grad.numpy(), 2 * (P - Y) / P.size, rtol=1e-5)


# ---------------------------------------------------------------- lookup/config


def test_get_resolution():
    assert losses.get(None) is None
    assert losses.get("categorical_crossentropy") is losses.categorical_crossentropy
    assert isinstance(losses.get("CategoricalCrossentropy"), losses.CategoricalCrossentropy)
    assert isinstance(losses.get(losses.Huber), losses.Huber)
    inst = losses.Poisson()
    assert losses.get(inst) is inst
    assert losses.get(losses.hinge) is losses.hinge


def test_get_unknown_lists_valid_names():
    with pytest.raises(ValueError, match="categorical_crossentropy") as err:
        losses.get("categorical_crossentropyy")
    assert "categorical_crossentropyy" in str(err.value)
    with pytest.raises(ValueError):
        losses.get(3)


@pytest.mark.parametrize("loss", [
    losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2, reduction="sum", name="cce"),
    losses.SparseCategoricalCrossentropy(ignore_class=3),
    losses.Huber(delta=2.0, dtype="float64"),
    losses.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=3.0),
    losses.MeanSquaredError(reduction="none"),
    losses.LossFunctionWrapper(losses.mean_absolute_error, reduction="sum"),
])
def test_config_roundtrip(loss):
    clone = type(loss).from_config(loss.get_config())
    assert clone.get_config() == loss.get_config()
    restored = losses.deserialize(losses.serialize(loss))
    assert type(restored) is type(loss) and restored.get_config() == loss.get_config()


def test_serialize_functions():
    assert losses.serialize(losses.mean_squared_error) == {
        "module": "builtins", "class_name": "function", "config": "mean_squared_error", "registered_name": "function"}
    assert losses.deserialize(losses.serialize(losses.huber)) is losses.huber
    assert losses.deserialize("mean_squared_error") is losses.mean_squared_error


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("make, args", [
    (lambda: losses.SparseCategoricalCrossentropy(from_logits=True), ("labels", "logits")),
    (lambda: losses.SparseCategoricalCrossentropy(ignore_class=0), ("labels_col", "probs")),
    (lambda: losses.CategoricalCrossentropy(label_smoothing=0.1), ("onehot", "probs", "w")),
    (lambda: losses.BinaryCrossentropy(from_logits=True), ("yb", "zb")),
    (lambda: losses.MeanSquaredError(), ("onehot", "probs", 3)),
    (lambda: losses.Hinge(), ("yb", "zb")),
])
def test_cuda_losses_are_sync_free_and_match_cpu(make, args):
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 5, (32,), generator=g)
    logits = torch.randn(32, 5, generator=g)
    data = {"labels": labels, "labels_col": labels[:, None], "logits": logits, "probs": logits.softmax(-1),
            "onehot": torch.nn.functional.one_hot(labels, 5).float(), "w": torch.rand(32, generator=g),
            "yb": (torch.rand(32, 1, generator=g) > 0.5).float(), "zb": torch.randn(32, 1, generator=g)}
    cpu_args = [data[a] if isinstance(a, str) else a for a in args]
    gpu_args = [a.cuda() if isinstance(a, torch.Tensor) else a for a in cpu_args]
    loss = make()
    with no_host_sync():
        out = loss(*gpu_args[:2], sample_weight=gpu_args[2] if len(gpu_args) > 2 else None)
    expected = loss(*cpu_args[:2], sample_weight=cpu_args[2] if len(cpu_args) > 2 else None)
    assert out.device.type == "cuda"
    assert out.item() == pytest.approx(expected.item(), rel=1e-5)


def test_sparse_categorical_crossentropy_config_matches_keras(keras_ref):
    from cornu import losses

    for kwargs in ({}, {"from_logits": True, "ignore_class": 0}):
        assert losses.SparseCategoricalCrossentropy(**kwargs).get_config() == \
            keras_ref.losses.SparseCategoricalCrossentropy(**kwargs).get_config()


def test_float64_mean_reductions_come_back_float32_as_keras():
    """Keras's torch backend divides float64 means into float32; sums and unreduced losses stay float64."""
    y, p = np.ones((4, 3)), np.zeros((4, 3))
    for reduction, dtype in [("sum_over_batch_size", torch.float32), ("mean", torch.float32),
                             ("mean_with_sample_weight", torch.float32), ("sum", torch.float64),
                             (None, torch.float64)]:
        out = losses.MeanSquaredError(reduction=reduction, dtype="float64")(y, p, sample_weight=np.full(4, 2.0))
        assert out.dtype == dtype
        np.testing.assert_allclose(out.numpy(), {torch.float32: 2.0 if reduction != "mean_with_sample_weight" else 1.0,
                                                 torch.float64: 8.0 if reduction == "sum" else 2.0}[dtype])
