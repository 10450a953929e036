"""Nadam (Adam with Nesterov momentum and Dozat's momentum schedule), following Keras's update rule."""
from __future__ import annotations

from typing import Any

import torch

from cornu.optimizers.base import Optimizer, _param_of


class Nadam(Optimizer):
    """Nadam.

    With ``u_t = beta_1 (1 - 0.5 * 0.96^t)`` and ``U_t = prod_{s<=t} u_s``:
    ``m_hat = u_{t+1} m / (1 - U_t u_{t+1}) + (1 - u_t) g / (1 - U_t)``,
    ``v_hat = v / (1 - beta_2^t)``, ``w -= lr * m_hat / (sqrt(v_hat) + epsilon)``.
    The product ``U_t`` is a device scalar (the weights' dtype), updated once per step.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
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
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list) -> None:
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        dtype = _param_of(var_list[0]).dtype if var_list else torch.float32
        self._u_product = self._scalar_variable("u_product", dtype, 1.0)
        self._extra_variables = [self._u_product]

    def _u(self, step: torch.Tensor) -> torch.Tensor:
        return float(self.beta_1) * (1.0 - 0.5 * torch.pow(0.96, step))

    def _before_update(self, ctx) -> None:
        product = self._u_product.value
        _, step = ctx.scalars(product.device, product.dtype)
        product.mul_(self._u(step).to(product.dtype))

    def _foreach_update(self, params, grads, slots, learning_rate, step) -> None:
        b1, b2 = float(self.beta_1), float(self.beta_2)
        u_t, u_next = self._u(step), self._u(step + 1)
        u_prod = self._u_product.value.to(device=step.device, dtype=step.dtype)
        m, v = slots["momentum"], slots["velocity"]
        torch._foreach_lerp_(m, grads, 1 - b1)
        torch._foreach_mul_(v, b2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - b2)
        m_hat = torch._foreach_mul(m, u_next / (1 - u_prod * u_next))
        torch._foreach_add_(m_hat, torch._foreach_mul(grads, (1 - u_t) / (1 - u_prod)))
        denom = torch._foreach_div(v, 1 - torch.pow(b2, step))
        torch._foreach_sqrt_(denom)
        torch._foreach_add_(denom, float(self.epsilon))
        torch._foreach_div_(denom, -learning_rate)
        torch._foreach_addcdiv_(params, m_hat, denom)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
