"""Merging layers: combine a list of tensors (``Add()([a, b])``) and their functional forms."""
from __future__ import annotations

from typing import Any, Sequence

import torch

from cornu import config
from cornu.layers.layer import AxisError, Layer


def _is_shape_list(input_shape: Any) -> bool:
    return isinstance(input_shape, (list, tuple)) and len(input_shape) > 0 and all(
        s is None or isinstance(s, (list, tuple)) for s in input_shape)


def _broadcast_shapes(shape1: tuple | None, shape2: tuple | None) -> tuple | None:
    """Right-aligned broadcast of two (batch-less) shapes; ValueError when incompatible."""
    if shape1 is None or shape2 is None:
        return None
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    if not shape2:
        return tuple(shape1)
    out = list(shape1[:len(shape1) - len(shape2)])
    for i, j in zip(shape1[len(shape1) - len(shape2):], shape2):
        if i is None or j is None:
            out.append(None)
        elif i == 1:
            out.append(j)
        elif j == 1 or i == j:
            out.append(i)
        else:
            raise ValueError(f"Inputs have incompatible shapes. Received shapes {tuple(shape1)} and {tuple(shape2)}")
    return tuple(out)


class Merge(Layer):
    """Base of the element-wise merging layers: inputs are broadcast (batch axis aligned)."""

    min_inputs = 1

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check_shapes(self, input_shape: Any) -> list:
        if not _is_shape_list(input_shape):
            raise ValueError(f"A merge layer should be called on a list of inputs. "
                             f"Received: input_shape={input_shape} (not a list of shapes)")
        if len(input_shape) < self.min_inputs:
            raise ValueError(f"A merge layer should be called on a list of at least {self.min_inputs} "
                             f"input(s). Got {len(input_shape)} inputs. Full input_shape received: {input_shape}")
        shapes = [None if s is None else tuple(s) for s in input_shape]
        batch_sizes = {s[0] for s in shapes if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(f"Cannot merge tensors with different batch sizes. Got tensors with shapes {shapes}")
        return shapes

    def build(self, input_shape) -> None:
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        shapes = self._check_shapes(input_shape)
        out = None if shapes[0] is None else shapes[0][1:]
        try:
            for s in shapes[1:]:
                out = _broadcast_shapes(out, None if s is None else s[1:])
        except ValueError as e:
            raise ValueError(f"{e} (batch axis excluded). Full input shapes: {shapes}") from None
        batch_sizes = {s[0] for s in shapes if s} - {None}
        batch = next(iter(batch_sizes)) if len(batch_sizes) == 1 else None
        return None if out is None else (batch,) + out

    def _merge_function(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A merge layer should be called on a list of inputs. Received: inputs={inputs!r} "
                             "(not a list of tensors)")
        ranks = [x.ndim for x in inputs]
        top = max(ranks)
        if min(ranks) != top:
            # Batch axis stays aligned: missing axes are inserted right after it.
            inputs = [x.reshape(x.shape[:1] + (1,) * (top - x.ndim) + x.shape[1:]) for x in inputs]
        return self._merge_function(list(inputs))

    def compute_mask(self, inputs, mask=None):
        """A position is kept when it is kept in every input."""
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)) or len(mask) != len(inputs):
            raise ValueError(f"`mask` should be a list of the same length as `inputs`. Received: mask={mask!r}")
        masks = [m.bool() for m in mask if m is not None]
        if not masks:
            return None
        out = masks[0]
        for m in masks[1:]:
            out = out & m
        return out


class Add(Merge):
    """Element-wise sum of a list of inputs."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Subtract(Merge):
    """``inputs[0] - inputs[1]`` for exactly two inputs."""

    def _check_shapes(self, input_shape):
        shapes = super()._check_shapes(input_shape)
        if len(shapes) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. "
                             f"Received: input_shape={input_shape}")
        return shapes

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: {len(inputs)} inputs")
        return inputs[0] - inputs[1]


class Multiply(Merge):
    """Element-wise product of a list of inputs."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Average(Merge):
    """Element-wise mean of a list of inputs."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out / len(inputs)


class Maximum(Merge):
    """Element-wise maximum of a list of inputs."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = torch.maximum(out, x)
        return out


