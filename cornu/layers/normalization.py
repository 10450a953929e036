"""Normalization layers: batch, layer, group, unit and RMS normalization."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from cornu import constraints, initializers, regularizers, symbolic
from cornu.layers.core import _ser
from cornu.layers.layer import AxisError, InputSpec, Layer


def _canonical_axes(axis, rank: int, input_shape) -> list[int]:
    """Sorted, non-negative axes; ``AxisError`` for an axis outside ``rank``."""
    axes = [axis] if isinstance(axis, int) else list(axis)
    out = []
    for a in axes:
        if not -rank <= a < rank:
            raise AxisError(f"Invalid axis: {a} for an input of rank {rank}. "
                             f"Received input_shape={tuple(input_shape)}")
        out.append(a % rank)
    if len(set(out)) != len(out):
        raise ValueError(f"Duplicate axis: {axis}")
    return sorted(out)


def _defined_dims(axes: list[int], input_shape, who: str) -> tuple:
    dims = tuple(input_shape[a] for a in axes)
    if None in dims:
        raise ValueError(f"{who}: axis {axes} of the input must have a defined dimension, "
                         f"but the layer received an input with shape {tuple(input_shape)}")
    return dims


def _broadcastable(param: torch.Tensor | None, axes: list[int], ndim: int) -> torch.Tensor | None:
    """Reshape a parameter spanning ``axes`` so it broadcasts against a rank-``ndim`` input."""
    if param is None:
        return None
    shape = [1] * ndim
    for a, d in zip(axes, param.shape):
        shape[a] = d
    return param.reshape(shape)


def _check_axis_arg(axis) -> None:
    if isinstance(axis, bool) or not (isinstance(axis, int) or (
            isinstance(axis, (list, tuple)) and axis and all(isinstance(a, int) for a in axis))):
        raise TypeError(f"Expected an int or a list/tuple of ints for the argument 'axis', but received: {axis!r}")

def _add_gamma_beta(layer: Layer, shape: tuple, scale: bool, center: bool) -> None:
    """Create ``gamma`` then ``beta`` (Keras's weight order); a disabled one is ``None``."""
    layer.gamma = layer.add_weight(shape=shape, initializer=layer.gamma_initializer, name="gamma",
                                   regularizer=layer.gamma_regularizer,
                                   constraint=layer.gamma_constraint) if scale else None
    layer.beta = layer.add_weight(shape=shape, initializer=layer.beta_initializer, name="beta",
                                  regularizer=layer.beta_regularizer,
                                  constraint=layer.beta_constraint) if center else None


def _gamma_beta_config(layer: Layer) -> dict:
    """The config entries of ``gamma``/``beta`` shared by the normalization layers."""
    return {f"{w}_{part}": _ser(module, getattr(layer, f"{w}_{part}"))
            for part, module in (("initializer", initializers), ("regularizer", regularizers),
                                 ("constraint", constraints))
            for w in ("beta", "gamma")}


def _built_axis(layer: Layer):
    """Keras reports an int ``axis`` as a one-item list once the layer is built."""
    return [layer.axis] if layer.built and isinstance(layer.axis, int) else layer.axis


class BatchNormalization(Layer):
    """Normalizes with batch statistics in training and moving statistics in inference.

    In training (and when trainable), moving statistics are updated as
    ``moving = moving * momentum + batch * (1 - momentum)``, with the biased
    batch variance.
    """
    _casts_int_inputs = True

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, synchronized: bool = False,
                 renorm: bool = False, renorm_clipping: dict | None = None, renorm_momentum: float = 0.99,
                 **kwargs):
        super().__init__(**kwargs)
        try:  # Keras takes int(axis): "1" and 1.5 are axis 1, "a" a ValueError, a list a TypeError
            axis = int(axis)
        except (TypeError, ValueError) as e:
            raise type(e)(f"Expected an int for the argument 'axis'. Received: axis={axis!r}") from None
        if synchronized:
            raise ValueError("Argument synchronized=True is only supported with the TensorFlow backend.")
        if renorm or renorm_clipping:
            raise NotImplementedError("Batch renormalization is not supported by cornu: `renorm` must be False "
                                      f"and `renorm_clipping` None. Received: renorm={renorm!r}, "
                                      f"renorm_clipping={renorm_clipping!r}")
        self.renorm_momentum = float(renorm_momentum)
        self.axis = axis
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.synchronized = synchronized
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape) -> None:
        rank = len(input_shape)
        (axis,) = _canonical_axes(self.axis, rank, input_shape)
        (dim,) = _defined_dims([axis], input_shape, "BatchNormalization")
        shape = (dim,)
        _add_gamma_beta(self, shape, scale=self.scale, center=self.center)
        self.moving_mean = self.add_weight(shape=shape, initializer=self.moving_mean_initializer,
                                           name="moving_mean", trainable=False)
        self.moving_variance = self.add_weight(shape=shape, initializer=self.moving_variance_initializer,
                                               name="moving_variance", trainable=False)
        self.input_spec = InputSpec(ndim=rank, axes={self.axis: dim})
        self.built = True

    def call(self, inputs, training=None, mask=None):
        if mask is not None and mask.ndim != inputs.ndim - 1:
            raise ValueError(f"The mask provided should be one dimension less than the inputs. "
                             f"Received: mask.shape={tuple(mask.shape)}, inputs.shape={tuple(inputs.shape)}")
        param_dtype = self.moving_mean.value.dtype
        x = inputs.to(param_dtype) if inputs.dtype != param_dtype else inputs
        axis = self.axis % x.ndim
        gamma = self.gamma.value if self.gamma is not None else None
        beta = self.beta.value if self.beta is not None else None
        mean_v, var_v = self.moving_mean.value, self.moving_variance.value
        count = x.numel() // max(x.shape[axis], 1)
        if not (training and self.trainable):
            y = F.batch_norm(x.movedim(axis, 1), mean_v, var_v, gamma, beta, False, 0.0, self.epsilon).movedim(1, axis)
        elif mask is None and count > 1 and not symbolic.in_fake_run():
            # Fused kernel. Torch blends in the unbiased variance; the blend goes to a scratch
            # copy (autograd keeps it) and is turned into Keras's biased-variance update below.
            new_var = var_v.detach().clone()
            y = F.batch_norm(x.movedim(axis, 1), mean_v, new_var, gamma, beta, True, 1.0 - self.momentum,
                             self.epsilon).movedim(1, axis)
            with torch.no_grad():
                var_v.mul_(self.momentum / count).add_(new_var, alpha=(count - 1) / count)
        else:
            y = self._train_with_moments(x, axis, gamma, beta, mask)
        return y.to(inputs.dtype) if y.dtype != inputs.dtype else y

    def _train_with_moments(self, x, axis, gamma, beta, mask):
        """Training step computing (optionally masked) moments explicitly."""
        reduce = [d for d in range(x.ndim) if d != axis]
        if mask is None:
            var, mean = torch.var_mean(x, dim=reduce, correction=0, keepdim=True)
        else:
            weights = mask.to(x.dtype).unsqueeze(axis)
            total = weights.sum(dim=reduce, keepdim=True) + 1e-7
            mean = (weights * x).sum(dim=reduce, keepdim=True) / total
            var = (weights * (x - mean) ** 2).sum(dim=reduce, keepdim=True) / total
        if not symbolic.in_fake_run():
            with torch.no_grad():
                m = self.momentum
                self.moving_mean.value.mul_(m).add_(mean.detach().reshape(-1), alpha=1.0 - m)
                self.moving_variance.value.mul_(m).add_(var.detach().reshape(-1), alpha=1.0 - m)
        y = (x - mean) * torch.rsqrt(var + self.epsilon)
        if gamma is not None:
            y = y * _broadcastable(gamma, [axis], x.ndim)
        if beta is not None:
            y = y + _broadcastable(beta, [axis], x.ndim)
        return y

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, **_gamma_beta_config(self),
                "moving_mean_initializer": _ser(initializers, self.moving_mean_initializer),
                "moving_variance_initializer": _ser(initializers, self.moving_variance_initializer),
                "synchronized": self.synchronized, "renorm": False, "renorm_clipping": None,
                "renorm_momentum": self.renorm_momentum}


