"""``Trainer``: compile / fit / evaluate / predict, mixed into ``Model``.

One step is forward, loss, backward, optimizer update and metric update, all
on the device. Nothing here reads a value back to the host per step: batch
logs are device tensors that the progress bar reads a few times a second, and
the epoch's numbers are read once at its end.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any, Callable

import numpy as np
import torch

from cornu import callbacks as callbacks_module
from cornu import config
from cornu import metrics as metrics_module
from cornu import optimizers as optimizers_module
from cornu.trainers import data as data_module
from cornu.trainers import distributed
from cornu.trainers.compile_utils import CompileLoss, CompileMetrics, batch_size_of
from cornu.trainers.denormals import flushes_denormals
from cornu.trainers.step_function import CompiledFunction, resolve_jit_compile
from cornu.utils import rng_utils, tracking, tree
from cornu.variables import tensor_to_numpy


def _to_float_logs(logs: Mapping) -> dict:
    out = {}
    for k, v in logs.items():
        if isinstance(v, Mapping):
            out.update(_to_float_logs(v))
        elif isinstance(v, torch.Tensor):
            out[k] = float(v.detach()) if v.numel() == 1 else v.detach().cpu().numpy()
        else:
            out[k] = v
    return out


def _verbose(verbose: Any) -> int:
    """'auto' and 1 show a progress bar, 2 one line per epoch; Keras prints nothing for any other value."""
    if isinstance(verbose, str):
        return 1 if verbose == "auto" else 0
    return int(verbose) if verbose in (1, 2) else 0


def _to_numpy(t: Any) -> Any:
    return tensor_to_numpy(t) if isinstance(t, torch.Tensor) else t


class Trainer:
    """The training API of ``Model``."""

    def _init_trainer(self) -> None:
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.stop_training = False
        self.history = None
        self._compile_loss: CompileLoss | None = None
        self._compile_metrics: CompileMetrics | None = None
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._run_eagerly = False
        self._jit_compile = False
        self.train_function = self.test_function = self.predict_function = None
        self._step_cache: _StepCache | None = None
        self._nan_watch = _NanWatch(None)
        self.steps_per_execution = 1

    # ---------------------------------------------------------------- compile
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None,
                metrics: Any = None, weighted_metrics: Any = None, run_eagerly: bool = False,
                steps_per_execution: int = 1, jit_compile: Any = "auto", auto_scale_loss: bool = True) -> None:
        """Configure the model for training (Keras's signature)."""
        self.optimizer = optimizers_module.get(optimizer)
        if auto_scale_loss and self.dtype_policy.name == "mixed_float16" and self.optimizer is not None \
                and not isinstance(self.optimizer, optimizers_module.LossScaleOptimizer):
            # float16 gradients underflow: scale the loss up, and the gradients back down, dynamically (as Keras).
            self.optimizer = optimizers_module.LossScaleOptimizer(self.optimizer, name="loss_scale_optimizer")
        if loss is None:
            loss = self.loss  # Keras keeps the loss of an earlier `compile` when given none
        self.loss = loss
        self._loss_tracker = metrics_module.Mean(name="loss")
        names = self._output_names()
        self._compile_loss = CompileLoss(loss, loss_weights, names) if loss is not None else None
        self._compile_metrics = CompileMetrics(metrics, weighted_metrics, names) \
            if metrics or weighted_metrics else None
        self.steps_per_execution = steps_per_execution  # checked when a loop uses it, as Keras fails there
        self._run_eagerly = bool(run_eagerly)
        self._auto_scale_loss = auto_scale_loss
        self._jit_compile = resolve_jit_compile(jit_compile, self._run_eagerly)
        self.train_function = self.test_function = self.predict_function = None
        self.compiled = True
        self.stop_training = False

    def _output_names(self) -> list[str]:
        """What losses, metrics and logs are keyed by: a dict output's keys, else ``output_names``."""
        keys = self.__dict__.get("_output_keys")
        if keys:
            return list(keys)
        names = getattr(self, "output_names", None)
        return list(names) if names else ["output"]

    @property
    def jit_compile(self) -> bool:
        """Whether steps are captured with ``torch.compile`` (``compile(jit_compile=True)``)."""
        return self._jit_compile

    @jit_compile.setter
    def jit_compile(self, value: bool) -> None:
        self._jit_compile = resolve_jit_compile(value, self._run_eagerly)
        self.train_function = self.test_function = self.predict_function = None

    def make_train_function(self, force: bool = False) -> Callable:
        """The function ``fit`` calls on each batch (``data -> logs``); captured when ``jit_compile``."""
        if self.train_function is None or force:
            self._compiled_train_core = None
            step = self.train_step
            if self._jit_compile and not self._run_eagerly:
                if type(self).train_step is Trainer.train_step:
                    # The default step: compile its core (Python bookkeeping such as lazy logs stays outside).
                    self._compiled_train_core = CompiledFunction(self._train_core, "training step")
                else:
                    step = CompiledFunction(self.train_step, "training step")
            self.train_function = step
        return self.train_function

    def make_test_function(self, force: bool = False) -> Callable:
        """The function ``evaluate`` (and validation) calls on each batch."""
        if self.test_function is None or force:
            self._compiled_test_core = None
            step = self.test_step
            if self._jit_compile and not self._run_eagerly:
                if type(self).test_step is Trainer.test_step:
                    self._compiled_test_core = CompiledFunction(self._test_core, "test step")
                else:
                    step = CompiledFunction(self.test_step, "test step")
            self.test_function = step
        return self.test_function

    def make_predict_function(self, force: bool = False) -> Callable:
        """The function ``predict`` calls on each batch."""
        if self.predict_function is None or force:
            step = self.predict_step
            if self._jit_compile and not self._run_eagerly:
                step = CompiledFunction(self.predict_step, "predict step")
            self.predict_function = step
        return self.predict_function

    @property
    def run_eagerly(self) -> bool:
        """Whether steps run as plain eager Python (cornu's steps always can be stepped through)."""
        return self._run_eagerly

    @run_eagerly.setter
    def run_eagerly(self, value: bool) -> None:
        self._run_eagerly = bool(value)
        self.train_function = self.test_function = self.predict_function = None

    def _assert_compiled(self) -> None:
        if not self.compiled:
            raise ValueError("You must call `compile()` before using the model.")
        spe = self.steps_per_execution
        if not isinstance(spe, int) or isinstance(spe, bool) or spe < 1:
            raise ValueError(f"`steps_per_execution` must be a positive integer. Received: steps_per_execution={spe!r}")


    @property
    def metrics(self) -> list:
        """Metric objects tracked by the model: once compiled, the loss first, then the compiled metrics and
        (after the first batch) the per-output losses; then metrics held as attributes."""
        out = []
        if self.compiled:
            out.append(self._loss_tracker)
            if self._compile_metrics is not None:
                out.append(self._compile_metrics)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.metrics)
        out.extend(self.__dict__.get("_tracked_metrics", []))
        return out

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        for m in self.metrics:
            m.reset_state()

    def get_metrics_result(self) -> dict:
        """Current metric values (device tensors), flattened into one dict."""
        logs = {}
        for m in self.metrics:
            r = m.result()
            if isinstance(r, dict):
                logs.update(r)
            else:
                logs[m.name] = r
        return logs

    # ------------------------------------------------------------------ steps
    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None, sample_weight: Any = None,
                     training: bool = True) -> torch.Tensor:
        """Compiled loss plus the model's own losses (``add_loss``, regularizers)."""
        total = None
        if self._compile_loss is not None:
            total = self._compile_loss(y, y_pred, sample_weight)
        if self._may_have_losses():
            extra = self.losses
            if extra:
                s = torch.stack([torch.as_tensor(l, device=config.device()).float().reshape(()) for l in extra]).sum()
                total = s if total is None else total + s
        if total is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        return total

    def _call_compute_loss(self, x: Any, y: Any, y_pred: Any, sample_weight: Any, training: bool) -> torch.Tensor:
        """``compute_loss``, passing ``training`` only when an override accepts it (as Keras inspects)."""
        takes = self.__dict__.get("_compute_loss_takes_training")
        if takes is None:
            import inspect

            params = inspect.signature(self.compute_loss).parameters
            takes = "training" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
            self._compute_loss_takes_training = takes
        if takes:
            return self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
        return self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)

    def _may_have_losses(self) -> bool:
        cache = self._step_cache
        if cache is None:
            return self._has_losses()
        return cache.static_losses or any(layer._losses for layer in cache.layers)

    def _freeze_step_cache(self) -> None:
        """After a step (all layers built), remember what every step needs until something tracked changes."""
        cache = self._step_cache
        if cache is None or cache.version != tracking.version():
            self._step_cache = _StepCache(self)

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> Mapping:
        """Update the compiled metrics and return all current results.

        The results are computed when first read (the progress bar reads a few
        times a second), not on every step.
        """
        self._update_compiled_metrics(y, y_pred, sample_weight)
        return LazyLogs(self._sorted_metrics_result)

    def train_step(self, data: Any) -> dict:
        """One optimisation step on a batch; returns the running metric results."""
        x, y, sample_weight = data_module.unpack_x_y_sample_weight(data)
        cache = self._step_cache
        if cache is not None and cache.version != tracking.version():
            cache = self._step_cache = None
        if cache is None:
            self.zero_grad(set_to_none=True)
        else:
            for v in cache.variables:
                v.value.grad = None
        core = self.__dict__.get("_compiled_train_core") or self._train_core
        variables = cache.variables if cache is not None else self.trainable_weights if self.built else None
        loss, y_pred = core(x, y, sample_weight, variables)
        self._nan_watch.record(loss)
        if type(self).compute_metrics is Trainer.compute_metrics:
            return LazyLogs(self._sorted_metrics_result)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def _train_core(self, x: Any, y: Any, sample_weight: Any, variables: list | None) -> tuple:
        """Forward, loss, backward, optimizer update and metric updates: what ``jit_compile`` captures."""
        y_pred = self(x, training=True)
        if variables is None:  # after the forward pass: a lazily built model has its weights only now
            variables = self.trainable_weights
        loss = self._call_compute_loss(x, y, y_pred, sample_weight, training=True)
        if not loss.requires_grad:
            raise ValueError("No loss to compute: the loss does not depend on any trainable weight. Provide a "
                             "`loss` argument in `compile()` (or override `compute_loss`).")
        self._loss_tracker.update_state(loss.detach(), sample_weight=batch_size_of(x))
        scale = getattr(self.optimizer, "scale_loss", None)
        if scale is not None:
            scaled = scale(loss)
        elif getattr(self.optimizer, "loss_scale_factor", None):
            scaled = loss * self.optimizer.loss_scale_factor
        else:
            scaled = loss
        scaled.backward()
        self.optimizer.apply([v.value.grad for v in variables], variables)
        y_pred = tree.map_structure(lambda t: t.detach() if isinstance(t, torch.Tensor) else t, y_pred)
        if type(self).compute_metrics is Trainer.compute_metrics:
            self._update_compiled_metrics(y, y_pred, sample_weight)
        return loss.detach(), y_pred

    def _update_compiled_metrics(self, y: Any, y_pred: Any, sample_weight: Any) -> None:
        if self._compile_metrics is not None and y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)

    def _sorted_metrics_result(self) -> dict:
        return dict(sorted(self.get_metrics_result().items()))

    def test_step(self, data: Any) -> dict:
        """Loss and metrics on a batch, no update."""
        x, y, sample_weight = data_module.unpack_x_y_sample_weight(data)
        core = self.__dict__.get("_compiled_test_core") or self._test_core
        y_pred = core(x, y, sample_weight)
        if type(self).compute_metrics is Trainer.compute_metrics:
            return LazyLogs(self._sorted_metrics_result)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def _test_core(self, x: Any, y: Any, sample_weight: Any) -> Any:
        y_pred = self(x, training=False)
        loss = self._call_compute_loss(x, y, y_pred, sample_weight, training=False)
        self._loss_tracker.update_state(loss, sample_weight=batch_size_of(x))
        if type(self).compute_metrics is Trainer.compute_metrics:
            self._update_compiled_metrics(y, y_pred, sample_weight)
        return y_pred

    def predict_step(self, data: Any) -> Any:
        x, _, _ = data_module.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    # ------------------------------------------------------------------- fit
    @flushes_denormals
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: list | None = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: dict | None = None,
            sample_weight: Any = None, initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1) -> "callbacks_module.History":
        """Train for ``epochs`` epochs; returns a ``History``."""
        self._assert_compiled()
        verbose = _verbose(verbose)
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = data_module.train_validation_split(
                (x, y, sample_weight), validation_split)
        epochs = min(epochs, config.max_epochs()) if config.max_epochs() else epochs
        spread = distributed.active()
        steps = _capped_steps(steps_per_epoch)
        train = data_module.get_data_adapter(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle,
                                             steps=steps if spread is not None else None)
        if steps and spread is None:
            train = data_module.StepsPerEpochIterator(train, steps)
        val = None
        if validation_data is not None:
            vx, vy, vsw = data_module.unpack_x_y_sample_weight(validation_data)
            val = data_module.get_data_adapter(vx, vy, vsw, batch_size=validation_batch_size or batch_size,
                                               steps=_capped_steps(validation_steps))
        class_weights = _class_weight_tensor(class_weight, sample_weight)
        if spread is not None:
            distributed.sync_random_state()
            train = distributed.shard(train, "training", spread)
            val = distributed.shard(val, "validation", spread) if val is not None else None
        self.to(config.device())
        cbs = callbacks_module.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                                            verbose=verbose, epochs=epochs, steps=train.num_batches)
        self.stop_training = False
        self._nan_watch = _NanWatch(train.num_batches)
        self._fit_callbacks = cbs
        train_function = self.make_train_function()
        cbs.on_train_begin()
        # A callback (BackupAndRestore) may have restored a checkpoint: continue exactly where it was taken.
        resume = self.__dict__.pop("_resume_from", None)
        if resume is not None:
            initial_epoch = max(initial_epoch, int(resume["epoch"]))
            saved = resume.get("callbacks") or {}
            for i, callback in enumerate(cbs):  # after every on_train_begin, which resets their progress
                if f"{i}:{type(callback).__name__}" in saved:
                    callback.set_state(saved[f"{i}:{type(callback).__name__}"])
        epoch_logs: dict = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            skip = 0
            if resume is not None and epoch == int(resume["epoch"]):
                skip = int(resume.get("step") or 0)
                start_rng = resume.get("epoch_rng") if skip else resume.get("rng")
                if start_rng is not None:
                    rng_utils.set_rng_state(start_rng, self)  # the same shuffle and masks as the first run
            if self.__dict__.get("_track_epoch_rng"):
                self._epoch_rng_state = rng_utils.get_rng_state(self)
            cbs.on_epoch_begin(epoch)
            self.train()
            logs: Any = {}
            self._nan_watch.start_epoch()
            batch: tuple = ()
            open_group: int | None = None
            for step, batch in enumerate(train):
                bx, by, bsw = batch
                if step < skip:
                    continue
                if skip and step == skip:
                    self._restore_mid_epoch(resume, batch)
                if class_weights is not None:
                    bsw = _apply_class_weight(class_weights, by, bsw)
                # With steps_per_execution=N the batch hooks run once per N steps, as in Keras.
                if spread is not None:
                    distributed.prepare_model(self, spread, bx)
                if open_group is None:
                    open_group = step
                    cbs.on_train_batch_begin(step)
                logs = train_function(data_module.pack_x_y_sample_weight(bx, by, bsw))
                self._freeze_step_cache()
                if step + 1 - open_group >= self.steps_per_execution or step + 1 == train.num_batches:
                    # Keras numbers the end of a group by its full size, even for a short last group.
                    cbs.on_train_batch_end(open_group + self.steps_per_execution - 1, logs)
                    open_group = None
                    if self.stop_training:
                        break
            if open_group is not None:
                cbs.on_train_batch_end(open_group + self.steps_per_execution - 1, logs)
            if skip and skip >= (train.num_batches or 0):
                self._restore_mid_epoch(resume, batch)  # killed after the last batch: only the epoch end remains
                logs = LazyLogs(lambda: dict(sorted(self.get_metrics_result().items())))
            resume = None
            if spread is not None:
                distributed.reduce_metrics(self, train)
            epoch_logs = self._epoch_logs(logs)
            self._nan_watch.warn_if_not_finite(epoch_logs, epoch)
            epoch_logs = dict(sorted(epoch_logs.items()))
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_adapter(val, cbs)
                epoch_logs.update({f"val_{k}": v for k, v in sorted(val_logs.items())})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        if hasattr(self.optimizer, "finalize_variable_values"):
            self.optimizer.finalize_variable_values(self.trainable_weights)
        cbs.on_train_end(epoch_logs)
        self.eval()
        return self.history

    def _restore_mid_epoch(self, resume: dict, batch: tuple) -> None:
        """Put back the metric state and random state a checkpoint recorded mid-epoch."""
        if self._compile_metrics is not None and not self._compile_metrics.built and batch:
            with torch.no_grad():  # compiled metrics are created from a batch's shapes (no random draws)
                self._compile_metrics.build(batch[1], self(batch[0], training=False))
        for metric, values in zip(self.metrics, resume.get("metrics") or []):
            for variable, value in zip(metric.variables, values):
                variable.assign(np.asarray(value, dtype=variable.dtype))
        if resume.get("rng") is not None:
            rng_utils.set_rng_state(resume["rng"], self)

    def _epoch_logs(self, last_logs: Mapping) -> dict:
        """Keras's rule: the metrics' results, unless a custom step returned other keys."""
        if not last_logs:
            return {}
        last = _to_float_logs(last_logs)
        results = _to_float_logs(self.get_metrics_result())
        return results if set(last) <= set(results) else last

    # -------------------------------------------------------------- evaluate
    def _evaluate_adapter(self, adapter, cbs) -> dict:
        self.reset_metrics()
        self.eval()
        test_function = self.make_test_function()
        cbs.on_test_begin()
        logs: dict = {}
        with torch.no_grad():
            open_group: int | None = None
            for step, batch in enumerate(adapter):
                if step == 0 and isinstance(adapter, distributed.ShardedAdapter):
                    distributed.prepare_model(self, distributed.active(), batch[0])
                if open_group is None:
                    open_group = step
                    cbs.on_test_batch_begin(step)
                logs = test_function(data_module.pack_x_y_sample_weight(*batch))
                if step + 1 - open_group >= self.steps_per_execution or step + 1 == adapter.num_batches:
                    cbs.on_test_batch_end(open_group + self.steps_per_execution - 1, logs)
                    open_group = None
            if open_group is not None:
                cbs.on_test_batch_end(open_group + self.steps_per_execution - 1, logs)
        if isinstance(adapter, distributed.ShardedAdapter):
            distributed.reduce_metrics(self, adapter)
        logs = dict(sorted(_to_float_logs(self.get_metrics_result()).items()))
        cbs.on_test_end(logs)
        return logs

    @flushes_denormals
    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None, verbose: Any = "auto",
                 sample_weight: Any = None, steps: int | None = None, callbacks: list | None = None,
                 return_dict: bool = False, **kwargs) -> Any:
        """Loss and metrics on the data: a scalar, ``[loss, metric, ...]`` or a dict."""
        self._assert_compiled()
        if kwargs:
            raise ValueError(f"Arguments not recognized: {kwargs}")
        verbose = _verbose(verbose)
        adapter = data_module.get_data_adapter(x, y, sample_weight, batch_size=batch_size,
                                               steps=_capped_steps(steps))
        spread = distributed.active()
        if spread is not None:
            adapter = distributed.shard(adapter, "evaluation", spread)
        self.to(config.device())
        cbs = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                                            epochs=1, steps=adapter.num_batches)
        logs = self._evaluate_adapter(adapter, cbs)
        return logs if return_dict else self._ordered_values(logs)

    def _ordered_values(self, logs: dict) -> Any:
        """Keras's list return: logs named like a metric (a compiled metric by its unprefixed name) first, in the
        metrics' order, then the rest by name."""
        names = []
        for m in self.metrics:
            names.extend(m.base_names if isinstance(m, CompileMetrics) and m.built else [m.name])
        values = [logs[k] for k in names if k in logs] + [logs[k] for k in sorted(logs) if k not in names]
        return values[0] if len(values) == 1 else values

    # --------------------------------------------------------------- predict
    @flushes_denormals
    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto", steps: int | None = None,
                callbacks: list | None = None) -> Any:
        """Model outputs for ``x`` as NumPy arrays."""
        verbose = _verbose(verbose)
        adapter = data_module.get_data_adapter(x, None, None, batch_size=batch_size, steps=_capped_steps(steps))
        spread = distributed.active()
        if spread is not None:
            adapter = distributed.shard(adapter, "prediction", spread)
        self.to(config.device())
        cbs = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                                            epochs=1, steps=adapter.num_batches)
        self.eval()
        predict_function = self.make_predict_function()
        cbs.on_predict_begin()
        outputs = []
        with torch.no_grad():
            for step, batch in enumerate(adapter):
                if step == 0 and spread is not None:
                    distributed.prepare_model(self, spread, batch[0])
                cbs.on_predict_batch_begin(step)
                out = predict_function(data_module.pack_x_y_sample_weight(*batch))
                if spread is not None and adapter.split:
                    out = distributed.gather_batch(out)
                outputs.append(out)
                cbs.on_predict_batch_end(step, {"outputs": out})
        cbs.on_predict_end()
        if not outputs:
            raise ValueError("Unexpected result of `predict`: no batch was produced from the input data.")
        first = outputs[0]
        leaves = [tree.flatten(o) for o in outputs]
        merged = [torch.cat([l[i] for l in leaves], dim=0) for i in range(len(leaves[0]))]
        return tree.pack_sequence_as(first, [_to_numpy(t) for t in merged])

    # ------------------------------------------------------------- on_batch
    @flushes_denormals
    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, class_weight: dict | None = None,
                       return_dict: bool = False) -> Any:
        """One step on one batch; returns the running loss/metrics."""
        self._assert_compiled()
        self.to(config.device())
        self.train()
        self.reset_metrics()
        adapter = data_module.ArrayDataAdapter(x, y, sample_weight, batch_size=batch_size_of(x) or 1)
        bx, by, bsw = next(iter(adapter))
        cw = _class_weight_tensor(class_weight, sample_weight)
        if cw is not None:
            bsw = _apply_class_weight(cw, by, bsw)
        logs = _to_float_logs(self.make_train_function()(data_module.pack_x_y_sample_weight(bx, by, bsw)))
        return logs if return_dict else self._ordered_values(logs)

    @flushes_denormals
    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False) -> Any:
        self._assert_compiled()
        self.reset_metrics()
        self.eval()
        adapter = data_module.ArrayDataAdapter(x, y, sample_weight, batch_size=batch_size_of(x) or 1)
        with torch.no_grad():
            logs = _to_float_logs(self.make_test_function()(
                data_module.pack_x_y_sample_weight(*next(iter(adapter)))))
        return logs if return_dict else self._ordered_values(logs)

    @flushes_denormals
    def predict_on_batch(self, x: Any) -> Any:
        self.eval()
        adapter = data_module.ArrayDataAdapter(x, batch_size=batch_size_of(x) or 1)
        with torch.no_grad():
            out = self.make_predict_function()(data_module.pack_x_y_sample_weight(*next(iter(adapter))))
        return tree.map_structure(_to_numpy, out)


