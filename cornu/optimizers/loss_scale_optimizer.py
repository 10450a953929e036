"""``LossScaleOptimizer``: dynamic loss scaling around another optimizer, entirely on the device."""
from __future__ import annotations

from typing import Any, Sequence

import torch

from cornu.optimizers.base import Optimizer, StateVariable, _param_of

# Base-optimizer arguments, with their defaults: a LossScaleOptimizer leaves them to its inner optimizer.
_INNER_ARGUMENTS = {
    "weight_decay": None, "clipnorm": None, "clipvalue": None, "global_clipnorm": None, "use_ema": False,
    "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


class LossScaleOptimizer(Optimizer):
    """Scales the loss up (``scale_loss``) and the gradients back down before the inner optimizer's step.

    A step whose gradients are not all finite is skipped (the inner optimizer's
    weights, state and iteration count stay as they were) and halves the scale;
    after ``dynamic_growth_steps`` finite steps in a row the scale doubles. The
    check, the skip and the scale's update are device operations: no sync, and
    a captured training step keeps working when a step is skipped.
    """

    def __init__(self, inner_optimizer: Optimizer, initial_scale: float = 2.0**15,
                 dynamic_growth_steps: int = 2000, name: str | None = None, **kwargs):
        for arg, default in _INNER_ARGUMENTS.items():
            if arg in kwargs and kwargs.pop(arg) != default:
                raise ValueError(
                    f"LossScaleOptimizer does not support `{arg}`. Instead, set `{arg}` on the `inner_optimizer`."
                )
        if kwargs:
            raise ValueError(f"LossScaleOptimizer does not support arguments: `{', '.join(kwargs)}`.")
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(
                "`inner_optimizer` must be an Optimizer instance. Received: "
                f"inner_optimizer={inner_optimizer!r} of type {type(inner_optimizer).__name__}"
            )
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        self._step_counter = self._scalar_variable("step_counter", torch.int32, 0)
        self._dynamic_scale = self._scalar_variable("dynamic_scale", torch.float32, float(initial_scale))
        self._extra_variables = [self._step_counter, self._dynamic_scale]

    @property
    def dynamic_scale(self) -> StateVariable:
        """The current loss scale (a device float32 scalar)."""
        return self._dynamic_scale

    @property
    def iterations(self) -> StateVariable:
        return self.inner_optimizer.iterations

    @property
    def learning_rate(self) -> Any:
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate: Any) -> None:
        self.inner_optimizer.learning_rate = learning_rate

    @property
    def variables(self) -> list:
        """Its own state (as Keras lists it), then the inner optimizer's."""
        return super().variables + self.inner_optimizer.variables

    def build(self, variables: Sequence[Any]) -> None:
        variables = list(variables)
        self.inner_optimizer.build(variables)
        if variables:
            self._move_scalars(_param_of(variables[0]).device)
        self._trainable_variables = variables
        self.built = True

    def scale_loss(self, loss: Any) -> Any:
        """``loss * dynamic_scale``, before computing gradients."""
        return loss * self._dynamic_scale.value

    def apply(self, grads: Sequence[Any], trainable_variables: Sequence[Any] | None = None) -> None:
        """Unscale ``grads``; step the inner optimizer unless one is not finite; update the scale."""
        grads = list(grads)
        if not self.built:
            if trainable_variables is None:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be built on a "
                    "list of variables. Call `optimizer.build(trainable_variables)` first."
                )
            self.build(trainable_variables)
        with torch.no_grad():
            scale = self._dynamic_scale.value
            unscaled, found_inf = self._unscale(grads, scale)
            skip = found_inf > 0
            self.inner_optimizer._apply(unscaled, trainable_variables, skip=skip)
            counter = self._step_counter.value
            finite = ~skip
            counted = counter + 1
            grow = finite & (counted >= int(self.dynamic_growth_steps))
            counter.copy_(torch.where(finite & ~grow, counted, 0))
            scale.copy_(torch.where(finite, torch.where(grow, scale * 2.0, scale), scale * 0.5))

    def check_finite(self, grads: Sequence[Any]) -> torch.Tensor:
        """A 0-d bool device tensor: every gradient value is finite (``None`` gradients are skipped)."""
        flags = [torch.isfinite(torch.as_tensor(g)).all() for g in grads if g is not None]
        if not flags:
            return torch.ones((), dtype=torch.bool, device=self._dynamic_scale.value.device)
        return torch.stack([f.to(flags[0].device) for f in flags]).all()

    @staticmethod
    def _unscale(grads: list[Any], scale: torch.Tensor) -> tuple[list[Any], torch.Tensor]:
        """``grads / scale`` (new tensors) and a device flag, > 0 when any value is not finite."""
        out = list(grads)
        by_device: dict[torch.device, list[int]] = {}
        for i, g in enumerate(grads):
            if g is not None:
                if not isinstance(g, torch.Tensor):
                    out[i] = g = torch.as_tensor(g, device=scale.device)
                by_device.setdefault(g.device, []).append(i)
        found_inf = torch.zeros((), dtype=torch.float32, device=scale.device)
        for device, positions in by_device.items():
            values = torch._foreach_div([out[i] for i in positions], scale.to(device))
            found = torch.zeros((), dtype=torch.float32, device=device)
            if device.type in ("cpu", "cuda"):
                one = torch.ones((), dtype=torch.float32, device=device)
                torch._amp_foreach_non_finite_check_and_unscale_(values, found, one)
            else:
                found = (~torch.stack([torch.isfinite(v).all() for v in values]).all()).to(torch.float32)
            found_inf = found_inf + found.to(scale.device)
            for i, value in zip(positions, values):
                out[i] = value
        return out, found_inf

    def finalize_variable_values(self, var_list: Sequence[Any]) -> None:
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self) -> dict:
        from cornu.optimizers import serialize

        return {
            "name": self.name,
            "inner_optimizer": serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "LossScaleOptimizer":
        from cornu.optimizers import deserialize

        config = dict(config)
        inner = config.pop("inner_optimizer")
        if isinstance(inner, dict):
            inner = deserialize(inner, custom_objects=custom_objects)
        return cls(inner, **config)
