"""Neural-network ``keras.ops``: activations, losses, convolution, pooling, normalization.

Layouts are Keras's: images ``channels_last`` unless ``data_format`` (or
``config.image_data_format()``) says otherwise, and conv kernels
``(spatial..., in_channels, out_channels)``. They are transposed to torch's
layout at the call, so ``torch.nn.functional`` does the work.
"""
from __future__ import annotations

import math as _pymath
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from cornu import config
from cornu.ops.core import _canonical_axis, _floatx, _tensor, symbolic_op
from cornu.ops.ctc import ctc_decode, ctc_loss
from cornu.ops.numpy import _as_float, _common, _dims
from cornu.utils import conv_utils


def _is_float_dtype(dtype: torch.dtype) -> bool:
    return dtype.is_floating_point or dtype.is_complex


# ------------------------------------------------------------------ activations
@symbolic_op
def relu(x: Any) -> torch.Tensor:
    """``max(x, 0)``."""
    return torch.relu(_tensor(x))


@symbolic_op
def relu6(x: Any) -> torch.Tensor:
    """``min(max(x, 0), 6)``."""
    return torch.clamp(_tensor(x), 0, 6)


@symbolic_op
def sigmoid(x: Any) -> torch.Tensor:
    """``1 / (1 + exp(-x))``."""
    return torch.sigmoid(_as_float(x))


@symbolic_op
def log_sigmoid(x: Any) -> torch.Tensor:
    """``log(sigmoid(x))``, computed stably."""
    return F.logsigmoid(_as_float(x))


@symbolic_op
def softmax(x: Any, axis: Any = -1) -> torch.Tensor:
    """``exp(x) / sum(exp(x))`` over ``axis`` (an int or a tuple of axes)."""
    t = _as_float(x)
    if isinstance(axis, int):
        return torch.softmax(t, dim=axis)
    return torch.exp(log_softmax.__wrapped__(t, axis=axis))


@symbolic_op
def log_softmax(x: Any, axis: Any = -1) -> torch.Tensor:
    """``x - logsumexp(x)`` over ``axis`` (an int or a tuple of axes)."""
    t = _as_float(x)
    if isinstance(axis, int):
        return torch.log_softmax(t, dim=axis)
    return t - torch.logsumexp(t, dim=_dims(t, axis), keepdim=True)


@symbolic_op
def gelu(x: Any, approximate: bool = True) -> torch.Tensor:
    """Gaussian error linear unit; ``approximate`` uses the tanh formula."""
    return F.gelu(_as_float(x), approximate="tanh" if approximate else "none")


@symbolic_op
def silu(x: Any) -> torch.Tensor:
    """``x * sigmoid(x)``."""
    return F.silu(_as_float(x))


@symbolic_op
def swish(x: Any) -> torch.Tensor:
    """Alias of ``silu``."""
    return F.silu(_as_float(x))


@symbolic_op
def hard_sigmoid(x: Any) -> torch.Tensor:
    """``relu6(x + 3) / 6``."""
    return F.hardsigmoid(_as_float(x))


@symbolic_op
def hard_silu(x: Any) -> torch.Tensor:
    """``x * hard_sigmoid(x)``."""
    return F.hardswish(_as_float(x))


@symbolic_op
def hard_swish(x: Any) -> torch.Tensor:
    """Alias of ``hard_silu``."""
    return F.hardswish(_as_float(x))


@symbolic_op
def elu(x: Any, alpha: float = 1.0) -> torch.Tensor:
    """``x`` if positive else ``alpha * (exp(x) - 1)``."""
    return F.elu(_as_float(x), alpha=alpha)


@symbolic_op
def selu(x: Any) -> torch.Tensor:
    """Scaled ELU with the self-normalizing constants."""
    return F.selu(_as_float(x))


@symbolic_op
def celu(x: Any, alpha: float = 1.0) -> torch.Tensor:
    """``max(x, 0) + min(0, alpha * (exp(x / alpha) - 1))``."""
    return F.celu(_as_float(x), alpha=alpha)


@symbolic_op
def leaky_relu(x: Any, negative_slope: float = 0.2) -> torch.Tensor:
    """``x`` if positive else ``negative_slope * x``."""
    return F.leaky_relu(_as_float(x), negative_slope=negative_slope)


