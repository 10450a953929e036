"""``RandomPosterization``: keep only the top ``bits`` bits of each 8-bit channel value."""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.random_color import ColorAugmentation, factor_pair, value_range_pair


class RandomPosterization(ColorAugmentation):
    """Reduces each image to ``bits`` bits per channel, ``bits`` drawn per image from ``factor``.

    Images are mapped from ``value_range`` onto ``[0, 255]``, truncated to 8-bit integers (values
    outside wrap modulo 256, as a cast to ``uint8`` does), masked, and mapped back. A factor pair
    ``(a, b)`` with ``a < b`` draws integer bits in ``[a, b)``; ``a == b`` pins them, as in Keras.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_pair(factor, 1, 8, lambda f: (1, f))
        self.value_range = value_range_pair(value_range)

    def _mask(self, x: torch.Tensor) -> torch.Tensor | int:
        """The per-image bit mask ``(255 << (8 - bits)) & 255``: a Python int when ``bits`` is pinned."""
        low, high = self.factor
        if low == high:
            return (255 << (8 - int(low))) & 255
        if not (isinstance(low, int) and isinstance(high, int)):
            raise TypeError(f"RandomPosterization draws integer bits: `factor` must hold integers to be drawn "
                            f"from. Received: factor={self.factor}")
        bits = torch.randint(low, high, (x.shape[0], 1, 1, 1), generator=self._rng(x.device), device=x.device,
                             dtype=torch.int32)
        return torch.bitwise_and(torch.bitwise_left_shift(torch.full_like(bits, 255), 8 - bits), 255)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        low, high = self.value_range
        levels = ((x - low) / (high - low) * 255).to(torch.int32)
        kept = torch.bitwise_and(levels, self._mask(x)).to(x.dtype)
        return kept / 255 * (high - low) + low

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range, "seed": self.seed}
