"""Adam, following Keras's update rule (epsilon added to ``sqrt(v)``, bias correction folded into the step).

Eagerly, float32/half weights on CPU or CUDA use torch's fused Adam kernel with a device
learning-rate tensor (capturable in a CUDA graph); other weights (float64, AMSGrad) and steps traced
by ``torch.compile`` (which cannot trace the fused kernel) use foreach kernels.
"""
from __future__ import annotations

import math
from typing import Any

import torch

from cornu.optimizers.base import Optimizer


_FUSED_DTYPES = (torch.float32, torch.float16, torch.bfloat16)


def adam_alpha(learning_rate: torch.Tensor, step: torch.Tensor, beta_1: float, beta_2: float) -> torch.Tensor:
    """Keras's Adam step size ``lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)``, on the device.

    As in Keras, the powers are taken in the step's float type (``beta`` rounded to it), so the
    numbers follow Keras's to float32 rounding.
    """
    return learning_rate * torch.sqrt(1 - torch.pow(beta_2, step)) / (1 - torch.pow(beta_1, step))


def foreach_adam_(params: list[torch.Tensor], grads: list[torch.Tensor], m: list[torch.Tensor],
                  v: list[torch.Tensor], alpha: torch.Tensor, beta_1: float, beta_2: float, epsilon: float,
                  v_hat: list[torch.Tensor] | None = None) -> None:
    """Keras's Adam update with foreach kernels: ``w -= alpha * m / (sqrt(v) + epsilon)``."""
    torch._foreach_lerp_(m, grads, 1 - beta_1)
    torch._foreach_mul_(v, beta_2)
    torch._foreach_addcmul_(v, grads, grads, value=1 - beta_2)
    if v_hat is not None:
        torch._foreach_maximum_(v_hat, v)
        v = v_hat
    denom = torch._foreach_sqrt(v)
    torch._foreach_add_(denom, epsilon)
    torch._foreach_div_(denom, -alpha)
    torch._foreach_addcdiv_(params, m, denom)


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
        self.amsgrad = amsgrad

    def build(self, var_list) -> None:
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(var_list, "velocity_hat")

    def _fusable(self, group) -> bool:
        """The fused kernel runs eagerly (a CUDA graph can capture it); ``torch.compile`` has no
        tracing rule for it, so a compiled step takes the foreach path, which the compiler fuses."""
        return (
            group.device.type in ("cpu", "cuda") and group.dtype in _FUSED_DTYPES and not self.amsgrad
            and 0.0 <= float(self.beta_1) < 1.0 and 0.0 <= float(self.beta_2) < 1.0
            and not torch.compiler.is_compiling()
        )

    def _update_group(self, group, grads, learning_rate, step) -> None:
        if not self._fusable(group):
            return super()._update_group(group, grads, learning_rate, step)
        # torch's fused kernel computes ``lr / (1 - b1^s) * m / (sqrt(v) / sqrt(1 - b2^s) + eps)``. With
        # s = inf its bias corrections are exactly 1, so passing Keras's ``alpha`` (computed here on
        # the device) as its learning rate gives Keras's ``alpha * m / (sqrt(v) + eps)``.
        steps = group.extra.get("fused_steps")
        if steps is None:
            steps = group.extra["fused_steps"] = [
                torch.full((), math.inf, dtype=torch.float32, device=group.device) for _ in group.params
            ]
        alpha = self._alpha(learning_rate, step).to(torch.float32)
        torch._fused_adam_(group.params, grads, group.slots["momentum"], group.slots["velocity"], [], steps,
                           lr=alpha, beta1=float(self.beta_1), beta2=float(self.beta_2), weight_decay=0.0,
                           eps=float(self.epsilon), amsgrad=False, maximize=False)

    def _alpha(self, learning_rate: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
        return adam_alpha(learning_rate, step, float(self.beta_1), float(self.beta_2))

    def _foreach_update(self, params, grads, slots, learning_rate, step) -> None:
        foreach_adam_(params, grads, slots["momentum"], slots["velocity"], self._alpha(learning_rate, step),
                      float(self.beta_1), float(self.beta_2), float(self.epsilon),
                      slots["velocity_hat"] if self.amsgrad else None)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad})
        return config
