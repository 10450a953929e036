"""``MixUp`` (Zhang et al. 2017): each image blended with another image of the batch, labels alike.

Per call: one random permutation pairs every sample with a partner, and each pair gets a weight
``lam ~ Beta(alpha, alpha)``; images become ``lam x + (1 - lam) x[partner]`` and labels likewise.
Inputs are an image batch or, as in Keras, a dict with ``"images"`` and optionally ``"labels"``.
"""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.augmentation import ImageAugmentation
from cornu.layers.preprocessing.image.resizing import check_image_rank


class BatchMixing(ImageAugmentation):
    """Shared call of the layers that mix samples of a batch: dict or tensor in, the same structure out."""

    def call(self, inputs, training=True):
        data = dict(inputs) if isinstance(inputs, dict) else {"images": inputs}
        images = data["images"]
        check_image_rank(images)
        dtype = self._compute_torch_dtype or torch.float32
        images = images if images.dtype == dtype else images.to(dtype)
        if training:
            single = images.ndim == 3
            x = images.unsqueeze(0) if single else images
            labels = data.get("labels")
            partner = torch.randperm(x.shape[0], generator=self._rng(x.device), device=x.device)
            x, labels = self.mix(x, labels, partner)
            images = x[0] if single else x
            if labels is not None:
                data["labels"] = labels
        data["images"] = images
        return data if isinstance(inputs, dict) else images

    def mix(self, x: torch.Tensor, labels, partner: torch.Tensor):
        """The mixed channels-as-given batch and labels (None when absent)."""
        raise NotImplementedError

    def beta(self, n: int, alpha: float, device: torch.device) -> torch.Tensor:
        """``(n,)`` draws of Beta(alpha, alpha) from the layer's generator."""
        concentration = torch.full((2, n), float(alpha), device=device)
        g = torch._standard_gamma(concentration, generator=self._rng(device))
        return g[0] / (g[0] + g[1])

    def compute_output_shape(self, input_shape):
        return input_shape


def _weights(lam: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return lam.to(like.dtype).reshape(-1, *([1] * (like.ndim - 1)))


class MixUp(BatchMixing):
    """Blends each sample with a random partner by ``lam ~ Beta(alpha, alpha)`` (images and labels)."""

    def __init__(self, alpha: float = 0.2, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.alpha = alpha

    def mix(self, x, labels, partner):
        lam = self.beta(x.shape[0], self.alpha, x.device)
        w = _weights(lam, x)
        x = w * x + (1 - w) * x[partner]
        if labels is not None:
            labels = labels.to(x.dtype) if not labels.dtype.is_floating_point else labels
            wl = _weights(lam, labels)
            labels = wl * labels + (1 - wl) * labels[partner]
        return x, labels

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha, "seed": self.seed}
