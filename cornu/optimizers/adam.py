"""Adam, following Keras's update rule (epsilon added to ``sqrt(v)``, bias correction folded into the step)."""
from __future__ import annotations

import math
from typing import Any

import torch

from cornu.optimizers.base import Optimizer


_FUSED_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


class Adam(Optimizer):
    """Adam (optionally AMSGrad).

    ``m += (g - m)(1 - beta_1)``; ``v += (g^2 - v)(1 - beta_2)``;
    ``alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)``; ``w -= alpha * m / (sqrt(v) + epsilon)``.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str = "adam",
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
        self.amsgrad = amsgrad
        self._fused_steps: dict[int, list] = {}

    def build(self, var_list) -> None:
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(var_list, "velocity_hat")

    def _fused_update(self, params, grads, m, v, learning_rate, step) -> None:
        """One kernel for the whole update (torch's fused Adam, made to follow Keras's rule).

        torch adds epsilon to the bias-corrected ``sqrt(v / (1 - beta_2^t))``; Keras adds it to
        ``sqrt(v)``. Passing ``epsilon / sqrt(1 - beta_2^t)`` makes the two updates the same.
        """
        b1, b2 = float(self.beta_1), float(self.beta_2)
        key = id(params[0])
        steps = self._fused_steps.get(key)
        if steps is None or steps[1] != step - 1:
            state = [torch.full((), float(step - 1), dtype=torch.float32, device=params[0].device) for _ in params]
            steps = self._fused_steps[key] = [state, step - 1]
        torch._foreach_add_(steps[0], 1.0)
        steps[1] = step
        torch._fused_adam_(params, grads, m, v, [], steps[0], lr=float(learning_rate), beta1=b1, beta2=b2,
                           weight_decay=0.0, eps=float(self.epsilon) / math.sqrt(1 - b2**step), amsgrad=False,
                           maximize=False)

    def _foreach_update(self, params, grads, slots, learning_rate, step) -> None:
        b1, b2 = float(self.beta_1), float(self.beta_2)
        m, v = slots["momentum"], slots["velocity"]
        if params[0].device.type in ("cpu", "cuda") and not self.amsgrad and params[0].dtype in _FUSED_DTYPES:
            return self._fused_update(params, grads, m, v, learning_rate, step)
        alpha = learning_rate * math.sqrt(1 - b2**step) / (1 - b1**step)
        torch._foreach_lerp_(m, grads, 1 - b1)
        torch._foreach_mul_(v, b2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - b2)
        if self.amsgrad:
            torch._foreach_maximum_(slots["velocity_hat"], v)
            v = slots["velocity_hat"]
        denom = torch._foreach_sqrt(v)
        torch._foreach_add_(denom, float(self.epsilon))
        torch._foreach_addcdiv_(params, m, denom, value=-alpha)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad})
        return config
