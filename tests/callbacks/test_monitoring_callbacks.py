"""EarlyStopping, ReduceLROnPlateau, ModelCheckpoint, LearningRateScheduler, CSVLogger with a fake model."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from cornu import callbacks


def _train(callback, model, metric_values, key="val_loss"):
    """Run epochs until done or stopped; each epoch sets the weights to [epoch, epoch]."""
    callback.set_model(model)
    callback.on_train_begin()
    epochs = 0
    for epoch, value in enumerate(metric_values):
        callback.on_epoch_begin(epoch)
        model.weights = [np.full(2, float(epoch))]
        callback.on_epoch_end(epoch, {key: value})
        epochs += 1
        if model.stop_training:
            break
    callback.on_train_end()
    return epochs


def test_early_stopping_patience(make_model):
    model = make_model()
    ran = _train(callbacks.EarlyStopping(patience=2), model, [1.0, 0.9, 0.95, 0.96, 0.97, 0.5])
    assert ran == 4 and model.stop_training


def test_early_stopping_min_delta_counts_small_gains_as_no_improvement(make_model):
    model = make_model()
    ran = _train(callbacks.EarlyStopping(patience=1, min_delta=0.1), model, [1.0, 0.95, 0.92, 0.5])
    assert ran == 2


def test_early_stopping_restores_best_weights(make_model):
    model = make_model()
    es = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    _train(es, model, [1.0, 0.5, 0.7, 0.8, 0.9])
    assert es.best_epoch == 1 and es.best == 0.5
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])


def test_early_stopping_auto_mode_maximizes_accuracy_and_rejects_unknown(make_model):
    model = make_model()
    ran = _train(callbacks.EarlyStopping(monitor="val_accuracy", patience=1), model, [0.5, 0.6, 0.7, 0.65, 0.9],
                 key="val_accuracy")
    assert ran == 4
    with pytest.raises(ValueError, match="mode='max'"):
        _train(callbacks.EarlyStopping(monitor="val_quux"), make_model(), [1.0], key="val_quux")


def test_early_stopping_baseline_and_start_from_epoch(make_model):
    values = [1.0, 0.9, 0.95, 0.96]
    assert _train(callbacks.EarlyStopping(patience=2), make_model(), values) == 4
    assert _train(callbacks.EarlyStopping(patience=2, baseline=0.5), make_model(), values) == 3
    model = make_model()
    assert _train(callbacks.EarlyStopping(patience=0, start_from_epoch=3), model, [1.0, 2.0, 3.0, 4.0, 5.0]) == 5


def reduce_lr_reference(values, lr, factor, patience, min_lr, cooldown, min_delta=1e-4):
    """ReduceLROnPlateau's documented rule for a minimized metric; returns lr after each epoch."""
    best, wait, cool, out = np.inf, 0, 0, []
    for value in values:
        if cool > 0:
            cool, wait = cool - 1, 0
        if value < best - min_delta:
            best, wait = value, 0
        elif cool == 0:
            wait += 1
            if wait >= patience and lr > min_lr:
                lr, cool, wait = max(lr * factor, min_lr), cooldown, 0
        out.append(lr)
    return out


def test_reduce_lr_on_plateau_with_min_lr_and_cooldown(make_model):
    model = make_model(learning_rate=1.0)
    cb = callbacks.ReduceLROnPlateau(factor=0.5, patience=2, min_lr=0.3, cooldown=1)
    cb.set_model(model)
    cb.on_train_begin()
    values = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    lrs, logged = [], []
    for epoch, value in enumerate(values):
        logs = {"val_loss": value}
        cb.on_epoch_end(epoch, logs)
        logged.append(logs["learning_rate"])
        lrs.append(float(model.optimizer.learning_rate))
    want = reduce_lr_reference(values, 1.0, 0.5, 2, 0.3, 1)
    assert lrs == pytest.approx(want)
    assert logged == pytest.approx([1.0] + want[:-1])
    assert min(lrs) == pytest.approx(0.3) and lrs[2] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="factor"):
        callbacks.ReduceLROnPlateau(factor=1.5)


def test_model_checkpoint_save_best_only(tmp_path, make_model):
    model = make_model()
    path = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.keras")
    cb = callbacks.ModelCheckpoint(path, save_best_only=True)
    _train(cb, model, [1.0, 0.8, 0.9, 0.7])
    assert model.saved == [
        ("model", str(tmp_path / "ckpt-01-1.00.keras")),
        ("model", str(tmp_path / "ckpt-02-0.80.keras")),
        ("model", str(tmp_path / "ckpt-04-0.70.keras")),
    ]


def test_model_checkpoint_weights_only_max_mode_and_threshold(tmp_path, make_model):
    model = make_model()
    cb = callbacks.ModelCheckpoint(str(tmp_path / "w.weights.h5"), monitor="val_accuracy", save_best_only=True,
                                   save_weights_only=True, initial_value_threshold=0.6)
    _train(cb, model, [0.5, 0.7, 0.65, 0.8], key="val_accuracy")
    assert [kind for kind, _ in model.saved] == ["weights", "weights"]
    with pytest.raises(ValueError, match=".weights.h5"):
        callbacks.ModelCheckpoint(str(tmp_path / "w.keras"), save_weights_only=True)
    with pytest.raises(ValueError, match=".keras"):
        callbacks.ModelCheckpoint(str(tmp_path / "model.pt"))