@symbolic_op
def softplus(x: Any) -> torch.Tensor:
    """``log(1 + exp(x))``."""
    return F.softplus(_as_float(x))


@symbolic_op
def softsign(x: Any) -> torch.Tensor:
    """``x / (1 + |x|)``."""
    return F.softsign(_as_float(x))


@symbolic_op
def squareplus(x: Any, b: float = 4) -> torch.Tensor:
    """``(x + sqrt(x**2 + b)) / 2``."""
    t = _as_float(x)
    return (t + torch.sqrt(t * t + b)) / 2


@symbolic_op
def glu(x: Any, axis: int = -1) -> torch.Tensor:
    """Gated linear unit: first half times sigmoid of the second half along ``axis``."""
    t = _as_float(x)
    if t.shape[axis] % 2:
        raise ValueError(f"`glu` needs an even size on axis {axis}. Received shape {tuple(t.shape)}")
    return F.glu(t, dim=axis)


@symbolic_op
def hard_tanh(x: Any) -> torch.Tensor:
    """``clip(x, -1, 1)``."""
    return F.hardtanh(_as_float(x))


@symbolic_op
def tanh_shrink(x: Any) -> torch.Tensor:
    """``x - tanh(x)``."""
    return F.tanhshrink(_as_float(x))


@symbolic_op
def soft_shrink(x: Any, threshold: float = 0.5) -> torch.Tensor:
    """Shrink toward zero by ``threshold``; zero inside ``[-threshold, threshold]``."""
    return F.softshrink(_as_float(x), threshold)


@symbolic_op
def hard_shrink(x: Any, threshold: float = 0.5) -> torch.Tensor:
    """Zero inside ``[-threshold, threshold]``, identity outside."""
    return F.hardshrink(_as_float(x), threshold)


# ------------------------------------------------------------------ encodings
@symbolic_op
def one_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = None,
            sparse: bool = False) -> torch.Tensor:
    """One-hot encode integer ``x`` on a new ``axis``; out-of-range indices give all zeros."""
    if sparse:
        raise ValueError("cornu does not support sparse tensors. Received: sparse=True")
    t = _tensor(x).to(torch.int64)
    classes = torch.arange(num_classes, device=t.device)
    out = (t.unsqueeze(-1) == classes).to(config.torch_dtype(dtype))
    return out if axis == -1 else out.movedim(-1, _canonical_axis(axis, out.ndim))


@symbolic_op
def multi_hot(inputs: Any, num_classes: int | None = None, axis: int = -1, dtype: Any = None,
              sparse: bool = False, **kwargs: Any) -> torch.Tensor:
    """Multi-hot encode the indices in the last axis of ``inputs`` (one row per sample).

    ``num_tokens`` is accepted as the legacy name of ``num_classes``.
    """
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if num_classes is None:
        raise ValueError("Argument `num_classes` must be specified.")
    out = one_hot.__wrapped__(inputs, num_classes, axis=axis, dtype=dtype, sparse=sparse)
    # As Keras: the one-hot axis goes to ``axis``, then the second-to-last axis is reduced (with the
    # default axis=-1 that is the label axis; other axes reduce whatever lands there).
    return torch.amax(out, dim=-2) if out.ndim > 1 else out


# ------------------------------------------------------------------ losses
def _check_same_shape(target: torch.Tensor, output: torch.Tensor) -> None:
    if target.ndim < 1:
        raise ValueError(f"Arguments `target` and `output` must be at least rank 1. "
                         f"Received: target.shape={tuple(target.shape)}")
    if tuple(target.shape) != tuple(output.shape):
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )


def _log_probs(output: torch.Tensor, from_logits: bool, axis: int) -> torch.Tensor:
    if from_logits:
        return torch.log_softmax(output, dim=axis)
    probs = output / torch.sum(output, dim=axis, keepdim=True)
    eps = config.epsilon()
    return torch.log(torch.clamp(probs, eps, 1.0 - eps))


