"""Adadelta, following Keras's update rule (scaled by ``learning_rate``)."""
from __future__ import annotations

from typing import Any

import torch

from cornu.optimizers.base import Optimizer


class Adadelta(Optimizer):
    """Adadelta.

    ``Eg = rho Eg + (1 - rho) g^2``; ``d = -sqrt(Ed + eps) g / sqrt(Eg + eps)``;
    ``Ed = rho Ed + (1 - rho) d^2``; ``w += lr * d``.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: float = 0.95,
        epsilon: float = 1e-7,
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
        self.epsilon = epsilon

    def build(self, var_list) -> None:
        if self.built:
            return
        super().build(var_list)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            var_list, ["accumulated_grad", "accumulated_delta_var"]
        )

    def _foreach_update(self, params, grads, slots, learning_rate, step) -> None:
        rho, eps = float(self.rho), float(self.epsilon)
        acc_g, acc_d = slots["accumulated_grad"], slots["accumulated_delta_var"]
        torch._foreach_mul_(acc_g, rho)
        torch._foreach_addcmul_(acc_g, grads, grads, value=1 - rho)
        delta = torch._foreach_add(acc_d, eps)
        torch._foreach_sqrt_(delta)
        torch._foreach_mul_(delta, grads)
        denom = torch._foreach_add(acc_g, eps)
        torch._foreach_sqrt_(denom)
        torch._foreach_div_(delta, denom)
        torch._foreach_mul_(acc_d, rho)
        torch._foreach_addcmul_(acc_d, delta, delta, value=1 - rho)
        torch._foreach_mul_(delta, -learning_rate)
        torch._foreach_add_(params, delta)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config
