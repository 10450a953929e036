"""``RandomGaussianBlur``: each chosen image blurred with its own random sigma, in one grouped convolution."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from cornu.layers.preprocessing.image.augmentation import ImageAugmentation
from cornu.layers.preprocessing.image.factor_utils import chosen, unit_range, where_chosen


class RandomGaussianBlur(ImageAugmentation):
    """Blurs each image (probability from ``factor``) with a ``kernel_size`` Gaussian of sigma drawn from ``sigma``.

    The kernel is zero padded to keep the size, as ``ops.image.gaussian_blur``; results are clipped to
    ``value_range``.
    """

    def __init__(self, factor=1.0, kernel_size: int = 3, sigma=1.0, value_range=(0, 255), data_format=None,
                 seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = unit_range(factor)
        if isinstance(kernel_size, int):
            kernel_size = (kernel_size, kernel_size)
        if len(kernel_size) != 2 or any(not isinstance(k, int) or k < 1 for k in kernel_size):
            raise ValueError(f"`kernel_size` must be a positive integer or a pair of them. "
                             f"Received: kernel_size={kernel_size}")
        self.kernel_size = tuple(kernel_size)
        self.sigma = unit_range(sigma, "sigma")
        self.value_range = value_range

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        work = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
        sigma = self.uniform((n, 1), self.sigma[0], self.sigma[1], x.device).to(work).clamp(min=1e-6)
        kh, kw = self.kernel_size

        def taps(size: int) -> torch.Tensor:
            t = torch.arange(size, device=x.device, dtype=work) - (size - 1) / 2
            k = torch.exp(-(t ** 2) / (2 * sigma ** 2))
            return k / k.sum(dim=1, keepdim=True)

        kernels = taps(kh)[:, :, None] * taps(kw)[:, None, :]  # (n, kh, kw)
        weight = kernels[:, None].expand(n, c, kh, kw).reshape(n * c, 1, kh, kw)
        padded = F.pad(x.to(work).reshape(1, n * c, h, w), ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2))
        blurred = F.conv2d(padded, weight, groups=n * c).reshape(n, c, h, w)
        blurred = blurred.clamp(min(self.value_range), max(self.value_range)).to(x.dtype)
        return where_chosen(chosen(self, n, self.factor, x.device), blurred, x)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "kernel_size": self.kernel_size, "sigma": self.sigma,
                "value_range": self.value_range, "seed": self.seed}