@symbolic_op
def categorical_crossentropy(target: Any, output: Any, from_logits: bool = False,
                             axis: int = -1) -> torch.Tensor:
    """``-sum(target * log(p))`` over ``axis`` with one-hot/probability targets."""
    out = _as_float(output)
    tgt = _tensor(target, device=out.device).to(out.dtype)
    _check_same_shape(tgt, out)
    return -torch.sum(tgt * _log_probs(out, from_logits, axis), dim=axis)


@symbolic_op
def sparse_categorical_crossentropy(target: Any, output: Any, from_logits: bool = False,
                                    axis: int = -1) -> torch.Tensor:
    """Categorical crossentropy with integer class targets."""
    out = _as_float(output)
    tgt = _tensor(target, device=out.device).to(torch.int64)
    if tgt.ndim == out.ndim and tgt.shape[-1] == 1:
        tgt = tgt.squeeze(-1)
    out = out.movedim(_canonical_axis(axis, out.ndim), -1)
    if tuple(tgt.shape) != tuple(out.shape[:-1]):
        raise ValueError(
            "Argument `output` must have the shape of `target` plus a class axis. Received: "
            f"target.shape={tuple(tgt.shape)}, output.shape={tuple(out.shape)}"
        )
    log_p = _log_probs(out, from_logits, -1)
    return -torch.take_along_dim(log_p, tgt.unsqueeze(-1), dim=-1).squeeze(-1)


@symbolic_op
def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> torch.Tensor:
    """Element-wise ``-(t * log(p) + (1 - t) * log(1 - p))``."""
    out = _as_float(output)
    tgt = _tensor(target, device=out.device).to(out.dtype)
    _check_same_shape(tgt, out)
    if from_logits:
        return F.binary_cross_entropy_with_logits(out, tgt, reduction="none")
    eps = config.epsilon()
    p = torch.clamp(out, eps, 1.0 - eps)
    return -(tgt * torch.log(p) + (1.0 - tgt) * torch.log(1.0 - p))


# ------------------------------------------------------------------ convolution
def _tuple(value: Any, n: int, name: str, allow_zero: bool = False) -> tuple[int, ...]:
    """An int or ``n`` ints (a single-element tuple is broadcast, as keras.ops allows)."""
    if not isinstance(value, int) and len(tuple(value)) == 1:
        value = tuple(value)[0]
    return conv_utils.normalize_tuple(value, n, name, allow_zero=allow_zero)


def _channels_first(data_format: str | None) -> bool:
    return conv_utils.normalize_data_format(data_format) == "channels_first"


def _padding_mode(padding: str) -> str:
    mode = conv_utils.normalize_padding(padding)
    if mode == "causal":
        raise ValueError(f"`padding` must be 'valid' or 'same'. Received: padding={padding!r}")
    return mode


def _same_pads(sizes: Sequence[int], kernel: Sequence[int], strides: Sequence[int],
               dilation: Sequence[int]) -> list[tuple[int, int]]:
    """TensorFlow-style 'same' padding per spatial axis: the extra pixel goes after."""
    return [conv_utils.same_pads(n, k, s, d) for n, k, s, d in zip(sizes, kernel, strides, dilation)]


def _spatial_input(inputs: Any, data_format: str | None) -> tuple[torch.Tensor, bool, int]:
    x = _tensor(inputs)
    n = x.ndim - 2
    if n not in (1, 2, 3):
        raise ValueError(f"Expected a 3-D, 4-D or 5-D input (batch, spatial..., channels). "
                         f"Received shape {tuple(x.shape)}")
    cf = _channels_first(data_format)
    return (x if cf else x.movedim(-1, 1)), cf, n


def _restore(y: torch.Tensor, cf: bool) -> torch.Tensor:
    return y if cf else y.movedim(1, -1)


def _pad_input(x: torch.Tensor, pads: list[tuple[int, int]], value: float = 0.0) -> torch.Tensor:
    flat = [p for pair in reversed(pads) for p in pair]
    return F.pad(x, flat, value=value) if any(flat) else x


