"""What ``compile`` builds: the loss and the metrics over a model's (possibly many) outputs."""
from __future__ import annotations

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


def _per_output(arg: Any, output_names: list[str], argname: str, broadcast: bool) -> list:
    """Spread a compile argument (single, list, or dict keyed by output name) over the outputs."""
    if isinstance(arg, dict):
        unknown = [k for k in arg if k not in output_names]
        if unknown:
            raise ValueError(f"In the dict argument `{argname}`, key {unknown[0]!r} does not correspond to any "
                             f"model output. Received: {argname}={arg}. Model output names: {output_names}")
        return [arg.get(k) for k in output_names]
    if isinstance(arg, (list, tuple)) and (len(output_names) > 1 or argname != "metrics"):
        if argname == "metrics" and not all(isinstance(a, (list, tuple, dict)) or a is None for a in arg):
            return [list(arg) for _ in output_names]
        if len(arg) != len(output_names):
            raise ValueError(f"For a model with {len(output_names)} output(s), `{argname}` given as a list must "
                             f"have {len(output_names)} entries. Received: {argname}={arg}")
        return list(arg)
    if broadcast:
        return [arg for _ in output_names]
    return [arg] + [None] * (len(output_names) - 1)


class CompileLoss:
    """The compiled loss: a weighted sum of one loss per output."""

    def __init__(self, loss: Any, loss_weights: Any, output_names: list[str]):
        self.output_names = list(output_names)
        self.loss_fns = [None if l is None else _as_loss(l) for l in _per_output(loss, self.output_names, "loss", True)]
        if all(f is None for f in self.loss_fns):
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        weights = _per_output(loss_weights, self.output_names, "loss_weights", True) if loss_weights is not None \
            else [1.0] * len(self.output_names)
        self.loss_weights = [1.0 if w is None else float(w) for w in weights]
        multi = len(self.output_names) > 1
        self.trackers = [metrics_module.Mean(name=f"{n}_loss") if multi and f is not None else None
                         for n, f in zip(self.output_names, self.loss_fns)]

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> torch.Tensor:
        yt = _flatten_outputs(y_true, self.output_names, "y")
        yp = _flatten_outputs(y_pred, self.output_names, "y_pred")
        sws = _flatten_outputs(sample_weight, self.output_names, "sample_weight") \
            if isinstance(sample_weight, (dict, list, tuple)) else [sample_weight] * len(yp)
        total = None
        for fn, w, t, p, sw, tracker in zip(self.loss_fns, self.loss_weights, yt, yp, sws, self.trackers):
            if fn is None:
                continue
            if t is None:
                raise ValueError("A target (`y`) is missing for an output that has a loss.")
            value = fn(t, p, sample_weight=sw)
            if tracker is not None:
                tracker.update_state(value.detach())
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
    """Keras's rules for 'accuracy' and 'crossentropy' from target/prediction shapes."""
    if identifier in ("accuracy", "acc"):
        name = identifier
        if y_pred.shape[-1] == 1 if y_pred.ndim else True:
            return metrics_module.BinaryAccuracy(name=name)
        sparse = y_true.ndim < y_pred.ndim or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1)
        if sparse:
            return metrics_module.SparseCategoricalAccuracy(name=name)
        return metrics_module.CategoricalAccuracy(name=name)
    if identifier in ("crossentropy", "ce"):
        name = identifier
        if y_pred.shape[-1] == 1:
            return metrics_module.BinaryCrossentropy(name=name)
        if y_true.ndim < y_pred.ndim or y_true.shape[-1] == 1:
            return metrics_module.SparseCategoricalCrossentropy(name=name)
        return metrics_module.CategoricalCrossentropy(name=name)
    metric = metrics_module.get(identifier)
    if not isinstance(metric, metrics_module.Metric):
        metric = metrics_module.MeanMetricWrapper(metric, name=getattr(metric, "__name__", "metric"))
    if isinstance(identifier, str):
        metric.name = identifier  # Keras logs a string metric under the string given
    return metric


class CompileMetrics(metrics_module.Metric):
    """All compiled metrics, resolved against the first batch's shapes."""

    def __init__(self, metrics: Any, weighted_metrics: Any, output_names: list[str], name: str = "compile_metrics"):
        super().__init__(name=name)
        self.output_names = list(output_names)
        self._specs = _per_output(metrics, self.output_names, "metrics", True) if metrics \
            else [None] * len(output_names)
        self._wspecs = _per_output(weighted_metrics, self.output_names, "metrics", True) if weighted_metrics \
            else [None] * len(output_names)
        self.built = False
        self._metrics: list[list] = []
        self._weighted: list[list] = []

    def build(self, y_true: Any, y_pred: Any) -> None:
        yt = _flatten_outputs(y_true, self.output_names, "y")
        yp = _flatten_outputs(y_pred, self.output_names, "y_pred")
        multi = len(self.output_names) > 1

        def make(specs):
            out = []
            for name, spec, t, p in zip(self.output_names, specs, yt, yp):
                items = [] if spec is None else (list(spec.values()) if isinstance(spec, dict)
                                                 else spec if isinstance(spec, (list, tuple)) else [spec])
                ms = []
                for s in items:
                    m = _resolve_metric(s, t, p)
                    if multi:
                        m.name = f"{name}_{m.name}"
                    ms.append(m)
                out.append(ms)
            return out

        self._metrics = make(self._specs)
        self._weighted = make(self._wspecs)
        self.built = True

    @property
    def metrics(self) -> list:
        return [m for ms in self._metrics + self._weighted for m in ms]

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
        for ms, t, p in zip(self._weighted, yt, yp):
            for m in ms:
                m.update_state(t, p, sample_weight=sample_weight)

    def result(self) -> dict:
        return {m.name: m.result() for m in self.metrics}

    def reset_state(self) -> None:
        for m in self.metrics:
            m.reset_state()


def batch_size_of(x: Any) -> int:
    for leaf in tree.flatten(x):
        if hasattr(leaf, "shape") and len(leaf.shape):
            return int(leaf.shape[0])
    return 1
