"""Learning rate schedules: ``lr = schedule(step)``, evaluated by the optimizer every step.

The optimizer passes its iteration counter, a device tensor, so the rate is
computed on the device (no host sync, capturable); a tensor step gives a
tensor (float32 for an integer step, the step's dtype for a float one). A
Python number step gives a Python float.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import torch


def _is_tensor(x: Any) -> bool:
    return isinstance(x, torch.Tensor)


def _as_step(step: Any) -> Any:
    if _is_tensor(step):
        return step.to(torch.float32) if not step.is_floating_point() else step
    return float(step)


def _floor(x: Any) -> Any:
    return torch.floor(x) if _is_tensor(x) else float(math.floor(x))


def _ceil(x: Any) -> Any:
    return torch.ceil(x) if _is_tensor(x) else float(math.ceil(x))


def _cos(x: Any) -> Any:
    return torch.cos(x) if _is_tensor(x) else math.cos(x)


def _log(x: Any) -> Any:
    return torch.log(x) if _is_tensor(x) else math.log(x)


def _minimum(x: Any, y: float) -> Any:
    return torch.clamp_max(x, y) if _is_tensor(x) else min(x, y)


def _where(cond: Any, a: Any, b: Any) -> Any:
    """``a`` where ``cond`` else ``b``; a tensor condition selects on the device, keeping a float64 step's dtype."""
    if _is_tensor(cond):
        if not _is_tensor(a) and not _is_tensor(b):
            a = torch.full((), float(a), dtype=torch.float32, device=cond.device)
        return torch.where(cond, a, b)
    return a if cond else b


