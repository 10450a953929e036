"""keras.ops additions (blocks, fold/unfold, adaptive pooling, normalizations, sparse activations, CTC,
cdist, rearrange, random beta/binomial/gamma) against NumPy float64 formulas and brute force."""
import itertools

import numpy as np
import pytest
import torch

from cornu import ops, random
from cornu.symbolic import KerasTensor
from tests.helpers import assert_close, f64, random_array

X = random_array((2, 4, 6, 8), seed=3)


def test_depth_to_space_channels_last_is_depth_row_column():
    out = f64(ops.depth_to_space(X, 2))
    assert out.shape == (2, 8, 12, 2)
    for h, w, i, j, c in itertools.product(range(4), range(6), range(2), range(2), range(2)):
        assert out[1, 2 * h + i, 2 * w + j, c] == X[1, h, w, (i * 2 + j) * 2 + c]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_space_to_depth_inverts_depth_to_space(data_format):
    x = random_array((2, 8, 4, 6), seed=4)
    back = ops.depth_to_space(ops.space_to_depth(x, 2, data_format=data_format), 2, data_format=data_format)
    assert_close(back, x, rtol=0, atol=0)


def test_depth_to_space_bad_channels():
    with pytest.raises(ValueError, match="block_size"):
        ops.depth_to_space(X, 3)


def test_unfold_matches_patch_loop_and_fold_sums_back():
    x = random_array((1, 2, 4, 5), seed=5)
    cols = f64(ops.unfold(x, (2, 3)))
    k = 0
    for i in range(3):
        for j in range(3):
            patch = x[0, :, i:i + 2, j:j + 3].reshape(-1)
            np.testing.assert_allclose(cols[0, :, k], patch, rtol=1e-6)
            k += 1
    counts = f64(ops.fold(ops.unfold(np.ones_like(x), (2, 3)), (4, 5), (2, 3)))
    assert_close(ops.fold(ops.unfold(x, (2, 3)), (4, 5), (2, 3)), x * counts)


def test_adaptive_pools_on_even_splits():
    x = random_array((2, 6, 4, 3), seed=6)
    ref = x.astype("float64").reshape(2, 3, 2, 2, 2, 3)
    assert_close(ops.adaptive_average_pool(x, (3, 2)), ref.mean(axis=(2, 4)))
    assert_close(ops.adaptive_max_pool(x, (3, 2)), ref.max(axis=(2, 4)))
    assert ops.adaptive_average_pool(KerasTensor((None, 9, 7, 3)), (2, 3)).shape == (None, 2, 3, 3)


def test_layer_and_rms_normalization():
    x = random_array((3, 5), seed=7).astype("float64")
    g, b = random_array((5,), seed=8), random_array((5,), seed=9)
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    assert_close(ops.layer_normalization(x, g, b, epsilon=1e-3), (x - mean) / np.sqrt(var + 1e-3) * g + b)
    ms = (x * x).mean(-1, keepdims=True)
    assert_close(ops.rms_normalization(x, g, epsilon=1e-3), x / np.sqrt(ms + 1e-3) * g)
    assert_close(ops.layer_normalization(x, axis=0), (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-7))


def test_sparse_activations_and_threshold():
    x = np.linspace(-2, 2, 17)
    assert_close(ops.sparse_plus(x), np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)))
    assert_close(ops.sparse_sigmoid(x), np.clip((x + 1) / 2, 0, 1))
    assert_close(ops.threshold(x, 0.5, -7.0), np.where(x > 0.5, x, -7.0))
    assert ops.dtype(ops.threshold(np.array([1, 2, 3], "int32"), 2.5, 0.5)) == "int32"


def test_sparsemax_is_the_simplex_projection():
    assert_close(ops.sparsemax(np.array([-0.5, 0.0, 1.0, 0.5], "float32")), [0.0, 0.0, 0.75, 0.25])  # Keras's doc
    z = random_array((4, 6), seed=10, low=-2, high=2).astype("float64")
    p = f64(ops.sparsemax(z))
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-6)
    for row, zr in zip(p, z):  # KKT: on the support z - p is one constant tau, off it z <= tau
        tau = (zr - row)[row > 0]
        np.testing.assert_allclose(tau, tau[0], atol=1e-6)
        assert np.all(zr[row == 0] <= tau[0] + 1e-6)


