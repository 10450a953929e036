"""``AugMix`` (Hendrycks et al. 2019): several short chains of augmentations, mixed, then mixed with the input.

Each call builds ``num_chains`` chains of 1 to ``chain_depth`` operations (picked on the CPU, the
RandAugment list of strength ``factor``; ``all_ops=False`` leaves out brightness, color
degeneration, contrast and sharpness). Per image, chain weights ``w ~ Dirichlet(alpha)`` and a
skip weight ``m ~ Beta(alpha, alpha)`` give ``m x + (1 - m) sum_k w_k chain_k(x)``.
"""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.factor_utils import unit_range
from cornu.layers.preprocessing.image.rand_augment import ComposedAugmentation, augmentation_ops


class AugMix(ComposedAugmentation):
    """Mixes ``num_chains`` random augmentation chains of each image with the image itself."""

    def __init__(self, value_range=(0, 255), num_chains: int = 3, chain_depth: int = 3, factor=0.3,
                 alpha: float = 1.0, all_ops: bool = True, interpolation: str = "bilinear", seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range
        self.num_chains = num_chains
        self.chain_depth = chain_depth
        self.factor = unit_range(factor)
        self.alpha = alpha
        self.all_ops = all_ops
        self.interpolation = interpolation
        self.augmentations = augmentation_ops(self.factor, value_range, interpolation, seed, self.data_format,
                                              color=all_ops)

    def _gamma(self, concentration: torch.Tensor) -> torch.Tensor:
        return torch._standard_gamma(concentration, generator=self._rng(concentration.device))

    def compose(self, x):
        if self.num_chains < 1:
            return x
        n = x.shape[0] if x.ndim == 4 else 1
        shape = (n, 1, 1, 1) if x.ndim == 4 else (1, 1, 1)
        chains = torch.zeros_like(x)
        weights = self._gamma(torch.full((self.num_chains, n), float(self.alpha), device=x.device))
        weights = weights / weights.sum(dim=0, keepdim=True)
        for k in range(self.num_chains):
            y = x
            depth = 1 + self.pick(1, max(self.chain_depth, 1))[0]
            for index in self.pick(depth, len(self.augmentations)):
                y = self.augmentations[index](y, training=True)
            chains = chains + weights[k].to(x.dtype).reshape(shape) * y
        g = self._gamma(torch.full((2, n), float(self.alpha), device=x.device))
        skip = (g[0] / (g[0] + g[1])).to(x.dtype).reshape(shape)
        return skip * x + (1 - skip) * chains

    def get_config(self) -> dict:
        return {**super().get_config(), "value_range": self.value_range, "num_chains": self.num_chains,
                "chain_depth": self.chain_depth, "factor": self.factor, "alpha": self.alpha, "all_ops": self.all_ops,
                "interpolation": self.interpolation, "seed": self.seed}