class LazyLogs(Mapping):
    """A read-only logs dict whose values are computed on first access."""

    def __init__(self, compute):
        self._compute = compute
        self._values: dict | None = None

    def _get(self) -> dict:
        if self._values is None:
            self._values = self._compute()
        return self._values

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return repr(self._get())


class _StepCache:
    """What each step of one fit needs and would otherwise recompute by walking the layer tree."""

    def __init__(self, model: Any):
        self.version = tracking.version()
        self.variables = model.trainable_weights
        self.layers = _all_layers(model)
        self.static_losses = any(
            layer.activity_regularizer is not None or any(v.regularizer is not None for v in layer._variables)
            for layer in self.layers)


def _all_layers(layer: Any) -> list:
    out = [layer]
    for sub in layer._flat_layers():
        out.extend(_all_layers(sub))
    return out


def _capped_steps(steps: int | None) -> int | None:
    """``steps`` limited by ``keras.config.set_max_steps_per_epoch`` (a debugging cap, as in Keras)."""
    cap = config.max_steps_per_epoch()
    if not cap:
        return steps
    return min(steps, cap) if steps else cap


class _NanWatch:
    """Finds the first batch whose loss was NaN/inf, without a host sync per step.

    Each step writes its loss into a device buffer (one small kernel); the
    buffer is read only when the epoch's loss came out non-finite. Training
    goes on, as in Keras (``TerminateOnNaN`` stops it); one warning names the
    epoch and batch where the loss first broke.
    """

    def __init__(self, steps: int | None):
        self._buffer: torch.Tensor | None = None
        self._capacity = steps or 0
        self._step = 0
        self._warned = False

    def start_epoch(self) -> None:
        self._step = 0

    def record(self, loss: torch.Tensor) -> None:
        if self._warned:
            return
        if self._buffer is None or self._buffer.device != loss.device or self._step >= self._buffer.numel():
            grown = torch.zeros(max(self._capacity, 2 * self._step, 16), device=loss.device)
            if self._buffer is not None and self._buffer.device == loss.device:
                grown[:self._buffer.numel()] = self._buffer
            self._buffer = grown
        self._buffer[self._step] = loss.detach().float()
        self._step += 1

    def warn_if_not_finite(self, logs: dict, epoch: int) -> None:
        loss = logs.get("loss")
        if self._warned or not isinstance(loss, float) or math.isfinite(loss):
            return
        self._warned = True
        where = ""
        if self._buffer is not None and self._step:
            bad = (~torch.isfinite(self._buffer[:self._step])).nonzero()
            if bad.numel():
                where = f", batch {int(bad[0])}"
        warnings.warn(f"The training loss became {loss} in epoch {epoch + 1}{where}; training goes on "
                      "(add keras.callbacks.TerminateOnNaN() to stop).", RuntimeWarning, stacklevel=3)


def _class_weight_tensor(class_weight: dict | None, sample_weight: Any = None) -> torch.Tensor | None:
    if not class_weight:
        return None
    if sample_weight is not None:
        raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
    if not isinstance(class_weight, dict):
        raise TypeError(f"`class_weight` must be a dict mapping class index to weight. Received: {class_weight!r}")
    # Only integer keys name classes (Keras looks classes up by integer; a key "1" matches none).
    keys = [k for k in class_weight if isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k >= 0]
    w = torch.ones(max(keys, default=0) + 1)
    for k in keys:
        w[int(k)] = float(class_weight[k])
    return w.to(config.device())


def _apply_class_weight(weights: torch.Tensor, y: Any, sample_weight: Any) -> torch.Tensor:
    """Per-sample weights from the target classes; a class missing from `class_weight` weighs 1, as in Keras."""
    if not isinstance(y, torch.Tensor):
        raise ValueError("`class_weight` is only supported for models with a single output.")
    cls = y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(-1).round().long()
    known = (cls >= 0) & (cls < weights.numel())
    sw = torch.where(known, weights[cls.clamp(0, weights.numel() - 1)], torch.ones_like(weights[:1]))
    return sw if sample_weight is None else sw * sample_weight
