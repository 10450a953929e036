"""``EinsumDense``: a dense layer whose contraction is an einsum equation.

``EinsumDense("abc,cde->abde", output_shape=(None, 8, 16), bias_axes="de")``
maps ``(batch, seq, dim)`` to ``(batch, seq, 8, 16)`` with a ``(dim, 8, 16)``
kernel. The equation has three forms, as in Keras: ``X,Y->Z`` (every input axis
named), ``...X,Y->...Z`` (leading axes passed through) and ``X...,Y->Z...``
(trailing axes passed through). Weights are stored in Keras layout: torch's
einsum contracts any layout equally well, so no permutation is kept.
"""
from __future__ import annotations

import functools
import re

import torch
import torch.nn.functional as F

from cornu import activations, constraints, initializers, regularizers
from cornu.layers import lora
from cornu.layers.core import _ser
from cornu.layers.layer import Layer

_EQUATION_FORMS = (
    (re.compile(r"^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$"), None),
    (re.compile(r"^\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)$"), "left"),
    (re.compile(r"^([a-zA-Z]+)\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\.$"), "right"),
)


def parse_equation(equation: str) -> tuple[str, str, str, str | None]:
    """``(input_spec, kernel_spec, output_spec, elided)`` with ``elided`` None, ``"left"`` or ``"right"``."""
    if isinstance(equation, str):
        compact = equation.replace(" ", "")
        for pattern, elided in _EQUATION_FORMS:
            found = pattern.match(compact)
            if found:
                return found.group(1), found.group(2), found.group(3), elided
    raise ValueError(f"Invalid einsum equation {equation!r}. Equations must be in the form [X],[Y]->[Z], "
                     "...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")


@functools.lru_cache(maxsize=256)
def linear_plan(equation: str, ndim: int) -> int | None:
    """The number of contracted axes when ``equation`` is a plain projection, else None.

    A projection contracts the input's trailing axes with the kernel's leading ones in the same order,
    keeps the input's other axes in front and appends the kernel's remaining axes: ``abc,cde->abde``,
    ``abcd,cde->abe``, ``...b,bc->...c``. It runs as one ``F.linear`` on flattened views.
    """
    in_spec, w_spec, out_spec, elided = parse_equation(equation)
    if elided == "right" or len(set(in_spec + w_spec)) != len(in_spec) + len(w_spec) - \
            len(set(in_spec) & set(w_spec)):
        return None
    contracted = [c for c in in_spec if c in w_spec and c not in out_spec]
    n = len(contracted)
    kept, free = in_spec[:len(in_spec) - n], w_spec[n:]
    if not n or in_spec[len(in_spec) - n:] != w_spec[:n] or out_spec != kept + free or set(kept) & set(w_spec):
        return None
    if elided is None and ndim != len(in_spec):
        return None
    return n


def analyze_shapes(equation: str, input_shape: tuple, output_shape: tuple, bias_axes: str | None):
    """Kernel shape, bias shape (or None) and full output shape for ``input_shape``.

    ``output_shape`` leaves out the batch axis (and any axes the ellipsis
    passes through); a ``None`` in it stays unknown in the full output shape.
    """
    in_spec, w_spec, out_spec, elided_side = parse_equation(equation)
    input_shape = tuple(input_shape)
    n_elided = len(input_shape) - len(in_spec) if elided_side else 0
    if n_elided < 0 or (elided_side is None and len(input_shape) != len(in_spec)):
        raise ValueError(f"Einsum equation {equation!r} names {len(in_spec)} input axes, but the input has rank "
                         f"{len(input_shape)} (shape {input_shape}).")
    full = [input_shape[0]]
    if elided_side == "left":
        full += list(input_shape[1:n_elided])
    full += list(output_shape)
    if elided_side == "right" and n_elided:
        full += list(input_shape[len(input_shape) - n_elided:])
    if elided_side == "left":
        in_pos = {c: n_elided + i for i, c in enumerate(in_spec)}
        out_pos = {c: len(full) - len(out_spec) + i for i, c in enumerate(out_spec)}
    else:
        in_pos = {c: i for i, c in enumerate(in_spec)}
        out_pos = {c: i for i, c in enumerate(out_spec)}
    if any(not 0 <= p < len(full) for p in out_pos.values()):
        raise ValueError(f"`output_shape` {tuple(output_shape)} does not fit the output spec {out_spec!r} of "
                         f"equation {equation!r} for input shape {input_shape}.")
    for c in in_spec:
        if c in out_pos:
            d_in, d_out = input_shape[in_pos[c]], full[out_pos[c]]
            if d_out is not None and d_in is not None and d_in != d_out:
                raise ValueError(f"Input shape and output shape do not match at shared dimension {c!r}. Input "
                                 f"shape is {d_in}, and output shape is {d_out}.")
    for c in out_spec:
        if c not in in_spec and c not in w_spec:
            raise ValueError(f"Dimension {c!r} was specified in the output {out_spec!r} but has no corresponding "
                             f"dim in the input spec {in_spec!r} or weight spec {w_spec!r}")
    kernel_shape = []
    for c in w_spec:
        if c in in_pos:
            kernel_shape.append(input_shape[in_pos[c]])
        elif c in out_pos:
            kernel_shape.append(full[out_pos[c]])
        else:
            raise ValueError(f"Weight dimension {c!r} did not have a match in either the input spec {in_spec!r} "
                             f"or the output spec {out_spec!r}. For this layer, the weight must be fully specified.")
    bias_shape = None
    if bias_axes is not None:
        for c in bias_axes:
            if c not in out_spec:
                raise ValueError(f"Bias dimension {c!r} was requested, but is not part of the output spec "
                                 f"{out_spec!r}")
        first = min(out_spec.index(c) for c in bias_axes)
        bias_shape = [full[out_pos[c]] if c in bias_axes else 1 for c in out_spec[first:]]
        if elided_side == "right":
            bias_shape += [1] * n_elided
    return tuple(kernel_shape), None if bias_shape is None else tuple(bias_shape), tuple(full)