class LayerNormalization(Layer):
    """Normalizes each sample over ``axis`` (mean 0, variance 1), then ``* gamma + beta``.

    With ``rms_scaling=True`` the input is only divided by ``sqrt(var + epsilon)``
    and multiplied by ``gamma`` (no centering, no ``beta``).
    """
    _casts_int_inputs = True

    def __init__(self, axis=-1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 rms_scaling: bool = False, beta_initializer="zeros", gamma_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        _check_axis_arg(axis)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.rms_scaling = rms_scaling
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        self._axes: list[int] = []

    def build(self, input_shape) -> None:
        self._axes = _canonical_axes(self.axis, len(input_shape), input_shape)
        shape = _defined_dims(self._axes, input_shape, "LayerNormalization")
        _add_gamma_beta(self, shape, scale=self.scale or self.rms_scaling, center=self.center and not self.rms_scaling)
        self.built = True

    def call(self, inputs):
        ref = self.gamma if self.gamma is not None else self.beta
        x = inputs.to(ref.value.dtype) if ref is not None and inputs.dtype != ref.value.dtype else inputs
        axes, ndim = self._axes, x.ndim
        gamma = self.gamma.value if self.gamma is not None else None
        beta = self.beta.value if self.beta is not None else None
        if self.rms_scaling:
            var = torch.var(x, dim=axes, correction=0, keepdim=True)
            y = x * torch.rsqrt(var + self.epsilon)
            if gamma is not None:
                y = y * _broadcastable(gamma, axes, ndim)
        elif axes == list(range(ndim - len(axes), ndim)):
            y = F.layer_norm(x, x.shape[ndim - len(axes):], gamma, beta, self.epsilon)
        else:
            var, mean = torch.var_mean(x, dim=axes, correction=0, keepdim=True)
            y = (x - mean) * torch.rsqrt(var + self.epsilon)
            if gamma is not None:
                y = y * _broadcastable(gamma, axes, ndim)
            if beta is not None:
                y = y + _broadcastable(beta, axes, ndim)
        return y.to(inputs.dtype) if y.dtype != inputs.dtype else y

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": _built_axis(self), "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "rms_scaling": self.rms_scaling, **_gamma_beta_config(self)}


