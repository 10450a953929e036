"""pearson_correlation / concordance_correlation and their streaming metrics vs float64 NumPy."""
import numpy as np
import pytest
import torch

from cornu import metrics
from tests.helpers import assert_close, no_host_sync, seeded

EPS = 1e-7


def np_pearson(t, p, axis=-1):
    t, p = np.moveaxis(t, axis, -1), np.moveaxis(p, axis, -1)
    flat_t, flat_p = t.reshape(-1, t.shape[-1]), p.reshape(-1, p.shape[-1])
    return np.array([np.corrcoef(a, b)[0, 1] for a, b in zip(flat_t, flat_p)]).reshape(t.shape[:-1])


def np_concordance(t, p, axis=-1):
    mt, mp = t.mean(axis), p.mean(axis)
    cov = ((t - np.expand_dims(mt, axis)) * (p - np.expand_dims(mp, axis))).mean(axis)
    return 2 * cov / (t.var(axis) + p.var(axis) + (mt - mp) ** 2 + EPS)


def pairs(shape=(12, 6), seed=0):
    rng = seeded(seed)
    t = rng.normal(size=shape)
    return t, 0.7 * t + rng.normal(scale=0.8, size=shape) + 0.3


FUNCTIONS = [(metrics.pearson_correlation, np_pearson), (metrics.concordance_correlation, np_concordance)]


@pytest.mark.parametrize("fn, ref", FUNCTIONS)
@pytest.mark.parametrize("shape, axis", [((12, 6), -1), ((12, 6), 0), ((3, 4, 5), 1), ((7,), -1)])
def test_functions_match_float64_reference(fn, ref, shape, axis):
    t, p = pairs(shape)
    out = fn(t, p, axis=axis)
    assert out.dtype == torch.float64 and tuple(out.shape) == ref(t, p, axis).shape
    assert_close(out, ref(t, p, axis), rtol=1e-10)


def test_function_edge_cases():
    t, p = pairs((4, 5))
    assert metrics.pearson_correlation(t.astype("float32"), p.astype("float32")).dtype == torch.float32
    assert metrics.pearson_correlation(np.arange(6).reshape(2, 3), np.arange(6).reshape(2, 3)).dtype == torch.float32
    assert torch.isnan(metrics.pearson_correlation(np.ones((2, 3)), p[:2, :3])).all()
    assert_close(metrics.concordance_correlation(np.ones((2, 3)), np.ones((2, 3))), [0.0, 0.0])
    assert_close(metrics.concordance_correlation(t, t), 2 * t.var(-1) / (2 * t.var(-1) + EPS), rtol=1e-12)
    assert_close(metrics.pearson_correlation(t[:, :, None], p), np_pearson(t, p))  # trailing size-1 axis squeezed


@pytest.mark.parametrize("cls, ref", [(metrics.PearsonCorrelation, np_pearson),
                                      (metrics.ConcordanceCorrelation, np_concordance)])
def test_metrics_are_weighted_means_of_per_sample_values(cls, ref):
    t, p = pairs((20, 6), seed=1)
    w = seeded(2).uniform(0.1, 2.0, 20)
    m = cls(dtype="float64")
    for sl in (slice(0, 7), slice(7, 8), slice(8, 20)):
        m.update_state(t[sl], p[sl], sample_weight=w[sl])
    values = ref(t, p)
    assert_close(m.result(), (values * w).sum() / w.sum(), rtol=1e-10)
    m.reset_state()
    assert float(m.result()) == 0.0
    m.update_state(t[:5], p[:5])
    m.update_state(t[5:], p[5:])
    assert_close(m.result(), values.mean(), rtol=1e-10)


@pytest.mark.parametrize("cls, ref", [(metrics.PearsonCorrelation, np_pearson),
                                      (metrics.ConcordanceCorrelation, np_concordance)])
def test_rank_one_batches_count_once_each(cls, ref):
    t, p = pairs((3, 8), seed=3)
    m = cls(dtype="float64")
    for a, b in zip(t, p):
        m.update_state(a, b)
    assert_close(m.result(), ref(t, p).mean(), rtol=1e-10)
    axis0 = cls(axis=0, dtype="float64")
    axis0.update_state(t.T, p.T)
    assert_close(axis0.result(), ref(t, p).mean(), rtol=1e-10)


def test_configs_names_and_get():
    assert metrics.PearsonCorrelation().get_config() == {"name": "pearson_correlation", "dtype": "float32", "axis": -1}
    m = metrics.ConcordanceCorrelation(name="ccc", dtype="float64", axis=0)
    assert m.get_config() == {"name": "ccc", "dtype": "float64", "axis": 0}
    assert metrics.ConcordanceCorrelation.from_config(m.get_config()).get_config() == m.get_config()
    assert isinstance(metrics.get("pearson_correlation"), metrics.PearsonCorrelation)
    assert isinstance(metrics.get("ConcordanceCorrelation"), metrics.ConcordanceCorrelation)
    assert metrics.deserialize({"class_name": "function", "config": "concordance_correlation"}) \
        is metrics.concordance_correlation
    assert metrics.serialize(metrics.pearson_correlation) == {"module": "builtins", "class_name": "function",
                                                               "config": "pearson_correlation",
                                                               "registered_name": "function"}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_updates_and_results_do_not_sync():
    t, p = (torch.as_tensor(a, dtype=torch.float32) for a in pairs((16, 6)))
    w = torch.rand(16)
    for cls in (metrics.PearsonCorrelation, metrics.ConcordanceCorrelation):
        gpu, cpu = cls(), cls()
        gpu.update_state(t.cuda(), p.cuda(), sample_weight=w.cuda())
        with no_host_sync():
            gpu.update_state(t.cuda(), p.cuda(), sample_weight=w.cuda())
            result = gpu.result()
        for _ in range(2):
            cpu.update_state(t, p, sample_weight=w)
        assert_close(result.cpu(), cpu.result())


def test_function_namespace_holds_functions():
    from cornu import losses

    for name in ("pearson_correlation", "concordance_correlation", "hinge"):
        assert callable(getattr(metrics, name)) and name in metrics.__all__
    assert metrics.hinge is losses.hinge  # not the cornu.metrics.hinge submodule
