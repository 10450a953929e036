"""``Variable``: the Keras view of a torch parameter.

A layer keeps its weights as ``torch.nn.Parameter`` in whatever layout torch
computes fastest with (Conv2D kernels as ``(out, in, kh, kw)``). The
``Variable`` wrapping it shows the Keras layout at the API boundary
(``shape``, ``numpy()``, ``assign()``), while ``variable.value`` is the
parameter itself, so gradients, optimizers and torch code see torch layout.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from cornu import config


_AGGREGATIONS = ("none", "mean", "sum", "only_first_replica")


def _initial_value(initializer: Any, shape: Any, dtype: Any) -> torch.Tensor:
    """The first value of a Keras-style ``Variable(initializer, shape, dtype)``."""
    if isinstance(initializer, str) or (callable(initializer) and not isinstance(initializer, torch.Tensor)):
        from cornu import initializers

        if shape is None:
            raise ValueError(f"When creating a Variable from an initializer, the `shape` argument must be "
                             f"specified. Received: initializer={initializer!r} and shape={shape}")
        init = initializers.get(initializer)
        value = init(tuple(shape), dtype=config.standardize_dtype(dtype or config.floatx()))
    else:
        value = initializer
    t = torch.as_tensor(value.detach() if isinstance(value, torch.Tensor) else np.asarray(value))
    if dtype is not None:
        t = t.to(config.torch_dtype(dtype))
    elif not isinstance(value, (np.ndarray, torch.Tensor)):  # arrays and tensors keep their dtype, as in Keras
        if t.is_floating_point():
            t = t.to(config.torch_dtype(config.floatx()))
        elif t.dtype == torch.int64:
            t = t.to(torch.int32)
    if shape is not None and tuple(t.shape) != tuple(shape):
        raise ValueError(f"Initial value has shape {tuple(t.shape)}, which does not match the requested "
                         f"shape {tuple(shape)}.")
    return t.clone().to(config.device())


def tensor_to_numpy(t: torch.Tensor) -> np.ndarray:
    """A copy of ``t`` as NumPy; bfloat16 as ``ml_dtypes.bfloat16`` (what Keras returns) when installed."""
    if hasattr(t, "full_tensor"):  # a DTensor sharded by ModelParallel: gathered on every process
        t = t.full_tensor()
    t = t.detach().cpu()
    if t.dtype == torch.bfloat16:
        try:
            import ml_dtypes
        except ImportError:
            return t.float().numpy()
        return t.float().numpy().astype(ml_dtypes.bfloat16)
    return t.numpy().copy()


class Variable:
    """A named, optionally trainable weight; Keras layout outside, torch inside.

    Created as in Keras, ``Variable(initializer, shape=None, dtype=None,
    trainable=True, ..., name=None)`` (``initializer`` an array, tensor,
    initializer name or callable), or by layers through ``add_weight``.

    The one rule about layouts: ``variable.value`` is the
    ``torch.nn.Parameter`` that autograd, optimizers and torch code see, in
    the layer's storage layout (``variable.parameter`` is the same object).
    Everything else -- ``shape``, ``numpy()``, ``assign()``, ``keras_value``,
    arithmetic and ``np.asarray(variable)`` -- speaks Keras's layout. The two
    differ only where a built-in layer stores a weight the way torch computes
    fastest (``layout`` is the permutation from Keras's layout to storage:
    Dense kernels ``(out, in)``, convolution kernels ``(out, in, *k)``).
    """

    def __init__(
        self,
        initializer: Any = None,
        shape: Any = None,
        dtype: Any = None,
        trainable: bool = True,
        autocast: bool = True,
        aggregation: str = "none",
        synchronization: str = "auto",
        name: str | None = None,
        *,
        path: str | None = None,
        layout: Sequence[int] | None = None,
        memory_format: torch.memory_format = torch.contiguous_format,
        regularizer: Any = None,
        constraint: Any = None,
        overwrite_with_gradient: bool = False,
        **kwargs,
    ):
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to Variable: {kwargs}")
        if isinstance(initializer, torch.nn.Parameter):
            # Wrapping an existing parameter (layers, metrics and optimizers do this): no copy.
            if isinstance(shape, str) and name is None:
                name, shape = shape, None
            value = initializer
        else:
            t = _initial_value(initializer, shape, dtype)
            value = torch.nn.Parameter(t, requires_grad=bool(trainable) and (t.is_floating_point() or t.is_complex()))
        if aggregation not in _AGGREGATIONS:
            raise ValueError(f"Invalid value for argument `aggregation`. Expected one of {_AGGREGATIONS}. "
                             f"Received: aggregation={aggregation!r}")
        if name is None:
            from cornu.utils import naming

            name = naming.uniquify("variable")
        if not isinstance(name, str) or "/" in name:
            raise ValueError(f"Argument `name` must be a string and cannot contain character `/`. "
                             f"Received: name={name!r}")
        self.value = value
        self.name = name
        if path is None:
            from cornu.scopes import current_path

            scope = current_path()  # `keras.name_scope`s enclosing the creation prefix the path, as in Keras
            path = f"{scope}/{name}" if scope else name
        self.path = path
        self.layout = tuple(layout) if layout is not None else None
        self.memory_format = memory_format
        self.regularizer = regularizer
        self.constraint = constraint
        self.autocast = autocast
        self.aggregation = aggregation
        self.synchronization = synchronization
        # Keras's float8 scales: the optimizer writes the gradient into the variable instead of a step.
        self.overwrite_with_gradient = bool(overwrite_with_gradient)
        # Created trainable: a layer's ``trainable`` toggle applies to it (not to, e.g., moving statistics).
        self._trainable_wanted = bool(trainable)

    @property
    def parameter(self) -> torch.nn.Parameter:
        """The stored ``torch.nn.Parameter`` (storage layout); the same object as ``value``."""
        return self.value

    # ---- layout conversion: the one place Keras <-> torch layouts meet ----
    def _to_keras(self, t: torch.Tensor) -> torch.Tensor:
        if self.layout is None:
            return t
        inverse = [self.layout.index(i) for i in range(len(self.layout))]
        return t.permute(*inverse)

    def _to_torch(self, t: torch.Tensor) -> torch.Tensor:
        if self.layout is None:
            return t
        return t.permute(*self.layout)

    @property
    def keras_value(self) -> torch.Tensor:
        """The parameter viewed in Keras layout (a differentiable view, no copy)."""
        return self._to_keras(self.value)

    @property
    def shape(self) -> tuple:
        return tuple(self.keras_value.shape)

    @property
    def ndim(self) -> int:
        return self.value.ndim

    @property
    def dtype(self) -> str:
        return config.standardize_dtype(self.value.dtype)

    @property
    def trainable(self) -> bool:
        return self.value.requires_grad

    @trainable.setter
    def trainable(self, value: bool) -> None:
        from cornu.utils import tracking

        self.value.requires_grad_(bool(value))
        tracking.bump()

    def numpy(self) -> np.ndarray:
        return tensor_to_numpy(self.keras_value)

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr.astype(dtype) if dtype is not None else arr

    def assign(self, value: Any) -> "Variable":
        """Overwrite the value with an array in Keras layout; the shape must match."""
        t = torch.as_tensor(np.asarray(value) if not isinstance(value, torch.Tensor) else value)
        if tuple(t.shape) != self.shape:
            raise ValueError(
                f"The shape of the target variable {self.path!r} and the shape of the target value "
                f"in `variable.assign(value)` must match. variable.shape={self.shape}, "
                f"Received: value.shape={tuple(t.shape)}."
            )
        t = self._to_torch(t.to(self.value.dtype))
        if hasattr(self.value, "device_mesh"):  # a DTensor: this process keeps its own shard of the value
            from torch.distributed.tensor import distribute_tensor

            t = distribute_tensor(t.to(self.value.device_mesh.device_type), self.value.device_mesh,
                                  self.value.placements, src_data_rank=None)
        with torch.no_grad():
            self.value.copy_(t)
        return self

    def assign_add(self, value: Any) -> "Variable":
        return self.assign(self.keras_value.detach() + torch.as_tensor(value, device=self.value.device))

    def assign_sub(self, value: Any) -> "Variable":
        return self.assign(self.keras_value.detach() - torch.as_tensor(value, device=self.value.device))

    def __repr__(self) -> str:
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"

    # ---- behave like a tensor in math (custom layers write ``x @ self.w``) ----
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        def unwrap(a):
            if isinstance(a, Variable):
                return a.keras_value
            if isinstance(a, (list, tuple)):
                return type(a)(unwrap(v) for v in a)
            return a

        return func(*unwrap(args), **{k: unwrap(v) for k, v in (kwargs or {}).items()})

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, idx):
        return self.keras_value[idx]

    def __float__(self) -> float:
        return float(self.keras_value)

    def __int__(self) -> int:
        return int(self.keras_value)

    def __bool__(self) -> bool:
        return bool(self.keras_value)


def _forward(name: str):
    def method(self, *args):
        args = [a.keras_value if isinstance(a, Variable) else a for a in args]
        return getattr(self.keras_value, name)(*args)

    method.__name__ = name
    return method


for _name in (
    "__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ "
    "__floordiv__ __rfloordiv__ __mod__ __rmod__ __pow__ __rpow__ __matmul__ __rmatmul__ "
    "__neg__ __pos__ __abs__ __lt__ __le__ __gt__ __ge__ __and__ __or__ __xor__ __invert__"
).split():
    setattr(Variable, _name, _forward(_name))
