"""What ``compile`` builds: the loss and the metrics over a model's (possibly many) outputs."""
from __future__ import annotations

import re
from typing import Any

import torch

from cornu import losses as losses_module
from cornu import metrics as metrics_module
from cornu.utils import tree


def _flatten_outputs(y: Any, output_names: list[str], what: str) -> list:
    """Arrange a y/y_pred structure as a list in output order."""
    if isinstance(y, dict):
        unknown = [k for k in y if k not in output_names]
        if unknown:
            raise ValueError(f"Found unexpected key {unknown[0]!r} in the `{what}` dict: it does not match any "
                             f"model output. Model output names: {output_names}")
        missing = [k for k in output_names if k not in y]
        if missing and what == "y_pred":
            raise ValueError(f"Missing output {missing[0]!r} in `{what}`. Expected keys: {output_names}")
        return [y.get(k) for k in output_names]
    if isinstance(y, (list, tuple)):
        if len(y) != len(output_names):
            raise ValueError(f"The model has {len(output_names)} output(s) {output_names}, but `{what}` has "
                             f"{len(y)} entries.")
        return list(y)
    if len(output_names) != 1:
        raise ValueError(f"The model has {len(output_names)} outputs {output_names}, but a single `{what}` "
                         f"array was given: pass a list or a dict keyed by output name.")
    return [y]


def per_output_sample_weights(sample_weight: Any, output_names: list[str]) -> list:
    """One sample weight (or None) per output: a single array applies to every output."""
    if isinstance(sample_weight, (dict, list, tuple)):
        return _flatten_outputs(sample_weight, output_names, "sample_weight")
    return [sample_weight] * len(output_names)


def _loss_specs(loss: Any, names: list[str], dict_outputs: bool) -> list:
    """The loss of each output, by Keras's rules (resolved when the first batch arrives, as Keras does)."""
    n = len(names)
    if isinstance(loss, dict):
        unknown = [k for k in loss if k not in names]
        if dict_outputs or n == 1 and not unknown:
            if unknown:
                raise KeyError(f"The path: ({unknown[0]!r},) in the `loss` argument, can't be found in the model's "
                               f"outputs. Model output names: {names}")
            return [loss.get(k) for k in names]
        if sorted(loss) != sorted(names):
            raise ValueError(f"Expected keys {names} in loss dict, but found loss.keys()={list(loss)}")
        return [loss[k] for k in names]
    if isinstance(loss, (list, tuple)):
        if len(loss) > n or (dict_outputs and len(loss) < n):
            error = ValueError if dict_outputs else KeyError
            raise error(f"The model has {n} output(s) {names}, but `loss` has {len(loss)} entries. "
                        f"Received: loss={loss}")
        return list(loss) + [None] * (n - len(loss))
    return [loss] * n


def _loss_weight_values(loss_weights: Any, loss: Any, names: list[str]) -> list[float]:
    """The weight of each output's loss; a list or dict needs one weight per loss given."""
    n = len(names)
    if loss_weights is None:
        return [1.0] * n
    if not isinstance(loss_weights, (list, tuple, dict)):
        return [float(loss_weights)] * n
    count = len(loss) if isinstance(loss, (list, tuple, dict)) else 1
    if len(loss_weights) != count:
        raise ValueError(f"`loss_weights` must match the number of losses, got {count} losses and "
                         f"{len(loss_weights)} weights.")
    values = list(loss_weights.values()) if isinstance(loss_weights, dict) else list(loss_weights)
    if count == 1:
        return [float(values[0])] * n
    if isinstance(loss_weights, dict):
        return [float(loss_weights.get(k, 1.0)) for k in names]
    return [float(w) for w in values] + [1.0] * (n - len(values))


