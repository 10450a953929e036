"""``TensorBoard``: write Keras's TensorBoard logs (scalars, weight histograms/images, model config).

Events go through ``torch.utils.tensorboard.SummaryWriter``, so the optional
``tensorboard`` package is needed (``pip install tensorboard``). The layout and
tags are Keras's: ``log_dir/train`` holds ``epoch_*`` and ``batch_*`` scalars,
``epoch_learning_rate``, the weight histograms and images and the model
config; ``log_dir/validation`` holds the validation ``epoch_*`` scalars and
``evaluation_*_vs_iterations`` (each evaluation, at the optimizer's step).

Batch logs arrive as device tensors and are read back (one host sync) only
on the steps ``update_freq`` records. Unlike ``tf.keras`` (tensorflow issue
49109), epoch scalars are written whatever ``update_freq`` is.
"""
from __future__ import annotations

import os
import time
import warnings
from typing import Any

import numpy as np
import torch

from cornu import config
from cornu.callbacks.callback import Callback, logs_to_floats


def _summary_writer_class() -> type:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        raise ImportError(
            "The TensorBoard callback needs the `tensorboard` package to write event files. "
            "Install it with `pip install tensorboard` (or `pip install cornu[tensorboard]`)."
        ) from error
    return SummaryWriter


class TensorBoard(Callback):
    """Log metrics, weight histograms and the model config for TensorBoard (Keras's signature).

    ``update_freq``: ``"epoch"`` (default), ``"batch"`` or an integer ``N`` to
    also write ``batch_*`` scalars every ``N`` training batches (counted from 1
    over the whole ``fit``). ``histogram_freq``: every how many epochs to write
    weight histograms (0 = never); ``write_images`` adds the weights as images
    at the same epochs. ``write_graph`` writes the model config (TensorBoard's
    conceptual Keras graph); the traced op graph is not written.
    ``embeddings_freq`` saves the weights every that many epochs next to a
    ``projector_config.pbtxt`` naming the ``Embedding`` layers, as Keras does.
    Profiling is not available (``profile_batch`` must be 0).
    """

    _chief_only = True  # under a multi-process distribution, only rank 0 writes or prints

    _accepts_tensor_logs = True

    def __init__(self, log_dir: str = "logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False, update_freq: Any = "epoch",
                 profile_batch: int = 0, embeddings_freq: int = 0, embeddings_metadata: Any = None):
        super().__init__()
        self._writer_class = _summary_writer_class()
        if profile_batch:
            raise ValueError(
                "Profiling is not available in cornu's TensorBoard callback (use `torch.profiler`). "
                f"Received: profile_batch={profile_batch} (must be 0)"
            )
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (isinstance(update_freq, bool) or not isinstance(update_freq, int)
                                       or update_freq < 1):
            raise ValueError(
                "`update_freq` must be 'epoch', 'batch' or a positive integer number of batches. "
                f"Received: update_freq={update_freq!r}"
            )
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._writers: dict[str, Any] = {}
        self._global_train_batch = 0
        self._in_fit = False
        self._batch_start = 0.0
        self._epoch_start = 0.0
        self._epoch_batches = 0

    # ------------------------------------------------------------ writers
    def _writer(self, name: str) -> Any:
        writer = self._writers.get(name)
        if writer is None:
            writer = self._writers[name] = self._writer_class(os.path.join(self.log_dir, name))
        return writer

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def _records_batch(self, step: int) -> bool:
        return self.update_freq != "epoch" and step % self.update_freq == 0

    # ------------------------------------------------------------- hooks
    def on_train_begin(self, logs: dict | None = None) -> None:
        self._in_fit = True
        self._global_train_batch = 0
        if self.write_graph:
            self._write_model_config()
        if self.embeddings_freq:
            self._write_projector_config()

    def on_train_end(self, logs: dict | None = None) -> None:
        self._in_fit = False
        self._close_writers()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = time.perf_counter()
        self._epoch_batches = 0

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._epoch_batches += 1
        step = self._global_train_batch
        if not self._records_batch(step):
            return
        scalars = {}
        if self.write_steps_per_second:
            scalars["steps_per_second"] = 1.0 / max(time.perf_counter() - self._batch_start, 1e-12)
        scalars.update(logs_to_floats(logs) or {})
        self._write_scalars("train", "batch_", scalars, step)

    def on_test_end(self, logs: dict | None = None) -> None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not logs:
            return
        step = int(optimizer.iterations)
        writer = self._write_scalars("validation", "evaluation_", logs, step, suffix="_vs_iterations")
        if writer is not None and not self._in_fit:
            writer.flush()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        learning_rate = self._learning_rate()
        if learning_rate is not None:
            train_logs.setdefault("learning_rate", learning_rate)
        if self.write_steps_per_second:
            elapsed = max(time.perf_counter() - self._epoch_start, 1e-12)
            train_logs["steps_per_second"] = self._epoch_batches / elapsed
        self._write_scalars("train", "epoch_", train_logs, epoch)
        self._write_scalars("validation", "epoch_", val_logs, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            path = os.path.join(self.log_dir, "train", f"keras_embedding.ckpt-{epoch}.weights.h5")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            self.model.save_weights(path)
        for writer in self._writers.values():
            writer.flush()

    # ----------------------------------------------------------- writing
    def _write_scalars(self, writer_name: str, prefix: str, logs: dict, step: int, suffix: str = "") -> Any:
        values = [(key, _as_float(value)) for key, value in logs.items()]
        values = [(key, value) for key, value in values if value is not None]
        if not values:
            return None
        writer = self._writer(writer_name)
        for key, value in values:
            writer.add_scalar(f"{prefix}{key}{suffix}", value, step)
        return writer

    def _learning_rate(self) -> float | None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            return None
        try:
            return _as_float(optimizer.learning_rate)
        except (AttributeError, TypeError, ValueError):
            return None

    def _write_weights(self, epoch: int) -> None:
        writer = self._writer("train")
        for weight in self.model.weights:
            name = weight.path.replace(":", "_")
            values = np.asarray(weight.numpy())
            writer.add_histogram(f"{name}/histogram", values, epoch)
            if self.write_images:
                image = weight_image(values)
                if image is not None:
                    writer.add_images(f"{name}/image", image, epoch, dataformats="NHWC")

    def _write_model_config(self) -> None:
        try:
            model_json = self.model.to_json()
        except Exception as error:  # noqa: BLE001 - Keras warns and carries on for any serialization failure
            warnings.warn(f"Model failed to serialize as JSON. Ignoring... {error}", stacklevel=2)
            return
        from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2

        metadata = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="graph_keras_model"))
        tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[model_json.encode("utf-8")],
                                        tensor_shape=tensor_shape_pb2.TensorShapeProto())
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="keras", metadata=metadata, tensor=tensor)])
        self._writer("train")._get_file_writer().add_summary(summary, global_step=0)

    def _write_projector_config(self) -> None:
        metadata = self.embeddings_metadata
        blocks = []
        weighted = [layer for layer in getattr(self.model, "layers", []) if layer.weights]
        for index, layer in enumerate(weighted):
            if not hasattr(layer, "embeddings"):
                continue
            lines = [f'  tensor_name: "layer_with_weights-{index}/embeddings/.ATTRIBUTES/VARIABLE_VALUE"']
            path = metadata.get(layer.name) if isinstance(metadata, dict) else metadata
            if path is not None:
                lines.append(f'  metadata_path: "{path}"')
            blocks.append("embeddings {\n" + "\n".join(lines) + "\n}\n")
        os.makedirs(self.log_dir, exist_ok=True)
        with open(os.path.join(self.log_dir, "projector_config.pbtxt"), "w") as f:
            f.write("".join(blocks))

    def get_config(self) -> dict:
        return {
            "log_dir": self.log_dir, "histogram_freq": self.histogram_freq, "write_graph": self.write_graph,
            "write_images": self.write_images, "write_steps_per_second": self.write_steps_per_second,
            "update_freq": self.update_freq, "profile_batch": 0, "embeddings_freq": self.embeddings_freq,
            "embeddings_metadata": self.embeddings_metadata,
        }


