"""RMSprop, following Keras's update rule (epsilon inside the square root)."""
from __future__ import annotations

from typing import Any

import torch

from cornu.optimizers.base import Optimizer


class RMSprop(Optimizer):
    """RMSprop with optional plain momentum and centering.

    ``v = rho v + (1 - rho) g^2``; ``inc = lr g / sqrt(v + eps)`` (centered:
    ``sqrt(v - a^2 + eps)`` with ``a = rho a + (1 - rho) g``); with momentum
    ``m = momentum m + inc; w -= m``, else ``w -= inc``.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, var_list) -> None:
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._momentums = self.add_optimizer_variables(var_list, "momentum") if self.momentum > 0 else []
        self._average_gradients = (
            self.add_optimizer_variables(var_list, "average_gradient") if self.centered else []
        )

    def _foreach_update(self, params, grads, slots, learning_rate, step) -> None:
        rho = float(self.rho)
        v = slots["velocity"]
        torch._foreach_mul_(v, rho)
        torch._foreach_addcmul_(v, grads, grads, value=1 - rho)
        if self.centered:
            a = slots["average_gradient"]
            torch._foreach_mul_(a, rho)
            torch._foreach_add_(a, grads, alpha=1 - rho)
            denom = torch._foreach_addcmul(v, a, a, value=-1.0)
            torch._foreach_add_(denom, float(self.epsilon))
        else:
            denom = torch._foreach_add(v, float(self.epsilon))
        torch._foreach_sqrt_(denom)
        if self.momentum > 0:
            m = slots["momentum"]
            increment = torch._foreach_div(grads, denom)
            torch._foreach_mul_(increment, learning_rate)
            torch._foreach_mul_(m, float(self.momentum))
            torch._foreach_add_(m, increment)
            torch._foreach_sub_(params, m)
        else:
            torch._foreach_div_(denom, -learning_rate)
            torch._foreach_addcdiv_(params, grads, denom)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon, "centered": self.centered})
        return config
