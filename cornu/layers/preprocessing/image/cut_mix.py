"""``CutMix`` (Yun et al. 2019): a rectangle of each image replaced by the same place in a partner image.

Per call: a random permutation picks partners; each sample draws ``a`` uniformly from ``factor``
and ``lam ~ Beta(a, a)``; a box of height ``h sqrt(1 - lam)`` and width ``w sqrt(1 - lam)``
centred at a uniform position (clipped to the image) is pasted from the partner, and labels mix by
the pasted area. Inputs are an image batch or a dict with ``"images"`` and optionally ``"labels"``.
"""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.factor_utils import unit_range
from cornu.layers.preprocessing.image.mix_up import BatchMixing, _weights


class CutMix(BatchMixing):
    """Pastes a random box from a partner sample into each sample; labels mix by the box's area."""

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = unit_range(factor)

    def mix(self, x, labels, partner):
        n, _, h, w = x.shape
        device = x.device
        a = self.uniform((n,), self.factor[0], self.factor[1], device).clamp(min=1e-3)
        lam = self._beta_per_sample(a)
        cut = torch.sqrt(1.0 - lam)
        cy = self.uniform((n,), 0.0, float(h), device)
        cx = self.uniform((n,), 0.0, float(w), device)
        top = torch.round(cy - cut * h / 2).clamp(0, h)
        bottom = torch.round(cy + cut * h / 2).clamp(0, h)
        left = torch.round(cx - cut * w / 2).clamp(0, w)
        right = torch.round(cx + cut * w / 2).clamp(0, w)
        rows = torch.arange(h, device=device, dtype=top.dtype)[None, :, None]
        cols = torch.arange(w, device=device, dtype=top.dtype)[None, None, :]
        box = ((rows >= top[:, None, None]) & (rows < bottom[:, None, None])
               & (cols >= left[:, None, None]) & (cols < right[:, None, None])).unsqueeze(1)
        x = torch.where(box, x[partner], x)
        if labels is not None:
            kept = 1.0 - (bottom - top) * (right - left) / (h * w)
            labels = labels.to(x.dtype) if not labels.dtype.is_floating_point else labels
            wl = _weights(kept, labels)
            labels = wl * labels + (1 - wl) * labels[partner]
        return x, labels

    def _beta_per_sample(self, a: torch.Tensor) -> torch.Tensor:
        g = torch._standard_gamma(torch.stack([a, a]), generator=self._rng(a.device))
        return g[0] / (g[0] + g[1]).clamp(min=1e-12)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "seed": self.seed}
