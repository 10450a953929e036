import numpy as np
import pytest
import torch

from cornu.layers.normalization import (BatchNormalization, GroupNormalization, LayerNormalization,
                                        RMSNormalization, UnitNormalization)
from cornu.symbolic import KerasTensor

RNG = np.random.default_rng(1)


def _rand(*shape, loc=0.0, scale=1.0):
    return (loc + scale * RNG.standard_normal(shape)).astype("float32")


# ------------------------------------------------------------ BatchNormalization
def _np_bn(x, mean, var, gamma, beta, eps, axis=-1):
    shape = [1] * x.ndim
    shape[axis] = -1
    r = lambda v: np.asarray(v, dtype="float64").reshape(shape)
    return (x.astype("float64") - r(mean)) / np.sqrt(r(var) + eps) * r(gamma) + r(beta)


def _set_random_weights(bn, channels):
    gamma, beta = _rand(channels, loc=1.0, scale=0.2), _rand(channels)
    mean, var = _rand(channels), np.abs(_rand(channels)) + 0.5
    bn.set_weights([gamma, beta, mean, var])
    return gamma, beta, mean, var


def test_batchnorm_weights_order_and_trainability():
    bn = BatchNormalization()
    bn.build((None, 4))
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.name for w in bn.trainable_weights] == ["gamma", "beta"]
    assert [w.name for w in bn.non_trainable_weights] == ["moving_mean", "moving_variance"]
    assert list(dict(bn.named_parameters())) == ["gamma", "beta", "moving_mean", "moving_variance"]
    np.testing.assert_array_equal(bn.get_weights()[3], np.ones(4))
    bare = BatchNormalization(center=False, scale=False)
    bare.build((None, 4))
    assert [w.name for w in bare.weights] == ["moving_mean", "moving_variance"]


def test_batchnorm_inference_uses_moving_stats():
    x = _rand(6, 5, 3, loc=2.0, scale=3.0)
    bn = BatchNormalization(epsilon=1e-3)
    bn.build(x.shape)
    gamma, beta, mean, var = _set_random_weights(bn, 3)
    out = bn(x, training=False).detach().numpy()
    np.testing.assert_allclose(out, _np_bn(x, mean, var, gamma, beta, 1e-3), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(bn.get_weights()[2], mean)


@pytest.mark.parametrize("shape,axis", [((16, 3), -1), ((4, 5, 6, 3), -1), ((4, 3, 5, 6), 1), ((1, 3), -1)])
def test_batchnorm_training_output_and_moving_update(shape, axis):
    x = _rand(*shape, loc=1.5, scale=2.0)
    momentum, eps = 0.9, 1e-3
    bn = BatchNormalization(axis=axis, momentum=momentum, epsilon=eps)
    bn.build(shape)
    gamma, beta, mean0, var0 = _set_random_weights(bn, 3)
    out = bn(x, training=True).detach().numpy()
    reduce = tuple(d for d in range(len(shape)) if d != axis % len(shape))
    x64 = x.astype("float64")
    batch_mean, batch_var = x64.mean(axis=reduce), x64.var(axis=reduce)
    np.testing.assert_allclose(out, _np_bn(x, batch_mean, batch_var, gamma, beta, eps, axis), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean0 * momentum + batch_mean * (1 - momentum),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), var0 * momentum + batch_var * (1 - momentum),
                               rtol=1e-5, atol=1e-6)


def test_batchnorm_two_training_steps_compound():
    bn = BatchNormalization(momentum=0.5)
    x1, x2 = _rand(8, 2, loc=3.0), _rand(8, 2, scale=2.0)
    bn(x1, training=True)
    bn(x2, training=True)
    m = np.zeros(2)
    v = np.ones(2)
    for x in (x1, x2):
        m = 0.5 * m + 0.5 * x.astype("float64").mean(0)
        v = 0.5 * v + 0.5 * x.astype("float64").var(0)
    np.testing.assert_allclose(bn.moving_mean.numpy(), m, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), v, rtol=1e-5)


def test_batchnorm_not_trainable_runs_in_inference_mode():
    x = _rand(8, 3, loc=4.0)
    bn = BatchNormalization(trainable=False)
    bn.build(x.shape)
    gamma, beta, mean, var = _set_random_weights(bn, 3)
    out = bn(x, training=True).detach().numpy()
    np.testing.assert_allclose(out, _np_bn(x, mean, var, gamma, beta, 1e-3), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), mean)


def test_batchnorm_masked_moments():
    x = _rand(2, 4, 3, loc=1.0)
    mask = np.array([[True, True, False, True], [False, True, True, False]])
    bn = BatchNormalization(momentum=0.0, center=False, scale=False)
    out = bn(x, training=True, mask=torch.tensor(mask)).detach().numpy()
    kept = x.astype("float64")[mask]
    mean, var = kept.mean(0), kept.var(0)
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), var, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="one dimension less"):
        bn(x, training=True, mask=torch.ones(2, 4, 3, dtype=torch.bool))


