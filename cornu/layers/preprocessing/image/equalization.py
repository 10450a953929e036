"""``Equalization``: histogram equalization of each image channel."""
from __future__ import annotations

import torch

from cornu.layers.preprocessing.image.random_color import ColorAugmentation, value_range_pair


class Equalization(ColorAugmentation):
    """Maps each value to ``round(255 (cdf - cdf_min) / (n - cdf_min))`` of its channel's histogram.

    Values fall in ``bins`` bins, ``floor((x - low) / (high - low) * (bins - 1))`` (clipped); the
    equalized level is mapped back onto ``value_range``. A channel whose values all share one bin
    is kept. As Keras's torch backend computes it, each channel's histogram pools the whole batch,
    and the layer is the identity when called with ``training=False``. All channels are counted in
    one ``scatter_add`` on the device.
    """

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range_pair(value_range)
        self.bins = bins

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        low, high = self.value_range
        axis = self.channel_axis
        values = x.movedim(axis, 0)
        shape = values.shape
        values = values.reshape(shape[0], -1)
        bins = ((values - low) / (high - low) * (self.bins - 1)).floor().clamp(0, self.bins - 1).long()
        hist = torch.zeros((shape[0], self.bins), dtype=torch.int64, device=x.device)
        hist.scatter_add_(1, bins, torch.ones_like(bins))
        cdf = hist.cumsum(1)
        cdf_min = cdf.gather(1, bins.amin(1, keepdim=True))
        denominator = values.shape[1] - cdf_min
        flat = denominator == 0
        denominator = torch.where(flat, torch.ones_like(denominator), denominator).to(x.dtype)
        lut = torch.round((cdf - cdf_min).to(x.dtype) / denominator * 255)
        y = lut.gather(1, bins) / 255 * (high - low) + low
        y = torch.where(flat, values, y)
        return y.reshape(shape).movedim(0, axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "bins": self.bins, "value_range": self.value_range}