def weight_image(values: np.ndarray) -> np.ndarray | None:
    """A weight as a batch of NHWC images, as Keras logs it, or ``None`` when it has no image form.

    Size-1 axes are dropped first. A vector becomes one ``(n, 1)`` image; a
    matrix one image, transposed so it is wider than tall; a 3-D kernel one
    image per output channel (the last axis with ``channels_last``). Larger
    kernels are not drawn.
    """
    image = np.squeeze(values)
    if image.ndim == 1:
        return image.reshape(1, image.shape[0], 1, 1)
    if image.ndim == 2:
        if image.shape[0] > image.shape[1]:
            image = image.T
        return image.reshape(1, image.shape[0], image.shape[1], 1)
    if image.ndim == 3:
        if config.image_data_format() == "channels_last":
            image = np.moveaxis(image, -1, 0)
        return image[..., np.newaxis]
    return None


def _as_float(value: Any) -> float | None:
    """A Python float for a number or a one-element array/tensor/Variable; ``None`` for anything else."""
    if isinstance(value, (bool, str)):
        return None
    if isinstance(value, (int, float, np.number)):
        return float(value)
    if isinstance(value, torch.Tensor):
        return float(value.detach().reshape(())) if value.numel() == 1 and not value.is_complex() else None
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, RuntimeError):
        return None
    if array.size != 1 or not np.issubdtype(array.dtype, np.number):
        return None
    return float(array.reshape(()))
