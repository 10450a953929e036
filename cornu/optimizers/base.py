"""``Optimizer``: Keras 3's optimizer base, applying updates with torch foreach ops.

Keras semantics (argument names, update order, clipping, decoupled weight
decay, EMA, gradient accumulation, ``variables`` order) with a torch engine:
all parameters of one device/dtype are updated by a handful of
``torch._foreach_*`` kernels.

Capturable: every per-step scalar (the step counter, the learning rate, a
schedule's value, bias corrections) is a device tensor computed on the device,
and the steps that Keras takes or skips by a condition (gradient accumulation,
EMA overwrite, a loss-scale skip) are selected on the device. ``apply`` never
reads a value back to the host, so a whole training step can be captured by
``torch.compile`` or a CUDA graph, and the captured step sees the current
learning rate because it is written into the same tensor.
"""
from __future__ import annotations

import math
import numbers
import re
import warnings
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from cornu import config
from cornu.optimizers import schedules
from cornu.utils import naming
from cornu.variables import Variable


class StateVariable(Variable):
    """Optimizer state kept as a plain device tensor (the step counter, the learning rate, ...).

    A ``Variable`` (``numpy()``, ``assign()``, ``int()``, math) that also
    compares by value with numbers, as Keras variables do (``iterations == 3``).
    """

    def __init__(self, value: torch.Tensor, name: str, path: str):
        super().__init__(_state(value), name=name, path=path)
        self._host: tuple[float, int] | None = None

    def remember(self, value: float) -> None:
        """Keep the Python number just written, valid until the tensor is next written in place."""
        self._host = (value, self.value._version)

    def host_value(self) -> float:
        """The value as a Python float: the number last written while the tensor still holds it, else read back.

        Unchanged since that write (its version counter says so), no device read is needed.
        """
        if self._host is not None and self._host[1] == self.value._version:
            return self._host[0]
        value = float(self.value)
        if self._host is not None and float(np.asarray(self._host[0], dtype=self.dtype)) == value:
            self.remember(self._host[0])
            return self._host[0]
        return value

    def __eq__(self, other: Any) -> Any:
        if isinstance(other, Variable):
            return self is other
        return self.value == other

    def __ne__(self, other: Any) -> Any:
        if isinstance(other, Variable):
            return self is not other
        return self.value != other

    __hash__ = Variable.__hash__

    def __index__(self) -> int:
        return int(self.value)

    def __float__(self) -> float:
        """The value as Keras reads it (float32 rounding included), from the host copy when it is current."""
        value = self.host_value()
        return float(np.float32(value)) if self.dtype == "float32" else float(value)

    def __repr__(self) -> str:
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, value={self.numpy()}>"


def _state(value: torch.Tensor) -> torch.nn.Parameter:
    """``value`` as a non-trainable parameter, which ``Variable`` wraps without a copy."""
    return torch.nn.Parameter(value.detach(), requires_grad=False)


def _param_of(variable: Any) -> torch.Tensor:
    """The torch tensor an optimizer updates: ``variable.value`` or the tensor itself."""
    value = getattr(variable, "value", None)
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(variable, torch.Tensor):
        return variable
    raise TypeError(
        f"Expected a cornu Variable or a torch tensor to optimize; received {variable!r} "
        f"of type {type(variable).__name__}."
    )


def _scalar_float(x: Any) -> float:
    return float(x.detach()) if isinstance(x, torch.Tensor) else float(x)


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype of an update's scalars: float64 for float64 weights, else float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def bias_correction(beta: float, step: torch.Tensor) -> torch.Tensor:
    """``1 - beta ** step`` on the device, accurate in float32 even for ``beta`` near 1.

    Written ``-expm1(step * log(beta))`` with ``log(beta)`` taken in double
    precision: a float32 ``beta ** step`` rounds ``beta`` first, which is a
    1e-5 relative error in ``1 - 0.999 ** 1``. (The Adam family keeps Keras's
    float32 powers instead, to follow its numbers.)
    """
    if beta <= 0.0:
        return 1 - torch.pow(beta, step)
    return -torch.expm1(step * math.log(beta))


