"""CallbackList dispatch and its no-host-sync contract for per-batch logs."""
from __future__ import annotations

import math
import re

import pytest
import torch

from cornu import callbacks
from cornu.utils import progbar as progbar_module


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batch_logs = []

    def on_train_batch_end(self, batch, logs=None):
        self.batch_logs.append(dict(logs))


def _fit(cb_list, counting_tensor, steps, epochs=1, loss=lambda step: 1.0 / (step + 1)):
    cb_list.on_train_begin()
    for epoch in range(epochs):
        cb_list.on_epoch_begin(epoch)
        for step in range(steps):
            cb_list.on_train_batch_begin(step)
            cb_list.on_train_batch_end(step, {"accuracy": counting_tensor(0.5), "loss": counting_tensor(loss(step))})
        cb_list.on_epoch_end(epoch, {"accuracy": 0.5, "loss": loss(steps - 1)})
    cb_list.on_train_end()


def test_progbar_and_history_never_convert_batch_logs(capsys, make_model, sync_count, counting_tensor):
    model = make_model()
    cb = callbacks.CallbackList(add_history=True, add_progbar=True, model=model, verbose=1, epochs=2, steps=40)
    _fit(cb, counting_tensor, steps=40, epochs=2)
    assert sync_count() == 0
    assert model.history.epoch == [0, 1]
    assert model.history.history["loss"] == [1.0 / 40, 1.0 / 40]
    out = capsys.readouterr().out
    assert out.count("40/40") == 2 and "Epoch 2/2" in out


def test_float_callbacks_share_one_conversion_per_step(capsys, make_model, sync_count, counting_tensor):
    first, second = Recorder(), Recorder()
    cb = callbacks.CallbackList([first, second], add_progbar=True, model=make_model(), verbose=1, epochs=1, steps=10)
    _fit(cb, counting_tensor, steps=10)
    assert sync_count() == 10
    assert first.batch_logs == second.batch_logs
    assert all(type(v) is float for logs in first.batch_logs for v in logs.values())
    assert first.batch_logs[3]["loss"] == pytest.approx(0.25)


def test_on_batch_end_alias_gets_floats_and_unused_hooks_are_skipped(make_model, counting_tensor, sync_count):
    seen = []
    cb = callbacks.CallbackList([callbacks.LambdaCallback(on_batch_end=lambda b, logs: seen.append(logs["loss"]))])
    cb.set_model(make_model())
    cb.on_train_batch_end(0, {"loss": counting_tensor(2.0)})
    cb.on_test_batch_end(0, {"loss": counting_tensor(3.0)})
    assert seen == [2.0] and sync_count() == 1
    assert cb._batch_dispatch("on_test_batch_end") == []


def test_progbar_logger_converts_only_when_redrawing(monkeypatch, capsys, make_model, sync_count, counting_tensor):
    monkeypatch.setattr(progbar_module, "_interactive", lambda: True)
    cb = callbacks.CallbackList(add_progbar=True, model=make_model(), verbose=1, epochs=1, steps=200)
    _fit(cb, counting_tensor, steps=200)
    redraws = capsys.readouterr().out.count("\r")
    assert sync_count() <= redraws and sync_count() < 10
    monkeypatch.setattr(callbacks.ProgbarLogger, "REDRAW_INTERVAL", 0.0)
    before = sync_count()
    cb = callbacks.CallbackList(add_progbar=True, model=make_model(), verbose=1, epochs=1, steps=20)
    _fit(cb, counting_tensor, steps=20)
    assert sync_count() - before == 20


def test_terminate_on_nan_stops_training(make_model, counting_tensor):
    model = make_model()
    cb = callbacks.CallbackList([callbacks.TerminateOnNaN()], model=model)
    cb.on_train_batch_end(0, {"loss": counting_tensor(1.0)})
    assert not model.stop_training
    cb.on_train_batch_end(1, {"loss": counting_tensor(math.nan)})
    assert model.stop_training


def test_history_collects_and_is_set_on_model(make_model):
    model = make_model()
    history = callbacks.History()
    cb = callbacks.CallbackList([history], model=model)
    cb.on_train_begin()
    for epoch, loss in enumerate([0.5, 0.4, 0.3]):
        cb.on_epoch_end(epoch, {"loss": loss, "val_loss": loss + 0.1})
    assert history.epoch == [0, 1, 2]
    assert history.history == {"loss": [0.5, 0.4, 0.3], "val_loss": pytest.approx([0.6, 0.5, 0.4])}
    assert model.history is history


def test_epoch_logs_with_stray_tensors_become_floats_in_callers_dict(make_model):
    history = callbacks.History()
    cb = callbacks.CallbackList([history], model=make_model())
    logs = {"loss": torch.tensor(0.25)}
    cb.on_epoch_end(0, logs)
    assert logs["loss"] == 0.25 and type(history.history["loss"][0]) is float


def test_params_and_model_reach_every_callback(make_model):
    a, b = callbacks.Callback(), callbacks.Callback()
    model = make_model()
    callbacks.CallbackList([a, b], model=model, verbose=2, epochs=3, steps=7)
    assert a.model is model and b.params == {"verbose": 2, "epochs": 3, "steps": 7}
    with pytest.raises(TypeError, match="Callback"):
        callbacks.CallbackList([object()])


def test_lambda_callback_rejects_unknown_hooks():
    with pytest.raises(ValueError, match="on_epoch_finish"):
        callbacks.LambdaCallback(on_epoch_finish=print)


def test_verbose_2_prints_one_summary_line_per_epoch(capsys, make_model, sync_count, counting_tensor):
    cb = callbacks.CallbackList(add_progbar=True, model=make_model(), verbose=2, epochs=2, steps=5)
    _fit(cb, counting_tensor, steps=5, epochs=2)
    assert sync_count() == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert re.fullmatch(r"5/5 - \d+s - \d+(s|ms|us)/step - accuracy: 0\.5000 - loss: 0\.2000", lines[1])


def test_standalone_evaluate_shows_progress_but_not_inside_fit(capsys, make_model, counting_tensor):
    cb = callbacks.CallbackList(add_progbar=True, model=make_model(), verbose=1, epochs=1, steps=3)
    cb.on_test_begin()
    for step in range(3):
        cb.on_test_batch_end(step, {"loss": counting_tensor(0.5)})
    cb.on_test_end({"loss": 0.5})
    assert re.fullmatch(r"3/3 ━{20} \d+s \d+(s|ms|us)/step - loss: 0\.5000\n", capsys.readouterr().out)
    cb.on_train_begin()
    cb.on_test_begin()
    cb.on_test_end({"loss": 0.5})
    assert capsys.readouterr().out == ""