def _check_positive(name: str, value: Any) -> None:
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step)`` and ``get_config()``."""

    def __call__(self, step: Any) -> Any:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict:
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override `get_config()`.")

    @classmethod
    def from_config(cls, config: dict) -> "LearningRateSchedule":
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (floored exponent if ``staircase``)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "ExponentialDecay"):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: Any) -> Any:
        p = _as_step(step) / self.decay_steps
        if self.staircase:
            p = _floor(p)
        return self.initial_learning_rate * self.decay_rate ** p

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` in ``(boundaries[i-1], boundaries[i]]``."""

    def __init__(self, boundaries: Sequence[float], values: Sequence[float], name: str = "PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and values={values} "
                f"of length {len(values)}."
            )
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step: Any) -> Any:
        step = _as_step(step)
        out = self.values[0]
        for boundary, value in zip(self.boundaries, self.values[1:]):
            out = _where(step > boundary, value, out)
        return out

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate`` over ``decay_steps``."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, end_learning_rate: float = 0.0001,
                 power: float = 1.0, cycle: bool = False, name: str = "PolynomialDecay"):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step: Any) -> Any:
        step = _as_step(step)
        decay_steps = float(self.decay_steps)
        if self.cycle:
            multiplier = _where(step == 0, 1.0, _ceil(step / decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = _minimum(step, decay_steps)
        p = step / decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * (1 - p) ** self.power + self.end_learning_rate

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (floored ratio if ``staircase``)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "InverseTimeDecay"):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: Any) -> Any:
        p = _as_step(step) / self.decay_steps
        if self.staircase:
            p = _floor(p)
        return self.initial_learning_rate / (1 + self.decay_rate * p)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup to ``warmup_target``, then cosine decay to ``alpha`` times the peak."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: float | None = None, warmup_steps: int = 0):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step: Any, peak: float) -> Any:
        cosine = 0.5 * (1.0 + _cos(math.pi * step / self.decay_steps))
        return peak * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: Any) -> Any:
        step = _as_step(step)
        if self.warmup_target is None:
            return self._decay(_minimum(step, float(self.decay_steps)), self.initial_learning_rate)
        step = _minimum(step, float(self.decay_steps + self.warmup_steps))
        warm = self.initial_learning_rate
        if self.warmup_steps > 0:
            fraction = step / self.warmup_steps
            warm = (self.warmup_target - self.initial_learning_rate) * fraction + self.initial_learning_rate
        decayed = self._decay(step - self.warmup_steps, self.warmup_target)
        return _where(step < self.warmup_steps, warm, decayed)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """SGDR: cosine decay restarting every period, periods growing by ``t_mul``, peaks scaled by ``m_mul``."""

    def __init__(self, initial_learning_rate: float, first_decay_steps: int, t_mul: float = 2.0,
                 m_mul: float = 1.0, alpha: float = 0.0, name: str = "SGDRDecay"):
        _check_positive("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step: Any) -> Any:
        fraction = _as_step(step) / self.first_decay_steps
        t_mul = self._t_mul
        if t_mul == 1.0:
            restart = _floor(fraction)
            fraction = fraction - restart
        else:
            restart = _floor(_log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            done = (1.0 - t_mul**restart) / (1.0 - t_mul)
            fraction = (fraction - done) / t_mul**restart
        cosine = 0.5 * self._m_mul**restart * (1.0 + _cos(math.pi * fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


class OneCycle(LearningRateSchedule):
    """The 1cycle policy (Smith & Topin): warm up to ``max_learning_rate``, then anneal far below the start.

    A cornu extra with the arguments of PyTorch's ``OneCycleLR`` (learning rate
    only, two phases): from ``max_learning_rate / div_factor`` up to
    ``max_learning_rate`` at step ``pct_start * total_steps - 1``, then down to
    ``max_learning_rate / (div_factor * final_div_factor)`` at step
    ``total_steps - 1``, along a half cosine or a straight line. Steps past the
    end keep the final rate.
    """

    def __init__(self, max_learning_rate: float, total_steps: int, pct_start: float = 0.25,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, anneal_strategy: str = "cos",
                 name: str = "OneCycle"):
        if isinstance(total_steps, bool) or not isinstance(total_steps, int):
            raise TypeError(f"Argument `total_steps` must be an int. Received: total_steps={total_steps!r}")
        _check_positive("total_steps", total_steps)
        _check_positive("max_learning_rate", max_learning_rate)
        _check_positive("div_factor", div_factor)
        _check_positive("final_div_factor", final_div_factor)
        if not 0 <= pct_start <= 1:
            raise ValueError(f"Argument `pct_start` must be in [0, 1]. Received: pct_start={pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"Argument `anneal_strategy` must be 'cos' or 'linear'. Received: anneal_strategy={anneal_strategy!r}"
            )
        self.max_learning_rate = max_learning_rate
        self.total_steps = total_steps
        self.pct_start = pct_start
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor
        self.anneal_strategy = anneal_strategy
        self.name = name

    def _anneal(self, start: float, end: float, rest: Any) -> Any:
        """From ``start`` (``rest == 1``) to ``end`` (``rest == 0``); ``rest`` is the phase's remaining fraction.

        Written in the remaining fraction so that float32 keeps its relative
        precision near the tiny final rate.
        """
        if self.anneal_strategy == "linear":
            return end + (start - end) * rest
        half = math.pi / 2 * rest
        return end + (start - end) * (torch.sin(half) if _is_tensor(half) else math.sin(half)) ** 2

    def __call__(self, step: Any) -> Any:
        step = _as_step(step)
        last = float(self.total_steps - 1)
        peak = float(self.pct_start * self.total_steps) - 1.0
        initial = self.max_learning_rate / self.div_factor
        final = initial / self.final_div_factor
        if _is_tensor(step):
            step = torch.clamp(step, 0.0, last)
            warm = self._anneal(initial, self.max_learning_rate, (peak - step) / peak if peak > 0 else 0.0)
            # ``last == peak`` only when ``pct_start == 1``; the decay branch is then never selected.
            decay = self._anneal(self.max_learning_rate, final, (last - step) / max(last - peak, 1.0))
            return torch.where(step <= peak, warm, decay)
        step = min(max(step, 0.0), last)
        if step <= peak:
            return self._anneal(initial, self.max_learning_rate, (peak - step) / peak if peak > 0 else 0.0)
        return self._anneal(self.max_learning_rate, final, (last - step) / (last - peak))

    def get_config(self) -> dict:
        return {
            "max_learning_rate": self.max_learning_rate,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
            "anneal_strategy": self.anneal_strategy,
            "name": self.name,
        }


ALL_OBJECTS = (
    ExponentialDecay,
    PiecewiseConstantDecay,
    PolynomialDecay,
    InverseTimeDecay,
    CosineDecay,
    CosineDecayRestarts,
)
_BY_NAME = {cls.__name__: cls for cls in ALL_OBJECTS}
# cornu extras: ``deserialize`` knows them; ``serialize`` names their cornu module, not Keras's.
_EXTRAS = {cls.__name__: cls for cls in (OneCycle,)}


def serialize(learning_rate_schedule: LearningRateSchedule) -> dict:
    """``{"module", "class_name", "config", "registered_name"}`` as Keras writes it."""
    if not isinstance(learning_rate_schedule, LearningRateSchedule):
        raise TypeError(
            f"Expected a LearningRateSchedule; received {learning_rate_schedule!r} "
            f"of type {type(learning_rate_schedule).__name__}."
        )
    cls = type(learning_rate_schedule)
    known = _BY_NAME.get(cls.__name__) is cls
    return {
        "module": "keras.optimizers.schedules" if known else cls.__module__,
        "class_name": cls.__name__,
        "config": learning_rate_schedule.get_config(),
        "registered_name": None if known else cls.__name__,
    }


def deserialize(config: dict, custom_objects: dict | None = None) -> LearningRateSchedule:
    """Rebuild a schedule from ``serialize`` output (or ``{"class_name", "config"}``)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret learning rate schedule config: {config!r}")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _BY_NAME.get(name) or _EXTRAS.get(name)
    if cls is None:
        raise ValueError(
            f"Unknown learning rate schedule: {name!r}. Valid names: {sorted(_BY_NAME) + sorted(_EXTRAS)}. "
            "Pass custom schedules through `custom_objects`."
        )
    return cls.from_config(config.get("config", {}))