class CompileLoss:
    """The compiled loss: a weighted sum of one loss per output.

    As in Keras, the ``loss``/``loss_weights`` arguments are resolved against the outputs on the first call,
    so a bad identifier raises from ``fit``/``evaluate``. When more than one output has a loss, each output's
    loss is tracked as ``<output>_loss`` (a mean over samples).
    """

    def __init__(self, loss: Any, loss_weights: Any, output_names: list[str]):
        self.output_names = list(output_names)
        self._loss = loss
        self._loss_weights = loss_weights
        self.built = False
        self.loss_fns: list = []
        self.trackers: list = []
        try:
            self.loss_weights = _loss_weight_values(loss_weights, loss, self.output_names)
        except (TypeError, ValueError):
            self.loss_weights = [1.0] * len(self.output_names)

    def build(self, y_true: Any, y_pred: Any) -> None:
        names = self.output_names
        specs = _loss_specs(self._loss, names, isinstance(y_pred, dict))
        self.loss_fns = [None if l is None else _as_loss(l) for l in specs]
        if all(f is None for f in self.loss_fns):
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        self.loss_weights = _loss_weight_values(self._loss_weights, self._loss, names)
        multi = sum(f is not None for f in self.loss_fns) > 1
        self.trackers = [metrics_module.Mean(name=f"{n}_loss") if multi and f is not None else None
                         for n, f in zip(names, self.loss_fns)]
        self.built = True

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> torch.Tensor:
        if not self.built:
            self.build(y_true, y_pred)
        names = self.output_names
        if len(names) > 1 and not isinstance(y_true, (list, tuple, dict)):
            # Keras looks the targets of output 0 up in `y` and fails the same way.
            raise KeyError(f"The model has {len(names)} outputs {names}, but a single `y` array was given: pass a "
                           "list or a dict keyed by output name.")
        if isinstance(sample_weight, dict) and not isinstance(y_true, dict):
            raise ValueError("You should provide one `sample_weight` array per output in `y`: `y` is not a dict, "
                             f"but `sample_weight` is a dict with keys {list(sample_weight)}.")
        yt = _flatten_outputs(y_true, names, "y")
        yp = _flatten_outputs(y_pred, names, "y_pred")
        sws = per_output_sample_weights(sample_weight, names)
        total = None
        for fn, w, t, p, sw, tracker in zip(self.loss_fns, self.loss_weights, yt, yp, sws, self.trackers):
            if fn is None:
                continue
            if t is None:
                raise ValueError("A target (`y`) is missing for an output that has a loss.")
            value = fn(t, p, sample_weight=sw)
            if tracker is not None:
                tracker.update_state(value.detach(), sample_weight=batch_size_of(p))
            value = value * w if w != 1.0 else value
            total = value if total is None else total + value
        return total

    @property
    def metrics(self) -> list:
        return [t for t in self.trackers if t is not None]


def _as_loss(identifier: Any):
    fn = losses_module.get(identifier)
    if isinstance(fn, losses_module.Loss):
        return fn
    return losses_module.LossFunctionWrapper(fn)


def _resolve_metric(identifier: Any, y_true: torch.Tensor, y_pred: torch.Tensor):
    """Keras's rule for 'accuracy'/'acc' from target/prediction shapes; other names through `metrics.get`
    (Keras 3.15 resolves no 'crossentropy' string here)."""
    if identifier in ("accuracy", "acc"):
        name = identifier
        if y_pred.shape[-1] == 1 if y_pred.ndim else True:
            return metrics_module.BinaryAccuracy(name=name)
        sparse = y_true.ndim < y_pred.ndim or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1)
        if sparse:
            return metrics_module.SparseCategoricalAccuracy(name=name)
        return metrics_module.CategoricalAccuracy(name=name)
    metric = metrics_module.get(identifier)
    if not isinstance(metric, metrics_module.Metric):
        # A function logs under its name in word characters (`<lambda>` -> `lambda`), as in Keras.
        metric = metrics_module.MeanMetricWrapper(metric, name=re.sub(r"\W+", "", getattr(metric, "__name__", ""))
                                                  or "metric")
    if isinstance(identifier, str):
        metric.name = identifier  # Keras logs a string metric under the string given
    return metric


def _unique(name: str, taken: set) -> str:
    """``name``, or Keras's ``name_1``, ``name_2``... when another compiled metric has it."""
    unique, i = name, 0
    while unique in taken:
        i += 1
        unique = f"{name}_{i}"
    taken.add(unique)
    return unique


def _metric_items(spec: Any) -> list:
    if spec is None:
        return []
    if isinstance(spec, dict):
        return list(spec.values())
    return list(spec) if isinstance(spec, (list, tuple)) else [spec]


def _metric_specs(arg: Any, names: list[str], argname: str) -> list:
    """The metrics of each output: a list for a one-output model, else a dict by output or one entry per output."""
    if arg is None:
        return [None] * len(names)
    if not isinstance(arg, (list, tuple, dict)):
        raise ValueError(f"Expected `{argname}` argument to be a list, tuple, or dict. Received instead: "
                         f"{argname}={arg} of type {type(arg)}")
    if isinstance(arg, dict):
        unknown = [k for k in arg if k not in names]
        if unknown:
            raise ValueError(f"Invalid `{argname}`: key {unknown[0]!r} does not correspond to any model output. "
                             f"Received: {argname}={arg}. Model output names: {names}")
        return [arg.get(k) for k in names]
    if len(names) == 1:
        # A one-output model takes a list of metrics, or that list wrapped like its output (`[["mae"]]`).
        return [arg[0] if len(arg) == 1 and isinstance(arg[0], (list, tuple)) else arg]
    if len(arg) != len(names):
        raise ValueError(f"Invalid `{argname}`: `{argname}` should be a dict or a list with one entry per model "
                         f"output {names}. Received: {argname}={arg}")
    return list(arg)


