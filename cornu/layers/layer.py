"""``Layer``: a ``torch.nn.Module`` with Keras's lazy build, weights API and config.

Life of a layer: constructed with hyper-parameters only; ``build(input_shape)``
runs on the first call (or when a model already knows the input shape) and
creates weights with ``add_weight``; ``call`` does the computation. Calling on
KerasTensors records a functional-graph node instead of computing.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from cornu import config, dtype_policies, symbolic
from cornu.remat import RematScope, get_current_remat_mode, remat
from cornu.symbolic import KerasTensor, Node
from cornu.utils import naming, tree
from cornu.variables import Variable

# The context of the outermost layer call in progress (at most one entry), shared with every layer it calls.
# A module-level list: torch.compile traces its appends and pops (it cannot trace ContextVars, and it
# mis-replays attribute writes on module objects across compiled frames). Layers are called from one
# thread at a time, as in Keras.
_CALL_STACK: list = []


class _CallContext:

    def __init__(self, training):
        self.training = training
        self.cleared: set[int] = set()
        self.autocast: torch.dtype | None = None  # the compute dtype of the mixed-precision region in progress


class AxisError(ValueError, IndexError):
    """An axis outside the input's rank. Keras's layers fail there with an ``IndexError`` from indexing the shape;
    this is also a ``ValueError``, so code catching either (and Keras-shaped tests) sees what it expects."""


class InputSpec:
    """What a layer accepts: rank (``ndim``/``min_ndim``/``max_ndim``) and fixed axes."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None,
                 allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = dtype
        self.shape = shape
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})
        self.name = name
        self.optional = optional

    def check(self, layer_name: str, index: int, shape: tuple) -> None:
        """Raise Keras's ``ValueError`` when ``shape`` does not fit this spec."""
        ndim = len(shape)
        prefix = f'Input {index} of layer "{layer_name}" is incompatible with the layer: '
        if self.ndim is not None and ndim != self.ndim:
            raise ValueError(f"{prefix}expected ndim={self.ndim}, found ndim={ndim}. "
                             f"Full shape received: {tuple(shape)}")
        if self.min_ndim is not None and ndim < self.min_ndim:
            raise ValueError(f"{prefix}expected min_ndim={self.min_ndim}, found ndim={ndim}. "
                             f"Full shape received: {tuple(shape)}")
        if self.max_ndim is not None and ndim > self.max_ndim:
            raise ValueError(f"{prefix}expected max_ndim={self.max_ndim}, found ndim={ndim}. "
                             f"Full shape received: {tuple(shape)}")
        for axis, value in self.axes.items():
            d = shape[axis] if -ndim <= axis < ndim else None
            if value is not None and d is not None and d != value:
                raise ValueError(f"{prefix}expected axis {axis} of input shape to have value {value}, "
                                 f"but received input with shape {tuple(shape)}")


def _shape_of(x: Any) -> tuple | None:
    if isinstance(x, (KerasTensor, torch.Tensor, np.ndarray)):
        shape = tuple(x.shape)
        if symbolic.in_fake_run() and isinstance(x, torch.Tensor):
            return symbolic.shape_from_fake(shape)
        return shape
    return None


def _mask_to_tensor(mask: Any) -> Any:
    """A NumPy mask passed as ``mask=`` to a device tensor (others unchanged)."""
    return torch.as_tensor(mask, device=config.device()) if isinstance(mask, np.ndarray) else mask


def _int_to(dtype: torch.dtype) -> Callable[[Any], Any]:
    """A function casting integer/bool tensors to ``dtype`` (others unchanged)."""
    def cast(x: Any) -> Any:
        return x.to(dtype) if isinstance(x, torch.Tensor) and not x.is_floating_point() else x
    return cast


def _to_tensor(x: Any, dtype: torch.dtype | None) -> Any:
    """Numpy/python inputs to device tensors; float tensors to the layer's dtype."""
    if isinstance(x, torch.Tensor):
        if dtype is not None and x.is_floating_point() and x.dtype != dtype:
            return x.to(dtype)
        return x
    if isinstance(x, Variable):
        return x.keras_value
    if isinstance(x, (np.ndarray, np.generic, float, int, list)) and not isinstance(x, bool):
        arr = np.asarray(x)
        if arr.dtype.kind in "US" or (arr.dtype.kind == "O" and arr.size and isinstance(arr.flat[0], (str, bytes))):
            return x  # text passes through to `call` unconverted (string inputs of TextVectorization, StringLookup)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"Cannot convert input of dtype {arr.dtype} to a tensor: expected numbers.")
        t = torch.as_tensor(arr, device=config.device())
        if t.is_floating_point() and dtype is not None:
            t = t.to(dtype)
        return t
    return x


