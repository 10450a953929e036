"""Initializer statistics, fans, determinism and name resolution."""
import math

import numpy as np
import pytest
import torch

from cornu import initializers

KERNEL = (3, 3, 32, 64)  # conv kernel, Keras layout: receptive field 9
FAN_IN, FAN_OUT = 9 * 32, 9 * 64


def test_compute_fans():
    assert initializers.compute_fans(KERNEL) == (FAN_IN, FAN_OUT)
    assert initializers.compute_fans((10, 20)) == (10, 20)
    assert initializers.compute_fans((7,)) == (7, 7)
    assert initializers.compute_fans(()) == (1, 1)


def test_glorot_uniform_limit_and_variance():
    w = initializers.GlorotUniform()(KERNEL).double().numpy()
    limit = math.sqrt(6.0 / (FAN_IN + FAN_OUT))
    assert w.shape == KERNEL
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.95 * limit
    np.testing.assert_allclose(w.var(), limit**2 / 3.0, rtol=0.05)


@pytest.mark.parametrize("name, variance, limit_sigmas", [
    ("glorot_normal", 2.0 / (FAN_IN + FAN_OUT), 2),
    ("he_normal", 2.0 / FAN_IN, 2),
    ("lecun_normal", 1.0 / FAN_IN, 2),
])
def test_truncated_normal_presets(name, variance, limit_sigmas):
    w = initializers.get(name)(KERNEL).double().numpy()
    np.testing.assert_allclose(w.var(), variance, rtol=0.05)
    stddev = math.sqrt(variance) / 0.87962566103423978
    assert np.abs(w).max() <= limit_sigmas * stddev + 1e-6


@pytest.mark.parametrize("name, limit", [
    ("he_uniform", math.sqrt(6.0 / FAN_IN)),
    ("lecun_uniform", math.sqrt(3.0 / FAN_IN)),
])
def test_uniform_presets(name, limit):
    w = initializers.get(name)(KERNEL).double().numpy()
    assert np.abs(w).max() <= limit
    np.testing.assert_allclose(w.var(), limit**2 / 3.0, rtol=0.05)


def test_variance_scaling_modes():
    shape = (200, 50)
    for mode, n in (("fan_in", 200), ("fan_out", 50), ("fan_avg", 125)):
        init = initializers.VarianceScaling(scale=3.0, mode=mode, distribution="untruncated_normal")
        w = init(shape, dtype="float64").numpy()
        np.testing.assert_allclose(w.var(), 3.0 / n, rtol=0.05)


def test_variance_scaling_rejects_bad_args():
    with pytest.raises(ValueError, match="scale"):
        initializers.VarianceScaling(scale=-1.0)
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_sideways")
    with pytest.raises(ValueError, match="distribution"):
        initializers.VarianceScaling(distribution="cauchy")


def test_random_normal_uniform_truncated_stats():
    shape = (400, 250)
    w = initializers.RandomNormal(mean=1.0, stddev=2.0)(shape, "float64").numpy()
    np.testing.assert_allclose([w.mean(), w.std()], [1.0, 2.0], rtol=0.02, atol=0.02)
    u = initializers.RandomUniform(minval=-3.0, maxval=1.0)(shape, "float64").numpy()
    assert u.min() >= -3.0 and u.max() < 1.0
    np.testing.assert_allclose([u.mean(), u.var()], [-1.0, 16.0 / 12.0], rtol=0.02, atol=0.02)
    t = initializers.TruncatedNormal(mean=0.5, stddev=0.1)(shape, "float64").numpy()
    assert t.min() >= 0.3 - 1e-12 and t.max() <= 0.7 + 1e-12
    np.testing.assert_allclose(t.std(), 0.1 * 0.87962566103423978, rtol=0.02)


def test_constant_zeros_ones_and_dtype():
    c = initializers.Constant(3.5)((2, 3), "float64")
    assert c.dtype == torch.float64 and np.all(c.numpy() == 3.5)
    assert np.all(initializers.get("zeros")((4,), "int32").numpy() == 0)
    ones = initializers.get("ones")((2, 2))
    assert ones.dtype == torch.float32 and np.all(ones.numpy() == 1)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 2, 8)])
def test_orthogonal(shape):
    w = initializers.Orthogonal(gain=2.0, seed=3)(shape).double().numpy()
    flat = w.reshape(-1, shape[-1])
    gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-5)


def test_orthogonal_needs_2d():
    with pytest.raises(ValueError, match="two-dimensional"):
        initializers.Orthogonal()((5,))


def test_identity():
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((2, 3)).numpy(), 3.0 * np.eye(2, 3))
    with pytest.raises(ValueError, match="2D"):
        initializers.Identity()((2, 2, 2))


@pytest.mark.parametrize("cls", [initializers.RandomNormal, initializers.RandomUniform,
                                 initializers.TruncatedNormal, initializers.GlorotUniform,
                                 initializers.HeNormal, initializers.Orthogonal])
def test_seeded_is_deterministic_and_unseeded_follows_torch_seed(cls):
    a = cls(seed=7)((5, 5))
    assert torch.equal(a, cls(seed=7)((5, 5)))
    init = cls(seed=7)
    assert torch.equal(init((5, 5)), init((5, 5)))
    assert not torch.equal(a, cls(seed=8)((5, 5)))
    torch.manual_seed(0)
    first = cls()((5, 5))
    torch.manual_seed(0)
    assert torch.equal(first, cls()((5, 5)))
    assert not torch.equal(first, cls()((5, 5)))


