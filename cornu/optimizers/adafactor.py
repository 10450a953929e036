"""Adafactor (Shazeer & Stern), following Keras's update rule."""
from __future__ import annotations

from typing import Any

import torch

from cornu.optimizers.base import Optimizer, _param_of
from cornu.variables import Variable


def _rms(x: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(torch.mean(x * x))


class Adafactor(Optimizer):
    """Adafactor: second moments kept factored (row and column means) for weights of rank >= 2.

    Per step ``t`` (1-based): ``rho = min(lr, 1 / sqrt(t))`` (Keras 3 uses this
    relative step whatever ``relative_step`` says); ``alpha = max(epsilon_2, rms(w)) * rho``;
    ``g2 = g^2 + epsilon_1``; ``beta = 1 - t^beta_2_decay``. Rank >= 2 (Keras
    layout, last two axes): ``r = beta r + (1 - beta) mean(g2, -1)``,
    ``c = beta c + (1 - beta) mean(g2, -2)``, ``v = (r / mean(r, -1))[..., None] * c[..., None, :]``;
    lower rank: ``v = beta v + (1 - beta) g2``. Then ``u = g / sqrt(v)``,
    ``w -= alpha * u / max(1, rms(u) / clip_threshold)``.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_2_decay: float = -0.8,
        epsilon_1: float = 1e-30,
        epsilon_2: float = 1e-3,
        clip_threshold: float = 1.0,
        relative_step: bool = True,
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
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, var_list) -> None:
        """Per variable, in Keras's order: row and column statistics (int32 placeholders below rank 2), then ``v``."""
        if self.built:
            return
        super().build(var_list)
        rows, cols, velocities = [], [], []
        for variable in var_list:
            param = _param_of(variable)
            shape = variable.shape if isinstance(variable, Variable) else tuple(param.shape)
            # Keras names both statistics after the variable itself ("kernel"); below rank 2 the int32
            # placeholders are not even scoped under the optimizer (path "bias").
            ref = str(getattr(variable, "name", None) or "variable")
            if len(shape) >= 2:
                rows.append(self._add_state(shape[:-1], param.dtype, param.device, ref))
                cols.append(self._add_state(shape[:-2] + shape[-1:], param.dtype, param.device, ref))
            else:
                rows.append(self._add_state((), torch.int32, param.device, ref, path=ref))
                cols.append(self._add_state((), torch.int32, param.device, ref, path=ref))
            velocities.append(self.add_variable_from_reference(variable, "velocity"))
        self._r, self._c, self._v = rows, cols, velocities
        self._slots.update({"velocity_row": rows, "velocity_col": cols, "velocity": velocities})

    def _update_group(self, group, grads, learning_rate, step) -> None:
        rho = torch.minimum(learning_rate, torch.rsqrt(step))
        beta = 1 - torch.pow(step, float(self.beta_2_decay))
        eps_1, eps_2, clip = float(self.epsilon_1), float(self.epsilon_2), float(self.clip_threshold)
        for index, variable, param, grad in zip(group.indices, group.variables, group.params, grads):
            keras_view = variable._to_keras if isinstance(variable, Variable) else (lambda t: t)
            w, g, v = keras_view(param), keras_view(grad), keras_view(self._v[index].value)
            alpha = torch.clamp_min(_rms(w), eps_2) * rho
            g2 = g * g + eps_1
            if w.ndim >= 2:
                r, c = self._r[index].value, self._c[index].value
                r.lerp_(g2.mean(-1), 1 - beta)
                c.lerp_(g2.mean(-2), 1 - beta)
                v.copy_((r / r.mean(-1, keepdim=True)).unsqueeze(-1) * c.unsqueeze(-2))
            else:
                v.lerp_(g2, 1 - beta)
            u = g / torch.sqrt(v)
            u = u / torch.clamp_min(_rms(u) / clip, 1.0)
            w.sub_(alpha * u)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "beta_2_decay": self.beta_2_decay,
            "epsilon_1": self.epsilon_1,
            "epsilon_2": self.epsilon_2,
            "clip_threshold": self.clip_threshold,
            "relative_step": self.relative_step,
        })
        return config