def select_(targets: Sequence[torch.Tensor], sources: Sequence[torch.Tensor], take: torch.Tensor) -> None:
    """``targets[i] = sources[i]`` where the device flag ``take`` is true, in place and without a sync."""
    for target, source in zip(targets, sources):
        torch.where(take.to(target.device), source, target, out=target)


class _Group:
    """Same-device, same-dtype slice of one step's variables, ready for foreach ops."""

    __slots__ = ("positions", "indices", "variables", "params", "slots", "decay", "accumulators", "shapes",
                 "dtype_set", "extra")

    def __init__(self):
        self.positions: list[int] = []
        self.indices: list[int] = []
        self.variables: list[Any] = []
        self.params: list[torch.Tensor] = []
        self.slots: dict[str, list[torch.Tensor]] = {}
        self.decay: list[torch.Tensor] = []
        self.accumulators: list[torch.Tensor] = []
        self.shapes: list[torch.Size] = []
        self.dtype_set: set = set()
        self.extra: dict[str, Any] = {}

    @property
    def device(self) -> torch.device:
        return self.params[0].device

    @property
    def dtype(self) -> torch.dtype:
        return self.params[0].dtype


class _Plan:
    """How one (variables, present-gradients) pattern maps onto groups; cached across steps."""

    __slots__ = ("groups", "constrained", "missing")

    def __init__(self, groups: list[_Group], constrained: list[Any], missing: list[str]):
        self.groups = groups
        self.constrained = constrained
        self.missing = missing


