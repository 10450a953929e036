"""TimeDistributed around a BatchNormalization: each time step normalized by its own batch statistics."""
import numpy as np
import torch

from cornu.layers import BatchNormalization, Dense, TimeDistributed


def test_batch_normalization_runs_per_time_step_while_training():
    x = np.random.default_rng(0).standard_normal((4, 3, 2))
    layer = TimeDistributed(BatchNormalization(momentum=0.5, epsilon=1e-3))
    out = layer(torch.as_tensor(x, dtype=torch.float32), training=True).detach().numpy()
    expected = (x - x.mean(0, keepdims=True)) / np.sqrt(x.var(0, keepdims=True) + 1e-3)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    moving_mean = np.zeros(2)
    for t in range(3):
        moving_mean = moving_mean * 0.5 + x[:, t].mean(0) * 0.5
    np.testing.assert_allclose(layer.layer.moving_mean.numpy(), moving_mean, rtol=1e-5, atol=1e-6)


def test_per_sample_layers_stay_folded_into_one_call():
    calls = []
    dense = Dense(2)
    dense.register_forward_hook(lambda *a: calls.append(1))
    TimeDistributed(dense)(torch.ones(2, 5, 3), training=True)
    assert len(calls) == 1