class Minimum(Merge):
    """Element-wise minimum of a list of inputs."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = torch.minimum(out, x)
        return out


class Concatenate(Merge):
    """Concatenates a list of inputs along ``axis``; other axes must match."""

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _check_shapes(self, input_shape):
        if not _is_shape_list(input_shape) or any(s is None for s in input_shape):
            raise ValueError(f"A `Concatenate` layer should be called on a list of at least 1 input. "
                             f"Received: input_shape={input_shape}")
        shapes = [tuple(s) for s in input_shape]
        message = ("A `Concatenate` layer requires inputs with matching shapes except for the concatenation "
                   f"axis. Received: input_shape={shapes}")
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes):
            raise ValueError(message)
        if not -rank <= self.axis < rank:
            raise AxisError(f"Invalid `axis` {self.axis} for inputs of rank {rank}. Received: input_shape={shapes}")
        axis = self.axis % rank
        for dim in range(rank):
            known = {s[dim] for s in shapes} - {None}
            if dim != axis and len(known) > 1:
                raise ValueError(message)
        return shapes

    def compute_output_shape(self, input_shape):
        shapes = self._check_shapes(input_shape)
        axis = self.axis % len(shapes[0])
        out = []
        for dim in range(len(shapes[0])):
            values = [s[dim] for s in shapes]
            if dim == axis:
                out.append(None if None in values else sum(values))
            else:
                out.append(next((v for v in values if v is not None), None))
        return tuple(out)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A `Concatenate` layer should be called on a list of inputs. Received: inputs={inputs!r}")
        return torch.cat(list(inputs), dim=self.axis)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)) or len(mask) != len(inputs):
            raise ValueError(f"`mask` should be a list of the same length as `inputs`. Received: mask={mask!r}")
        if all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask):
            if m is None:
                masks.append(torch.ones(x.shape, dtype=torch.bool, device=x.device))
            elif m.ndim < x.ndim:
                masks.append(m.bool().unsqueeze(-1).expand(x.shape))
            else:
                masks.append(m.bool())
        return torch.cat(masks, dim=self.axis).any(dim=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class Dot(Merge):
    """Batched dot product of two inputs over ``axes`` (optionally of L2-normalised inputs)."""

    def __init__(self, axes, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(f"Invalid type for argument `axes`: it should be a list or an int. "
                                f"Received: axes={axes!r}")
            if len(axes) != 2:
                raise ValueError(f"Invalid format for argument `axes`: it should contain two elements. "
                                 f"Received: axes={axes!r}")
            if not all(isinstance(a, int) for a in axes):
                raise ValueError(f"Invalid format for argument `axes`: list elements should be integers. "
                                 f"Received: axes={axes!r}")
            axes = tuple(axes)
        self.axes = axes
        self.normalize = normalize

    def _resolve_axes(self, rank1: int, rank2: int) -> tuple[int, int]:
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        if not (-rank1 <= axes[0] < rank1 and -rank2 <= axes[1] < rank2):
            raise AxisError(f"Invalid `axes` {self.axes} for inputs of ranks {rank1} and {rank2}.")
        out = (axes[0] % rank1, axes[1] % rank2)
        if 0 in out:
            raise ValueError(f"Cannot perform a batched dot product over the batch axis 0. Received: axes={self.axes}")
        return out

    def _check_shapes(self, input_shape):
        if not _is_shape_list(input_shape) or len(input_shape) != 2 or None in input_shape:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. "
                             f"Received: input_shape={input_shape}")
        shape1, shape2 = tuple(input_shape[0]), tuple(input_shape[1])
        a1, a2 = self._resolve_axes(len(shape1), len(shape2))
        d1, d2 = shape1[a1], shape2[a2]
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError(f"Incompatible input shapes: axis values {d1} (at axis {a1}) != {d2} (at axis {a2}). "
                             f"Full input shapes: {shape1}, {shape2}")
        return [shape1, shape2]

    def compute_output_shape(self, input_shape):
        shape1, shape2 = self._check_shapes(input_shape)
        a1, a2 = self._resolve_axes(len(shape1), len(shape2))
        out = [d for i, d in enumerate(shape1) if i != a1] + [d for i, d in enumerate(shape2) if i not in (0, a2)]
        if len(out) == 1:
            out.append(1)
        return tuple(out)

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Dot` layer should be called on exactly 2 inputs. Received: {len(inputs)} inputs")
        x, y = inputs
        a1, a2 = self._resolve_axes(x.ndim, y.ndim)
        if self.normalize:
            x = _l2_normalize(x, a1)
            y = _l2_normalize(y, a2)
        return batch_dot(x, y, (a1, a2))

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: inputs={inputs!r}")
        return self._merge_function(list(inputs))

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self) -> dict:
        axes = self.axes if isinstance(self.axes, int) else list(self.axes)
        return {**super().get_config(), "axes": axes, "normalize": self.normalize}


def _l2_normalize(x: torch.Tensor, axis: int) -> torch.Tensor:
    square_sum = torch.sum(x * x, dim=axis, keepdim=True)
    return x * torch.rsqrt(torch.clamp(square_sum, min=config.epsilon()))


def batch_dot(x: torch.Tensor, y: torch.Tensor, axes: Sequence[int]) -> torch.Tensor:
    """Per-sample contraction of ``x`` axis ``axes[0]`` with ``y`` axis ``axes[1]`` (both > 0).

    Output shape: ``x``'s shape without the contracted axis, then ``y``'s
    without batch and contracted axes; a rank-1 result gets a trailing 1.
    """
    xm = x.movedim(axes[0], -1)
    ym = y.movedim(axes[1], 1)
    batch, k = xm.shape[0], xm.shape[-1]
    out = torch.bmm(xm.reshape(batch, -1, k), ym.reshape(batch, k, -1))
    out = out.reshape(xm.shape[:-1] + ym.shape[2:])
    return out.unsqueeze(1) if out.ndim == 1 else out


def add(inputs: list, **kwargs) -> Any:
    """Functional form of ``Add``."""
    return Add(**kwargs)(inputs)


def subtract(inputs: list, **kwargs) -> Any:
    """Functional form of ``Subtract``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list, **kwargs) -> Any:
    """Functional form of ``Multiply``."""
    return Multiply(**kwargs)(inputs)


def average(inputs: list, **kwargs) -> Any:
    """Functional form of ``Average``."""
    return Average(**kwargs)(inputs)


def maximum(inputs: list, **kwargs) -> Any:
    """Functional form of ``Maximum``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list, **kwargs) -> Any:
    """Functional form of ``Minimum``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: list, axis: int = -1, **kwargs) -> Any:
    """Functional form of ``Concatenate``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: list, axes=-1, normalize: bool = False, **kwargs) -> Any:
    """Functional form of ``Dot``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