def test_polar_psnr_cdist():
    r, a = random_array((5,), seed=11, low=0.1), random_array((5,), seed=12, low=-3, high=3)
    z = ops.convert_to_numpy(ops.polar(r, a))
    np.testing.assert_allclose(z, r * np.exp(1j * a.astype("float64")), rtol=1e-5)
    x1, x2 = random_array((3, 4), seed=13), random_array((3, 4), seed=14)
    mse = ((f64(x1) - f64(x2)) ** 2).mean()
    assert_close(ops.psnr(x1, x2, 2.0), 20 * np.log10(2.0) - 10 * np.log10(mse))
    with pytest.raises(ValueError, match="must match"):
        ops.psnr(x1, x2[0], 1.0)
    y = random_array((5, 4), seed=15)
    ref = np.sqrt(((f64(x1)[:, None] - f64(y)[None]) ** 2).sum(-1))
    assert_close(ops.cdist(x1, y), ref, rtol=1e-5, atol=1e-5)


def test_rearrange_patterns():
    x = np.arange(2 * 4 * 6 * 8, dtype="float32").reshape(2, 4, 6, 8)
    assert_close(ops.rearrange(x, "b h w c -> b (h w) c"), x.reshape(2, 24, 8))
    assert_close(ops.rearrange(x, "b h w (c d) -> (b d) w h c", d=2),
                 x.reshape(2, 4, 6, 4, 2).transpose(0, 4, 2, 1, 3).reshape(4, 6, 4, 4))
    assert_close(ops.rearrange(x, "b ... c -> c ... b"), x.transpose(3, 1, 2, 0))
    assert ops.rearrange(x, "b h w c -> b h 1 w c").shape == (2, 4, 1, 6, 8)
    with pytest.raises(ValueError, match="only one side"):
        ops.rearrange(x, "b h w c -> b h w")
    with pytest.raises(ValueError, match="cannot be split"):
        ops.rearrange(x, "b h w (c d) -> b h w c d", c=3)
    assert ops.rearrange(KerasTensor((None, 4, 6)), "b h w -> b (h w)").shape == (None, 24)


def _log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def _collapse(path, blank):
    out = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
    return tuple(k for k in out if k != blank)


def _label_probs(lp, blank):
    """Brute force: the probability of every label sequence, summed over all its alignments."""
    probs = {}
    for path in itertools.product(range(lp.shape[1]), repeat=lp.shape[0]):
        key = _collapse(path, blank)
        probs[key] = probs.get(key, 0.0) + np.exp(sum(lp[t, k] for t, k in enumerate(path)))
    return probs


def test_ctc_loss_and_beam_search_against_brute_force():
    x = random_array((1, 4, 3), seed=16, low=-2, high=2)
    probs = _label_probs(_log_softmax(x[0].astype("float64")), blank=0)
    loss = ops.ctc_loss(np.array([[1, 2]]), x, np.array([2]), np.array([4]))
    assert_close(loss, [-np.log(probs[(1, 2)])], rtol=1e-5)
    decoded, scores = ops.ctc_decode(x, np.array([4]), strategy="beam_search", beam_width=20, top_paths=3)
    best = sorted(probs.items(), key=lambda kv: -kv[1])[:3]
    for k, (labels, p) in enumerate(best):
        row = f64(decoded[k, 0])
        assert tuple(int(v) for v in row[row >= 0]) == labels
        assert_close(scores[0, k], np.log(p), rtol=1e-5)


def test_ctc_greedy_decode():
    x = random_array((2, 6, 4), seed=17)
    lengths = np.array([6, 3])
    decoded, scores = ops.ctc_decode(x, lengths)
    assert decoded.shape == (1, 2, 6) and ops.dtype(decoded) == "int32"
    for b in range(2):
        labels = _collapse(list(x[b, :lengths[b]].argmax(-1)), blank=0)
        row = f64(decoded[0, b])
        assert tuple(int(v) for v in row[row >= 0]) == labels
        assert_close(scores[b, 0], -x[b, :lengths[b]].max(-1).sum())
    with pytest.raises(ValueError, match="strategy"):
        ops.ctc_decode(x, lengths, strategy="best")


def test_random_gamma_beta_binomial():
    g = random.gamma((20000,), 3.0, seed=1)
    assert_close(f64(g).mean(), 3.0, rtol=0.05)
    assert_close(f64(g).var(), 3.0, rtol=0.1)
    b = random.beta((20000,), 2.0, 3.0, seed=2)
    assert_close(f64(b).mean(), 0.4, rtol=0.05)
    n = random.binomial((20000,), 10, 0.3, seed=3)
    assert_close(f64(n).mean(), 3.0, rtol=0.05)
    for draw in (lambda s: random.gamma((8,), 2.0, seed=s), lambda s: random.beta((8,), 1.0, 2.0, seed=s),
                 lambda s: random.binomial((8,), 5, 0.5, seed=s)):
        assert torch.equal(draw(7), draw(7))
        gen = random.SeedGenerator(5)
        assert not torch.equal(draw(gen), draw(gen))
    assert random.gamma(KerasTensor((None, 3)).shape[1:], 1.0).shape == (3,)