class GroupNormalization(Layer):
    """Splits the channels (``axis``) into ``groups`` and normalizes each group per sample."""
    _casts_int_inputs = True

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(groups, bool) or not isinstance(groups, int) or (groups < 1 and groups != -1):
            raise ValueError(f"`groups` must be a positive integer or -1. Received: groups={groups!r}")
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"Expected an int for the argument 'axis'. Received: axis={axis!r}")
        self.groups = groups
        self.axis = axis
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape) -> None:
        (axis,) = _canonical_axes(self.axis, len(input_shape), input_shape)
        (dim,) = _defined_dims([axis], input_shape, "GroupNormalization")
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the number of channels ({dim}).")
        if dim % self.groups != 0:
            raise ValueError(f"Number of channels ({dim}) must be a multiple of the number of groups ({self.groups}).")
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: dim})
        _add_gamma_beta(self, (dim,), scale=self.scale, center=self.center)
        self.built = True

    def call(self, inputs):
        ref = self.gamma if self.gamma is not None else self.beta
        x = inputs.to(ref.value.dtype) if ref is not None and inputs.dtype != ref.value.dtype else inputs
        axis = self.axis % x.ndim
        y = F.group_norm(x.movedim(axis, 1), self.groups,
                         self.gamma.value if self.gamma is not None else None,
                         self.beta.value if self.beta is not None else None, self.epsilon).movedim(1, axis)
        return y.to(inputs.dtype) if y.dtype != inputs.dtype else y

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "groups": self.groups, "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, **_gamma_beta_config(self)}


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over ``axis``: ``x / max(||x||, 1e-12)``."""
    _built_at_init = True
    _casts_int_inputs = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        _check_axis_arg(axis)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.supports_masking = True

    def call(self, inputs):
        norm = torch.linalg.vector_norm(inputs, ord=2, dim=self.axis, keepdim=True)
        return inputs / torch.clamp(norm, min=1e-12)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class RMSNormalization(Layer):
    """``x * rsqrt(mean(x**2, axis) + epsilon) * scale``."""

    def __init__(self, axis=-1, epsilon: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        _check_axis_arg(axis)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.epsilon = float(epsilon)
        self.supports_masking = False  # as Keras's RMSNormalization
        self._axes: list[int] = []

    def build(self, input_shape) -> None:
        self._axes = _canonical_axes(self.axis, len(input_shape), input_shape)
        shape = _defined_dims(self._axes, input_shape, "RMSNormalization")
        self.scale = self.add_weight(shape=shape, initializer="ones", name="scale")
        self.built = True

    def call(self, inputs):
        scale = self.scale.value
        x = inputs.to(scale.dtype) if inputs.dtype != scale.dtype else inputs
        axes, ndim = self._axes, x.ndim
        if axes == list(range(ndim - len(axes), ndim)):
            y = F.rms_norm(x, x.shape[ndim - len(axes):], scale, self.epsilon)
        else:
            y = x * torch.rsqrt(torch.mean(x * x, dim=axes, keepdim=True) + self.epsilon)
            y = y * _broadcastable(scale, axes, ndim)
        return y.to(inputs.dtype) if y.dtype != inputs.dtype else y

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": _built_axis(self), "epsilon": self.epsilon}
