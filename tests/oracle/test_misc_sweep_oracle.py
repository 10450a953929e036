"""Differential checks found by the optimizers/callbacks/utils/activations/initializers sweep against Keras 3.

Each test builds the same object in real Keras (torch backend) and cornu and compares what a user sees:
names, configs, value types and dtypes, numbers, files written and exception classes.
"""
from __future__ import annotations

import numpy as np
import pytest

import cornu
from tests.helpers import keras_oracle_module

keras_ref = keras_oracle_module()

OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion", "Ftrl"]


def _strip_counter(name: str) -> str:
    base, _, tail = name.rpartition("_")
    return base if tail.isdigit() else name


# ---------------------------------------------------------------- optimizers

@pytest.mark.parametrize("cls_name", OPTIMIZERS)
def test_default_optimizer_name_matches_keras(cls_name):
    k, c = getattr(keras_ref.optimizers, cls_name)(), getattr(cornu.optimizers, cls_name)()
    assert _strip_counter(c.name) == _strip_counter(k.name)
    kc, cc = k.get_config(), c.get_config()
    kc.pop("name"), cc.pop("name")
    assert cc == kc


@pytest.mark.parametrize("cls_name", ["SGD", "Adam", "Nadam"])
def test_learning_rate_and_iterations_types_match_keras(cls_name):
    k = getattr(keras_ref.optimizers, cls_name)(learning_rate=0.1, name="opt")
    c = getattr(cornu.optimizers, cls_name)(learning_rate=0.1, name="opt")
    for attr in ("learning_rate", "iterations"):
        kv, cv = getattr(k, attr), getattr(c, attr)
        assert (cv.path, cv.name, cv.dtype, tuple(cv.shape)) == (kv.path, kv.name, kv.dtype, tuple(kv.shape))
        assert float(cv) == float(kv) and cv.numpy().dtype == np.asarray(kv).dtype
    k.learning_rate, c.learning_rate = 0.3, 0.3
    assert float(c.learning_rate) == float(k.learning_rate)
    assert [(v.path, v.dtype) for v in c.variables] == [(v.path, v.dtype) for v in k.variables]


def test_scheduled_learning_rate_reads_as_a_float32_tensor_like_keras():
    def make(lib):
        return lib.optimizers.SGD(learning_rate=lib.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5))

    k, c = make(keras_ref), make(cornu)
    kv, cv = k.learning_rate, c.learning_rate
    assert type(cv) is type(kv) and cv.dtype == kv.dtype
    np.testing.assert_allclose(cv.numpy(), kv.numpy(), rtol=1e-6)


def test_loss_scale_optimizer_state_dtypes_match_keras():
    k = keras_ref.optimizers.LossScaleOptimizer(keras_ref.optimizers.SGD(name="sgd"), name="lso")
    c = cornu.optimizers.LossScaleOptimizer(cornu.optimizers.SGD(name="sgd"), name="lso")
    k.build([keras_ref.Variable(np.ones(2, "float32"), name="w")])
    c.build([cornu.Variable(np.ones(2, "float32"), name="w")])
    assert [(v.path, v.dtype) for v in c.variables][:6] == [(v.path, v.dtype) for v in k.variables][:6]
