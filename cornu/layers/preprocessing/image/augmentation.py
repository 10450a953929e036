"""``ImageAugmentation``: the base of the random image layers.

As in Keras, augmentation runs unless the call is told ``training=False`` (explicitly or by
an enclosing call such as ``predict``): calling the layer on its own, with no training flag
anywhere, augments. Each call draws one batch of parameters from the layer's own generator
(when ``seed`` is given) and transforms the whole batch in one fused operation.
"""
from __future__ import annotations

import torch

from cornu import symbolic
from cornu.layers import layer as layer_module
from cornu.layers.preprocessing.image.resizing import check_image_rank
from cornu.layers.regularization import SeededLayer
from cornu.utils import conv_utils


class ImageAugmentation(SeededLayer):
    """A seeded layer on channels-last (or channels-first) images, 3-D or batched 4-D."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.supports_masking = False

    def __call__(self, *args, **kwargs):
        stack = layer_module._CALL_STACK
        if kwargs.get("training") is None and (not stack or stack[-1].training is None) and \
                not symbolic.is_symbolic(*args, **kwargs):
            kwargs["training"] = True  # a concrete call with no training flag anywhere (never recorded in graphs)
        return super().__call__(*args, **kwargs)

    def call(self, inputs, training=True):
        check_image_rank(inputs)
        dtype = self._compute_torch_dtype or torch.float32
        x = inputs if inputs.dtype == dtype else inputs.to(dtype)
        if not training:
            return x
        single = x.ndim == 3
        x = x.unsqueeze(0) if single else x
        y = self.augment(conv_utils.to_channels_first(x, self.data_format))
        y = conv_utils.to_channels_last(y, self.data_format)
        return y[0] if single else y

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        """The random transform of an NCHW batch."""
        raise NotImplementedError

    def uniform(self, shape: tuple, low, high, device: torch.device) -> torch.Tensor:
        """Uniform draws in ``[low, high)`` (float32) from the layer's generator."""
        u = torch.rand(shape, generator=self._rng(device), device=device)
        return low + (high - low) * u

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}