@pytest.mark.parametrize("cls", [initializers.RandomNormal, initializers.GlorotUniform, initializers.Orthogonal])
def test_unseeded_instance_repeats_its_values_and_a_seed_generator_does_not(cls):
    """Keras 3: an unseeded initializer fixes its seed when built (config still says None)."""
    init = cls()
    assert torch.equal(init((4, 4)), init((4, 4))) and init.get_config()["seed"] is None
    assert not torch.equal(init((4, 4)), cls()((4, 4)))
    from cornu.random import SeedGenerator

    stream = cls(seed=SeedGenerator(3))
    assert not torch.equal(stream((4, 4)), stream((4, 4)))
    config = stream.get_config()["seed"]
    assert config["class_name"] == "SeedGenerator" and config["config"]["seed"] == 3
    assert isinstance(cls.from_config(stream.get_config()).seed, SeedGenerator)


def test_random_uniform_with_swapped_bounds_samples_between_them():
    values = initializers.RandomUniform(minval=3.0, maxval=1.0, seed=0)((1000,)).numpy()
    assert values.min() >= 1.0 and values.max() <= 3.0 and values.std() > 0.4


def test_identity_config_is_empty_as_in_keras():
    assert initializers.Identity(gain=3.0).get_config() == {}


def test_bad_seed_and_int_dtype():
    with pytest.raises(ValueError, match="seed"):
        initializers.RandomNormal(seed="abc")
    with pytest.raises(ValueError, match="int32"):
        initializers.RandomNormal()((2,), "int32")


@pytest.mark.parametrize("name, cls", [
    ("glorot_uniform", initializers.GlorotUniform), ("GlorotUniform", initializers.GlorotUniform),
    ("he_normal", initializers.HeNormal), ("zeros", initializers.Zeros), ("orthogonal", initializers.Orthogonal),
    ("uniform", initializers.RandomUniform), ("identity", initializers.Identity),
])
def test_get_by_name(name, cls):
    assert type(initializers.get(name)) is cls


def test_get_other_identifiers():
    assert initializers.get(None) is None
    assert isinstance(initializers.get(initializers.HeUniform), initializers.HeUniform)
    inst = initializers.Constant(2.0)
    assert initializers.get(inst) is inst
    with pytest.raises(ValueError, match="glorot_uniform") as err:
        initializers.get("glorot_unifrom")
    assert "glorot_unifrom" in str(err.value)


@pytest.mark.parametrize("init", [
    initializers.VarianceScaling(scale=2.0, mode="fan_out", distribution="uniform", seed=4),
    initializers.RandomNormal(mean=1.0, stddev=0.5, seed=2), initializers.Constant(0.25),
    initializers.Orthogonal(gain=0.5, seed=1), initializers.GlorotNormal(seed=5),
])
def test_config_roundtrip(init):
    clone = type(init).from_config(init.get_config())
    assert clone.get_config() == init.get_config()
    restored = initializers.deserialize(initializers.serialize(init))
    assert torch.equal(restored((4, 3)), init((4, 3)))


def test_variance_scaling_input_and_output_axes():
    from cornu import initializers

    init = initializers.VarianceScaling(mode="fan_in", distribution="untruncated_normal", input_axes=[0],
                                        output_axes=[1, 2], seed=1)
    sample = np.asarray(init((40, 50, 60)), dtype=np.float64)
    assert 1.0 / sample.var() == pytest.approx(40, rel=0.05)  # fan_in = shape[0] only
    avg = initializers.VarianceScaling(mode="fan_avg", distribution="untruncated_normal", input_axes=[2],
                                       output_axes=[0], seed=1)
    assert 1.0 / np.asarray(avg((40, 50, 60)), dtype=np.float64).var() == pytest.approx(50, rel=0.05)
    assert initializers.GlorotUniform().get_config() == {"seed": None, "input_axes": None, "output_axes": None}
    with pytest.raises(ValueError, match="input_axes"):
        initializers.HeNormal(input_axes="a")


def test_variance_scaling_configs_match_keras(keras_ref):
    from cornu import initializers

    for name in ("VarianceScaling", "GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal",
                 "LecunUniform"):
        ours = getattr(initializers, name)(input_axes=[0], output_axes=[1])
        ref = getattr(keras_ref.initializers, name)(input_axes=[0], output_axes=[1])
        assert ours.get_config() == ref.get_config()
        assert getattr(initializers, name).from_config(ref.get_config()).get_config() == ref.get_config()


def test_stft_kernels_are_the_windowed_dft():
    frame, bins = 8, 5
    period = 2 * (bins - 1)
    n, k = np.arange(frame)[:, None], np.arange(bins)[None, :]
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame) / (frame - 1))
    w = hann / np.sqrt(np.sum(hann ** 2))
    real = initializers.STFT()((frame, 1, bins), dtype="float64").numpy()[:, 0, :]
    np.testing.assert_allclose(real, w[:, None] * np.cos(2 * np.pi * n * k / period), atol=1e-12)
    ones = np.ones(frame) / frame
    imag = initializers.STFTInitializer("imag", None, "spectrum")((frame, 1, bins), dtype="float64").numpy()[:, 0]
    np.testing.assert_allclose(imag, -ones[:, None] * np.sin(2 * np.pi * n * k / period), atol=1e-12)
    assert initializers.get("stft").get_config() == {"side": "real", "window": "hann", "periodic": False,
                                                     "scaling": "density"}
    for bad in (dict(side="x"), dict(scaling="x")):
        with pytest.raises(ValueError):
            initializers.STFT(**bad)


def test_integer_dtypes_random_ones_refuse_identity_and_stft_fall_back_to_floatx():
    with pytest.raises(NotImplementedError):
        initializers.GlorotUniform()((2, 2), dtype="int32")
    assert initializers.Identity()((2, 2), dtype="int32").dtype == torch.float32
    assert initializers.STFT()((4, 1, 3), dtype="int64").dtype == torch.float32
    assert initializers.Constant(2)((2,), dtype="int32").dtype == torch.int32