_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _conv_cf(x: torch.Tensor, weight: torch.Tensor, n: int, strides: Any, padding: str,
             dilation_rate: Any, groups: int) -> torch.Tensor:
    """Convolution on channels-first ``x`` with a torch-layout ``weight``."""
    strides = _tuple(strides, n, "strides")
    dilation = _tuple(dilation_rate, n, "dilation_rate")
    if _padding_mode(padding) == "same":
        pads = _same_pads(x.shape[2:], weight.shape[2:], strides, dilation)
        if all(b == a for b, a in pads):
            return _CONV[n](x, weight, None, strides, [b for b, _ in pads], dilation, groups)
        x = _pad_input(x, pads)
    return _CONV[n](x, weight, None, strides, 0, dilation, groups)


@symbolic_op
def conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
         data_format: str | None = None, dilation_rate: Any = 1) -> torch.Tensor:
    """N-D convolution; ``kernel`` is ``(spatial..., in_channels / groups, out_channels)``."""
    x, cf, n = _spatial_input(inputs, data_format)
    x, k = _common(_as_float(x), kernel)
    if k.ndim != n + 2:
        raise ValueError(f"`kernel` must have rank {n + 2} for a {n}-D convolution. "
                         f"Received kernel shape {tuple(k.shape)}")
    c_in, k_in, c_out = x.shape[1], k.shape[-2], k.shape[-1]
    if c_in % k_in or c_out % (c_in // k_in):
        raise ValueError(
            f"The input channels ({c_in}) must be a multiple of the kernel's input channels "
            f"({k_in}) and the groups must divide the output channels ({c_out}). "
            f"Received kernel shape {tuple(k.shape)}"
        )
    weight = k.permute(n + 1, n, *range(n))
    y = _conv_cf(x, weight, n, strides, padding, dilation_rate, c_in // k_in)
    return _restore(y, cf)


@symbolic_op
def depthwise_conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
                   data_format: str | None = None, dilation_rate: Any = 1) -> torch.Tensor:
    """Per-channel convolution; ``kernel`` is ``(spatial..., in_channels, multiplier)``."""
    x, cf, n = _spatial_input(inputs, data_format)
    x, k = _common(_as_float(x), kernel)
    if k.ndim != n + 2 or k.shape[-2] != x.shape[1]:
        raise ValueError(f"`kernel` must be (spatial..., {x.shape[1]}, multiplier). "
                         f"Received kernel shape {tuple(k.shape)}")
    c_in = x.shape[1]
    weight = k.reshape(tuple(k.shape[:n]) + (1, -1)).permute(n + 1, n, *range(n))
    y = _conv_cf(x, weight, n, strides, padding, dilation_rate, c_in)
    return _restore(y, cf)


@symbolic_op
def separable_conv(inputs: Any, depthwise_kernel: Any, pointwise_kernel: Any, strides: Any = 1,
                   padding: str = "valid", data_format: str | None = None,
                   dilation_rate: Any = 1) -> torch.Tensor:
    """Depthwise convolution followed by a 1x1 (pointwise) convolution."""
    y = depthwise_conv.__wrapped__(inputs, depthwise_kernel, strides, padding, data_format,
                                   dilation_rate)
    return conv.__wrapped__(y, pointwise_kernel, 1, "valid", data_format, 1)


def _transpose_extent(size: int, k_eff: int, stride: int, padding: str,
                      output_padding: int | None) -> tuple[int, int]:
    """Keras's transposed-conv output length and the crop offset into the full result."""
    if output_padding is None:
        if padding == "valid":
            return size * stride + max(k_eff - stride, 0), 0
        length = size * stride
        return length, max((size - 1) * stride + k_eff - length, 0) // 2
    pad = k_eff // 2 if padding == "same" else 0
    # Keras on torch moves a 'same' window back by half the output padding (rounded up).
    start = max(pad - (output_padding + 1) // 2, 0) if padding == "same" else pad
    return (size - 1) * stride + k_eff - 2 * pad + output_padding, start


@symbolic_op
def conv_transpose(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
                   output_padding: Any = None, data_format: str | None = None,
                   dilation_rate: Any = 1) -> torch.Tensor:
    """Transposed convolution; ``kernel`` is ``(spatial..., out_channels, in_channels)``."""
    x, cf, n = _spatial_input(inputs, data_format)
    x, k = _common(_as_float(x), kernel)
    if k.ndim != n + 2 or k.shape[-1] != x.shape[1]:
        raise ValueError(f"`kernel` must be (spatial..., out_channels, {x.shape[1]}). "
                         f"Received kernel shape {tuple(k.shape)}")
    mode = _padding_mode(padding)
    strides = _tuple(strides, n, "strides")
    dilation = _tuple(dilation_rate, n, "dilation_rate")
    out_pad = [None] * n if output_padding is None else _tuple(output_padding, n, "output_padding", allow_zero=True)
    weight = k.permute(n + 1, n, *range(n))
    y = _CONV_T[n](x, weight, None, strides, 0, 0, 1, dilation)
    for i in range(n):
        k_eff = (k.shape[i] - 1) * dilation[i] + 1
        length, start = _transpose_extent(x.shape[2 + i], k_eff, strides[i], mode, out_pad[i])
        short = start + length - y.shape[2 + i]
        if short > 0:
            pads = [(0, 0)] * n
            pads[i] = (0, short)
            y = _pad_input(y, pads)
        y = y.narrow(2 + i, start, length)
    return _restore(y, cf)


# ------------------------------------------------------------------ pooling
def _pool_args(x: torch.Tensor, n: int, pool_size: Any, strides: Any, padding: str):
    pool = _tuple(pool_size, n, "pool_size")
    strides = pool if strides is None else _tuple(strides, n, "strides")
    if _padding_mode(padding) == "same":
        return pool, strides, _same_pads(x.shape[2:], pool, strides, (1,) * n)
    return pool, strides, [(0, 0)] * n


_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


@symbolic_op
def max_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
             data_format: str | None = None) -> torch.Tensor:
    """Maximum over sliding windows (``strides`` defaults to ``pool_size``)."""
    x, cf, n = _spatial_input(inputs, data_format)
    pool, strides, pads = _pool_args(x, n, pool_size, strides, padding)
    x = _pad_input(x, pads, value=float("-inf"))
    return _restore(_MAX_POOL[n](x, pool, strides), cf)


@symbolic_op
def average_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None) -> torch.Tensor:
    """Mean over sliding windows; with 'same' padding only real pixels are counted."""
    x, cf, n = _spatial_input(inputs, data_format)
    x = _as_float(x)
    pool, strides, pads = _pool_args(x, n, pool_size, strides, padding)
    y = _AVG_POOL[n](_pad_input(x, pads), pool, strides)
    if any(b or a for b, a in pads):
        ones = torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device)
        y = y / _AVG_POOL[n](_pad_input(ones, pads), pool, strides)
    return _restore(y, cf)


