"""``Callback``: the base class for hooks into ``fit``/``evaluate``/``predict``.

Also holds two helpers shared by the built-in callbacks: converting tensor
logs to Python floats (one host sync for all values) and inferring whether a
monitored metric should go up or down.
"""
from __future__ import annotations

from typing import Any

import torch

BATCH_HOOKS = (
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


class Callback:
    """Base class: override any of the ``on_*`` hooks.

    ``self.model`` is the model being trained and ``self.params`` a dict with
    ``verbose``, ``epochs`` and ``steps``. Per-batch ``logs`` may hold 0-dim
    tensors still on the accelerator for callbacks whose class sets
    ``_accepts_tensor_logs = True``; every other callback receives floats.
    """

    _accepts_tensor_logs = False
    # Attributes that make up the callback's progress (JSON-able); BackupAndRestore saves and restores them.
    _state_attributes: tuple[str, ...] = ()

    def get_state(self) -> dict:
        """The callback's progress, so a resumed ``fit`` continues where it stopped (cornu extra)."""
        return {name: getattr(self, name) for name in self._state_attributes if hasattr(self, name)}

    def set_state(self, state: dict) -> None:
        """Restore what ``get_state`` returned."""
        for name, value in state.items():
            if name in self._state_attributes:
                setattr(self, name, value)

    def __init__(self):
        self.params: dict | None = None
        self._model = None

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_model(self, model: Any) -> None:
        self._model = model

    @property
    def model(self) -> Any:
        return self._model

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Backwards-compatible alias of ``on_train_batch_begin``."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Backwards-compatible alias of ``on_train_batch_end``."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the start of an epoch (training only)."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the end of an epoch with the epoch's metrics (``val_`` prefixed for validation)."""

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before each evaluation batch."""

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after each evaluation batch with the running metrics."""

    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before each prediction batch."""

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after each prediction batch (``logs["outputs"]`` holds the batch outputs)."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Called at the start of ``fit``."""

    def on_train_end(self, logs: dict | None = None) -> None:
        """Called at the end of ``fit``."""

    def on_test_begin(self, logs: dict | None = None) -> None:
        """Called at the start of evaluation (also validation inside ``fit``)."""

    def on_test_end(self, logs: dict | None = None) -> None:
        """Called at the end of evaluation with the final metrics."""

    def on_predict_begin(self, logs: dict | None = None) -> None:
        """Called at the start of ``predict``."""

    def on_predict_end(self, logs: dict | None = None) -> None:
        """Called at the end of ``predict``."""

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Callback":
        return cls(**config)


def overrides_hook(callback: Any, hook: str) -> bool:
    """Whether ``callback`` customises ``hook`` (in its class or on the instance)."""
    method = getattr(callback, hook, None)
    if method is None:
        return False
    if getattr(method, "__func__", method) is not getattr(Callback, hook):
        return True
    alias = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}.get(hook)
    return alias is not None and overrides_hook(callback, alias)


def logs_to_floats(logs: dict | None) -> dict | None:
    """Copy of ``logs`` with every scalar tensor as a Python float, using one host sync per device."""
    if not logs:
        return logs
    keys_by_device: dict[torch.device, list[str]] = {}
    for key, value in logs.items():
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            keys_by_device.setdefault(value.device, []).append(key)
    if not keys_by_device:
        return logs
    out = dict(logs)
    for keys in keys_by_device.values():
        stacked = torch.stack([logs[k].detach().reshape(()).to(torch.float64) for k in keys])
        for key, value in zip(keys, stacked.tolist()):
            out[key] = value
    return out


_MAX_WORDS = ("acc", "auc", "precision", "recall", "f1", "fbeta", "iou", "r2", "true_positives",
              "true_negatives", "psnr", "ssim")


def monitor_direction(monitor: str, model: Any = None) -> str | None:
    """``"max"``/``"min"`` for a monitored metric name, or ``None`` when it cannot be inferred.

    Metric objects of the model that declare ``_direction`` ("up"/"down") win;
    otherwise the name decides: losses and errors go down, accuracy-like
    metrics (accuracy, AUC, precision, recall, F-scores, IoU, R²) go up.
    """
    name = monitor[4:] if monitor.startswith("val_") else monitor
    for metric in _model_metrics(model):
        if getattr(metric, "name", None) == name and getattr(metric, "_direction", None) in ("up", "down"):
            return "max" if metric._direction == "up" else "min"
    lowered = name.lower()
    if lowered == "loss" or lowered.endswith("loss") or "error" in lowered or "crossentropy" in lowered:
        return "min"
    if any(word in lowered for word in _MAX_WORDS):
        return "max"
    if lowered in ("mae", "mse", "mape", "msle", "rmse", "hinge", "squared_hinge", "kl_divergence", "poisson"):
        return "min"
    return None


def resolve_direction(callback: Any, monitor: str, mode: str) -> str:
    """``"max"``/``"min"`` for ``callback`` watching ``monitor``: ``mode`` unless it is ``"auto"``, then inferred.

    An ``"auto"`` monitor whose direction cannot be inferred raises ``ValueError`` (Keras's message).
    """
    direction = mode if mode != "auto" else monitor_direction(monitor, callback.model)
    if direction is None:
        raise ValueError(
            f"{type(callback).__name__} callback received monitor={monitor}, but Keras isn't able to "
            "automatically determine whether that metric should be maximized or minimized. Pass "
            "`mode='max'` in order to monitor based on the highest metric value, or pass `mode='min'` "
            "in order to use the lowest value."
        )
    return direction


def _model_metrics(model: Any) -> list:
    try:
        metrics = list(getattr(model, "metrics", None) or [])
    except Exception:
        return []
    out = []
    for metric in metrics:
        out.append(metric)
        out.extend(getattr(metric, "metrics", None) or [])
    return out
