"""``Metric`` base class and the streaming ``Mean``/``Sum``/``MeanMetricWrapper``.

Metric state lives in ``Variable``s (non-trainable torch tensors) created on
``cornu.config.device()`` and moved to the device of the first tensor passed
to ``update_state``. Updates and results are pure tensor ops: no host sync.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from cornu import config, initializers
from cornu.losses import (
    apply_mask,
    divide_no_nan,
    squeeze_or_expand_to_same_rank,
    standardize_compute_dtype,
    to_tensor,
)
from cornu.utils.naming import to_snake_case
from cornu.variables import Variable


class Metric:
    """Base class: subclasses create state with ``add_variable`` and implement
    ``update_state(*args, **kwargs)`` and ``result()``."""

    def __init__(self, dtype: Any = None, name: str | None = None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Argument `name` must be a string. Received: name={name!r}")
        self.name = name or to_snake_case(type(self).__name__)
        self._dtype = standardize_compute_dtype(dtype) or config.floatx()
        self._variables: list[Variable] = []
        self._device = config.device()

    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def variables(self) -> list[Variable]:
        return list(self._variables)

    def add_variable(self, shape: tuple, initializer: Any, dtype: Any = None, aggregation: str = "sum",
                     name: str | None = None) -> Variable:
        """Create a non-trainable state variable on the metric's current device."""
        init = initializers.get(initializer)
        dt = config.standardize_dtype(dtype or self._dtype)
        with torch.no_grad():
            value = torch.as_tensor(init(tuple(shape), dtype=dt), dtype=config.torch_dtype(dt))
            target = torch.empty(value.shape, dtype=value.dtype, device=self._device)
            _fill_from_host(target, value)
        param = nn.Parameter(target, requires_grad=False)
        base = name or f"variable_{len(self._variables)}"
        var = Variable(param, name=base, path=f"{self.name}/{base}")
        var.aggregation = aggregation
        var._initializer = init
        self._variables.append(var)
        return var

    def add_weight(self, shape: tuple = (), initializer: Any = None, dtype: Any = None,
                   name: str | None = None) -> Variable:
        """Alias of ``add_variable`` (zeros by default)."""
        return self.add_variable(shape, initializer or "zeros", dtype=dtype, name=name)

    def _to_device(self, *values: Any) -> None:
        """Move state to the device of the first tensor among ``values`` (device check only, no sync)."""
        for v in values:
            if isinstance(v, torch.Tensor):
                if v.device != self._device:
                    self._device = v.device
                    for var in self._variables:
                        var.value.data = var.value.data.to(v.device)
                return

    def _tensor(self, x: Any, dtype: Any = None) -> torch.Tensor:
        """``x`` as a tensor on the metric's device (``dtype`` cast when given)."""
        return to_tensor(x, dtype=dtype, device=self._device)

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement `update_state()`.")

    def result(self) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement `result()`.")

    def reset_state(self) -> None:
        """Reset every state variable to its initial value (zeros for built-ins)."""
        with torch.no_grad():
            for var in self._variables:
                init = getattr(var, "_initializer", None)
                fresh = init(tuple(var.shape), dtype=var.dtype) if init is not None else torch.zeros(var.shape)
                _fill_from_host(var.value, var._to_torch(torch.as_tensor(fresh, dtype=var.value.dtype)))

    def __call__(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        """Update the state with one batch, then return the running result."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> "Metric":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


def _fill_from_host(target: torch.Tensor, value: torch.Tensor) -> None:
    """Copy a host tensor into ``target``; a constant one (zeros, the usual case) as a device fill.

    A fill is one kernel launch; a host-to-device copy of pageable memory would
    synchronise a CUDA device, which metric creation and resets must not do.
    """
    flat = value.reshape(-1)
    if flat.numel() == 0:
        return
    if target.device.type == "cpu" or not bool(torch.all(flat == flat[0])):
        target.copy_(value)
    else:
        target.fill_(flat[0].item())


def reduce_to_samplewise_values(values: torch.Tensor, sample_weight: Any, reduce_fn: Callable,
                                dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Weight ``values`` and reduce them (and the weights) to one entry per sample."""
    mask = getattr(values, "_keras_mask", None)
    values = values.to(dtype)
    if sample_weight is not None:
        sample_weight = to_tensor(sample_weight, dtype=dtype, device=values.device)
        sample_weight = apply_mask(sample_weight, mask, dtype, reduction="sum")
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        if values.ndim > sample_weight.ndim:
            values = reduce_fn(values, dim=tuple(range(sample_weight.ndim, values.ndim)))
        sample_weight = torch.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if sample_weight.ndim > 1:
            sample_weight = reduce_fn(sample_weight, dim=tuple(range(1, sample_weight.ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, dim=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """Running (weighted) sum of the given values."""

    def __init__(self, name: str = "sum", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", name="total")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        self._to_device(values, sample_weight)
        values = self._tensor(values)
        values, _ = reduce_to_samplewise_values(values, sample_weight, torch.sum, config.torch_dtype(self.dtype))
        with torch.no_grad():
            self.total.value.add_(torch.sum(values.detach()))

    def result(self) -> torch.Tensor:
        return self.total.value.detach().clone()


class Mean(Metric):
    """Running (weighted) mean: ``total / count`` with per-sample weights."""

    def __init__(self, name: str = "mean", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", name="total")
        self.count = self.add_variable((), "zeros", name="count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        if (isinstance(values, torch.Tensor) and values.ndim == 0 and values.device == self.total.value.device
                and isinstance(sample_weight, (int, float)) and not isinstance(sample_weight, bool)
                and getattr(values, "_keras_mask", None) is None):
            # Hot path of the training loop's loss tracker: two kernels, no host sync.
            with torch.no_grad():
                self.total.value.add_(values.detach().to(self.total.value.dtype), alpha=sample_weight)
                self.count.value.add_(sample_weight)
            return
        self._to_device(values, sample_weight)
        values = self._tensor(values)
        dt = config.torch_dtype(self.dtype)
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, torch.mean, dt)
        if sample_weight is not None:
            num_samples = torch.sum(sample_weight.detach())
        else:
            num_samples = float(values.shape[0]) if values.ndim >= 1 else 1.0
        with torch.no_grad():
            self.total.value.add_(torch.sum(values.detach()))
            self.count.value.add_(num_samples)

    def result(self) -> torch.Tensor:
        return divide_no_nan(self.total.value.detach(), self.count.value.detach())


class MeanMetricWrapper(Mean):
    """Streaming mean of a per-sample function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn: Callable, name: str | None = None, dtype: Any = None, **kwargs: Any):
        if not callable(fn):
            raise TypeError(f"`fn` must be callable. Received: fn={fn!r}")
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        self._to_device(y_pred, y_true)
        mask = getattr(y_pred, "_keras_mask", None)
        y_pred = self._tensor(y_pred)
        y_true = self._tensor(y_true)
        with torch.no_grad():
            values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if mask is not None:
            dt = config.torch_dtype(self.dtype)
            weight = None if sample_weight is None else self._tensor(sample_weight, dtype=dt)
            sample_weight = apply_mask(weight, mask, dt, reduction="sum")
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict:
        config = {**super().get_config(), **self._fn_kwargs}
        if type(self) is MeanMetricWrapper:
            config["fn"] = getattr(self._fn, "__name__", None)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Metric":
        config = dict(config)
        if cls is MeanMetricWrapper:
            from cornu import losses
            from cornu.metrics import accuracy

            fn = config.pop("fn")
            if isinstance(fn, str):
                fn = getattr(accuracy, fn, None) or losses.get(fn)
            return cls(fn, **config)
        return cls(**config)
