"""On CUDA: metric state follows the inputs' device, updates/results never sync the host, values match CPU."""
import numpy as np
import pytest
import torch

from cornu import metrics
from tests.helpers import no_host_sync

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _inputs(device):
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 5, (64,), generator=g)
    probs = torch.rand(64, 5, generator=g).softmax(-1)
    yb = (torch.rand(64, 1, generator=g) > 0.5).float()
    pb = torch.rand(64, 1, generator=g)
    w = torch.rand(64, generator=g)
    onehot = torch.nn.functional.one_hot(labels, 5).float()
    return {k: v.to(device) for k, v in dict(y=labels, p=probs, oh=onehot, yb=yb, pb=pb, w=w).items()}


CASES = [
    (lambda: metrics.Mean(), lambda m, t: m.update_state(t["p"].sum(), sample_weight=64)),
    (lambda: metrics.SparseCategoricalAccuracy(), lambda m, t: m.update_state(t["y"], t["p"], sample_weight=t["w"])),
    (lambda: metrics.CategoricalAccuracy(), lambda m, t: m.update_state(t["oh"], t["p"])),
    (lambda: metrics.BinaryAccuracy(), lambda m, t: m.update_state(t["yb"], t["pb"])),
    (lambda: metrics.SparseTopKCategoricalAccuracy(k=2), lambda m, t: m.update_state(t["y"], t["p"])),
    (lambda: metrics.AUC(), lambda m, t: m.update_state(t["yb"], t["pb"], sample_weight=t["w"])),
    (lambda: metrics.AUC(multi_label=True, curve="PR"), lambda m, t: m.update_state(t["oh"], t["p"])),
    (lambda: metrics.Precision(thresholds=[0.1, 0.3]), lambda m, t: m.update_state(t["oh"], t["p"])),
    (lambda: metrics.Recall(top_k=2), lambda m, t: m.update_state(t["oh"], t["p"])),
    (lambda: metrics.F1Score(average="macro"), lambda m, t: m.update_state(t["oh"], t["p"])),
    (lambda: metrics.RootMeanSquaredError(), lambda m, t: m.update_state(t["oh"], t["p"])),
    (lambda: metrics.R2Score(), lambda m, t: m.update_state(t["oh"], t["p"])),
    (lambda: metrics.SparseCategoricalCrossentropy(), lambda m, t: m.update_state(t["y"], t["p"])),
]


@pytest.mark.parametrize("make, update", CASES)
def test_metric_on_cuda_is_sync_free_and_matches_cpu(make, update):
    cuda, cpu = _inputs("cuda"), _inputs("cpu")
    m_gpu, m_cpu = make(), make()
    update(m_gpu, cuda)  # first update may build state / cache constants
    update(m_cpu, cpu)
    with no_host_sync():
        update(m_gpu, cuda)
        result = m_gpu.result()
    update(m_cpu, cpu)
    assert result.device.type == "cuda"
    assert all(v.value.device.type == "cuda" for v in m_gpu.variables)
    np.testing.assert_allclose(result.cpu().numpy(), m_cpu.result().numpy(), rtol=1e-5, atol=1e-6)


def test_state_moves_to_cpu_inputs():
    m = metrics.Mean()
    m.update_state(torch.tensor([1.0, 3.0]))
    assert m.result().device.type == "cpu" and m.result().item() == 2.0
