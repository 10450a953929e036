"""MultiOptimizer / OptimizerMap: routing by full-path regex or callable, state order, config, errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cornu import optimizers
from cornu.variables import Variable


def _var(values, path):
    return Variable(torch.nn.Parameter(torch.tensor(values, dtype=torch.float64)), name=path.rsplit("/", 1)[-1],
                    path=path)


def test_each_variable_gets_the_optimizer_its_full_path_matches():
    enc, dec = _var([1.0, 2.0], "m/enc/kernel"), _var([3.0], "m/dec/kernel")
    sgd, fast = optimizers.SGD(learning_rate=0.1, name="sgd"), optimizers.SGD(learning_rate=0.5, name="fast")
    multi = optimizers.MultiOptimizer(optimizers.OptimizerMap(sgd, {"m/enc/.*": fast, "enc": sgd}), name="multi")
    for _ in range(2):
        multi.apply([torch.ones(2, dtype=torch.float64), torch.ones(1, dtype=torch.float64)], [enc, dec])
    np.testing.assert_allclose(enc.numpy(), [1.0 - 2 * 0.5, 2.0 - 2 * 0.5])
    np.testing.assert_allclose(dec.numpy(), [3.0 - 2 * 0.1])
    assert int(multi.iterations) == 2 and [int(o.iterations) for o in multi.optimizers] == [2, 2]
    assert [o.name for o in multi.optimizers] == ["fast", "sgd"]
    assert [v.path for v in multi.variables] == ["multi/iteration", "multi/learning_rate", "fast/iteration",
                                                 "fast/learning_rate", "sgd/iteration", "sgd/learning_rate"]
    with pytest.raises(AttributeError, match="sub-optimizers"):
        multi.learning_rate


def test_callable_selector_and_loss_scale_factor():
    a, b = _var([1.0], "a"), _var([1.0], "b")
    chosen = {"a": optimizers.SGD(learning_rate=0.1, name="sa"), "b": optimizers.SGD(learning_rate=0.2, name="sb")}
    multi = optimizers.MultiOptimizer(lambda v: chosen[v.path], loss_scale_factor=4.0)
    multi.apply([torch.full((1,), 4.0, dtype=torch.float64)] * 2, [b, a])
    np.testing.assert_allclose([a.numpy()[0], b.numpy()[0]], [0.9, 0.8])
    assert [o.name for o in multi.optimizers] == ["sb", "sa"]
    with pytest.raises(NotImplementedError):
        multi.get_config()


def test_config_round_trip_and_bad_map_values():
    mapping = optimizers.OptimizerMap(optimizers.SGD(name="s"), {"x/.*": optimizers.Adam(name="a")})
    multi = optimizers.MultiOptimizer(mapping, name="multi")
    restored = optimizers.deserialize(optimizers.serialize(multi))
    assert isinstance(restored, optimizers.MultiOptimizer) and restored.get_config() == multi.get_config()
    assert dict(mapping).keys() == {"x/.*"} and mapping.default_optimizer.name == "s"
    with pytest.raises(ValueError, match="Optimizer instance"):
        mapping["y"] = 3
