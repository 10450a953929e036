"""``SpectralNormalization``: divides a wrapped layer's kernel by its largest singular value while training."""
from __future__ import annotations

import torch

from cornu import initializers
from cornu.layers.wrapper import Wrapper


def _l2_normalize(x: torch.Tensor) -> torch.Tensor:
    return x * torch.rsqrt(torch.clamp((x * x).sum(), min=1e-12))


class SpectralNormalization(Wrapper):
    """Keeps the spectral norm of ``layer.kernel`` (or ``layer.embeddings``) at one (Miyato et al., 2018).

    ``vector_u`` estimates the leading left singular vector of the kernel viewed
    as ``(-1, out)``. Each training call runs ``power_iterations`` steps of power
    iteration, stores the new estimate, and overwrites the kernel with
    ``kernel / sigma``; inference calls run the layer unchanged.
    """

    def __init__(self, layer, power_iterations: int = 1, **kwargs):
        super().__init__(layer, **kwargs)
        if power_iterations <= 0:
            raise ValueError("`power_iterations` should be greater than zero. Received: "
                             f"`power_iterations={power_iterations}`")
        self.power_iterations = power_iterations

    def build(self, input_shape) -> None:
        super().build(input_shape)
        if hasattr(self.layer, "kernel"):
            self.kernel = self.layer.kernel
        elif hasattr(self.layer, "embeddings"):
            self.kernel = self.layer.embeddings
        else:
            raise ValueError(f"{type(self.layer).__name__} object has no attribute 'kernel' nor 'embeddings'")
        self.kernel_shape = self.kernel.shape
        self.vector_u = self.add_weight(shape=(1, self.kernel_shape[-1]),
                                        initializer=initializers.TruncatedNormal(stddev=0.02), trainable=False,
                                        name="vector_u", dtype=self.variable_dtype)
        self.built = True

    def call(self, inputs, training: bool = False):
        if training:
            new_u, new_kernel = self.normalized_weights()
            self.vector_u.assign(new_u)
            self.kernel.assign(new_kernel)
        return self.layer(inputs)

    def normalized_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(vector_u, kernel / sigma)`` after ``power_iterations`` steps of power iteration."""
        with torch.no_grad():
            weights = self.kernel.keras_value.detach()
            w = weights.reshape(-1, self.kernel_shape[-1]).to(self.vector_u.value.dtype)
            u = self.vector_u.value.detach()
            for _ in range(self.power_iterations):
                v = _l2_normalize(u @ w.T)
                u = _l2_normalize(v @ w)
            sigma = v @ w @ u.T
            return u, (w / sigma).reshape(self.kernel_shape).to(weights.dtype)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "power_iterations": self.power_iterations}
