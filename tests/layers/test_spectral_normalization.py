"""SpectralNormalization: power iteration against a float64 NumPy reference, weights, config, errors."""
import numpy as np
import pytest
import torch

from cornu.layers import Conv1D, Dense, Dropout, Embedding, SpectralNormalization
from tests.helpers import assert_close, random_array


def _reference(kernel: np.ndarray, u: np.ndarray, iterations: int):
    w = kernel.reshape(-1, kernel.shape[-1]).astype(np.float64)
    u = u.astype(np.float64)
    for _ in range(iterations):
        v = u @ w.T
        v /= np.linalg.norm(v)
        u = v @ w
        u /= np.linalg.norm(u)
    sigma = (v @ w @ u.T).item()
    return u, kernel / sigma


@pytest.mark.parametrize("make,x", [(lambda: Dense(3), random_array((2, 4))),
                                    (lambda: Conv1D(3, 2), random_array((2, 5, 4)))])
@pytest.mark.parametrize("iterations", [1, 3])
def test_training_call_normalizes_the_kernel(make, x, iterations):
    layer = SpectralNormalization(make(), power_iterations=iterations)
    y0 = layer(torch.as_tensor(x))
    kernel, u = layer.kernel.numpy(), layer.vector_u.numpy()
    assert_close(y0, layer.layer(torch.as_tensor(x)))  # inference leaves the kernel alone
    assert_close(layer.kernel.numpy(), kernel)
    y = layer(torch.as_tensor(x), training=True)
    ref_u, ref_kernel = _reference(kernel, u, iterations)
    assert_close(layer.vector_u.numpy(), ref_u, rtol=1e-5)
    assert_close(layer.layer.kernel.numpy(), ref_kernel, rtol=1e-5)
    assert_close(y, layer.layer(torch.as_tensor(x)))
    # after many training calls the kernel's largest singular value is 1
    for _ in range(30):
        layer(torch.as_tensor(x), training=True)
    top = np.linalg.svd(layer.kernel.numpy().reshape(-1, 3), compute_uv=False)[0]
    assert abs(top - 1.0) < 1e-3


def test_weights_order_paths_and_config():
    layer = SpectralNormalization(Dense(3, name="d"), power_iterations=2, name="sn")
    layer.build((None, 4))
    assert [w.path for w in layer.weights] == ["sn/d/kernel", "sn/vector_u", "sn/d/bias"]
    assert [w.trainable for w in layer.weights] == [True, False, True]
    assert layer.compute_output_shape((None, 4)) == (None, 3)
    config = layer.get_config()
    assert config["power_iterations"] == 2 and config["layer"]["class_name"] == "Dense"
    clone = SpectralNormalization.from_config(config)
    assert clone.power_iterations == 2 and isinstance(clone.layer, Dense)
    emb = SpectralNormalization(Embedding(5, 3))
    emb.build((None, 2))
    assert emb.vector_u.shape == (1, 3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="power_iterations"):
        SpectralNormalization(Dense(3), power_iterations=0)
    with pytest.raises(ValueError):
        SpectralNormalization("dense")
    with pytest.raises(ValueError, match="kernel"):
        SpectralNormalization(Dropout(0.1))(torch.ones(2, 3))