def test_model_checkpoint_batch_frequency_syncs_only_when_saving(tmp_path, make_model, counting_tensor,
                                                                 sync_count):
    model = make_model()
    cb = callbacks.CallbackList([callbacks.ModelCheckpoint(str(tmp_path / "b{batch}-{loss:.1f}.keras"), save_freq=3)],
                                model=model)
    cb.on_epoch_begin(0)
    for step in range(7):
        cb.on_train_batch_end(step, {"loss": counting_tensor(float(step))})
    assert [p for _, p in model.saved] == [str(tmp_path / "b3-2.0.keras"), str(tmp_path / "b6-5.0.keras")]
    assert sync_count() == 2
    epoch_only = callbacks.CallbackList([callbacks.ModelCheckpoint(str(tmp_path / "m.keras"))], model=model)
    assert epoch_only._batch_dispatch("on_train_batch_end") == []


def test_learning_rate_scheduler(make_model):
    model = make_model(learning_rate=0.8)
    cb = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch > 0 else lr)
    cb.set_model(model)
    logs = {}
    for epoch in range(3):
        cb.on_epoch_begin(epoch)
        cb.on_epoch_end(epoch, logs)
    assert model.optimizer.learning_rate == pytest.approx(0.2) and logs["learning_rate"] == pytest.approx(0.2)
    one_arg = callbacks.LearningRateScheduler(lambda epoch: 0.1 * (epoch + 1))
    one_arg.set_model(model)
    one_arg.on_epoch_begin(2)
    assert model.optimizer.learning_rate == pytest.approx(0.3)
    bad = callbacks.LearningRateScheduler(lambda epoch, lr: "fast")
    bad.set_model(model)
    with pytest.raises(ValueError, match="should be a float"):
        bad.on_epoch_begin(0)


def _read_csv(path, sep=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=sep))


def test_csv_logger_writes_and_appends(tmp_path):
    path = tmp_path / "log.csv"
    logger = callbacks.CSVLogger(str(path))
    logger.on_train_begin()
    for epoch in range(2):
        logger.on_epoch_end(epoch, {"loss": 0.5 - 0.1 * epoch, "val_loss": 0.6 - 0.1 * epoch})
        assert len(_read_csv(path)) == epoch + 2
    logger.on_train_end()
    rows = _read_csv(path)
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [int(r[0]) for r in rows[1:]] == [0, 1]
    assert float(rows[2][1]) == pytest.approx(0.4) and float(rows[2][2]) == pytest.approx(0.5)

    again = callbacks.CSVLogger(str(path), append=True)
    again.on_train_begin()
    again.on_epoch_end(0, {"loss": 0.1, "val_loss": 0.2})
    again.on_train_end()
    rows = _read_csv(path)
    assert len(rows) == 4 and rows[0][0] == "epoch" and rows[3][1] == "0.1"


def test_csv_logger_separator_and_missing_validation(tmp_path):
    path = tmp_path / "log.tsv"
    logger = callbacks.CSVLogger(str(path), separator="\t")
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.75})
    logger.on_train_end()
    rows = _read_csv(path, sep="\t")
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert rows[1] == ["0", "0.75", "0.5", "NA", "NA"]


@pytest.mark.parametrize("cb", [
    callbacks.EarlyStopping(monitor="loss", patience=3, restore_best_weights=True),
    callbacks.ReduceLROnPlateau(factor=0.2, cooldown=2),
    callbacks.CSVLogger("x.csv", separator=";", append=True),
    callbacks.TerminateOnNaN(),
])
def test_config_round_trip(cb):
    clone = type(cb).from_config(cb.get_config())
    assert clone.get_config() == cb.get_config()


@pytest.mark.parametrize("make", [
    lambda path: callbacks.ModelCheckpoint(path, monitor="nope"),
    lambda path: callbacks.ModelCheckpoint(path, monitor="nope", save_best_only=True),
    lambda path: callbacks.ReduceLROnPlateau(monitor="nope"),
    lambda path: callbacks.EarlyStopping(monitor="nope"),
])
def test_auto_mode_with_an_unknown_monitor_raises_at_the_first_epoch_end(tmp_path, make_model, make):
    callback = make(str(tmp_path / "m.keras"))
    callback.set_model(make_model())
    callback.on_train_begin()
    with pytest.raises(ValueError, match=f"{type(callback).__name__} callback received monitor=nope"):
        callback.on_epoch_end(0, {"loss": 1.0, "nope": 1.0})


def test_reduce_lr_best_is_none_until_the_first_value_and_extra_kwargs_are_ignored(make_model):
    cb = callbacks.ReduceLROnPlateau(patience=0, factor=0.5, epsilon=0.3)
    assert cb.best is None and cb.min_delta == 1e-4
    cb.set_model(make_model(learning_rate=1.0))
    cb.on_train_begin()
    assert cb.best is None
    cb.on_epoch_end(0, {"val_loss": 3.0})
    assert cb.best == 3.0 and float(cb.model.optimizer.learning_rate) == 1.0
    cb.on_epoch_end(1, {"val_loss": 3.0})
    assert float(cb.model.optimizer.learning_rate) == 0.5


def test_model_checkpoint_verbose_reports_the_finished_save(tmp_path, make_model, capsys):
    cb = callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch}.keras"), verbose=1)
    _train(cb, make_model(), [1.0])
    path = tmp_path / "m-1.keras"
    assert capsys.readouterr().out == f"\nEpoch 1: saving model to {path}\n\nEpoch 1: finished saving model to {path}\n"


def test_terminate_on_nan_raise_error(make_model):
    cb = callbacks.TerminateOnNaN(raise_error=True)
    cb.set_model(make_model())
    cb.on_batch_end(0, {"loss": 1.0})
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 3. Loss value: inf"):
        cb.on_batch_end(3, {"loss": float("inf")})
    assert not cb.model.stop_training
    graceful = callbacks.TerminateOnNaN()
    graceful.set_model(make_model())
    graceful.on_batch_end(1, {"loss": float("nan")})
    assert graceful.model.stop_training and graceful.raise_error is False