# ------------------------------------------------------------------ normalization
@symbolic_op
def normalize(x: Any, axis: Any = -1, order: int = 2, epsilon: float | None = None) -> torch.Tensor:
    """``x / max(norm(x, order), epsilon)``, the element-wise p-norm taken over ``axis``."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order!r}")
    t = _as_float(x)
    eps = config.epsilon() if epsilon is None else epsilon
    n = torch.linalg.vector_norm(t, order, dim=_dims(t, axis), keepdim=True)
    return t / torch.clamp(n, min=eps)


@symbolic_op
def moments(x: Any, axes: Any, keepdims: bool = False,
            synchronized: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (population) variance over ``axes``; half precision is computed in float32."""
    t = _as_float(x)
    dtype = t.dtype
    if dtype in (torch.float16, torch.bfloat16):
        t = t.float()
    dims = _dims(t, axes)
    var, mean = torch.var_mean(t, dim=dims, correction=0, keepdim=keepdims)
    return mean.to(dtype), var.to(dtype)


@symbolic_op
def batch_normalization(x: Any, mean: Any, variance: Any, axis: int, offset: Any = None,
                        scale: Any = None, epsilon: float = 1e-3) -> torch.Tensor:
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``, params along ``axis``."""
    t = _as_float(x)
    ax = _canonical_axis(axis, t.ndim)
    shape = [-1 if i == ax else 1 for i in range(t.ndim)]

    def param(p: Any) -> torch.Tensor:
        return _tensor(p, device=t.device).to(t.dtype).reshape(shape)

    out = (t - param(mean)) * torch.rsqrt(param(variance) + epsilon)
    if scale is not None:
        out = out * param(scale)
    if offset is not None:
        out = out + param(offset)
    return out


@symbolic_op
def dot_product_attention(query: Any, key: Any, value: Any, bias: Any = None, mask: Any = None,
                          scale: float | None = None, is_causal: bool = False,
                          flash_attention: bool | None = None,
                          attn_logits_soft_cap: float | None = None) -> torch.Tensor:
    """Scaled dot-product attention on ``(batch, seq, heads, head_dim)`` tensors."""
    q, k, v = _common(_as_float(query), key, value)
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError("`query`, `key` and `value` must be 4-D (batch, seq, heads, head_dim). "
                         f"Received shapes {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    q, k, v = (t.transpose(1, 2) for t in (q, k, v))
    if k.shape[1] != q.shape[1]:
        if q.shape[1] % k.shape[1]:
            raise ValueError(f"Query heads ({q.shape[1]}) must be a multiple of key heads ({k.shape[1]}).")
        rep = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
    scale = 1.0 / _pymath.sqrt(q.shape[-1]) if scale is None else scale
    if flash_attention is None:  # automatic unless `keras.config.disable_flash_attention()` switched it off
        flash_attention = config.is_flash_attention_enabled() is not False
    if flash_attention and attn_logits_soft_cap is None:
        return _fused_attention(q, k, v, bias, mask, scale, is_causal).transpose(1, 2)
    logits = torch.matmul(q, k.transpose(-1, -2)) * scale
    if bias is not None:
        logits = logits + _tensor(bias, device=q.device).to(q.dtype)
    if attn_logits_soft_cap is not None:
        logits = attn_logits_soft_cap * torch.tanh(logits / attn_logits_soft_cap)
    allowed = None
    if mask is not None:
        allowed = _tensor(mask, device=q.device).to(torch.bool)
    if is_causal:
        causal = torch.ones(logits.shape[-2:], dtype=torch.bool, device=q.device).tril()
        allowed = causal if allowed is None else allowed & causal
    if allowed is not None:
        logits = logits.masked_fill(~allowed, torch.finfo(logits.dtype).min)
    weights = torch.softmax(logits, dim=-1)
    return torch.matmul(weights, v).transpose(1, 2)


def _fused_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: Any, mask: Any, scale: float,
                     is_causal: bool) -> torch.Tensor:
    """torch's fused scaled-dot-product kernel on ``(batch, heads, seq, dim)``; masks become an additive bias."""
    attn = None if bias is None else _tensor(bias, device=q.device).to(q.dtype)
    if mask is not None or (is_causal and attn is not None):
        allowed = torch.ones((), dtype=torch.bool, device=q.device) if mask is None else \
            _tensor(mask, device=q.device).to(torch.bool)
        if is_causal:
            allowed = allowed & torch.ones((q.shape[-2], k.shape[-2]), dtype=torch.bool, device=q.device).tril()
        low = torch.zeros(allowed.shape, dtype=q.dtype, device=q.device).masked_fill(~allowed, torch.finfo(q.dtype).min)
        attn = low if attn is None else attn + low
        is_causal = False
    return F.scaled_dot_product_attention(q, k, v, attn_mask=attn, is_causal=is_causal, scale=scale)