class StepContext:
    """One update's device scalars: the learning rate and the 1-based step, per device and dtype."""

    def __init__(self, learning_rate: torch.Tensor, iteration: torch.Tensor):
        self.learning_rate = learning_rate
        self.iteration = iteration
        self._cache: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}

    def scalars(self, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """``(learning_rate, iterations + 1)`` as 0-d tensors on ``device`` in ``compute_dtype(dtype)``."""
        key = (device, dtype)
        got = self._cache.get(key)
        if got is None:
            cd = compute_dtype(dtype)
            got = self._cache[key] = (
                self.learning_rate.to(device=device, dtype=cd),
                (self.iteration + 1).to(device=device, dtype=cd),
            )
        return got


class Optimizer:
    """Base class for Keras optimizers.

    Subclasses create their state in ``build`` with ``add_optimizer_variables``
    and implement ``_foreach_update(params, grads, slots, learning_rate, step)``
    (fast path; ``learning_rate`` and ``step`` are 0-d device tensors) or
    Keras's per-variable ``update_step(gradient, variable, learning_rate)``
    (custom optimizers).
    """

    def __init__(
        self,
        learning_rate: Any,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        **kwargs,
    ):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.", stacklevel=2)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        self.name = name if name is not None else naming.uniquify(naming.to_snake_case(type(self).__name__))
        if gradient_accumulation_steps and not (
            isinstance(gradient_accumulation_steps, int) and gradient_accumulation_steps >= 2
        ):
            raise ValueError(
                "`gradient_accumulation_steps` must be an integer >= 2. "
                f"Received: gradient_accumulation_steps={gradient_accumulation_steps}"
            )
        if use_ema:
            if not 0 <= ema_momentum <= 1:
                raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}")
            if ema_overwrite_frequency and (
                not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1
            ):
                raise ValueError(
                    "`ema_overwrite_frequency` must be an integer >= 1 or None. "
                    f"Received: ema_overwrite_frequency={ema_overwrite_frequency}"
                )
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps

        self._iterations = self._scalar_variable("iteration", torch.int32, 0)
        self._learning_rate: Any = None
        self._set_learning_rate(learning_rate)
        self.built = False
        self._trainable_variables: list[Any] = []
        self._index: dict[int, int] = {}
        self._slot_variables: list[Variable] = []
        self._slots: dict[str, list[Variable]] = {}
        self._extra_variables: list[Variable] = []
        self._averages: list[Variable] = []
        self._accumulated_gradients: list[Variable] = []
        self._ema_groups: list[tuple[list[torch.Tensor], list[torch.Tensor]]] = []
        self._plans: dict[tuple, _Plan] = {}
        self._exclude_ids: set[int] = set()
        self._exclude_pattern: re.Pattern | None = None

    # ---- device scalars ----
    def _scalar_variable(self, name: str, dtype: torch.dtype, value: float,
                         device: torch.device | None = None) -> StateVariable:
        """A 0-d state tensor on the optimizer's device (moved next to the weights on ``build``)."""
        device = device if device is not None else self._scalar_device()
        return StateVariable(torch.full((), value, dtype=dtype, device=device), name=name, path=f"{self.name}/{name}")

    def _scalar_device(self) -> torch.device:
        iterations = getattr(self, "_iterations", None)
        return iterations.value.device if iterations is not None else config.device()

    def _own_scalars(self) -> list[StateVariable]:
        own = [self._iterations]
        if isinstance(self._learning_rate, StateVariable):
            own.append(self._learning_rate)
        return own + [v for v in self._extra_variables if isinstance(v, StateVariable)]

    def _move_scalars(self, device: torch.device) -> None:
        for variable in self._own_scalars():
            if variable.value.device != device:
                variable.value = _state(variable.value.to(device))

    # ---- learning rate and step counter ----
    def _check_learning_rate(self, learning_rate: Any) -> Any:
        """A schedule or callable as it is; a number or one-element tensor as a new float32 device scalar."""
        if isinstance(learning_rate, schedules.LearningRateSchedule):
            return learning_rate
        if isinstance(learning_rate, Variable):
            learning_rate = learning_rate.value
        if isinstance(learning_rate, torch.Tensor) and learning_rate.numel() == 1:
            variable = self._scalar_variable("learning_rate", torch.float32, 0.0)
            variable.value.copy_(learning_rate.detach().reshape(()))
            return variable
        if callable(learning_rate):
            return learning_rate
        if isinstance(learning_rate, numbers.Real) and not isinstance(learning_rate, bool):
            variable = self._scalar_variable("learning_rate", torch.float32, float(learning_rate))
            variable.remember(float(learning_rate))
            return variable
        raise ValueError(
            "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, or a "
            "callable (that takes in the current iteration value and returns the corresponding "
            f"learning rate value). Received instead: learning_rate={learning_rate!r}"
        )

    def _set_learning_rate(self, learning_rate: Any) -> None:
        """Keras's setter: a float is written into the existing learning-rate tensor (no new tensor)."""
        current = self._learning_rate
        if isinstance(current, StateVariable) and isinstance(learning_rate, numbers.Real) and not isinstance(
            learning_rate, bool
        ):
            current.value.fill_(float(learning_rate))
            current.remember(float(learning_rate))
            return
        value = self._check_learning_rate(learning_rate)
        if not isinstance(value, StateVariable):
            self._learning_rate = value
        elif isinstance(self._learning_rate, schedules.LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not settable. "
                "If you need the learning rate to be settable, you should instantiate the "
                "optimizer with a float `learning_rate` argument."
            )
        elif isinstance(self._learning_rate, StateVariable):
            self._learning_rate.value.copy_(value.value)
            if value._host is not None:
                self._learning_rate.remember(value._host[0])
        else:
            self._learning_rate = value

    @property
    def iterations(self) -> StateVariable:
        """Optimizer steps applied so far (update steps when accumulating gradients): a device int32 scalar."""
        if self.gradient_accumulation_steps:
            return StateVariable(self._iteration_tensor(), name="iteration", path=self._iterations.path)
        return self._iterations

    def _iteration_tensor(self) -> torch.Tensor:
        raw = self._iterations.value
        if self.gradient_accumulation_steps:
            return torch.div(raw, self.gradient_accumulation_steps, rounding_mode="floor")
        return raw

    @property
    def learning_rate(self) -> Any:
        """The current learning rate, as Keras gives it: the float32 ``learning_rate`` variable; a schedule's
        value at the current iteration as a float32 tensor; a callable's return value.

        Setting a number writes it into the float32 device tensor in place; ``float()`` of the
        variable gives the number set back without touching the device, unless the tensor
        was written since (loaded state), when it is read back.
        """
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            return torch.tensor(_scalar_float(lr(int(self.iterations))), dtype=torch.float32)
        if isinstance(lr, StateVariable):
            return lr
        return lr()

    @learning_rate.setter
    def learning_rate(self, learning_rate: Any) -> None:
        self._set_learning_rate(learning_rate)

    def _learning_rate_tensor(self) -> torch.Tensor:
        """This step's learning rate as a device tensor (a schedule is evaluated on the device)."""
        lr = self._learning_rate
        if isinstance(lr, StateVariable):
            return lr.value
        value = lr(self._schedule_step(lr)) if isinstance(lr, schedules.LearningRateSchedule) else lr()
        if isinstance(value, Variable):
            value = value.value
        if isinstance(value, torch.Tensor):
            return value
        return torch.full((), float(value), dtype=torch.float32, device=self._iterations.value.device)

    def _schedule_step(self, schedule: schedules.LearningRateSchedule) -> torch.Tensor:
        """The step a schedule sees: the int32 iteration tensor, as Keras passes it.

        cornu's own schedules are dtype-generic; they get it as float64 (where the
        device has float64) so their rate is as exact as a host evaluation.
        """
        iteration = self._iteration_tensor()
        if type(schedule).__module__ == schedules.__name__ and iteration.device.type != "mps":
            return iteration.to(torch.float64)
        return iteration

    # ---- state creation ----
    def build(self, variables: Sequence[Any]) -> None:
        """Create the optimizer state for ``variables`` (subclasses add their slots after this)."""
        variables = list(variables)
        if variables:
            self._move_scalars(_param_of(variables[0]).device)
        self._index = {id(v): i for i, v in enumerate(variables)}
        if self.use_ema:
            self._averages = [self.add_variable_from_reference(v, "average") for v in variables]
            with torch.no_grad():
                for avg, v in zip(self._averages, variables):
                    avg.value.copy_(_param_of(v))
            groups: dict[tuple, tuple[list, list]] = {}
            for avg, v in zip(self._averages, variables):
                param = _param_of(v)
                params, averages = groups.setdefault((param.device, param.dtype), ([], []))
                params.append(param)
                averages.append(avg.value)
            self._ema_groups = list(groups.values())
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = [
                self.add_variable_from_reference(v, "gradient_accumulator") for v in variables
            ]
        self._trainable_variables = variables
        self._plans.clear()
        self.built = True

    def add_variable(
        self,
        shape: Sequence[int],
        initializer: Any = "zeros",
        dtype: Any = None,
        aggregation: str = "none",
        name: str | None = None,
    ) -> Variable:
        """Create a non-trainable state variable owned by the optimizer (on the optimizer's device)."""
        torch_dtype = getattr(torch, dtype) if isinstance(dtype, str) else (dtype or torch.float32)
        value = self._initial_value(tuple(shape), initializer, torch_dtype, None).to(self._scalar_device())
        return self._track(Variable(_state(value), name=name or "variable", path=f"{self.name}/{name or 'variable'}"))

    def _add_state(self, shape: Sequence[int], dtype: torch.dtype, device: torch.device, name: str,
                   path: str | None = None) -> Variable:
        """A zero state variable of ``shape`` (no layout) on ``device``, tracked in ``variables`` order."""
        value = torch.zeros(tuple(shape), dtype=dtype, device=device)
        return self._track(Variable(_state(value), name=name, path=path or f"{self.name}/{name}"))

    def add_variable_from_reference(self, reference_variable: Any, name: str | None = None,
                                    initializer: Any = "zeros") -> Variable:
        """Create a state variable shaped like ``reference_variable`` (same torch layout and device)."""
        name = name or "var"
        ref_name = getattr(reference_variable, "path", None) or getattr(reference_variable, "name", None) or "variable"
        full = str(ref_name).replace("/", "_").replace(":", "_") + "_" + name
        param = _param_of(reference_variable)
        value = self._initial_value(None, initializer, param.dtype, param)
        keras_view = isinstance(reference_variable, Variable)
        var = Variable(
            _state(value),
            name=full,
            path=f"{self.name}/{full}",
            layout=reference_variable.layout if keras_view else None,
            memory_format=reference_variable.memory_format if keras_view else torch.contiguous_format,
        )
        return self._track(var)

    def add_optimizer_variables(self, trainable_variables: Sequence[Any], name: str | Sequence[str],
                                initializer: Any = "zeros") -> Any:
        """One state variable per trainable variable for each of ``name`` (interleaved, as Keras)."""
        names = [name] if isinstance(name, str) else list(name)
        inits = initializer if isinstance(initializer, (list, tuple)) else [initializer] * len(names)
        lists: list[list[Variable]] = [[] for _ in names]
        for variable in trainable_variables:
            for out, slot, init in zip(lists, names, inits):
                out.append(self.add_variable_from_reference(variable, slot, init))
        for slot, out in zip(names, lists):
            self._slots[slot] = out
        return lists[0] if isinstance(name, str) else tuple(lists)

    def _initial_value(self, shape, initializer, dtype, like) -> torch.Tensor:
        if like is not None and (initializer == "zeros" or isinstance(initializer, numbers.Real)):
            value = torch.zeros_like(like, memory_format=torch.preserve_format, requires_grad=False)
            if initializer != "zeros":
                value.fill_(float(initializer))
            return value
        if isinstance(initializer, numbers.Real):
            return torch.full(shape, float(initializer), dtype=dtype)
        from cornu import initializers

        if like is not None:
            shape = tuple(like.shape)
        value = torch.as_tensor(initializers.get(initializer)(shape, dtype=dtype)).to(dtype)
        if like is not None:
            value = value.to(like.device)
        return value.detach()

    def _track(self, variable: Variable) -> Variable:
        self._slot_variables.append(variable)
        return variable

    @property
    def variables(self) -> list:
        """All optimizer state, in Keras order: iteration, learning rate, then per-variable state."""
        own: list = [self._iterations]
        if isinstance(self._learning_rate, StateVariable):
            own.append(self._learning_rate)
        return own + self._slot_variables + self._extra_variables

    # ---- applying gradients ----
    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Any]]) -> StateVariable:
        """Apply ``(gradient, variable)`` pairs; returns the iteration count."""
        grads, variables = zip(*grads_and_vars)
        self.apply(list(grads), list(variables))
        return self.iterations

    def apply(self, grads: Sequence[Any], trainable_variables: Sequence[Any] | None = None) -> None:
        """Update ``trainable_variables`` from ``grads`` (torch layout, as in ``variable.value.grad``)."""
        self._apply(grads, trainable_variables, skip=None)

    def _apply(self, grads: Sequence[Any], trainable_variables: Sequence[Any] | None,
               skip: torch.Tensor | None) -> None:
        """``apply``; where the device flag ``skip`` is true, every change it made is undone on the device."""
        grads = list(grads)
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be built on a "
                    "list of variables. Call `optimizer.build(trainable_variables)` first."
                )
            variables = self._trainable_variables
        else:
            variables = list(trainable_variables)
            if not self.built:
                self.build(variables)
        if len(grads) != len(variables):
            raise ValueError(
                f"Received {len(grads)} gradients for {len(variables)} variables; they must match one-to-one."
            )
        if any(getattr(v, "overwrite_with_gradient", False) for v in variables):
            grads, variables = self._overwrite_with_gradient(grads, variables)
        with torch.no_grad():
            plan = self._plan_for(grads, variables)
            if plan.missing:
                warnings.warn(
                    f"Gradients do not exist for variables {plan.missing} when minimizing the loss. "
                    "If using `model.compile()`, did you forget to provide a `loss` argument?",
                    stacklevel=3,
                )
            group_grads = [self._group_grads(group, grads) for group in plan.groups]
            if self.loss_scale_factor is not None:
                group_grads = [torch._foreach_div(g, float(self.loss_scale_factor)) for g in group_grads]
            guarded = self._all_state() if skip is not None else []
            snapshot = [t.clone() for t in guarded]
            self._apply_groups(plan, group_grads)
            for variable in plan.constrained:
                variable.value.copy_(variable._to_torch(variable.constraint(variable.keras_value)))
            if guarded:
                select_(guarded, snapshot, skip)

    @staticmethod
    def _overwrite_with_gradient(grads: list, variables: list) -> tuple[list, list]:
        """Keras's ``overwrite_with_gradient`` variables (float8 scales) take their gradient as their value.

        The others keep their gradient (``None`` in its place for these), so the update plan stays the same.
        """
        kept = []
        with torch.no_grad():
            for g, v in zip(grads, variables):
                if getattr(v, "overwrite_with_gradient", False):
                    if g is not None:
                        _param_of(v).copy_(g)
                    kept.append(None)
                else:
                    kept.append(g)
        return kept, variables

    def _all_state(self) -> list[torch.Tensor]:
        """Every tensor one ``apply`` may change: the weights and all optimizer state but the learning rate."""
        state = [_param_of(v) for v in self._trainable_variables]
        return state + [v.value for v in self.variables if v is not self._learning_rate]

    def _step_state(self, plan: _Plan) -> list[torch.Tensor]:
        """The tensors one update of ``plan`` changes: its weights, their slots and shared extra state."""
        state = []
        for group in plan.groups:
            state += group.params
            for slot in group.slots.values():
                state += slot
        return state + [v.value for v in self._extra_variables]

    def _apply_groups(self, plan: _Plan, group_grads: list[list[torch.Tensor]]) -> None:
        steps = self.gradient_accumulation_steps
        ctx = StepContext(self._learning_rate_tensor(), self._iteration_tensor())
        if steps:
            update = torch.remainder(self._iterations.value + 1, steps) == 0
            for group, grads in zip(plan.groups, group_grads):
                torch._foreach_add_(group.accumulators, grads)
            group_grads = [torch._foreach_div(group.accumulators, float(steps)) for group in plan.groups]
            guarded = self._step_state(plan)
            snapshot = [t.clone() for t in guarded]
            self._update(plan, group_grads, ctx)
            select_(guarded, snapshot, ~update)
            for group in plan.groups:
                keep = (~update).to(device=group.device, dtype=group.dtype)
                torch._foreach_mul_(group.accumulators, keep)
        else:
            self._update(plan, group_grads, ctx)
        if self.use_ema:
            self._update_ema(ctx.iteration)
        self._iterations.value.add_(1)

    def _update(self, plan: _Plan, group_grads: list[list[torch.Tensor]], ctx: StepContext) -> None:
        """One optimizer update: clip, decay the weights, then the update rule of each group."""
        group_grads = self._clip_gradients(group_grads)
        for group in plan.groups:
            if group.decay:
                self._decay_weights(group, ctx.scalars(group.device, group.dtype)[0])
        self._before_update(ctx)
        for group, grads in zip(plan.groups, group_grads):
            lr, step = ctx.scalars(group.device, group.dtype)
            self._update_group(group, grads, lr, step)

    def _update_group(self, group: _Group, grads: list[torch.Tensor], learning_rate: torch.Tensor,
                      step: torch.Tensor) -> None:
        """The update rule on one group: ``_foreach_update``, or Keras's per-variable ``update_step``."""
        if type(self)._foreach_update is Optimizer._foreach_update:
            for variable, grad in zip(group.variables, grads):
                if isinstance(variable, Variable):
                    grad = variable._to_keras(grad)
                self.update_step(grad, variable, learning_rate)
            return
        self._foreach_update(group.params, grads, group.slots, learning_rate, step)

    def _group_grads(self, group: _Group, grads: list[Any]) -> list[torch.Tensor]:
        out = [grads[pos] for pos in group.positions]
        try:
            if [g.shape for g in out] == group.shapes and {g.dtype for g in out} == group.dtype_set and (
                out[0].device == group.params[0].device
            ):
                return out
        except AttributeError:
            pass
        return [self._fix_grad(g, p, v) for g, p, v in zip(out, group.params, group.variables)]

    @staticmethod
    def _fix_grad(g: Any, param: torch.Tensor, variable: Any) -> torch.Tensor:
        """Bring one gradient to the parameter's torch layout, dtype and device."""
        if isinstance(g, Variable):
            g = g.keras_value
        if not isinstance(g, torch.Tensor):
            g = torch.as_tensor(np.asarray(g), device=param.device)
        if g.shape != param.shape:
            if isinstance(variable, Variable) and tuple(g.shape) == variable.shape:
                g = variable._to_torch(g)
            else:
                raise ValueError(
                    f"Gradient for variable {getattr(variable, 'path', variable)!r} has shape "
                    f"{tuple(g.shape)}, expected {tuple(param.shape)}."
                )
        if g.dtype != param.dtype or g.device != param.device:
            g = g.to(device=param.device, dtype=param.dtype)
        return g

    def _plan_for(self, grads: list[Any], variables: list[Any]) -> _Plan:
        """The cached plan for these variables (by their position in the built list) and present grads."""
        index = self._index
        positions = []
        for variable in variables:
            i = index.get(id(variable))
            if i is None:
                raise ValueError(
                    f"Unknown variable: {variable}. This optimizer can only be called for the variables it "
                    "was originally built with. When working with a new set of variables, you should "
                    "recreate a new optimizer instance."
                )
            positions.append(i)
        key = (tuple(positions), tuple([g is None for g in grads]))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._make_plan(grads, variables, positions)
            # While torch.compile traces, the plan is not kept: keeping it would fail the
            # guard on the cache it just checked and compile the step a second time.
            if not torch.compiler.is_compiling():
                if len(self._plans) > 32:
                    self._plans.clear()
                self._plans[key] = plan
        return plan

    def _make_plan(self, grads: list[Any], variables: list[Any], indices: list[int]) -> _Plan:
        groups: dict[tuple, _Group] = {}
        constrained, missing = [], []
        for pos, (g, variable, index) in enumerate(zip(grads, variables, indices)):
            if g is None:
                if not getattr(variable, "overwrite_with_gradient", False):
                    missing.append(getattr(variable, "name", str(variable)))
                continue
            param = _param_of(variable)
            group = groups.setdefault((param.device, param.dtype), _Group())
            group.positions.append(pos)
            group.indices.append(index)
            group.variables.append(variable)
            group.params.append(param)
            group.shapes.append(param.shape)
            group.dtype_set = {param.dtype}
            for slot, slot_vars in self._slots.items():
                if slot_vars and slot_vars[index] is not None:
                    group.slots.setdefault(slot, []).append(slot_vars[index].value)
            if self._accumulated_gradients:
                group.accumulators.append(self._accumulated_gradients[index].value)
            if self._use_weight_decay(variable):
                group.decay.append(param)
            if getattr(variable, "constraint", None) is not None:
                constrained.append(variable)
        if not groups:
            raise ValueError("No gradients provided for any variable.")
        return _Plan(list(groups.values()), constrained, missing)

    # ---- pieces of one update ----
    def _clip_gradients(self, group_grads: list[list[torch.Tensor]]) -> list[list[torch.Tensor]]:
        if self.clipnorm and self.clipnorm > 0:
            c = float(self.clipnorm)
            out = []
            for grads in group_grads:
                scale = torch._foreach_norm(grads)
                torch._foreach_clamp_min_(scale, c)
                torch._foreach_reciprocal_(scale)
                torch._foreach_mul_(scale, c)
                out.append(torch._foreach_mul(grads, scale))
            return out
        if self.global_clipnorm and self.global_clipnorm > 0:
            c = float(self.global_clipnorm)
            device = group_grads[0][0].device
            wide = any(grads[0].dtype == torch.float64 for grads in group_grads)
            dtype = torch.float64 if wide else torch.float32
            norms = [n.to(device=device, dtype=dtype) for grads in group_grads for n in torch._foreach_norm(grads)]
            norm = torch.linalg.vector_norm(torch.stack(norms))
            scale = c / torch.clamp_min(norm, c) + (norm - norm)
            return [torch._foreach_mul(grads, scale.to(grads[0].device, grads[0].dtype)) for grads in group_grads]
        if self.clipvalue and self.clipvalue > 0:
            v = float(self.clipvalue)
            out = []
            for grads in group_grads:
                clipped = torch._foreach_clamp_min(grads, -v)
                torch._foreach_clamp_max_(clipped, v)
                out.append(clipped)
            return out
        return group_grads

    def exclude_from_weight_decay(self, var_list: Sequence[Any] | None = None,
                                  var_names: Sequence[str] | None = None) -> None:
        """Exclude variables (by object or by a name substring/regex) from weight decay; call before build."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the optimizer is built.")
        self._exclude_ids = {id(v) for v in var_list or ()}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, variable: Any) -> bool:
        if id(variable) in self._exclude_ids:
            return False
        if self._exclude_pattern is not None and self._exclude_pattern.search(str(getattr(variable, "name", ""))):
            return False
        return True

    def _decay_weights(self, group: _Group, learning_rate: torch.Tensor) -> None:
        """Keras's decoupled weight decay before the update: ``w -= w * weight_decay * lr``."""
        if self.weight_decay:
            torch._foreach_mul_(group.decay, 1.0 - learning_rate * float(self.weight_decay))

    def _before_update(self, ctx: StepContext) -> None:
        """Per-update hook for state shared by all variables (Nadam's momentum product)."""

    def _foreach_update(self, params: list[torch.Tensor], grads: list[torch.Tensor],
                        slots: dict[str, list[torch.Tensor]], learning_rate: torch.Tensor,
                        step: torch.Tensor) -> None:
        """The update rule on one same-device, same-dtype group (subclasses implement it)."""
        raise NotImplementedError

    def update_step(self, gradient: torch.Tensor, variable: Any, learning_rate: torch.Tensor) -> None:
        """Update one variable (Keras layout); implement this in custom optimizers."""
        raise NotImplementedError

    def _get_variable_index(self, variable: Any) -> int:
        return self._index[id(variable)]

    def assign(self, variable: Any, value: Any) -> None:
        """Overwrite a model or optimizer variable (Keras layout for Variables)."""
        variable.assign(value) if hasattr(variable, "assign") else variable.copy_(value)

    def assign_add(self, variable: Any, value: Any) -> None:
        variable.assign_add(value) if hasattr(variable, "assign_add") else variable.add_(value)

    def assign_sub(self, variable: Any, value: Any) -> None:
        variable.assign_sub(value) if hasattr(variable, "assign_sub") else variable.sub_(value)

    def _update_ema(self, iteration: torch.Tensor) -> None:
        """``average = m * average + (1 - m) * weight`` with ``m = 0`` on the first step; overwrite on schedule."""
        freq = self.ema_overwrite_frequency
        overwrite = torch.remainder(iteration + 1, freq) == 0 if freq else None
        for params, averages in self._ema_groups:
            not_first = (iteration != 0).to(device=params[0].device, dtype=compute_dtype(params[0].dtype))
            momentum = (not_first * float(self.ema_momentum)).to(params[0].dtype)
            torch._foreach_mul_(averages, momentum)
            torch._foreach_add_(averages, torch._foreach_mul(params, 1 - momentum))
            if overwrite is not None:
                select_(params, averages, overwrite)

    def finalize_variable_values(self, var_list: Sequence[Any]) -> None:
        """With ``use_ema``, overwrite the model variables with their moving averages."""
        if not self.use_ema:
            return
        var_list = list(var_list)
        if len(var_list) != len(self._averages):
            raise ValueError(
                f"The length of model variables ({len(var_list)}) to override does not match the length "
                f"of model variables stored in the optimizer ({len(self._averages)}). Please check if the "
                "optimizer was called on your model."
            )
        with torch.no_grad():
            for variable, average in zip(var_list, self._averages):
                _param_of(variable).copy_(average.value)

    def scale_loss(self, loss: Any) -> Any:
        """Multiply the loss by ``loss_scale_factor`` (if set) before computing gradients."""
        return loss * self.loss_scale_factor if self.loss_scale_factor is not None else loss

    # ---- saving ----
    def set_weights(self, weights: Sequence[Any]) -> None:
        """Set all optimizer variables from arrays, in ``variables`` order."""
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. Please call "
                "`optimizer.build(trainable_variables)` to create the optimizer weights before calling "
                "`set_weights()`."
            )
        for variable, weight in zip(self.variables, weights):
            if tuple(variable.shape) != tuple(np.shape(weight)):
                raise ValueError(
                    f"Optimizer variable {variable.path} has shape {tuple(variable.shape)} not compatible "
                    f"with provided weight shape {tuple(np.shape(weight))}."
                )
            variable.assign(weight)

    def save_own_variables(self, store: dict) -> None:
        """Write the state into ``store`` as ``{"0": array, "1": ...}``."""
        for i, variable in enumerate(self.variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store: dict) -> None:
        """Read the state written by ``save_own_variables``."""
        variables = self.variables
        if len(store.keys()) != len(variables):
            msg = (
                f"Skipping variable loading for optimizer '{self.name}', because it has {len(variables)} "
                f"variables whereas the saved optimizer has {len(store.keys())} variables. "
            )
            if not self.built:
                msg += "This is likely because the optimizer has not been called/built yet."
            warnings.warn(msg, stacklevel=2)
            return
        for i, variable in enumerate(variables):
            variable.assign(store[str(i)])

    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif isinstance(lr, StateVariable):
            lr = float(lr.value)
        else:
            lr = _scalar_float(lr())
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Optimizer":
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
