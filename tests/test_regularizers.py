"""Regularizers and constraints vs NumPy formulas, config and name resolution."""
import numpy as np
import pytest
import torch

from cornu import constraints, regularizers

RNG = np.random.default_rng(0)
W = RNG.normal(size=(5, 4))


def _t(x):
    return torch.tensor(x, dtype=torch.float64)


def test_l1_l2_l1l2():
    assert regularizers.L1(0.3)(_t(W)).item() == pytest.approx(0.3 * np.abs(W).sum(), rel=1e-12)
    assert regularizers.L2(0.2)(_t(W)).item() == pytest.approx(0.2 * (W**2).sum(), rel=1e-12)
    both = regularizers.L1L2(l1=0.1, l2=0.05)(_t(W)).item()
    assert both == pytest.approx(0.1 * np.abs(W).sum() + 0.05 * (W**2).sum(), rel=1e-12)
    assert regularizers.L1L2()(_t(W)).item() == 0.0


def test_defaults():
    assert regularizers.L1().l1 == 0.01 and regularizers.L2().l2 == 0.01
    assert regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_regularizer(mode):
    v = W if mode == "rows" else W.T
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    cos = v @ v.T
    n = cos.shape[0]
    expected = 0.05 * np.abs(cos[~np.eye(n, dtype=bool)]).sum() / (n * (n - 1))
    out = regularizers.OrthogonalRegularizer(factor=0.05, mode=mode)(_t(W)).item()
    assert out == pytest.approx(expected, rel=1e-10)


def test_orthogonal_regularizer_zero_for_orthogonal_rows():
    assert regularizers.OrthogonalRegularizer(factor=1.0)(_t(np.eye(4) * 3)).item() == 0.0


def test_regularizer_validation():
    with pytest.raises(ValueError, match="l1"):
        regularizers.L1(-1.0)
    with pytest.raises(ValueError, match="l2"):
        regularizers.L2("big")
    with pytest.raises(ValueError, match="mode"):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="rank 2"):
        regularizers.OrthogonalRegularizer()(_t(np.ones((2, 2, 2))))


def test_regularizer_get():
    assert regularizers.get(None) is None
    assert isinstance(regularizers.get("l2"), regularizers.L2)
    assert isinstance(regularizers.get("L1L2"), regularizers.L1L2)
    assert isinstance(regularizers.get("l1_l2"), regularizers.L1L2)
    inst = regularizers.L1(0.5)
    assert regularizers.get(inst) is inst
    with pytest.raises(ValueError, match="l2") as err:
        regularizers.get("l3")
    assert "'l3'" in str(err.value)


@pytest.mark.parametrize("reg", [regularizers.L1(0.2), regularizers.L2(0.4), regularizers.L1L2(0.1, 0.2),
                                 regularizers.OrthogonalRegularizer(0.3, "columns")])
def test_regularizer_serialization(reg):
    restored = regularizers.deserialize(regularizers.serialize(reg))
    assert type(restored) is type(reg) and restored.get_config() == reg.get_config()
    assert restored(_t(W)).item() == pytest.approx(reg(_t(W)).item())


def test_max_norm():
    w = W * 3
    out = constraints.MaxNorm(max_value=2.0, axis=0)(_t(w)).numpy()
    norms = np.sqrt((w**2).sum(axis=0, keepdims=True))
    expected = w * np.clip(norms, 0, 2.0) / (1e-7 + norms)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert np.all(np.linalg.norm(out, axis=0) <= 2.0 + 1e-9)


def test_max_norm_conv_axes():
    w = RNG.normal(size=(3, 3, 2, 4)) * 5
    out = constraints.MaxNorm(max_value=1.0, axis=[0, 1, 2])(_t(w)).numpy()
    np.testing.assert_allclose(np.sqrt((out**2).sum(axis=(0, 1, 2))), np.ones(4), rtol=1e-6)


def test_min_max_norm():
    out = constraints.MinMaxNorm(min_value=1.5, max_value=2.0, rate=0.5, axis=1)(_t(W)).numpy()
    norms = np.sqrt((W**2).sum(axis=1, keepdims=True))
    desired = 0.5 * np.clip(norms, 1.5, 2.0) + 0.5 * norms
    np.testing.assert_allclose(out, W * desired / (1e-7 + norms), rtol=1e-12)


def test_non_neg_and_unit_norm():
    np.testing.assert_array_equal(constraints.NonNeg()(_t(W)).numpy(), np.where(W >= 0, W, 0))
    out = constraints.UnitNorm(axis=0)(_t(W)).numpy()
    np.testing.assert_allclose(out, W / (1e-7 + np.sqrt((W**2).sum(axis=0, keepdims=True))), rtol=1e-12)


def test_constraint_get_and_config():
    assert constraints.get(None) is None
    assert isinstance(constraints.get("non_neg"), constraints.NonNeg)
    assert isinstance(constraints.get("MaxNorm"), constraints.MaxNorm)
    c = constraints.MinMaxNorm(0.1, 0.9, 0.7, axis=[0, 1])
    restored = constraints.deserialize(constraints.serialize(c))
    assert type(restored) is constraints.MinMaxNorm and restored.get_config() == c.get_config()
    with pytest.raises(ValueError, match="max_norm") as err:
        constraints.get("maxnorm_typo")
    assert "maxnorm_typo" in str(err.value)
