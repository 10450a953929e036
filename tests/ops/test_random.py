"""keras.random: seeding semantics, distributions, dropout, shuffle."""
import numpy as np
import pytest
import torch

from cornu import ops, random
from cornu.symbolic import KerasTensor


def _np(x):
    return ops.convert_to_numpy(x)


SAMPLERS = [
    ("normal", lambda seed: random.normal((64,), seed=seed)),
    ("uniform", lambda seed: random.uniform((64,), seed=seed)),
    ("randint", lambda seed: random.randint((64,), 0, 1000, seed=seed)),
    ("truncated_normal", lambda seed: random.truncated_normal((64,), seed=seed)),
    ("shuffle", lambda seed: random.shuffle(np.arange(64), seed=seed)),
    ("dropout", lambda seed: random.dropout(np.ones(64, np.float32), 0.5, seed=seed)),
    ("categorical", lambda seed: random.categorical(np.zeros((2, 10)), 32, seed=seed)),
]


@pytest.mark.parametrize("name,draw", SAMPLERS, ids=[s[0] for s in SAMPLERS])
def test_int_seed_is_deterministic(name, draw):
    a, b, c = draw(42), draw(42), draw(43)
    np.testing.assert_array_equal(ops.convert_to_numpy(a), ops.convert_to_numpy(b))
    assert not np.array_equal(ops.convert_to_numpy(a), ops.convert_to_numpy(c))


@pytest.mark.parametrize("name,draw", SAMPLERS, ids=[s[0] for s in SAMPLERS])
def test_seed_generator_advances_reproducibly(name, draw):
    gen1, gen2 = random.SeedGenerator(7), random.SeedGenerator(7)
    first, second = draw(gen1), draw(gen1)
    assert not np.array_equal(ops.convert_to_numpy(first), ops.convert_to_numpy(second))
    np.testing.assert_array_equal(ops.convert_to_numpy(draw(gen2)), ops.convert_to_numpy(first))
    np.testing.assert_array_equal(ops.convert_to_numpy(draw(gen2)), ops.convert_to_numpy(second))


def test_seed_generator_state_and_config():
    gen = random.SeedGenerator(5)
    np.testing.assert_array_equal(_np(gen.next()), [5, 0])
    np.testing.assert_array_equal(_np(gen.state), [5, 1])
    clone = random.SeedGenerator.from_config(gen.get_config())
    np.testing.assert_array_equal(_np(clone.state), [5, 0])
    with pytest.raises(TypeError, match="seed"):
        random.SeedGenerator("abc")


def test_global_rng_when_seed_is_none():
    torch.manual_seed(123)
    a = random.normal((10,))
    gen_a = random.SeedGenerator()
    torch.manual_seed(123)
    b = random.normal((10,))
    gen_b = random.SeedGenerator()
    np.testing.assert_array_equal(_np(a), _np(b))
    np.testing.assert_array_equal(_np(gen_a.state), _np(gen_b.state))
    assert not np.array_equal(_np(random.normal((10,))), _np(b))


def test_distribution_moments():
    n = 100_000
    x = _np(random.normal((n,), mean=2.0, stddev=3.0, seed=1))
    assert abs(x.mean() - 2.0) < 0.05 and abs(x.std() - 3.0) < 0.05
    u = _np(random.uniform((n,), minval=-1.0, maxval=3.0, seed=2))
    assert u.min() >= -1.0 and u.max() < 3.0
    assert abs(u.mean() - 1.0) < 0.03 and abs(u.var() - 16 / 12) < 0.03
    t = _np(random.truncated_normal((n,), mean=1.0, stddev=2.0, seed=3))
    assert t.min() >= -3.0 and t.max() <= 5.0
    # std of a normal truncated at +-2 sigma is about 0.8796 sigma
    assert abs(t.mean() - 1.0) < 0.05 and abs(t.std() - 2.0 * 0.8796) < 0.05
    r = random.randint((n,), 3, 8, seed=4)
    assert r.dtype == torch.int32
    counts = np.bincount(_np(r), minlength=8)[3:]
    assert counts.sum() == n and np.all(np.abs(counts / n - 0.2) < 0.01)


def test_dtypes_and_validation():
    assert random.normal((2,)).dtype == torch.float32
    assert random.uniform((2,), dtype="float16").dtype == torch.float16
    assert random.normal((2,), dtype="float64", seed=1).dtype == torch.float64
    assert random.randint((2,), 0, 5, dtype="int64").dtype == torch.int64
    with pytest.raises(ValueError, match="floating point"):
        random.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="integer"):
        random.randint((2,), 0, 5, dtype="float32")
    with pytest.raises(TypeError, match="seed"):
        random.normal((2,), seed="x")


def test_dropout_scaling_and_rate():
    x = np.arange(1, 20001, dtype=np.float32).reshape(100, 200)
    out = _np(random.dropout(x, 0.3, seed=9))
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / 0.7, rtol=1e-6)
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_array_equal(_np(random.dropout(x, 0.0, seed=1)), x)
    with pytest.raises(ValueError, match="rate"):
        random.dropout(x, 1.0)


def test_dropout_noise_shape_broadcasts():
    x = np.ones((8, 50), np.float32)
    out = _np(random.dropout(x, 0.5, noise_shape=(None, 1), seed=3))
    for row in out:
        assert len(set(row.tolist())) == 1
    assert set(np.unique(out)).issubset({0.0, 2.0})


def test_shuffle_is_permutation():
    x = np.arange(30).reshape(10, 3)
    out = _np(random.shuffle(x, seed=5))
    assert sorted(out[:, 0].tolist()) == list(range(0, 30, 3))
    np.testing.assert_array_equal(out[:, 1] - out[:, 0], np.ones(10))
    cols = _np(random.shuffle(x, axis=1, seed=5))
    np.testing.assert_array_equal(np.sort(cols, axis=1), x)


def test_categorical_follows_logits():
    logits = np.log(np.array([[0.7, 0.2, 0.1], [0.05, 0.05, 0.9]]))
    draws = _np(random.categorical(logits, 20000, seed=11))
    assert draws.shape == (2, 20000) and draws.dtype == np.int32
    np.testing.assert_allclose(np.bincount(draws[0], minlength=3) / 20000, [0.7, 0.2, 0.1], atol=0.02)
    np.testing.assert_allclose(np.bincount(draws[1], minlength=3) / 20000, [0.05, 0.05, 0.9], atol=0.02)


def test_symbolic_dropout_does_not_advance_state():
    gen = random.SeedGenerator(1)
    out = random.dropout(KerasTensor((None, 4)), 0.5, seed=gen)
    assert out.shape == (None, 4) and out.dtype == "float32"
    np.testing.assert_array_equal(_np(gen.state), [1, 0])
