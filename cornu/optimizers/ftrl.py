"""FTRL-Proximal (McMahan et al.), following Keras's update rule."""
from __future__ import annotations

from typing import Any

import torch

from cornu.optimizers.base import Optimizer


class Ftrl(Optimizer):
    """Follow The Regularized Leader, with L1, L2 and L2-shrinkage regularization.

    With ``p = -learning_rate_power``, ``n`` the accumulator and ``z`` the linear term:
    ``g' = g + 2 * l2_shrinkage * w``; ``n' = n + g^2``;
    ``z += g' - (n'^p - n^p) / lr * w``; ``q = n'^p / lr + 2 * (l2 + beta / (2 lr))``;
    ``w = (clip(z, -l1, l1) - z) / q``; ``n = n'``.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float = 0.0,
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
        for arg, value, sign in (
            ("initial_accumulator_value", initial_accumulator_value, "positive"),
            ("learning_rate_power", learning_rate_power, "negative"),
            ("l1_regularization_strength", l1_regularization_strength, "positive"),
            ("l2_regularization_strength", l2_regularization_strength, "positive"),
            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength, "positive"),
        ):
            if (value < 0.0) if sign == "positive" else (value > 0.0):
                raise ValueError(f"`{arg}` needs to be {sign} or zero. Received: {arg}={value}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, var_list) -> None:
        if self.built:
            return
        super().build(var_list)
        self._accumulators, self._linears = self.add_optimizer_variables(
            var_list, ["accumulator", "linear"], initializer=[float(self.initial_accumulator_value), "zeros"]
        )

    def _foreach_update(self, params, grads, slots, learning_rate, step) -> None:
        power = -float(self.learning_rate_power)
        l1 = float(self.l1_regularization_strength)
        shrinkage = float(self.l2_shrinkage_regularization_strength)
        accumulator, linear = slots["accumulator"], slots["linear"]
        new_accumulator = torch._foreach_addcmul(accumulator, grads, grads)
        new_power = torch._foreach_pow(new_accumulator, power)
        sigma = torch._foreach_sub(new_power, torch._foreach_pow(accumulator, power))
        torch._foreach_div_(sigma, learning_rate)
        if shrinkage:
            torch._foreach_add_(linear, torch._foreach_add(grads, params, alpha=2 * shrinkage))
        else:
            torch._foreach_add_(linear, grads)
        torch._foreach_addcmul_(linear, sigma, params, value=-1.0)
        # q = n'^p / lr + 2 * (l2 + beta / (2 lr)) = (n'^p + beta) / lr + 2 * l2
        quadratic = torch._foreach_add(new_power, float(self.beta))
        torch._foreach_div_(quadratic, learning_rate)
        torch._foreach_add_(quadratic, 2 * float(self.l2_regularization_strength))
        shrunk = torch._foreach_clamp_min(linear, -l1)
        torch._foreach_clamp_max_(shrunk, l1)
        torch._foreach_sub_(shrunk, linear)
        torch._foreach_div_(shrunk, quadratic)
        torch._foreach_copy_(params, shrunk)
        torch._foreach_copy_(accumulator, new_accumulator)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        })
        return config