# ------------------------------------------------------------------ more activations
@symbolic_op
def sparse_plus(x: Any) -> torch.Tensor:
    """0 below -1, ``x`` above 1 and ``(x + 1)**2 / 4`` between: a smooth, sparse ReLU."""
    t = _as_float(x)
    return torch.where(t <= -1, torch.zeros_like(t), torch.where(t >= 1, t, (t + 1) ** 2 / 4))


@symbolic_op
def sparse_sigmoid(x: Any) -> torch.Tensor:
    """0 below -1, 1 above 1 and ``(x + 1) / 2`` between."""
    return torch.clamp((_as_float(x) + 1) / 2, 0.0, 1.0)


@symbolic_op
def sparsemax(x: Any, axis: int = -1) -> torch.Tensor:
    """Euclidean projection of ``x`` onto the probability simplex along ``axis`` (sparse softmax)."""
    t = _as_float(x)
    ax = _canonical_axis(axis, t.ndim)
    z = t.movedim(ax, -1)
    srt = torch.sort(z, dim=-1, descending=True).values
    k = torch.arange(1, z.shape[-1] + 1, dtype=z.dtype, device=z.device)
    csum = torch.cumsum(srt, dim=-1)
    support = (1 + k * srt > csum).sum(dim=-1, keepdim=True)
    tau = (torch.gather(csum, -1, support - 1) - 1) / support.to(z.dtype)
    return torch.clamp(z - tau, min=0).movedim(-1, ax)


