"""``Discretization``: bucket numbers by ``bin_boundaries``, given or learned as quantiles by ``adapt``.

``adapt`` streams: each batch is sorted and merged into a weighted summary of
at most about ``2 / epsilon`` points (each point standing for the samples it
replaced), so quantiles are exact while the data fit the summary and within
about ``epsilon`` of the true rank beyond.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from cornu.layers.layer import Layer
from cornu.layers.preprocessing.category_encoding import encode_tokens, encoded_shape
from cornu.layers.preprocessing.normalization import iterate_batches

_MODES = ("int", "one_hot", "multi_hot", "count")


class QuantileSummary:
    """Sorted values with weights (how many samples each stands for); bounded by compression."""

    def __init__(self, epsilon: float):
        self.max_size = max(int(math.ceil(2.0 / epsilon)), 2)
        self.values: torch.Tensor | None = None
        self.weights: torch.Tensor | None = None

    def add(self, x: torch.Tensor) -> None:
        v = x.reshape(-1).to(torch.float64)
        w = torch.ones_like(v)
        if self.values is not None:
            v, w = torch.cat([self.values, v]), torch.cat([self.weights, w])
        order = torch.argsort(v, stable=True)
        self.values, self.weights = v[order], w[order]
        if self.values.numel() > self.max_size:
            self._compress()

    def _mid_ranks(self) -> torch.Tensor:
        """Each point's rank position: the middle of the samples it stands for (its index for unit weights)."""
        return torch.cumsum(self.weights, 0) - self.weights / 2 - 0.5

    def _compress(self) -> None:
        """Keep ``max_size`` points at the middles of equal shares of the weight, interpolated between points."""
        total = float(self.weights.sum())
        mid = self._mid_ranks().cpu().numpy()
        targets = (np.arange(self.max_size) + 0.5) / self.max_size * total - 0.5
        values = np.interp(targets, mid, self.values.cpu().numpy())
        self.values = torch.as_tensor(values, device=self.values.device)
        self.weights = torch.full_like(self.values, total / self.max_size)

    def quantiles(self, qs: list[float]) -> list[float]:
        """Linearly interpolated quantiles (NumPy's default method while no compression happened)."""
        if self.values is None or not qs:
            return []
        total = float(self.weights.sum())
        mid, values = self._mid_ranks().cpu().numpy(), self.values.cpu().numpy()
        return [float(np.interp(q * (total - 1), mid, values)) for q in qs]


class Discretization(Layer):
    """Maps each value to the index of its bin (``bins[i-1] <= x < bins[i]``), or encodes the bin ids.

    ``output_mode="int"`` returns ``int32`` ids; ``one_hot``/``multi_hot``/``count``
    return vectors of ``len(bin_boundaries) + 1`` in the layer's dtype.
    """

    def __init__(self, bin_boundaries=None, num_bins: int | None = None, epsilon: float = 0.01,
                 output_mode: str = "int", sparse: bool = False, dtype=None, name: str | None = None):
        super().__init__(dtype=dtype, name=name)
        if sparse:
            raise ValueError("`sparse=True` cannot be used with backend torch")
        if output_mode not in _MODES:
            raise ValueError(f"Unknown value for `output_mode` argument of Discretization. Allowed values are: "
                             f"{_MODES}. Received: output_mode={output_mode}")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError("Both `num_bins` and `bin_boundaries` should not be set. Received: "
                                 f"`num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        if isinstance(bin_boundaries, (np.ndarray, torch.Tensor)):
            bin_boundaries = np.asarray(bin_boundaries).tolist()
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse

    def adapt(self, data, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn ``num_bins - 1`` boundaries at evenly spaced quantiles of all values in ``data``."""
        if self.num_bins is None:
            raise ValueError("Cannot adapt a Discretization layer that has been initialized with "
                             "`bin_boundaries`, use `num_bins` instead.")
        summary = QuantileSummary(self.epsilon)
        for x in iterate_batches(data, batch_size, steps):
            summary.add(x)
        self.bin_boundaries = summary.quantiles([i / self.num_bins for i in range(1, self.num_bins)])

    @property
    def _num_tokens(self) -> int:
        return len(self.bin_boundaries) + 1

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError("You need to either pass the `bin_boundaries` argument at construction time or call "
                             "`adapt(dataset)` before you can start using the `Discretization` layer.")
        x = torch.as_tensor(inputs)
        if not x.is_floating_point():
            x = x.to(torch.float64)
        boundaries = torch.as_tensor(self.bin_boundaries, dtype=x.dtype, device=x.device)
        ids = torch.bucketize(x.contiguous(), boundaries, right=True).to(torch.int32)
        if self.output_mode == "int":
            return ids
        dtype = self._compute_torch_dtype or torch.float32
        return encode_tokens(ids, self._num_tokens, self.output_mode, dtype)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        if self.bin_boundaries is None:
            return tuple(input_shape[:-1]) + (None,)
        return encoded_shape(input_shape, self._num_tokens, self.output_mode)

    def compute_output_spec(self, inputs):
        from cornu.symbolic import KerasTensor

        shape = self.compute_output_shape(tuple(inputs.shape))
        return KerasTensor(shape, dtype="int32" if self.output_mode == "int" else self.compute_dtype)

    def get_config(self) -> dict:
        return {"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins, "epsilon": self.epsilon,
                "output_mode": self.output_mode, "sparse": self.sparse, "name": self.name,
                "dtype": self.dtype}
