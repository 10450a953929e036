"""``Progbar``: Keras's progress bar (``1875/1875 ━━━━━━━━━━━━━━━━━━━━ 5s 3ms/step - loss: 0.2871``).

On a terminal (or in a notebook) the line is redrawn in place with an ETA at
most every ``interval`` seconds; otherwise only the final line is printed,
so log files get one clean line per epoch.
"""
from __future__ import annotations

import math
import sys
import time
from typing import Any, Iterable

import numpy as np

from cornu.utils import io_utils

_BOLD, _GREEN, _GREY, _RESET = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"


def _interactive() -> bool:
    stdout = sys.stdout
    return bool(getattr(stdout, "isatty", None) and stdout.isatty()) or "ipykernel" in sys.modules


def _number(value: Any) -> float:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return float(np.mean(value)) if not isinstance(value, (int, float)) else float(value)


def format_value(value: float) -> str:
    """``%.4f``, or ``%.4e`` for magnitudes at or below 1e-3 (as Keras prints metrics)."""
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def format_time(time_per_unit: float, unit_name: str) -> str:
    """`` 3ms/step``-style duration: seconds, milliseconds or microseconds per unit."""
    if time_per_unit >= 1 or time_per_unit == 0:
        return f" {time_per_unit:.0f}s/{unit_name}"
    if time_per_unit >= 1e-3:
        return f" {time_per_unit * 1e3:.0f}ms/{unit_name}"
    return f" {time_per_unit * 1e6:.0f}us/{unit_name}"


def _format_eta(eta: float) -> str:
    if eta > 3600:
        return "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
    if eta > 60:
        return "%d:%02d" % (eta // 60, eta % 60)
    return "%ds" % eta


class Progbar:
    """A progress bar for ``target`` steps (``None`` when unknown).

    ``update(current, values)`` averages each value over the steps it covers,
    except names in ``stateful_metrics``, shown as given (or, with
    ``stateless_metrics``, averages only those names); ``verbose=2`` prints a
    single summary line when finished.
    """

    def __init__(self, target: int | None, width: int = 20, verbose: int = 1, interval: float = 0.05,
                 stateful_metrics: Iterable[str] | None = None, stateless_metrics: Iterable[str] | None = None,
                 unit_name: str = "step"):
        if stateful_metrics and stateless_metrics:
            raise ValueError(
                "Only one of `stateful_metrics` or `stateless_metrics` can be provided. `stateful_metrics` is "
                "used to make metrics stateless by default (with an exclusion list), while `stateless_metrics` "
                "is used to make metrics stateful by default (with an exclusion list)."
            )
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateless_metrics = set(stateless_metrics) if stateless_metrics else None
        self.stateful_metrics = None if self.stateless_metrics is not None else set(stateful_metrics or ())
        self._dynamic_display = _interactive()
        self._seen_so_far = 0
        self._values: dict[str, list[float]] = {}
        self._values_order: list[str] = []
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step: float | None = None
        self._prev_total_width = 0

    def due(self, finalize: bool = False) -> bool:
        """Whether an ``update`` now would draw (callers fetch costly values only then)."""
        if self.verbose == 2:
            return finalize
        if self.verbose != 1:
            return False
        return finalize or (self._dynamic_display and time.time() - self._last_update >= self.interval)

    def update(self, current: int, values: list[tuple[str, Any]] | None = None, finalize: bool | None = None) -> None:
        """Record progress up to step ``current`` with ``(name, value)`` pairs, redrawing if due."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for key, value in values or []:
            if key not in self._values_order:
                self._values_order.append(key)
            value = _number(value)
            if finalize or not self._averaged(key):
                self._values[key] = [value, 1]
            else:
                base = max(current - self._seen_so_far, 1)
                total, count = self._values.get(key, [0.0, 0])
                self._values[key] = [total + value * base, count + base]
        self._seen_so_far = current
        now = time.time()
        time_per_unit = self._step_duration(current, now)
        if self.verbose == 1:
            if finalize or (self._dynamic_display and now - self._last_update >= self.interval):
                self._draw(current, now, time_per_unit, finalize)
                self._last_update = now
        elif self.verbose == 2 and finalize:
            self._summary(current, now, time_per_unit)
            self._last_update = now

    def _averaged(self, key: str) -> bool:
        if self.stateless_metrics is not None:
            return key in self.stateless_metrics
        return key not in self.stateful_metrics

    def add(self, n: int, values: list[tuple[str, Any]] | None = None) -> None:
        """Advance by ``n`` steps."""
        self.update(self._seen_so_far + n, values)

    def _metrics(self) -> str:
        parts = []
        for key in self._values_order:
            total, count = self._values[key]
            parts.append(f" - {key}: {format_value(total / max(1, count))}")
        return "".join(parts)

    def _counter(self, current: int) -> str:
        digits = int(math.log10(self.target)) + 1
        return f"%{digits}d/%d" % (current, self.target)

    def _draw(self, current: int, now: float, time_per_unit: float, finalize: bool) -> None:
        styled = self._dynamic_display
        known = self.target is not None and self.target > 0
        if known:
            done = max(0, min(int(self.width * current / self.target), self.width))
            count = self._counter(current)
            if styled:
                bar = f"{_BOLD}{count}{_RESET} " + (f"{_GREEN}{'━' * done}{_RESET}" if done else "")
                bar += f"{_GREY}{'━' * (self.width - done)}{_RESET}"
            else:
                bar = f"{count} {'━' * done}{' ' * (self.width - done)}"
            visible = len(count) + 1 + self.width
        else:
            bar = "%7d/Unknown" % current
            visible = len(bar)
        if known and not finalize:
            clock = _format_eta(time_per_unit * (self.target - current))
        else:
            clock = f"{now - self._start:.0f}s"
        tail = format_time(time_per_unit, self.unit_name) + self._metrics()
        if styled:
            width = visible + 1 + len(clock) + len(tail)
            line = f"\r{bar} {_BOLD}{clock}{_RESET}{tail}" + " " * max(self._prev_total_width - width, 0)
            self._prev_total_width = width
        else:
            line = f"{bar} {clock}{tail}"
        if not io_utils.is_interactive_logging_enabled():
            if finalize:
                io_utils.print_msg(line.lstrip("\r"))
            return
        if finalize:
            line += "\n"
        sys.stdout.write(line)
        sys.stdout.flush()

    def _summary(self, current: int, now: float, time_per_unit: float) -> None:
        count = self._counter(current) if self.target else "%d" % current
        line = f"{count} - {now - self._start:.0f}s -{format_time(time_per_unit, self.unit_name)}{self._metrics()}"
        io_utils.print_msg(line)

    def _step_duration(self, current: int, now: float) -> float:
        """Seconds per step, leaving out the first (compilation-heavy) step once later ones exist."""
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit
