"""A one-input-channel convolution on CPU as one matrix product (im2col).

oneDNN's direct convolution is slow when the input has a single channel (a
grayscale image, a mono signal): the tutorial's first ``Conv2D`` spends more
time there than in any other kernel. Its patches are small, though: ``k`` rows
of the input per kernel tap. Stacking them into a ``(taps + 1, positions)``
matrix, with a row of ones that carries the bias, turns the forward pass into
one GEMM that writes the output in ``channels_last`` order and the weight
gradient into one GEMM that also yields the bias gradient. Used only where it
wins (CPU, one input channel, an input that needs no gradient, no more taps than
filters, not under ``torch.compile``); ``bench/tutorial_cnn.py`` measures it.
"""
from __future__ import annotations

import itertools
from typing import Sequence

import torch


def applies(x: torch.Tensor, kernel: torch.Tensor, groups: int) -> bool:
    """Whether :func:`convolve` beats the library convolution for this call.

    ``x`` is the channels-first view, ``kernel`` the torch-layout ``(out, in, *k)``
    weight.
    """
    if x.device.type != "cpu" or groups != 1 or x.shape[1] != 1 or not x.dtype.is_floating_point:
        return False
    if x.requires_grad and torch.is_grad_enabled():
        return False
    if torch.compiler.is_compiling():
        return False
    taps = kernel[0].numel()
    return taps + 1 <= kernel.shape[0]


def convolve(x: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor | None, strides: Sequence[int],
             padding: Sequence[int], dilation: Sequence[int]) -> torch.Tensor:
    """``conv{1,2,3}d(x, kernel, bias, strides, padding, dilation)`` for a one-channel ``x``.

    Returns the channels-first view of a ``channels_last`` result, as the
    library convolution does for ``channels_last`` inputs.
    """
    rank = x.ndim - 2
    if any(padding):
        flat: list[int] = []
        for p in reversed(padding):
            flat += [p, p]
        x = torch.nn.functional.pad(x, flat)
    n, spatial = x.shape[0], x.shape[2:]
    filters, sizes = kernel.shape[0], kernel.shape[2:]
    out = [(spatial[i] - (sizes[i] - 1) * dilation[i] - 1) // strides[i] + 1 for i in range(rank)]
    taps = kernel[0].numel()
    rows = taps + (bias is not None)
    patches = x.new_empty((rows, n, *out))
    if bias is not None:
        patches[taps].fill_(1)
    image = x[:, 0]
    views = []
    for offset in itertools.product(*(range(k) for k in sizes)):
        index = tuple(slice(o * d, o * d + s * (m - 1) + 1, s)
                      for o, d, s, m in zip(offset, dilation, strides, out))
        views.append(image[(slice(None),) + index])
    torch.stack(views, 0, out=patches[:taps])
    weight = kernel.reshape(filters, taps).t()
    if bias is not None:
        weight = torch.cat([weight, bias.unsqueeze(0)], 0)
    y = patches.view(rows, -1).t() @ weight
    return y.view(n, *out, filters).movedim(-1, 1)