def test_batchnorm_gradient_matches_float64_reference():
    x_np = _rand(6, 4, loc=1.0)
    bn = BatchNormalization()
    bn.build(x_np.shape)
    gamma, beta, _, _ = _set_random_weights(bn, 4)
    upstream = _rand(6, 4)
    x = torch.tensor(x_np, requires_grad=True)
    (bn(x, training=True) * torch.tensor(upstream)).sum().backward()
    x64 = torch.tensor(x_np, dtype=torch.float64, requires_grad=True)
    var, mean = torch.var_mean(x64, dim=0, correction=0)
    ref = (x64 - mean) / torch.sqrt(var + 1e-3) * torch.tensor(gamma, dtype=torch.float64)
    (ref * torch.tensor(upstream, dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x64.grad.numpy(), rtol=1e-4, atol=1e-5)
    assert bn.gamma.value.grad is not None and bn.moving_mean.value.grad is None


def test_batchnorm_symbolic_and_config():
    bn = BatchNormalization(axis=1, momentum=0.8, epsilon=1e-5, center=False)
    out = bn(KerasTensor((None, 4, 7)))
    assert isinstance(out, KerasTensor) and out.shape == (None, 4, 7)
    clone = BatchNormalization.from_config(bn.get_config())
    assert (clone.axis, clone.momentum, clone.epsilon, clone.center) == (1, 0.8, 1e-5, False)
    assert clone.get_config() == bn.get_config()


def test_batchnorm_errors():
    with pytest.raises(ValueError, match="defined dimension"):
        BatchNormalization()(KerasTensor((None, None)))
    with pytest.raises(ValueError, match="Invalid axis"):
        BatchNormalization(axis=3)(KerasTensor((None, 4)))
    with pytest.raises(ValueError, match="synchronized"):
        BatchNormalization(synchronized=True)
    bn = BatchNormalization()
    bn(_rand(2, 3))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        bn(_rand(2, 4))


# ------------------------------------------------------------ LayerNormalization
def _np_ln(x, axes, gamma=None, beta=None, eps=1e-3):
    x64 = x.astype("float64")
    mean = x64.mean(axis=axes, keepdims=True)
    var = x64.var(axis=axes, keepdims=True)
    y = (x64 - mean) / np.sqrt(var + eps)
    return y * (1 if gamma is None else gamma) + (0 if beta is None else beta)


def test_layernorm_last_axis():
    x = _rand(3, 4, 5, loc=2.0, scale=3.0)
    ln = LayerNormalization()
    ln.build(x.shape)
    gamma, beta = _rand(5, loc=1.0), _rand(5)
    ln.set_weights([gamma, beta])
    assert [w.name for w in ln.weights] == ["gamma", "beta"]
    np.testing.assert_allclose(ln(x).detach().numpy(), _np_ln(x, (2,), gamma, beta), rtol=1e-4, atol=1e-5)


def test_layernorm_multiple_trailing_axes():
    x = _rand(2, 3, 4, 5)
    ln = LayerNormalization(axis=[-2, -1])
    ln.build(x.shape)
    assert ln.gamma.shape == (4, 5)
    gamma, beta = _rand(4, 5), _rand(4, 5)
    ln.set_weights([gamma, beta])
    np.testing.assert_allclose(ln(x).detach().numpy(), _np_ln(x, (2, 3), gamma, beta), rtol=1e-4, atol=1e-5)


def test_layernorm_non_trailing_axis():
    x = _rand(2, 3, 4)
    ln = LayerNormalization(axis=1, epsilon=1e-5)
    ln.build(x.shape)
    gamma, beta = _rand(3), _rand(3)
    ln.set_weights([gamma, beta])
    np.testing.assert_allclose(ln(x).detach().numpy(), _np_ln(x, (1,), gamma[:, None], beta[:, None], 1e-5),
                               rtol=1e-4, atol=1e-5)


def test_layernorm_rms_scaling():
    x = _rand(3, 6, loc=1.0)
    ln = LayerNormalization(rms_scaling=True)
    ln.build(x.shape)
    assert [w.name for w in ln.weights] == ["gamma"]
    gamma = _rand(6)
    ln.set_weights([gamma])
    x64 = x.astype("float64")
    ref = x64 / np.sqrt(x64.var(axis=-1, keepdims=True) + 1e-3) * gamma
    np.testing.assert_allclose(ln(x).detach().numpy(), ref, rtol=1e-4, atol=1e-5)


def test_layernorm_without_center_scale_and_config():
    ln = LayerNormalization(axis=(1, 2), center=False, scale=False, epsilon=1e-4)
    x = _rand(2, 3, 4)
    np.testing.assert_allclose(ln(x).detach().numpy(), _np_ln(x, (1, 2), eps=1e-4), rtol=1e-4, atol=1e-5)
    assert ln.weights == []
    clone = LayerNormalization.from_config(ln.get_config())
    assert clone.get_config() == ln.get_config() and clone.axis == [1, 2]
    assert ln(KerasTensor((None, 3, 4))).shape == (None, 3, 4)


def test_layernorm_errors():
    with pytest.raises(TypeError, match="axis"):
        LayerNormalization(axis="last")
    with pytest.raises(ValueError, match="defined dimension"):
        LayerNormalization()(KerasTensor((None, None)))
    with pytest.raises(ValueError, match="Invalid axis: 4"):
        LayerNormalization(axis=4)(KerasTensor((None, 3)))


# ------------------------------------------------------------ Group / Unit / RMS
def _np_gn(x, groups, gamma, beta, eps):
    n, c = x.shape[0], x.shape[-1]
    x64 = x.astype("float64").reshape(n, -1, groups, c // groups)
    mean = x64.mean(axis=(1, 3), keepdims=True)
    var = x64.var(axis=(1, 3), keepdims=True)
    y = ((x64 - mean) / np.sqrt(var + eps)).reshape(x.shape)
    return y * gamma + beta


@pytest.mark.parametrize("groups", [2, -1, 1])
def test_groupnorm_numerics(groups):
    x = _rand(2, 5, 5, 6, loc=1.0, scale=2.0)
    gn = GroupNormalization(groups=groups)
    gn.build(x.shape)
    gamma, beta = _rand(6), _rand(6)
    gn.set_weights([gamma, beta])
    effective = 6 if groups == -1 else groups
    assert gn.groups == effective
    np.testing.assert_allclose(gn(x).detach().numpy(), _np_gn(x, effective, gamma, beta, 1e-3), rtol=1e-4, atol=1e-4)


def test_groupnorm_errors_and_config():
    with pytest.raises(ValueError, match="cannot be more than the number of channels"):
        GroupNormalization(groups=8)(KerasTensor((None, 4)))
    with pytest.raises(ValueError, match="multiple of the number of groups"):
        GroupNormalization(groups=4)(KerasTensor((None, 6)))
    gn = GroupNormalization(groups=2, epsilon=1e-5)
    assert gn(KerasTensor((None, 3, 4))).shape == (None, 3, 4)
    assert GroupNormalization.from_config(gn.get_config()).get_config() == gn.get_config()


def test_unit_normalization():
    x = _rand(3, 4, 5)
    x64 = x.astype("float64")
    expected = x64 / np.linalg.norm(x64, axis=-1, keepdims=True)
    np.testing.assert_allclose(UnitNormalization()(x).detach().numpy(), expected, rtol=1e-5)
    both = UnitNormalization(axis=[1, 2])(x).detach().numpy()
    np.testing.assert_allclose(both, x64 / np.sqrt((x64 ** 2).sum(axis=(1, 2), keepdims=True)), rtol=1e-5)
    assert np.all(UnitNormalization()(np.zeros((2, 3), "float32")).detach().numpy() == 0)
    layer = UnitNormalization(axis=1)
    assert UnitNormalization.from_config(layer.get_config()).axis == 1
    assert layer(KerasTensor((None, 3))).shape == (None, 3)


@pytest.mark.parametrize("axis", [-1, 1])
def test_rms_normalization(axis):
    x = _rand(2, 3, 4, loc=1.0)
    layer = RMSNormalization(axis=axis)
    layer.build(x.shape)
    scale = _rand(x.shape[axis])
    layer.set_weights([scale])
    x64 = x.astype("float64")
    shape = [1, 1, 1]
    shape[axis] = -1
    ref = x64 / np.sqrt((x64 ** 2).mean(axis=axis, keepdims=True) + 1e-6) * scale.reshape(shape)
    np.testing.assert_allclose(layer(x).detach().numpy(), ref, rtol=1e-4, atol=1e-5)
    assert [w.name for w in layer.weights] == ["scale"]
    assert RMSNormalization.from_config(layer.get_config()).get_config() == layer.get_config()


def test_integer_inputs_are_normalized_in_float():
    x = np.array([[3, 4], [0, 5]], "int32")
    out = UnitNormalization()(torch.as_tensor(x))
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), x / np.linalg.norm(x, axis=-1, keepdims=True), rtol=1e-6)
    bn = BatchNormalization(epsilon=0.5)
    np.testing.assert_allclose(bn(torch.as_tensor(x)).detach().numpy(), x / np.sqrt(1.5), rtol=1e-6)


def test_out_of_range_axis_is_both_value_and_index_error():
    from cornu.layers.layer import AxisError

    assert issubclass(AxisError, ValueError) and issubclass(AxisError, IndexError)
    with pytest.raises(AxisError, match="Invalid axis: 5"):
        LayerNormalization(axis=5)(torch.ones(2, 3))