class CompileMetrics(metrics_module.Metric):
    """All compiled metrics, resolved against the first batch's shapes.

    Keras's naming: a weighted metric named like an unweighted one of the same output is ``weighted_<name>``;
    with several outputs every name is prefixed ``<output>_``.
    """

    def __init__(self, metrics: Any, weighted_metrics: Any, output_names: list[str], name: str = "compile_metrics"):
        super().__init__(name=name)
        self.output_names = list(output_names)
        for argname, arg in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if arg is not None and not isinstance(arg, (list, tuple, dict)):
                raise ValueError(f"Expected `{argname}` argument to be a list, tuple, or dict. Received instead: "
                                 f"{argname}={arg} of type {type(arg)}")
        self._arguments = (metrics, weighted_metrics)
        try:  # structure errors surface on the first batch, as in Keras
            self._specs = _metric_specs(metrics, self.output_names, "metrics")
            self._wspecs = _metric_specs(weighted_metrics, self.output_names, "weighted_metrics")
        except ValueError:
            self._specs = self._wspecs = [None] * len(self.output_names)
        self.built = False
        self._metrics: list[list] = []
        self._weighted: list[list] = []

    def build(self, y_true: Any, y_pred: Any) -> None:
        names = self.output_names
        metrics, weighted_metrics = self._arguments
        self._specs = _metric_specs(metrics, names, "metrics")
        self._wspecs = _metric_specs(weighted_metrics, names, "weighted_metrics")
        if isinstance(y_pred, dict) and len(names) > 1:
            for argname, arg in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
                if isinstance(arg, (list, tuple)) and arg:
                    raise ValueError(f"Invalid `{argname}`: the model's outputs are a dict, so `{argname}` must be a "
                                     f"dict keyed by output name {names}. Received: {argname}={arg}")
        yt = _flatten_outputs(y_true, names, "y")
        yp = _flatten_outputs(y_pred, names, "y_pred")
        multi = len(names) > 1
        self._metrics, self._weighted = [], []
        for name, spec, wspec, t, p in zip(names, self._specs, self._wspecs, yt, yp):
            plain = [_resolve_metric(s, t, p) for s in _metric_items(spec)]
            plain_names = {m.name for m in plain}
            weighted = [_resolve_metric(s, t, p) for s in _metric_items(wspec)]
            taken: set = set()
            for m in plain + weighted:
                m._compile_base_name = m.name
            for m in plain:
                m.name = _unique(m.name, taken)
            for m in weighted:
                m.name = _unique(f"weighted_{m.name}" if m.name in plain_names else m.name, taken)
            if multi:
                for m in plain + weighted:
                    m.name = f"{name}_{m.name}"
            self._metrics.append(plain)
            self._weighted.append(weighted)
        self.built = True

    @property
    def metrics(self) -> list:
        return [m for ms in self._metrics + self._weighted for m in ms]

    @property
    def base_names(self) -> list[str]:
        """The metrics' names before output prefixes and ``weighted_`` (what Keras orders ``evaluate``'s list by)."""
        return [getattr(m, "_compile_base_name", m.name) for m in self.metrics]

    @property
    def variables(self) -> list:
        return [v for m in self.metrics for v in m.variables]

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if not self.built:
            self.build(y_true, y_pred)
        yt = _flatten_outputs(y_true, self.output_names, "y")
        yp = _flatten_outputs(y_pred, self.output_names, "y_pred")
        for ms, t, p in zip(self._metrics, yt, yp):
            for m in ms:
                m.update_state(t, p)
        if any(self._weighted):
            sws = per_output_sample_weights(sample_weight, self.output_names)
            for ms, t, p, sw in zip(self._weighted, yt, yp, sws):
                for m in ms:
                    m.update_state(t, p, sample_weight=sw)

    def result(self) -> dict:
        if not self.built:
            raise ValueError("Cannot get result() since the metric has not yet been built.")
        return {m.name: m.result() for m in self.metrics}

    def reset_state(self) -> None:
        for m in self.metrics:
            m.reset_state()


def batch_size_of(x: Any) -> int:
    for leaf in tree.flatten(x):
        if hasattr(leaf, "shape") and len(leaf.shape):
            return int(leaf.shape[0])
    return 1