def _require_defined(shape: tuple, what: str, layer: str) -> None:
    if any(d is None for d in shape):
        raise ValueError(f"Shapes used to initialize variables must be fully-defined (no `None` dimensions). "
                         f"Received: shape={shape} for variable path='{layer}/{what}'")


class EinsumDense(Layer):
    """``activation(einsum(equation, inputs, kernel) + bias)``; see the module docstring for the equation forms."""

    def __init__(self, equation: str, output_shape, activation=None, bias_axes: str | None = None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, bias_constraint=None, lora_rank: int | None = None,
                 lora_alpha: float | None = None, gptq_unpacked_column_size=None, quantization_config=None,
                 **kwargs):
        super().__init__(**kwargs)
        if quantization_config is not None:
            raise ValueError("cornu does not quantize layers yet; `quantization_config` must be None. "
                             f"Received: quantization_config={quantization_config!r}")
        parse_equation(equation)
        if bias_axes is not None and not isinstance(bias_axes, str):
            raise TypeError(f"`bias_axes` must be a string of output axis letters. Received: bias_axes={bias_axes!r}")
        self.equation = equation
        if isinstance(output_shape, int):
            self.partial_output_shape = (output_shape,)
        else:
            self.partial_output_shape = tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else lora_rank
        self.lora_enabled = False
        self.full_output_shape: tuple | None = None

    def build(self, input_shape) -> None:
        kernel_shape, bias_shape, full = analyze_shapes(self.equation, tuple(input_shape),
                                                        self.partial_output_shape, self.bias_axes)
        _require_defined(kernel_shape, "kernel", self.name)
        self.full_output_shape = full
        self.kernel = self.add_weight(shape=kernel_shape, initializer=self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if bias_shape is not None:
            _require_defined(bias_shape, "bias", self.name)
            self.bias = self.add_weight(shape=bias_shape, initializer=self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        self.built = True
        if self.lora_rank:
            self.enable_lora(self.lora_rank)

    def enable_lora(self, rank: int, lora_alpha: float | None = None, a_initializer="he_uniform",
                    b_initializer="zeros") -> None:
        """Freeze the kernel and train ``A @ B * (lora_alpha / rank)`` added to it instead (LoRA)."""
        lora.enable(self, "kernel", rank, lora_alpha, a_initializer, b_initializer, self.kernel_regularizer,
                    self.kernel_constraint)

    def _merged_kernel(self) -> torch.Tensor:
        """The kernel with the LoRA update folded in (what Keras saves)."""
        return lora.merged(self, "kernel", self.kernel.value)

    def _saved_variables(self) -> list:
        if not self.built:
            return []
        return lora.saved(self, "kernel") + ([self.bias] if self.bias is not None else [])

    def call(self, inputs):
        kernel = self._merged_kernel()
        plan = linear_plan(self.equation, inputs.ndim)
        if plan is None:
            y = torch.einsum(self.equation, inputs, kernel)
            if self.bias is not None:
                y = y + self.bias.value
            return self.activation(y)
        # The common projection form: one matmul over flattened axes, the bias fused when it spans them.
        n_contract, free_shape = plan, kernel.shape[plan:]
        weight = kernel.reshape(-1, free_shape.numel()).t()
        bias = self.bias.value if self.bias is not None else None
        fused_bias = bias is not None and bias.shape == free_shape
        x = inputs.flatten(-n_contract) if n_contract > 1 else inputs
        y = F.linear(x, weight, bias.reshape(-1) if fused_bias else None)
        y = y.unflatten(-1, free_shape) if len(free_shape) > 1 else y
        if bias is not None and not fused_bias:
            y = y + bias
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return analyze_shapes(self.equation, tuple(input_shape), self.partial_output_shape, self.bias_axes)[2]

    def get_config(self) -> dict:
        return {**super().get_config(), "output_shape": self.partial_output_shape, "equation": self.equation,
                "activation": activations.serialize(self.activation), "bias_axes": self.bias_axes,
                "kernel_initializer": _ser(initializers, self.kernel_initializer),
                "bias_initializer": _ser(initializers, self.bias_initializer),
                "kernel_regularizer": _ser(regularizers, self.kernel_regularizer),
                "bias_regularizer": _ser(regularizers, self.bias_regularizer),
                "activity_regularizer": _ser(regularizers, self.activity_regularizer),
                "kernel_constraint": _ser(constraints, self.kernel_constraint),
                "bias_constraint": _ser(constraints, self.bias_constraint), "quantization_config": None,
                **({"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha} if self.lora_rank else {})}

