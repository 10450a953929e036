"""Muon (momentum orthogonalized by Newton-Schulz), with AdamW for the variables Muon does not suit."""
from __future__ import annotations

import re
from typing import Any, Sequence

import torch

from cornu.optimizers.adam import adam_alpha, foreach_adam_
from cornu.optimizers.base import Optimizer, _param_of
from cornu.variables import Variable


class Muon(Optimizer):
    """Muon for 2-D weights, AdamW for the rest, following Keras's update rules.

    AdamW (Keras's Adam rule with ``adam_beta_*`` and ``learning_rate * adam_lr_ratio``,
    decayed by ``adam_weight_decay``) updates every variable that is not 2-D,
    whose path contains ``"embedding"`` (with ``exclude_embeddings``) or matches
    a regex in ``exclude_layers``. The others (decayed by ``weight_decay``) take
    the Muon step: ``m = momentum * m + g``; ``d = g + momentum * m`` (Nesterov)
    or ``m``; ``X = d / (||d||_F + 1e-7)`` (transposed when tall), then
    ``ns_steps`` times ``X = a X + (b A + c A^2) X`` with ``A = X X^T``;
    ``w -= lr * X * sqrt(max(rows, cols)) * rms_rate`` (no scaling when ``rms_rate`` is None).
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        adam_beta_1: float = 0.9,
        adam_beta_2: float = 0.999,
        adam_weight_decay: float | None = 0.004,
        epsilon: float = 1e-7,
        weight_decay: float | None = 0.004,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        exclude_layers: Sequence[str] | None = None,
        exclude_embeddings: bool = True,
        muon_a: float = 3.4445,
        muon_b: float = -4.775,
        muon_c: float = 2.0315,
        adam_lr_ratio: float = 1,
        momentum: float = 0.95,
        ns_steps: int = 5,
        nesterov: bool = True,
        rms_rate: float | None = 0.2,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )
        self.adam_beta_1 = adam_beta_1
        self.adam_beta_2 = adam_beta_2
        self.adam_weight_decay = adam_weight_decay
        self.epsilon = epsilon
        self.exclude_layers = list(exclude_layers or [])
        self.exclude_embeddings = exclude_embeddings
        self.muon_a = muon_a
        self.muon_b = muon_b
        self.muon_c = muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = ns_steps
        self.nesterov = nesterov
        self.rms_rate = rms_rate

    def _should_use_adamw(self, variable: Any) -> bool:
        """AdamW for non-2-D variables, embeddings (by path) and paths matching ``exclude_layers``."""
        shape = variable.shape if isinstance(variable, Variable) else tuple(_param_of(variable).shape)
        if len(shape) != 2:
            return True
        path = str(getattr(variable, "path", None) or getattr(variable, "name", None) or "")
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(pattern, path) for pattern in self.exclude_layers)

    def build(self, var_list) -> None:
        """A momentum for every variable and a velocity for the AdamW ones, per variable as Keras orders them."""
        if self.built:
            return
        super().build(var_list)
        self._uses_adamw = [self._should_use_adamw(v) for v in var_list]
        momentums, velocities = [], []
        for variable, adamw in zip(var_list, self._uses_adamw):
            momentums.append(self.add_variable_from_reference(variable, "momentum"))
            velocities.append(self.add_variable_from_reference(variable, "velocity") if adamw else None)
        self._momentums, self._velocities = momentums, velocities
        self._slots.update({"momentum": momentums, "velocity": velocities})

    def _decay_weights(self, group, learning_rate: torch.Tensor) -> None:
        """Decoupled decay by ``weight_decay`` (Muon variables) or ``adam_weight_decay`` (AdamW ones)."""
        decayed = {id(p) for p in group.decay}
        for adamw, rate in ((False, self.weight_decay), (True, self.adam_weight_decay)):
            params = [p for i, p in zip(group.indices, group.params)
                      if self._uses_adamw[i] is adamw and id(p) in decayed]
            if rate and params:
                torch._foreach_mul_(params, 1.0 - learning_rate * float(rate))

    def _update_group(self, group, grads, learning_rate, step) -> None:
        adam = [k for k, i in enumerate(group.indices) if self._uses_adamw[i]]
        muon = [k for k, i in enumerate(group.indices) if not self._uses_adamw[i]]
        if adam:
            alpha = adam_alpha(learning_rate * float(self.adam_lr_ratio), step,
                               float(self.adam_beta_1), float(self.adam_beta_2))
            foreach_adam_([group.params[k] for k in adam], [grads[k] for k in adam],
                          [self._momentums[group.indices[k]].value for k in adam],
                          [self._velocities[group.indices[k]].value for k in adam],
                          alpha, float(self.adam_beta_1), float(self.adam_beta_2), float(self.epsilon))
        if muon:
            self._muon_update([group.params[k] for k in muon], [grads[k] for k in muon],
                              [self._momentums[group.indices[k]].value for k in muon], learning_rate)

    def _muon_update(self, params, grads, momentums, learning_rate) -> None:
        beta = float(self.momentum)
        torch._foreach_mul_(momentums, beta)
        torch._foreach_add_(momentums, grads)
        directions = torch._foreach_add(grads, momentums, alpha=beta) if self.nesterov else momentums
        for param, direction in zip(params, directions):
            update = self._orthogonalize(direction)
            scale = -learning_rate
            if self.rms_rate is not None:
                scale = scale * (max(param.shape) ** 0.5 * float(self.rms_rate))
            param.add_(update * scale.to(param.dtype))

    def _orthogonalize(self, x: torch.Tensor) -> torch.Tensor:
        """Newton-Schulz iteration towards the nearest semi-orthogonal matrix (transpose-equivariant)."""
        a, b, c = float(self.muon_a), float(self.muon_b), float(self.muon_c)
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = x.mT
        x = x / (torch.linalg.matrix_norm(x) + 1e-7)
        for _ in range(int(self.ns_steps)):
            gram = x @ x.mT
            x = a * x + (b * gram + c * (gram @ gram)) @ x
        return x.mT if tall else x

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "adam_beta_1": self.adam_beta_1,
            "adam_beta_2": self.adam_beta_2,
            "epsilon": self.epsilon,
            "exclude_layers": self.exclude_layers,
            "muon_a": self.muon_a,
            "muon_b": self.muon_b,
            "muon_c": self.muon_c,
            "adam_lr_ratio": self.adam_lr_ratio,
            "momentum": self.momentum,
            "ns_steps": self.ns_steps,
            "nesterov": self.nesterov,
            "exclude_embeddings": self.exclude_embeddings,
            "adam_weight_decay": self.adam_weight_decay,
            "rms_rate": self.rms_rate,
        })
        return config
