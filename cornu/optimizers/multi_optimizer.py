"""``MultiOptimizer`` and ``OptimizerMap``: different optimizers for different variables.

An ``OptimizerMap`` maps regular expressions, matched against the whole variable path
(``re.fullmatch``, as Keras does: ``"encoder/.*"``), to optimizers, with a default for the rest.
``MultiOptimizer`` takes such a map (or a callable ``variable -> optimizer``), builds every
sub-optimizer on its own variables and hands each its gradients on ``apply``.
"""
from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any, Callable, Iterator, Sequence

import torch

from cornu.optimizers.base import Optimizer


def _check_optimizer(optimizer: Any) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"optimizer must be a Keras Optimizer instance. Received: {optimizer}")
    return optimizer


def _serialize(optimizer: Optimizer) -> dict:
    from cornu.optimizers import serialize

    return serialize(optimizer)


class OptimizerMap(MutableMapping):
    """``{pattern: optimizer}`` plus ``default_optimizer`` for every variable no pattern matches."""

    def __init__(self, default_optimizer: Optimizer, optimizer_map: dict | None = None):
        self._default_optimizer = _check_optimizer(default_optimizer)
        self._optimizer_map: dict[str, Optimizer] = {}
        for pattern, optimizer in (optimizer_map or {}).items():
            self[pattern] = optimizer

    @property
    def default_optimizer(self) -> Optimizer:
        return self._default_optimizer

    def __getitem__(self, pattern: str) -> Optimizer:
        return self._optimizer_map[pattern]

    def __setitem__(self, pattern: str, optimizer: Optimizer) -> None:
        self._optimizer_map[pattern] = _check_optimizer(optimizer)

    def __delitem__(self, pattern: str) -> None:
        del self._optimizer_map[pattern]

    def __iter__(self) -> Iterator[str]:
        return iter(self._optimizer_map)

    def __len__(self) -> int:
        return len(self._optimizer_map)

    def optimizer_for(self, variable: Any) -> Optimizer:
        """The first optimizer whose pattern matches the whole ``variable.path``, else the default."""
        path = str(getattr(variable, "path", None) or getattr(variable, "name", ""))
        for pattern, optimizer in self._optimizer_map.items():
            if re.fullmatch(pattern, path):
                return optimizer
        return self._default_optimizer

    def optimizers(self) -> list[Optimizer]:
        """The mapped optimizers in map order, then the default (each once)."""
        out: list[Optimizer] = []
        for optimizer in [*self._optimizer_map.values(), self._default_optimizer]:
            if all(optimizer is not seen for seen in out):
                out.append(optimizer)
        return out

    def get_config(self) -> dict:
        return {"default_optimizer": _serialize(self._default_optimizer),
                "optimizer_map": {pattern: _serialize(opt) for pattern, opt in self._optimizer_map.items()}}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "OptimizerMap":
        from cornu.optimizers import deserialize

        return cls(deserialize(config["default_optimizer"], custom_objects),
                   {p: deserialize(c, custom_objects) for p, c in (config.get("optimizer_map") or {}).items()})


class MultiOptimizer(Optimizer):
    """Delegates each variable to the optimizer an ``OptimizerMap`` (or a callable) picks for it.

    It has its own step counter; its learning rate is not accessible (each sub-optimizer has one).
    ``variables`` lists its own state, then every sub-optimizer's, in ``optimizers`` order.
    """

    def __init__(self, optimizer_map: OptimizerMap | Callable[[Any], Optimizer], loss_scale_factor: float | None = None,
                 name: str | None = None):
        if not isinstance(optimizer_map, OptimizerMap) and not callable(optimizer_map):
            raise ValueError("`optimizer_map` must be an `OptimizerMap` or a callable returning an optimizer for a "
                             f"variable. Received: optimizer_map={optimizer_map!r}")
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        self._assigned: list[Optimizer] = []
        self._inner_optimizers: list[Optimizer] = (
            optimizer_map.optimizers() if isinstance(optimizer_map, OptimizerMap) else [])

    @property
    def optimizers(self) -> list[Optimizer]:
        """The sub-optimizers (for their learning rates, iterations, ...)."""
        return list(self._inner_optimizers)

    @property
    def learning_rate(self) -> Any:
        raise AttributeError("Learning rate cannot be accessed on a MultiOptimizer. Access the learning rate on "
                             "the individual sub-optimizers instead.")

    @learning_rate.setter
    def learning_rate(self, learning_rate: Any) -> None:
        raise AttributeError("Learning rate cannot be set on a MultiOptimizer. Set it on the individual "
                             "sub-optimizers instead.")

    def _pick(self, variable: Any) -> Optimizer:
        if isinstance(self._optimizer_map, OptimizerMap):
            return self._optimizer_map.optimizer_for(variable)
        optimizer = _check_optimizer(self._optimizer_map(variable))
        if all(optimizer is not seen for seen in self._inner_optimizers):
            self._inner_optimizers.append(optimizer)
        return optimizer

    def build(self, variables: Sequence[Any]) -> None:
        variables = list(variables)
        super().build(variables)
        self._assigned = [self._pick(v) for v in variables]
        for optimizer in self._inner_optimizers:
            optimizer.build([v for v, o in zip(variables, self._assigned) if o is optimizer])

    @property
    def variables(self) -> list:
        own = [self._iterations, self._learning_rate]
        return own + [v for optimizer in self._inner_optimizers for v in optimizer.variables]

    def apply(self, grads: Sequence[Any], trainable_variables: Sequence[Any] | None = None) -> None:
        """Unscale by ``loss_scale_factor``, then give each sub-optimizer its own gradients and variables."""
        grads = list(grads)
        if trainable_variables is None:
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        if self.loss_scale_factor:
            grads = [None if g is None else g / self.loss_scale_factor for g in grads]
        index = {id(v): i for i, v in enumerate(self._trainable_variables)}
        for optimizer in self._inner_optimizers:
            pairs = [(g, v) for g, v in zip(grads, trainable_variables)
                     if self._assigned[index[id(v)]] is optimizer]
            if pairs:
                optimizer.apply([g for g, _ in pairs], [v for _, v in pairs])
        with torch.no_grad():
            self._iterations.value.add_(1)

    def finalize_variable_values(self, var_list: Sequence[Any]) -> None:
        var_list = list(var_list)
        for optimizer in self._inner_optimizers:
            optimizer.finalize_variable_values([v for v, o in zip(var_list, self._assigned) if o is optimizer])

    def get_config(self) -> dict:
        if not isinstance(self._optimizer_map, OptimizerMap):
            raise NotImplementedError("A MultiOptimizer built from a callable cannot be serialized; use an "
                                      "`OptimizerMap` to save it.")
        return {"optimizer_map": {"module": "keras.optimizers", "class_name": "OptimizerMap",
                                  "config": self._optimizer_map.get_config(), "registered_name": None},
                "loss_scale_factor": self.loss_scale_factor, "name": self.name}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "MultiOptimizer":
        config = dict(config)
        mapping = config.pop("optimizer_map")
        if isinstance(mapping, dict):
            mapping = OptimizerMap.from_config(mapping.get("config", mapping), custom_objects)
        return cls(mapping, **config)
