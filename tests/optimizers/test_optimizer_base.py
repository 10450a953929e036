"""Optimizer base behaviour: clipping, learning rate, state, errors, config, EMA, accumulation."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from cornu import optimizers
from cornu.optimizers import schedules
from cornu.variables import Variable


def _var(values, name="w", **kwargs):
    return Variable(torch.nn.Parameter(torch.tensor(values, dtype=torch.float64)), name=name, **kwargs)


def test_learning_rate_set_mid_training_takes_effect():
    (w,) = variables = [_var([1.0, 2.0])]
    opt = optimizers.SGD(learning_rate=0.1)
    opt.apply([torch.tensor([1.0, 1.0], dtype=torch.float64)], variables)
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5
    opt.apply([torch.tensor([1.0, 1.0], dtype=torch.float64)], variables)
    np.testing.assert_allclose(w.numpy(), [1.0 - 0.1 - 0.5, 2.0 - 0.1 - 0.5])


def test_schedule_is_evaluated_at_iterations():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    (w,) = variables = [_var([0.0])]
    opt = optimizers.SGD(learning_rate=schedule)
    for _ in range(3):
        opt.apply([torch.tensor([1.0], dtype=torch.float64)], variables)
    np.testing.assert_allclose(w.numpy(), [-(0.1 + 0.05 + 0.025)])
    assert opt.learning_rate == pytest.approx(0.1 * 0.5**3)
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.3


def test_iterations_is_a_device_int32_variable(make_variables, grad_stream, run_steps):
    opt = optimizers.Adam(name="adam")
    variables = make_variables()
    run_steps(opt, variables, grad_stream(3))
    it = opt.iterations
    assert isinstance(it.value, torch.Tensor) and it.value.dtype == torch.int32 and it.shape == ()
    assert it.value.device == variables[0].value.device
    assert int(it) == 3 and it == 3 and it.numpy() == 3 and it.numpy().dtype == np.int32
    assert opt.variables[0] is it and it.path == "adam/iteration"
    it.assign(7)
    assert int(opt.iterations) == 7
    with pytest.raises(AttributeError):
        opt.iterations = 5


def test_learning_rate_is_one_device_tensor_written_in_place():
    opt = optimizers.SGD(learning_rate=0.1)
    tensor = opt.variables[1].value
    assert tensor.dtype == torch.float32 and tensor.shape == ()
    opt.learning_rate = 0.25
    assert opt.variables[1].value is tensor and tensor.item() == 0.25 and opt.learning_rate == 0.25
    opt.learning_rate = torch.tensor(0.5, dtype=torch.float64)
    assert opt.variables[1].value is tensor and opt.learning_rate == 0.5
    assert opt.get_config()["learning_rate"] == float(np.float32(0.5))


def test_clipnorm_per_tensor():
    a, b = variables = [_var([0.0, 0.0]), _var([0.0])]
    opt = optimizers.SGD(learning_rate=1.0, clipnorm=1.0)
    opt.apply([torch.tensor([3.0, 4.0], dtype=torch.float64), torch.tensor([0.5], dtype=torch.float64)], variables)
    np.testing.assert_allclose(a.numpy(), [-0.6, -0.8])
    np.testing.assert_allclose(b.numpy(), [-0.5])


def test_global_clipnorm():
    a, b = variables = [_var([0.0, 0.0]), _var([0.0])]
    g = [np.array([3.0, 4.0]), np.array([12.0])]
    opt = optimizers.SGD(learning_rate=1.0, global_clipnorm=2.0)
    opt.apply([torch.tensor(x) for x in g], variables)
    norm = np.sqrt(sum((x**2).sum() for x in g))
    np.testing.assert_allclose(a.numpy(), -g[0] * 2.0 / norm)
    np.testing.assert_allclose(b.numpy(), -g[1] * 2.0 / norm)


def test_clipvalue():
    (a,) = variables = [_var([0.0, 0.0, 0.0])]
    opt = optimizers.SGD(learning_rate=1.0, clipvalue=0.5)
    opt.apply([torch.tensor([3.0, -4.0, 0.25], dtype=torch.float64)], variables)
    np.testing.assert_allclose(a.numpy(), [-0.5, 0.5, -0.25])


def test_only_one_clip_argument():
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)


def test_weight_decay_exclusion_by_name():
    w, bias = variables = [_var([1.0], name="kernel"), _var([1.0], name="bias")]
    opt = optimizers.SGD(learning_rate=0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    zero = torch.zeros(1, dtype=torch.float64)
    opt.apply([zero, zero], variables)
    np.testing.assert_allclose(w.numpy(), [1.0 - 1.0 * 0.5 * 0.1])
    np.testing.assert_allclose(bias.numpy(), [1.0])
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_names=["kernel"])


def test_missing_gradient_is_skipped_with_warning():
    a, b = variables = [_var([1.0]), _var([1.0], name="frozen")]
    opt = optimizers.Adam(learning_rate=0.1)
    with pytest.warns(UserWarning, match="frozen"):
        opt.apply([torch.ones(1, dtype=torch.float64), None], variables)
    assert b.numpy()[0] == 1.0 and a.numpy()[0] < 1.0
    with pytest.raises(ValueError, match="No gradients"):
        opt.apply([None, None], variables)


def test_unknown_variable_after_build():
    opt = optimizers.SGD()
    opt.apply([torch.ones(1, dtype=torch.float64)], [_var([1.0])])
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply([torch.ones(1, dtype=torch.float64)], [_var([1.0])])


def test_constraint_applied_after_update():
    clip = lambda t: torch.clamp(t, -0.5, 0.5)  # noqa: E731
    (w,) = variables = [_var([0.4, -0.4], constraint=clip)]
    optimizers.SGD(learning_rate=1.0).apply([torch.tensor([-1.0, 1.0], dtype=torch.float64)], variables)
    np.testing.assert_allclose(w.numpy(), [0.5, -0.5])


def test_permuted_layout_slots_and_keras_layout_grads():
    value = torch.arange(6, dtype=torch.float64).reshape(3, 2)  # torch layout (3, 2), Keras layout (2, 3)
    w = Variable(torch.nn.Parameter(value.clone()), name="k", layout=(1, 0))
    opt = optimizers.SGD(learning_rate=1.0, momentum=0.5)
    keras_grad = torch.ones(2, 3, dtype=torch.float64)
    keras_grad[0] = 2.0
    opt.apply([keras_grad], [w])
    np.testing.assert_allclose(w.numpy(), value.T.numpy() - keras_grad.numpy())
    momentum = [v for v in opt.variables if v.name.endswith("momentum")][0]
    assert momentum.shape == (2, 3)
    np.testing.assert_allclose(momentum.numpy(), -keras_grad.numpy())


def test_loss_scale_factor_unscales_gradients():
    (w,) = variables = [_var([0.0])]
    opt = optimizers.SGD(learning_rate=1.0, loss_scale_factor=4.0)
    assert opt.scale_loss(2.0) == 8.0
    grad = torch.tensor([8.0], dtype=torch.float64)
    opt.apply([grad], variables)
    np.testing.assert_allclose(w.numpy(), [-2.0])
    assert grad.item() == 8.0


def test_gradient_accumulation_averages_and_counts_update_steps():
    (w,) = variables = [_var([0.0])]
    opt = optimizers.SGD(learning_rate=1.0, gradient_accumulation_steps=2)
    opt.apply([torch.tensor([1.0], dtype=torch.float64)], variables)
    assert w.numpy()[0] == 0.0 and opt.iterations == 0
    opt.apply([torch.tensor([3.0], dtype=torch.float64)], variables)
    np.testing.assert_allclose(w.numpy(), [-2.0])
    assert opt.iterations == 1
    with pytest.raises(ValueError, match="gradient_accumulation_steps"):
        optimizers.SGD(gradient_accumulation_steps=1)


def test_ema_tracks_and_finalizes():
    (w,) = variables = [_var([0.0])]
    opt = optimizers.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5)
    values, avg = [], None
    for step in range(3):
        opt.apply([torch.tensor([-1.0], dtype=torch.float64)], variables)
        values.append(w.numpy()[0])
        avg = values[-1] if step == 0 else 0.5 * avg + 0.5 * values[-1]
    opt.finalize_variable_values(variables)
    np.testing.assert_allclose(w.numpy(), [avg])


def test_save_and_load_own_variables_round_trip(make_variables, grad_stream, run_steps):
    variables = make_variables()
    opt = optimizers.Adam(learning_rate=0.01)
    grads = grad_stream(5)
    run_steps(opt, variables, grads[:3])
    store = {}
    opt.save_own_variables(store)
    assert len(store) == 2 + 2 * len(variables)
    weights_after_3 = [v.numpy() for v in variables]

    fresh_vars = make_variables()
    for v, value in zip(fresh_vars, weights_after_3):
        v.assign(value)
    fresh = optimizers.Adam(learning_rate=0.5)
    fresh.build(fresh_vars)
    fresh.load_own_variables(store)
    assert fresh.iterations == 3 and fresh.learning_rate == pytest.approx(0.01)
    run_steps(opt, variables, grads[3:])
    run_steps(fresh, fresh_vars, grads[3:])
    for a, b in zip(variables, fresh_vars):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name,cls", [("adam", optimizers.Adam), ("SGD", optimizers.SGD),
                                      ("rmsprop", optimizers.RMSprop), ("AdamW", optimizers.AdamW),
                                      ("nadam", optimizers.Nadam), ("lion", optimizers.Lion)])
def test_get_resolves_names(name, cls):
    assert type(optimizers.get(name)) is cls


def test_get_unknown_and_bad_identifier():
    with pytest.raises(ValueError, match="adam"):
        optimizers.get("adamm")
    with pytest.raises(ValueError, match="Could not interpret"):
        optimizers.get(3)
    opt = optimizers.SGD()
    assert optimizers.get(opt) is opt and optimizers.get(None) is None


def test_bad_arguments():
    with pytest.raises(ValueError, match="not recognized"):
        optimizers.Adam(foo=1)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.Adam(learning_rate="fast")
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)


@pytest.mark.parametrize("cls", optimizers.ALL_OBJECTS)
def test_config_round_trip(cls):
    opt = cls(learning_rate=0.123, clipnorm=2.0)
    config = opt.get_config()
    clone = cls.from_config(config)
    assert clone.get_config() == config
    restored = optimizers.deserialize(optimizers.serialize(opt))
    assert type(restored) is cls and restored.get_config() == config


def test_config_round_trip_with_schedule():
    schedule = schedules.CosineDecay(0.1, decay_steps=100, warmup_target=0.2, warmup_steps=10)
    opt = optimizers.Adam(learning_rate=schedule, amsgrad=True)
    clone = optimizers.Adam.from_config(opt.get_config())
    assert isinstance(clone._learning_rate, schedules.CosineDecay)
    assert clone.get_config() == opt.get_config()
    assert clone.amsgrad is True


def test_apply_inside_no_grad_matches_apply_gradients(make_variables, grad_stream, run_steps):
    a = make_variables()
    b = make_variables()
    grads = grad_stream(2)
    opt_a, opt_b = optimizers.RMSprop(), optimizers.RMSprop()
    with torch.no_grad():
        run_steps(opt_a, a, grads)
    for gs in grads:
        opt_b.apply_gradients(zip([torch.tensor(g) for g in gs], b))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    assert a[0].shape == (3, 4)


class PlainMomentum(optimizers.Optimizer):
    """A user-style optimizer written with Keras's per-variable ``update_step``."""

    def __init__(self, learning_rate=0.1, momentum=0.5, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = momentum

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m = [self.add_variable_from_reference(v, "m") for v in var_list]

    def update_step(self, gradient, variable, learning_rate):
        m = self._m[self._get_variable_index(variable)]
        self.assign(m, m * self.momentum + gradient)
        self.assign_sub(variable, learning_rate * m)


def test_custom_update_step_optimizer_with_permuted_layout():
    value = torch.arange(6, dtype=torch.float64).reshape(3, 2)
    w = Variable(torch.nn.Parameter(value.clone()), name="k", layout=(1, 0))
    opt = PlainMomentum(learning_rate=0.1, momentum=0.5)
    keras_grads = [np.full((2, 3), 1.0), np.arange(6.0).reshape(2, 3)]
    want, m = value.T.numpy().copy(), np.zeros((2, 3))
    for g in keras_grads:
        opt.apply([w._to_torch(torch.tensor(g))], [w])
        m = 0.5 * m + g
        want = want - 0.1 * m
    np.testing.assert_allclose(w.numpy(), want)
    assert opt.iterations == 2 and opt.name == "plain_momentum"


@pytest.mark.parametrize("cls_name,name", [("SGD", "sgd"), ("AdamW", "adam_w"), ("RMSprop", "rm_sprop"),
                                           ("Adam", "adam")])
def test_default_name_is_the_snake_cased_class_name(cls_name, name):
    opt = getattr(optimizers, cls_name)()
    assert re.fullmatch(rf"{name}(_\d+)?", opt.name) and opt.get_config()["name"] == opt.name


def test_learning_rate_reads_as_the_float32_variable():
    opt = optimizers.Adam(learning_rate=0.1, name="adam")
    lr = opt.learning_rate
    assert lr is opt.variables[1] and lr.path == "adam/learning_rate" and lr.dtype == "float32"
    assert float(lr) == float(np.float32(0.1)) and lr.numpy() == np.float32(0.1)
    lr.assign(0.25)
    assert float(opt.learning_rate) == 0.25
    scheduled = optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5))
    value = scheduled.learning_rate
    assert isinstance(value, torch.Tensor) and value.dtype == torch.float32 and float(value) == np.float32(0.1)
    assert optimizers.SGD(learning_rate=lambda: 0.3).learning_rate == 0.3