@symbolic_op
def threshold(x: Any, threshold: float, default_value: float) -> torch.Tensor:
    """``x`` where ``x > threshold``, else ``default_value`` (in the dtype of ``x``)."""
    t = _tensor(x)
    return torch.where(t > threshold, t, torch.tensor(default_value, device=t.device).to(t.dtype))


@symbolic_op
def polar(abs_: Any, angle: Any) -> torch.Tensor:
    """The complex number ``abs_ * exp(1j * angle)``."""
    r, theta = _common(_as_float(abs_), _as_float(angle))
    return torch.polar(r, theta)


@symbolic_op
def psnr(x1: Any, x2: Any, max_val: float) -> torch.Tensor:
    """Peak signal-to-noise ratio ``20 log10(max_val) - 10 log10(mse)`` over all entries."""
    a, b = _common(_as_float(x1), _as_float(x2))
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"Input shapes {tuple(a.shape)} and {tuple(b.shape)} must match for PSNR calculation.")
    mse = torch.mean((a - b) ** 2)
    return 20 * _pymath.log10(max_val) - 10 * torch.log10(mse)


# ------------------------------------------------------------------ normalization (layer / RMS)
def _norm_param(p: Any, t: torch.Tensor, ax: tuple[int, ...]) -> torch.Tensor:
    """A per-feature parameter broadcast against ``t`` normalized over the axes ``ax``."""
    v = _tensor(p, device=t.device).to(t.dtype)
    if v.ndim == len(ax) and v.ndim < t.ndim:
        shape = [t.shape[i] if i in ax else 1 for i in range(t.ndim)]
        v = v.reshape(shape)
    return v


@symbolic_op
def layer_normalization(x: Any, gamma: Any = None, beta: Any = None, axis: Any = -1,
                        epsilon: float | None = None, **kwargs: Any) -> torch.Tensor:
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta``, statistics over ``axis``.

    The legacy ``rms_scaling=True`` keyword computes ``x / sqrt(var + epsilon) * gamma``
    (no centring, no ``beta``), as Keras does.
    """
    rms_scaling = bool(kwargs.pop("rms_scaling", False))
    t = _tensor(x)
    work = t if _is_float_dtype(t.dtype) else t.to(_floatx())
    eps = config.epsilon() if epsilon is None else epsilon
    ax = _dims(work, axis)
    compute = work.float() if work.dtype in (torch.float16, torch.bfloat16) else work
    var, mean = torch.var_mean(compute, dim=ax, correction=0, keepdim=True)
    if rms_scaling:
        out = (compute * torch.rsqrt(var + eps)).to(work.dtype)
        return (out if gamma is None else out * _norm_param(gamma, out, ax)).to(t.dtype)
    out = ((compute - mean) * torch.rsqrt(var + eps)).to(work.dtype)
    if gamma is not None:
        out = out * _norm_param(gamma, out, ax)
    if beta is not None:
        out = out + _norm_param(beta, out, ax)
    return out.to(t.dtype)


@symbolic_op
def rms_normalization(x: Any, scale: Any = None, axis: Any = -1, epsilon: float | None = None) -> torch.Tensor:
    """``x / sqrt(mean(x**2) + epsilon) * scale``, the mean taken over ``axis``."""
    t = _tensor(x)
    work = t if _is_float_dtype(t.dtype) else t.to(_floatx())
    eps = config.epsilon() if epsilon is None else epsilon
    ax = _dims(work, axis)
    compute = work.float() if work.dtype in (torch.float16, torch.bfloat16) else work
    out = (compute * torch.rsqrt(torch.mean(compute * compute, dim=ax, keepdim=True) + eps)).to(work.dtype)
    if scale is not None:
        out = out * _norm_param(scale, out, ax)
    return out.to(t.dtype)


# ------------------------------------------------------------------ adaptive pooling, patches, blocks
_ADAPTIVE_AVG = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}
_ADAPTIVE_MAX = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}


def _adaptive(table: dict, inputs: Any, output_size: Any, data_format: str | None) -> torch.Tensor:
    x, cf, n = _spatial_input(inputs, data_format)
    size = _tuple(output_size, n, "output_size")
    return _restore(table[n](x, size), cf)


@symbolic_op
def adaptive_average_pool(inputs: Any, output_size: Any, data_format: str | None = None) -> torch.Tensor:
    """Average pooling to a fixed ``output_size`` whatever the input's spatial size."""
    return _adaptive(_ADAPTIVE_AVG, _as_float(inputs), output_size, data_format)


