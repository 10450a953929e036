"""``keras.ops.rearrange``: einops-style axis patterns (``"b h w c -> b (h w) c"``) on torch tensors.

A small parser of its own: each side is a list of axis groups (a name, a
parenthesized group of names, ``...`` or ``1``); the input is reshaped to
its elementary axes, permuted to the output order and reshaped to the
output groups, so the whole op is views plus at most one copy.
"""
from __future__ import annotations

import math
import re
from typing import Any

import torch

from cornu.ops.core import _tensor, symbolic_op

_ELLIPSIS = "..."
_TOKEN = re.compile(r"\.\.\.|\(|\)|[A-Za-z_][A-Za-z0-9_]*|\d+|\S")


def _parse_side(side: str, pattern: str) -> list[list[str]]:
    """Axis groups of one side of the pattern; ``1`` and ``()`` are groups without names."""
    groups: list[list[str]] = []
    current: list[str] | None = None
    for tok in _TOKEN.findall(side):
        if tok == "(":
            if current is not None:
                raise ValueError(f"Nested parentheses in rearrange pattern {pattern!r}")
            current = []
        elif tok == ")":
            if current is None:
                raise ValueError(f"Unbalanced parentheses in rearrange pattern {pattern!r}")
            groups.append(current)
            current = None
        elif tok == _ELLIPSIS or tok.isidentifier() or tok == "1":
            names = [] if tok == "1" else [tok]
            if current is None:
                groups.append(names)
            else:
                current.extend(names)
        else:
            raise ValueError(f"Invalid token {tok!r} in rearrange pattern {pattern!r}")
    if current is not None:
        raise ValueError(f"Unbalanced parentheses in rearrange pattern {pattern!r}")
    names = [n for g in groups for n in g]
    if len(set(names)) != len(names):
        raise ValueError(f"Repeated axis name in rearrange pattern {pattern!r}")
    return groups


def _expand_ellipsis(groups: list[list[str]], count: int) -> list[list[str]]:
    """Replace ``...`` by ``count`` numbered elementary axes (inside a group they stay in it)."""
    dots = [f"...{i}" for i in range(count)]
    out = []
    for g in groups:
        if g == [_ELLIPSIS]:
            out.extend([d] for d in dots)
        elif _ELLIPSIS in g:
            i = g.index(_ELLIPSIS)
            out.append(g[:i] + dots + g[i + 1:])
        else:
            out.append(g)
    return out


@symbolic_op
def rearrange(tensor: Any, pattern: str, **axes_lengths: int) -> torch.Tensor:
    """Reshape and transpose ``tensor`` as the einops ``pattern`` says, e.g. ``"b (h w) c -> b h w c"``."""
    x = _tensor(tensor)
    if "->" not in pattern:
        raise ValueError(f"Rearrange pattern must contain '->'. Received: pattern={pattern!r}")
    left_s, right_s = pattern.split("->")
    left, right = _parse_side(left_s, pattern), _parse_side(right_s, pattern)
    has_dots = any(_ELLIPSIS in g for g in left)
    if has_dots != any(_ELLIPSIS in g for g in right):
        raise ValueError(f"Ellipsis must appear on both sides or neither of {pattern!r}")
    if any(_ELLIPSIS in g and len(g) > 1 for g in left):
        raise ValueError(f"Ellipsis cannot be inside parentheses on the input side of {pattern!r}")
    n_dots = x.ndim - (len(left) - 1) if has_dots else 0
    if (has_dots and n_dots < 0) or (not has_dots and len(left) != x.ndim):
        raise ValueError(f"Pattern {pattern!r} expects {len(left)} axes; the input has shape {tuple(x.shape)}")
    left, right = _expand_ellipsis(left, n_dots), _expand_ellipsis(right, n_dots)
    left_names = [n for g in left for n in g]
    right_names = [n for g in right for n in g]
    if set(left_names) != set(right_names):
        raise ValueError(f"Axes {sorted(set(left_names) ^ set(right_names))} appear on only one side of {pattern!r}")
    unknown = set(axes_lengths) - set(left_names)
    if unknown:
        raise ValueError(f"Axis lengths given for axes not in the pattern {pattern!r}: {sorted(unknown)}")
    sizes: dict[str, int] = {}
    for group, dim in zip(left, x.shape):
        known = [n for n in group if n in axes_lengths]
        free = [n for n in group if n not in axes_lengths]
        product = math.prod(int(axes_lengths[n]) for n in known)
        if len(free) > 1:
            raise ValueError(f"Cannot infer the sizes of {free} in {pattern!r}: give all but one in axes_lengths")
        if (free and (product == 0 or dim % product)) or (not free and product != dim):
            raise ValueError(f"Shape mismatch: axis of size {dim} cannot be split as {group} with {axes_lengths}")
        sizes.update({n: int(axes_lengths[n]) for n in known})
        if free:
            sizes[free[0]] = dim // product
    elementary = x.reshape([sizes[n] for n in left_names])
    permuted = elementary.permute([left_names.index(n) for n in right_names])
    return permuted.reshape([math.prod(sizes[n] for n in g) for g in right])


__all__ = ["rearrange"]