class Layer(nn.Module):
    """Base class of all layers (and of ``Model``)."""

    _remat_mode: RematScope | None = None
    # ``compute_mask`` is written with ``cornu.ops``: on symbolic inputs it runs as is, so the mask is a node of
    # the graph (as Keras records it: a layer consuming the mask takes it as its ``mask`` argument).
    _mask_from_ops = False

    def __init__(self, *, activity_regularizer=None, trainable: bool = True, dtype=None,
                 autocast: bool = True, name: str | None = None, **kwargs):
        super().__init__()
        input_shape = kwargs.pop("input_shape", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        batch_size = kwargs.pop("batch_size", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self._input_shape_arg = tuple(batch_input_shape)
        elif input_shape is not None:
            self._input_shape_arg = (batch_size,) + tuple(input_shape)
        else:
            self._input_shape_arg = None
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Argument `name` must be a string. Received: name={name!r}")
        self.name = name or naming.uniquify(naming.to_snake_case(type(self).__name__))
        self.autocast = autocast
        self._set_dtype_policy(dtype_policies.get(dtype))
        self._trainable = trainable
        self.built = self._built_at_init
        self.input_spec: Any = None
        self.supports_masking = False
        self._variables: list[Variable] = []
        self._losses: list[torch.Tensor] = []
        self._inbound_nodes: list[Node] = []
        self._build_shapes: Any = None
        from cornu import regularizers

        self.activity_regularizer = regularizers.get(activity_regularizer)
        sig = inspect.signature(self.call).parameters
        self._call_takes_training = "training" in sig
        self._call_takes_mask = "mask" in sig
        self._call_params = [n for n, p in sig.items() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD,
                                                                      p.KEYWORD_ONLY)]
        self._mask_params = any(n == "mask" or n.endswith("_mask") for n in self._call_params)
        # The `keras.RematScope` active at creation (as in Keras): it decides whether calls are checkpointed.
        self._remat_mode = get_current_remat_mode()

    # ------------------------------------------------------------------ dtype
    def _set_dtype_policy(self, policy: dtype_policies.DTypePolicy) -> None:
        """Keep ``policy`` and what the call path needs of it, looked up once here rather than per call."""
        self._dtype_policy = policy
        if isinstance(policy, dtype_policies.DTypePolicyMap):
            policy = policy[self.path]
        self._policy = policy
        compute = getattr(torch, policy.compute_dtype, None)
        compute = compute if isinstance(compute, torch.dtype) else None
        self._compute_torch_dtype = compute
        # Mixed precision: float variables, computation in another (16-bit) float type.
        self._mixed = compute is not None and compute.is_floating_point and \
            policy.compute_dtype != policy.variable_dtype

    @property
    def dtype_policy(self) -> dtype_policies.DTypePolicy:
        """The layer's ``DTypePolicy`` (``DTypePolicyMap``: the layer uses its entry for ``layer.path``)."""
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value) -> None:
        policy = dtype_policies.get(value)
        current = self._dtype_policy
        if isinstance(current, dtype_policies.DTypePolicyMap) and not isinstance(policy, dtype_policies.DTypePolicyMap):
            if self.path in current:
                del current[self.path]
            current[self.path] = policy
            policy = current
        self._set_dtype_policy(policy)

    @property
    def dtype(self) -> str:
        """The dtype of the layer's variables (``variable_dtype``), as in Keras 3."""
        return self._policy.variable_dtype

    @property
    def compute_dtype(self) -> str:
        """The dtype the layer computes in: float inputs are cast to it."""
        return self._policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype ``add_weight`` creates variables in unless told otherwise."""
        return self._policy.variable_dtype

    @property
    def input_dtype(self) -> str:
        """The dtype float inputs are cast to (the compute dtype)."""
        return self._policy.compute_dtype

    # -------------------------------------------------------------- tracking
    # Internal attributes that are never tracked (hot-path state, bookkeeping).
    _UNTRACKED = frozenset({"_losses", "_inbound_nodes", "_variables", "_build_shapes", "_input_shape_arg",
                            "_weights_cache", "_layers_cache", "input_spec", "_outputs", "_tracked_metrics",
                            "_remat_mode"})

    def __setattr__(self, name: str, value: Any) -> None:
        if "_modules" not in self.__dict__ or name in Layer._UNTRACKED:
            object.__setattr__(self, name, value) if name in Layer._UNTRACKED else super().__setattr__(name, value)
            return
        from cornu.utils import tracking

        old_container = self._modules.get(name)
        if isinstance(old_container, _TrackedModules):
            del self._modules[name]
            tracking.bump()
        if isinstance(value, Variable):
            self._adopt_variable(value)
            object.__setattr__(self, name, value)
            tracking.bump()
            return
        if isinstance(value, nn.Parameter):
            super().__setattr__(name, value)
            if all(value is not v.value for v in self._variables):
                var = Variable(value, name=name, path=f"{self.name}/{name}")
                self._variables.append(var)
            tracking.bump()
            return
        if isinstance(value, nn.Module) and not isinstance(value, Layer) and not _holds_layers(value):
            from cornu.layers.torch_module_wrapper import TorchModuleWrapper

            value = TorchModuleWrapper(value)
        if isinstance(value, (list, dict, tuple)):
            value = tracking.wrap(value, functools.partial(self._sync_container, name))
            object.__setattr__(self, name, value)
            self._sync_container(name)
            return
        if isinstance(value, nn.Module) or old_container is not None:
            tracking.bump()
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        from cornu.utils import tracking

        if isinstance(self._modules.get(name), _TrackedModules):
            del self._modules[name]
        if name in self.__dict__:
            object.__delattr__(self, name)
        else:
            super().__delattr__(name)
        tracking.bump()

    def _adopt_variable(self, var: Variable) -> None:
        """Make a variable created outside ``add_weight`` one of this layer's own weights."""
        if any(var is v for v in self._variables):
            return
        if any(var.value is p for p in self._parameters.values()):
            self._variables.append(var)
            return
        base = var.name or "variable"
        attr, i = base, 1
        while attr in self._parameters or attr in self.__dict__ or attr in self._modules:
            attr, i = f"{base}_{i}", i + 1
        self.register_parameter(attr, var.value)
        self._variables.append(var)

    def _sync_container(self, name: str) -> None:
        """Register what a tracked list/dict/tuple holds with torch (sub-modules) and as weights."""
        from cornu.utils import tracking

        value = self.__dict__.get(name)
        holder = _TrackedModules()
        adopted = len(self._variables)
        for i, item in enumerate(tracking.flatten_trackables(value)):
            if isinstance(item, nn.Module):
                holder.add_module(str(i), item)
            elif isinstance(item, Variable):
                self._adopt_variable(item)
            elif isinstance(item, nn.Parameter) and all(item is not v.value for v in self._variables):
                self._adopt_variable(Variable(item, name=f"{name}_{i}"))
        had = self._modules.pop(name, None) is not None
        if len(holder._modules):
            self._modules[name] = holder
        if had or len(holder._modules) or adopted != len(self._variables):
            tracking.bump()

    def _flat_layers(self) -> list["Layer"]:
        """Direct sub-layers in tracking order (looking inside containers); cached per tracking version."""
        from cornu.utils import tracking

        cache = self.__dict__.get("_layers_cache")
        if cache is not None and cache[0] == tracking.version():
            return cache[1]
        out: list[Layer] = []
        seen: set[int] = set()

        def visit(m: nn.Module):
            for child in m._modules.values():
                if isinstance(child, Layer):
                    if id(child) not in seen:
                        seen.add(id(child))
                        out.append(child)
                elif isinstance(child, _TrackedModules) or _holds_layers(child):
                    visit(child)

        visit(self)
        self._layers_cache = (tracking.version(), out)
        return out

    # --------------------------------------------------------------- weights
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable: bool = True,
                   autocast: bool = True, regularizer=None, constraint=None, aggregation: str = "none",
                   overwrite_with_gradient: bool = False, name: str | None = None, *,
                   layout=None, memory_format=torch.contiguous_format) -> Variable:
        """Create a weight. ``shape`` and ``initializer`` are in Keras layout.

        ``layout`` (built-in layers only) permutes the Keras array to the torch
        layout the parameter is stored in.
        """
        from cornu import constraints, initializers, regularizers
        from cornu.utils import tracking

        shape = () if shape is None else tuple(int(d) for d in shape)
        dtype_name = config.standardize_dtype(dtype or self.variable_dtype)
        if initializer is None:
            initializer = "glorot_uniform" if "float" in dtype_name else "zeros"
        init = initializers.get(initializer)
        with symbolic.real_mode():
            with torch.no_grad():
                value = init(shape, dtype=dtype_name)
                value = torch.as_tensor(value, dtype=config.torch_dtype(dtype_name))
                if layout is not None:
                    value = value.permute(*layout)
                value = value.to(config.device()).contiguous(memory_format=memory_format)
            param = nn.Parameter(value, requires_grad=bool(trainable and self._trainable))
        base = name or "variable"
        attr = base
        i = 1
        while attr in self._parameters or attr in self.__dict__ or attr in self._modules or hasattr(type(self), attr):
            attr = f"{base}_{i}"
            i += 1
        self.register_parameter(attr, param)
        with self._name_scope():
            path = _scoped(base)
        var = Variable(param, trainable=trainable, autocast=autocast, aggregation=aggregation, name=base,
                       path=path, layout=layout, memory_format=memory_format,
                       regularizer=regularizers.get(regularizer), constraint=constraints.get(constraint),
                       overwrite_with_gradient=overwrite_with_gradient)
        self._variables.append(var)
        tracking.bump()
        return var

    @property
    def weights(self) -> list[Variable]:
        """All weights: this layer's own first, then its sub-layers', Keras's order (cached, O(n))."""
        from cornu.utils import tracking

        cache = self.__dict__.get("_weights_cache")
        if cache is not None and cache[0] == tracking.version():
            return list(cache[1])
        out = list(self._variables)
        seen = {id(v) for v in out}
        for layer in self._flat_layers():
            for v in layer.weights:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        self._weights_cache = (tracking.version(), out)
        return list(out)

    @property
    def variables(self) -> list[Variable]:
        return self.weights

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self._trainable:
            return []
        return [v for v in self.weights if v.trainable]

    @property
    def trainable_variables(self) -> list[Variable]:
        return self.trainable_weights

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self._trainable:
            return self.weights
        return [v for v in self.weights if not v.trainable]

    @property
    def non_trainable_variables(self) -> list[Variable]:
        return self.non_trainable_weights

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freeze or unfreeze this layer and all its sub-layers (variables created trainable follow)."""
        from cornu.utils import tracking

        value = bool(value)
        self._trainable = value
        for v in self._variables:
            if v._trainable_wanted and (v.value.is_floating_point() or v.value.is_complex()):
                v.value.requires_grad_(value)
        for layer in self._flat_layers():
            layer.trainable = value
        tracking.bump()

    def get_weights(self) -> list[np.ndarray]:
        """Weights as numpy arrays in Keras layout."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights: list) -> None:
        """Set weights from numpy arrays in Keras layout (the order of ``weights``)."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(
                f"You called `set_weights(weights)` on layer '{self.name}' with a weight list of "
                f"length {len(weights)}, but the layer was expecting {len(own)} weights."
            )
        for var, value in zip(own, weights):
            value = np.asarray(value)
            if tuple(value.shape) != var.shape:
                raise ValueError(
                    f"Layer {self.name} weight shape {var.shape} is not compatible with provided "
                    f"weight shape {tuple(value.shape)}."
                )
        for var, value in zip(own, weights):
            var.assign(np.asarray(value))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't built. "
                "You can build it manually via: `layer.build(input_shape)`."
            )
        return int(sum(int(np.prod(v.shape)) for v in self.weights))

    # ---------------------------------------------------------------- losses
    def add_loss(self, loss: Any) -> None:
        """Record a scalar loss from ``call`` (it joins the training loss)."""
        if symbolic.in_fake_run():
            return
        if not isinstance(loss, torch.Tensor):
            loss = torch.as_tensor(loss, dtype=torch.float32, device=config.device())
        self._losses.append(loss)

    @property
    def losses(self) -> list[torch.Tensor]:
        """Losses from the last call (``add_loss``) plus weight-regularization penalties."""
        out = list(self._losses)
        for v in self._variables:
            if v.regularizer is not None:
                out.append(v.regularizer(v.keras_value))
        for layer in self._flat_layers():
            out.extend(layer.losses)
        return out

    def _has_losses(self) -> bool:
        if self._losses or self.activity_regularizer is not None or any(v.regularizer for v in self._variables):
            return True
        return any(layer._has_losses() for layer in self._flat_layers())

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls.build = _recording_build(cls.__dict__["build"])

    # ----------------------------------------------------------------- build
    def build(self, input_shape: Any = None) -> None:
        """Create weights for ``input_shape``; override in subclasses."""
        self.built = True

    def _maybe_build(self, shapes: Any) -> None:
        if self.built:
            return
        with symbolic.real_mode(), self._name_scope():
            self.build(shapes)
        self._build_shapes = shapes
        self.built = True

    def _name_scope(self) -> Any:
        """``name_scope(self.name)`` for this layer's build and first call, as Keras: weights created meanwhile
        (its own and its sub-layers') get paths under it (``model/dense/kernel``). Re-entry adds nothing."""
        from cornu.scopes import name_scope

        if "/" in self.name:
            return contextlib.nullcontext()
        return name_scope(self.name, caller=self)

    # Keras builds its stateless layers (Dropout, pooling, Reshape ...) in their constructor: they have no build
    # config, so the shapes they first see are not recorded.
    _built_at_init = False

    def build_from_config(self, config: dict | None) -> None:
        shape = (config or {}).get("input_shape")
        if shape is not None:
            self._maybe_build(tree.map_structure(lambda d: d, shape))

    def get_build_config(self) -> dict | None:
        if self._build_shapes is None or self._built_at_init:
            return None
        return {"input_shape": self._build_shapes}

    # ------------------------------------------------------------------ call
    def call(self, inputs, *args, **kwargs):
        """The computation; override in subclasses."""
        return inputs

    def forward(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    def _first_arg(self, args, kwargs):
        if args:
            return args[0]
        for key in ("inputs", "x"):
            if key in kwargs:
                return kwargs[key]
        return next(iter(kwargs.values()), None)

    def _check_input_spec(self, inputs: Any) -> None:
        if self.input_spec is None:
            return
        specs = self.input_spec if isinstance(self.input_spec, (list, tuple)) else [self.input_spec]
        flat = tree.flatten(inputs)
        if len(specs) != len(flat) and len(specs) > 1:
            raise ValueError(f'Layer "{self.name}" expects {len(specs)} input(s), but it received '
                             f"{len(flat)} input tensors.")
        for i, (spec, x) in enumerate(zip(specs, flat)):
            shape = _shape_of(x)
            if spec is not None and shape is not None:
                spec.check(self.name, i, shape)

    def __call__(self, *args, **kwargs):
        if not args and not kwargs:
            raise TypeError(f"Layer {self.name!r} was called without inputs.")
        if not self.built and not self.__dict__.get("_first_call_scoped"):
            # The first call (build, and sub-layers built lazily in `call`) runs under the layer's name scope.
            self.__dict__["_first_call_scoped"] = True
            try:
                with self._name_scope():
                    return Layer.__call__(self, *args, **kwargs)
            finally:
                del self.__dict__["_first_call_scoped"]
        if args and isinstance(args[0], torch.Tensor):
            # The training hot path: one real tensor in; a shallow look at the rest suffices.
            if any(isinstance(v, KerasTensor) for v in args[1:]) or any(
                    isinstance(v, KerasTensor) for v in kwargs.values()):
                return self._symbolic_call(args, kwargs)
        elif symbolic.is_symbolic(*args, **kwargs):
            return self._symbolic_call(args, kwargs)
        outermost = not _CALL_STACK
        training = kwargs.get("training")
        if outermost:
            ctx = _CallContext(training)
            _CALL_STACK.append(ctx)
        else:
            ctx = _CALL_STACK[-1]
            if training is not None:
                prev_training = ctx.training
                ctx.training = training
        try:
            if id(self) not in ctx.cleared:
                ctx.cleared.add(id(self))
                if self._losses:
                    self._losses = []
            dtype = self._compute_torch_dtype if self.autocast else None
            if args:
                first = args[0]
                if isinstance(first, torch.Tensor):
                    if dtype is not None and first.dtype != dtype and first.is_floating_point():
                        args = (first.to(dtype),) + args[1:]
                else:
                    first = tree.map_structure(lambda a: _to_tensor(a, dtype), first)
                    if _is_model(type(self)):
                        _check_text_inputs(self, first)
                    args = (first,) + args[1:]
                if self._casts_int_inputs and dtype is not None:
                    args = (tree.map_structure(_int_to(dtype), args[0]),) + args[1:]
            inputs = self._first_arg(args, kwargs)
            if not self.built:
                self._maybe_build(tree.map_structure(_shape_of, inputs))
            self._check_input_spec(inputs)
            if self._call_takes_training:
                if kwargs.get("training") is None:
                    kwargs["training"] = bool(ctx.training)
            else:
                kwargs.pop("training", None)
            if "mask" in kwargs and not self._call_takes_mask:  # as Keras: `call` has no `mask` to receive it
                raise TypeError(f"{type(self).__name__}.call() got an unexpected keyword argument 'mask' (layer "
                                f"{self.name!r} does not take a mask; masks attached to its inputs are handled "
                                "without it)")
            in_mask = kwargs.get("mask")
            if in_mask is not None and not isinstance(in_mask, (torch.Tensor, KerasTensor)):
                in_mask = kwargs["mask"] = tree.map_structure(_mask_to_tensor, in_mask)
            if in_mask is None:
                in_mask = _mask_of(inputs)
            several = len(args) > 1 or any(k != "training" and k != "mask" for k in kwargs)
            if self._mask_params and several and self._fill_argument_masks(args, kwargs):
                pass  # several tensor arguments: Keras fills `<argument>_mask`, never `mask`
            elif self._call_takes_mask:
                if kwargs.get("mask") is None and in_mask is not None:
                    kwargs["mask"] = in_mask
            if not self._call_takes_mask:
                kwargs.pop("mask", None)
            region = ctx.autocast
            if self._remat_mode is not None and torch.is_grad_enabled() and not symbolic.in_fake_run():
                outputs = self._remat_call(ctx, region, args, kwargs)
            elif region is None and not self._mixed:
                outputs = super().__call__(*args, **kwargs)
            else:
                outputs = self._call_in_region(ctx, region, args, kwargs)
            if in_mask is not None or self._computes_own_mask:
                _set_mask(outputs, self.compute_mask(inputs, in_mask))
            if self.activity_regularizer is not None and not symbolic.in_fake_run():
                for o in tree.flatten(outputs):
                    self.add_loss(self.activity_regularizer(o) / o.shape[0])
            return outputs
        finally:
            if outermost:
                _CALL_STACK.pop()
            elif training is not None:
                ctx.training = prev_training

    def _remat_call(self, ctx: _CallContext, region: torch.dtype | None, args: tuple, kwargs: dict) -> Any:
        """``call`` under the layer's ``RematScope``: checkpointed (recomputed in the backward pass) when its
        mode applies -- ``"full"``, ``"list_of_layers"`` naming this layer, ``"larger_than"`` an output of more
        elements than the threshold -- or, for ``"activations"``, with just ``self.activation`` checkpointed."""
        scope = self._remat_mode
        training = ctx.training

        def run(*a, **k):
            replay = not _CALL_STACK  # the recomputation, in the backward pass: the call's context comes back
            context = ctx
            if replay:
                context = _CallContext(training)
                context.autocast = region
                _CALL_STACK.append(context)
            try:
                if region is None and not self._mixed:
                    return nn.Module.__call__(self, *a, **k)
                return self._call_in_region(context, region, a, k)
            finally:
                if replay:
                    _CALL_STACK.pop()

        if scope.mode == "activations":
            activation = self.__dict__.get("activation")
            if not callable(activation) or isinstance(activation, nn.Module):
                return run(*args, **kwargs)
            self.__dict__["activation"] = remat(activation)
            try:
                return run(*args, **kwargs)
            finally:
                self.__dict__["activation"] = activation
        applies = scope.mode == "full" or (scope.mode == "list_of_layers" and self.name in scope.layer_names) or (
            scope.mode == "larger_than" and self._output_size(args, kwargs) > scope.output_size_threshold)
        return remat(self._replaying_generators(run))(*args, **kwargs) if applies else run(*args, **kwargs)

    def _replaying_generators(self, run):
        """``run`` whose recomputation (in the backward pass) draws what the forward drew from the layers' own
        generators (seeded Dropout and noise layers), as checkpointing already does for torch's global one, and
        leaves non-trainable variables as the forward left them. A generator the forward created lazily is
        dropped for the recomputation, which re-creates it from its seed."""
        before: list = []

        def generators() -> list:
            layers, found = [self], []
            while layers:
                layer = layers.pop()
                layers.extend(layer._flat_layers())
                found.extend((layer, k, g) for k, g in layer.__dict__.items() if isinstance(g, torch.Generator))
            return found

        def replaying(*a, **k):
            if not before:
                before.append({(id(layer), key): g.get_state() for layer, key, g in generators()})
                return run(*a, **k)
            now = [(layer, key, g, g.get_state()) for layer, key, g in generators()]
            for layer, key, g, _ in now:
                state = before[0].get((id(layer), key))
                if state is None:
                    layer.__dict__[key] = None
                else:
                    g.set_state(state)
            # State the forward already updated (BatchNormalization's moving statistics) is not updated twice.
            kept = [(v.value, v.value.detach().clone()) for v in self.weights if not v.value.requires_grad]
            try:
                return run(*a, **k)
            finally:
                for layer, key, g, state in now:
                    layer.__dict__[key] = g
                    g.set_state(state)
                with torch.no_grad():
                    for value, saved in kept:
                        value.copy_(saved)

        return replaying

    def _output_size(self, args: tuple, kwargs: dict) -> int:
        """Elements in the outputs of a call on these arguments (shape inference, cached per input shapes)."""
        key = tuple(tuple(t.shape) for t in tree.flatten((args, kwargs)) if isinstance(t, torch.Tensor))
        sizes = self.__dict__.setdefault("_remat_sizes", {})
        if key not in sizes:
            specs = tree.map_structure(
                lambda t: KerasTensor(t.shape, dtype=t.dtype) if isinstance(t, torch.Tensor) else t, (args, kwargs))
            with torch.no_grad():  # nothing saved for backward: a checkpoint around this call counts saved tensors
                out = self.compute_output_spec(*specs[0], **specs[1])
            sizes[key] = sum(int(np.prod(o.shape)) for o in tree.flatten(out) if isinstance(o, KerasTensor))
        return sizes[key]

    def _region_dtype(self, region: torch.dtype | None) -> torch.dtype | None:
        """The mixed-precision region this layer's call runs in, given the one in progress (Keras's rules).

        A mixed layer opens a region of its compute dtype; inside a region, a layer
        that computes in another dtype opens its own, and one that does not autocast
        (or computes in a non-float dtype) runs outside any.
        """
        compute = self._compute_torch_dtype
        if region is None:
            return compute if self._mixed else None
        if not self.autocast or compute is None or not compute.is_floating_point:
            return None
        return compute

    def _call_in_region(self, ctx: _CallContext, region: torch.dtype | None, args: tuple, kwargs: dict) -> Any:
        """Run ``call`` in its mixed-precision region; float outputs come out in the compute dtype.

        The region is a ``torch.autocast`` region: matmuls and convolutions cast
        their float32 variables (each once per region, by autocast's cache) and
        run in the 16-bit compute dtype, as Keras casts autocast variables on read.
        Ops autocast leaves alone promote a 16-bit activation meeting a float32
        variable to float32, so the outputs a layer computes are cast to its compute
        dtype. Outputs a sub-layer made pass through as it made them, and a model
        returns what its call computed (a float32 last layer gives float32 outputs),
        as in Keras.
        """
        want = self._region_dtype(region)
        if want == region:
            outputs = super().__call__(*args, **kwargs)
        else:
            first = args[0] if args else None
            device_type = first.device.type if isinstance(first, torch.Tensor) else config.device().type
            if want in (torch.float16, torch.bfloat16):
                autocast = torch.autocast(device_type, dtype=want)
            else:
                autocast = torch.autocast(device_type, enabled=False)
            ctx.autocast = want
            try:
                with autocast:
                    outputs = super().__call__(*args, **kwargs)
            finally:
                ctx.autocast = region
        compute = self._compute_torch_dtype
        if want is None or want != compute or _is_model(type(self)):
            compute = None
        if isinstance(outputs, torch.Tensor):
            return _region_output(outputs, compute)
        return tree.map_structure(lambda o: _region_output(o, compute), outputs)

    def _tensor_arguments(self, args: tuple, kwargs: dict) -> dict:
        """The call's arguments that hold tensors, by parameter name (masks and ``training`` aside)."""
        named = dict(zip(self._call_params, args))
        named.update(kwargs)
        return {k: v for k, v in named.items() if k != "training" and k != "mask" and not k.endswith("_mask")
                and any(isinstance(t, torch.Tensor) for t in tree.flatten(v))}

    def _fill_argument_masks(self, args: tuple, kwargs: dict) -> bool:
        """Keras's rule for several tensor arguments: each ``<name>_mask`` the call takes gets that argument's
        mask, and ``mask`` is not filled. False when there is only one tensor argument."""
        tensors = self._tensor_arguments(args, kwargs)
        if len(tensors) < 2:
            return False
        for name, value in tensors.items():
            key = f"{name}_mask"
            if key in self._call_params and kwargs.get(key) is None:
                mask = _mask_of(value)
                if mask is not None:
                    kwargs[key] = mask
        return True

    def _symbolic_call(self, args: tuple, kwargs: dict) -> Any:
        inputs = self._first_arg(args, kwargs)
        shapes = tree.map_structure(_shape_of, inputs)
        self._maybe_build(shapes)
        self._check_input_spec(inputs)
        outputs = self.compute_output_spec(*args, **kwargs)
        from cornu.layers.call_record import keras_mask_argument

        mask = keras_mask_argument(self, args, kwargs)
        node = Node(self, args, kwargs if mask is None else {**kwargs, "mask": mask}, outputs)
        node.filled_mask = mask is not None
        return outputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        """Output shape for ``input_shape`` (``None`` for unknown dimensions)."""
        if _is_shape(input_shape):
            specs = KerasTensor(input_shape, dtype=self.compute_dtype)
        elif isinstance(input_shape, dict):
            specs = {k: KerasTensor(s, dtype=self.compute_dtype) for k, s in input_shape.items()}
        else:
            specs = [KerasTensor(s, dtype=self.compute_dtype) for s in input_shape]
        out = symbolic.compute_output_spec(lambda x: Layer.__call__(self, x), (specs,), {})
        return tree.map_structure(lambda t: t.shape, out)

    # Layers that only move elements (Flatten, Reshape ...) give symbolic outputs their input's dtype, as in Keras.
    _keeps_input_dtype = False
    # Layers that compute in floats whatever they get (normalizations, RNNs): integer inputs are cast to the
    # compute dtype, as Keras's versions do.
    _casts_int_inputs = False

    def compute_output_spec(self, *args, **kwargs) -> Any:
        """Symbolic outputs for symbolic inputs (shape inference, no real computation)."""
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            inputs = self._first_arg(args, kwargs)
            shapes = tree.map_structure(_shape_of, inputs)
            out_shapes = self.compute_output_shape(shapes)
            if _is_shape(out_shapes):
                keep = self._keeps_input_dtype and getattr(inputs, "dtype", None) is not None \
                    and "float" not in str(inputs.dtype)
                return KerasTensor(out_shapes, dtype=inputs.dtype if keep else self.compute_dtype)
            if isinstance(out_shapes, dict):
                return {k: KerasTensor(s, dtype=self.compute_dtype) for k, s in out_shapes.items()}
            return [KerasTensor(s, dtype=self.compute_dtype) for s in out_shapes]
        return symbolic.compute_output_spec(lambda *a, **k: Layer.__call__(self, *a, **k), args, kwargs)

    # ----------------------------------------------------------------- masks
    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The mask of the outputs: passed through by layers that support masking, else dropped."""
        return mask if self.supports_masking else None

    @property
    def _computes_own_mask(self) -> bool:
        return type(self).compute_mask is not Layer.compute_mask and getattr(self, "supports_masking", False)

    # ---------------------------------------------------------------- config
    def get_config(self) -> dict:
        """Constructor arguments that rebuild this layer (``from_config``)."""
        cfg = {"name": self.name, "trainable": self.trainable, "dtype": dtype_policies.serialize(self.dtype_policy)}
        if self._input_shape_arg is not None:
            cfg["batch_input_shape"] = self._input_shape_arg
        return cfg

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    # ----------------------------------------------------------------- misc
    @property
    def input(self):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} has never been called and thus has no defined input.")
        t = self._inbound_nodes[0].input_tensors
        return t[0] if len(t) == 1 else t

    @property
    def output(self):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} has never been called and thus has no defined output.")
        return self._inbound_nodes[0].outputs

    @property
    def path(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


_MODEL_CLASSES: dict[type, bool] = {}


def _is_model(cls: type) -> bool:
    found = _MODEL_CLASSES.get(cls)
    if found is None:
        from cornu.models.model import Model

        found = _MODEL_CLASSES[cls] = issubclass(cls, Model)
    return found


def _check_text_inputs(model: "Layer", inputs: Any) -> None:
    """Text (left as NumPy by ``_to_tensor``) fed to a model none of whose inputs is ``Input(dtype="string")``:
    Keras's ``ValueError`` naming the dtype."""
    texts = [a for a in tree.flatten(inputs) if isinstance(a, np.ndarray)]
    specs = getattr(model, "inputs", None) if texts else None
    if specs and not any(getattr(t, "dtype", None) == "string" for t in specs):
        raise ValueError(f"Invalid dtype: {texts[0].dtype.name}. Model {model.name!r} expects numeric inputs "
                         f"(dtypes {[t.dtype for t in specs]}); only a `keras.Input(dtype='string')` takes text.")


def _region_output(output: Any, compute: torch.dtype | None) -> Any:
    """A float output of a call in a mixed-precision region: cast to ``compute`` unless a layer's call made it;
    marked as made by one."""
    if not isinstance(output, torch.Tensor) or not output.is_floating_point():
        return output
    if compute is not None and output.dtype != compute and not getattr(output, "_cornu_layer_output", False):
        mask = getattr(output, "_keras_mask", None)
        output = output.to(compute)
        if mask is not None:
            output._keras_mask = mask
    output._cornu_layer_output = True
    return output


class _TrackedModules(nn.Module):
    """Holds, for torch, the modules of one tracked list/dict attribute (``.to()``, ``state_dict``)."""

    def forward(self, *args, **kwargs):
        raise TypeError("A tracked container of layers is not callable.")


def _holds_layers(module: nn.Module) -> bool:
    """A torch container (``ModuleList``, ``ModuleDict``, ``Sequential``) holding cornu layers: looked through."""
    return isinstance(module, (nn.ModuleList, nn.ModuleDict, nn.Sequential)) and any(
        isinstance(m, Layer) for m in module.children())


def _recording_build(build):
    """Wrap a subclass's ``build`` so a direct call also marks the layer built and records the shape."""

    @functools.wraps(build)
    def wrapper(self, *args, **kwargs):
        with self._name_scope():
            build(self, *args, **kwargs)
        self.built = True
        if self._build_shapes is None:
            shape = args[0] if args else kwargs.get("input_shape")
            if shape is not None:
                self._build_shapes = shape

    return wrapper


def _mask_of(inputs: Any) -> Any:
    """Keras masks travel on tensors as ``_keras_mask`` (symbolic ones on KerasTensors); None when no input has one."""
    if isinstance(inputs, (torch.Tensor, KerasTensor)):
        return getattr(inputs, "_keras_mask", None)
    if isinstance(inputs, (list, tuple)):
        masks = [getattr(t, "_keras_mask", None) for t in inputs]
        return masks if any(m is not None for m in masks) else None
    return None


def _set_mask(outputs: Any, mask: Any) -> None:
    """Attach ``mask`` (one per output) to real or symbolic outputs; as in Keras, a single mask for several
    outputs goes to the first (a ``Bidirectional(..., return_state=True)`` masks its sequence, not its states)."""
    if mask is None:
        return
    if isinstance(outputs, (torch.Tensor, KerasTensor)):
        outputs._keras_mask = mask
    elif isinstance(outputs, (list, tuple)):
        for o, m in zip(outputs, mask if isinstance(mask, (list, tuple)) else [mask]):
            if isinstance(o, (torch.Tensor, KerasTensor)) and m is not None:
                o._keras_mask = m


def _scoped(path: str) -> str:
    """``path`` under the enclosing ``keras.name_scope``s (``outer/inner/dense/kernel``), as Keras names variables."""
    from cornu.scopes import current_path

    prefix = current_path()
    return f"{prefix}/{path}" if prefix else path


def _is_shape(s: Any) -> bool:
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, int) for d in s)
