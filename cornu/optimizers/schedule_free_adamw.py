"""Schedule-Free AdamW, following Keras 3's update rule."""
from __future__ import annotations

from typing import Any

import torch

from cornu.optimizers.base import Optimizer, _param_of, bias_correction


class ScheduleFreeAdamW(Optimizer):
    """Schedule-Free AdamW (Defazio et al.): no learning-rate schedule; an average replaces it.

    As Keras 3 implements it, per step ``t`` (1-based), with ``lr_t = lr * min(1, t / warmup_steps)``:
    ``v = beta_2 v + (1 - beta_2) g^2``; ``z -= lr_t * g / (sqrt(v / (1 - beta_2^t)) + epsilon)``
    (``z`` is the ``momentum`` slot, starting at the weights); then the weights
    become the running average of ``z``: ``w = (1 - 1/t) w + (1/t) z``.
    """

    def __init__(
        self,
        learning_rate: Any = 0.0025,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        warmup_steps: int = 0,
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
        self.warmup_steps = warmup_steps

    def build(self, var_list) -> None:
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        with torch.no_grad():
            for z, variable in zip(self._momentums, var_list):
                z.value.copy_(_param_of(variable))

    def _foreach_update(self, params, grads, slots, learning_rate, step) -> None:
        b2 = float(self.beta_2)
        z, v = slots["momentum"], slots["velocity"]
        if self.warmup_steps and self.warmup_steps > 0:
            learning_rate = learning_rate * torch.clamp_max(step / float(self.warmup_steps), 1.0)
        torch._foreach_mul_(v, b2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - b2)
        denom = torch._foreach_div(v, bias_correction(b2, step))
        torch._foreach_sqrt_(denom)
        torch._foreach_add_(denom, float(self.epsilon))
        torch._foreach_div_(denom, -learning_rate)
        torch._foreach_addcdiv_(z, grads, denom)
        weight = 1.0 / step
        torch._foreach_mul_(params, 1.0 - weight)
        torch._foreach_add_(params, torch._foreach_mul(z, weight))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                       "warmup_steps": self.warmup_steps})
        return config