@symbolic_op
def adaptive_max_pool(inputs: Any, output_size: Any, data_format: str | None = None) -> torch.Tensor:
    """Max pooling to a fixed ``output_size`` whatever the input's spatial size."""
    return _adaptive(_ADAPTIVE_MAX, inputs, output_size, data_format)


@symbolic_op
def unfold(x: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> torch.Tensor:
    """Sliding ``kernel_size`` patches of a ``(N, C, H, W)`` input as ``(N, C * kh * kw, L)`` columns."""
    t = _tensor(x)
    if t.ndim != 4:
        raise ValueError(f"`unfold` expects a 4-D (N, C, H, W) input. Received shape {tuple(t.shape)}")
    return F.unfold(t, kernel_size, dilation=dilation, padding=padding, stride=stride)


@symbolic_op
def fold(x: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> torch.Tensor:
    """The inverse of ``unfold``: sum ``(N, C * kh * kw, L)`` columns into an ``(N, C, H, W)`` image."""
    t = _tensor(x)
    if t.ndim != 3:
        raise ValueError(f"`fold` expects a 3-D (N, C * kh * kw, L) input. Received shape {tuple(t.shape)}")
    return F.fold(t, output_size, kernel_size, dilation=dilation, padding=padding, stride=stride)


def _block_input(x: Any, data_format: str) -> tuple[torch.Tensor, bool]:
    t = _tensor(x)
    if t.ndim != 4:
        raise ValueError(f"Input must be a 4-D tensor. Received shape {tuple(t.shape)}")
    return t, conv_utils.normalize_data_format(data_format) == "channels_first"


@symbolic_op
def depth_to_space(x: Any, block_size: int, data_format: str = "channels_last") -> torch.Tensor:
    """Move ``block_size**2`` channel groups into spatial blocks.

    Channel order as Keras on torch: depth-row-column (TensorFlow's) for
    channels_last, ``pixel_shuffle``'s column-row-depth for channels_first.
    """
    t, cf = _block_input(x, data_format)
    b = int(block_size)
    c = t.shape[1] if cf else t.shape[-1]
    if b < 1 or c % (b * b):
        raise ValueError(f"The channels ({c}) must be divisible by block_size**2 (block_size={block_size}).")
    if cf:
        return F.pixel_shuffle(t, b)
    n, h, w, _ = t.shape
    return t.reshape(n, h, w, b, b, c // (b * b)).permute(0, 1, 3, 2, 4, 5).reshape(n, h * b, w * b, c // (b * b))


@symbolic_op
def space_to_depth(x: Any, block_size: int, data_format: str = "channels_last") -> torch.Tensor:
    """Move ``block_size`` x ``block_size`` spatial blocks into channels (the inverse of ``depth_to_space``)."""
    t, cf = _block_input(x, data_format)
    b = int(block_size)
    h, w = (t.shape[2], t.shape[3]) if cf else (t.shape[1], t.shape[2])
    if b < 1 or h % b or w % b:
        raise ValueError(f"The height ({h}) and width ({w}) must be divisible by block_size={block_size}.")
    if cf:
        return F.pixel_unshuffle(t, b)
    n, _, _, c = t.shape
    return t.reshape(n, h // b, b, w // b, b, c).permute(0, 1, 3, 2, 4, 5).reshape(n, h // b, w // b, b * b * c)


__all__ = [
    name for name, obj in list(globals().items())
    if not name.startswith("_") and callable(obj) and getattr(obj, "__module__", None) == __name__
] + ["ctc_decode", "ctc_loss"]
