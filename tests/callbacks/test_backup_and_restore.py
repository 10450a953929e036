"""BackupAndRestore: Keras's files and arguments, exact resumption, and kill -9 safety."""
import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cornu
from cornu.utils.rng_utils import set_random_seed
from tests.helpers import random_array

EPOCHS, BATCH = 3, 8


def build(seed=1):
    set_random_seed(seed)
    model = cornu.Sequential([cornu.Input((6,)), cornu.layers.Dense(8, activation="relu"),
                              cornu.layers.Dropout(0.3), cornu.layers.Dropout(0.2, seed=3), cornu.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def data():
    return random_array((50, 6), low=0, high=1), random_array((50, 1), seed=1, low=0, high=1)


class Interrupt(cornu.callbacks.Callback):
    def __init__(self, after):
        super().__init__()
        self.after, self.seen = after, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.after:
            raise KeyboardInterrupt


def interrupted_then_resumed(tmp_path, interrupts, **kwargs):
    x, y = data()
    for after in interrupts:
        with pytest.raises(KeyboardInterrupt):
            build().fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0,
                        callbacks=[cornu.callbacks.BackupAndRestore(str(tmp_path), **kwargs), Interrupt(after)])
    model = build()
    history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0,
                        callbacks=[cornu.callbacks.BackupAndRestore(str(tmp_path), **kwargs)])
    return model, history


def reference():
    x, y = data()
    model = build()
    return model, model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0)


@pytest.mark.parametrize("save_freq,interrupts", [(2, [5, 4, 9]), (1, [3]), ("epoch", [10, 9])])
def test_resumed_run_is_exactly_the_uninterrupted_one(tmp_path, save_freq, interrupts):
    ref, ref_history = reference()
    model, history = interrupted_then_resumed(tmp_path, interrupts, save_freq=save_freq)
    for a, b in zip(ref.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    n = len(history.history["loss"])
    # The resumed epochs' logs (metric state restored mid-epoch) equal the uninterrupted run's.
    assert history.history["loss"] == ref_history.history["loss"][-n:]
    assert history.history["mae"] == ref_history.history["mae"][-n:]
    assert not os.listdir(tmp_path)  # delete_checkpoint=True


def test_keras_metadata_and_files(tmp_path):
    x, y = data()
    with pytest.raises(KeyboardInterrupt):
        build().fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0,
                    callbacks=[cornu.callbacks.BackupAndRestore(str(tmp_path), save_freq=2), Interrupt(3)])
    assert sorted(os.listdir(tmp_path)) == ["latest.weights.h5", "training_metadata.json"]
    with open(tmp_path / "training_metadata.json") as f:
        assert json.load(f) == {"epoch": 0, "batch": 1}
    model = build()
    model.load_weights(str(tmp_path / "latest.weights.h5"))  # a plain Keras weights file


def test_epoch_checkpoint_metadata_and_keep(tmp_path):
    x, y = data()
    build().fit(x, y, batch_size=BATCH, epochs=2, verbose=0,
                callbacks=[cornu.callbacks.BackupAndRestore(str(tmp_path), delete_checkpoint=False)])
    with open(tmp_path / "training_metadata.json") as f:
        assert json.load(f) == {"epoch": 2, "batch": 0}
    # Training again with the same directory resumes after the last epoch: nothing left to do.
    model = build()
    history = model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0,
                        callbacks=[cornu.callbacks.BackupAndRestore(str(tmp_path), delete_checkpoint=False)])
    assert history.history == {}


def test_double_checkpoint_falls_back_when_latest_is_corrupt(tmp_path):
    x, y = data()
    with pytest.raises(KeyboardInterrupt):
        build().fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0,
                    callbacks=[cornu.callbacks.BackupAndRestore(str(tmp_path), save_freq=2, double_checkpoint=True),
                               Interrupt(5)])
    assert {"latest.weights.h5.bkp", "training_metadata.json.bkp"} <= set(os.listdir(tmp_path))
    with open(tmp_path / "latest.weights.h5", "r+b") as f:
        f.truncate(100)
    ref, _ = reference()
    model = build()
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0,
              callbacks=[cornu.callbacks.BackupAndRestore(str(tmp_path), save_freq=2, double_checkpoint=True)])
    for a, b in zip(ref.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_corrupt_checkpoint_without_backup_is_a_clear_error(tmp_path):
    (tmp_path / "latest.weights.h5").write_bytes(b"not an h5 file")
    x, y = data()
    with pytest.raises(ValueError, match="could not read any checkpoint"):
        build().fit(x, y, verbose=0, callbacks=[cornu.callbacks.BackupAndRestore(str(tmp_path))])


def test_callback_state_is_restored(tmp_path):
    x, y = data()
    stopper = cornu.callbacks.EarlyStopping(monitor="loss", patience=100)
    with pytest.raises(KeyboardInterrupt):
        build().fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0,
                    callbacks=[cornu.callbacks.BackupAndRestore(str(tmp_path)), stopper, Interrupt(10)])
    best = stopper.best
    fresh = cornu.callbacks.EarlyStopping(monitor="loss", patience=100)

    class Peek(cornu.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.seen = (epoch, fresh.best)
            raise KeyboardInterrupt

    peek = Peek()
    with pytest.raises(KeyboardInterrupt):
        build().fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0,
                    callbacks=[cornu.callbacks.BackupAndRestore(str(tmp_path)), fresh, peek])
    assert peek.seen == (1, best)


def test_bad_arguments():
    with pytest.raises(ValueError, match="backup_dir"):
        cornu.callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        cornu.callbacks.BackupAndRestore("d", save_freq="batch")


def test_arguments_and_metadata_match_keras(keras_ref, tmp_path):
    import inspect

    ours = inspect.signature(cornu.callbacks.BackupAndRestore.__init__).parameters
    ref = inspect.signature(keras_ref.callbacks.BackupAndRestore.__init__).parameters
    assert [(p.name, p.default) for p in ours.values()] == [(p.name, p.default) for p in ref.values()]
    for lib in (cornu, keras_ref):
        with pytest.raises(ValueError):
            lib.callbacks.BackupAndRestore("")
    x, y = data()
    written = []
    for lib in (keras_ref, cornu):
        directory = tmp_path / lib.__name__

        class Stop(lib.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if batch == 4:
                    raise KeyboardInterrupt

        model = lib.Sequential([lib.Input((6,)), lib.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        with pytest.raises(KeyboardInterrupt):
            model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0,
                      callbacks=[lib.callbacks.BackupAndRestore(str(directory), save_freq=2), Stop()])
        with open(directory / "training_metadata.json") as f:
            written.append((sorted(os.listdir(directory)), json.load(f)))
    assert written[0] == written[1]


WORKER = textwrap.dedent('''
    import os, signal, sys
    import numpy as np
    import cornu
    from cornu.utils.rng_utils import set_random_seed

    backup, out, kill_at, save_freq = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    save_freq = save_freq if save_freq == "epoch" else int(save_freq)
    set_random_seed(7)
    model = cornu.Sequential([cornu.Input((6,)), cornu.layers.Dense(16, activation="relu"),
                              cornu.layers.Dropout(0.25), cornu.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.random((160, 6), dtype=np.float32), rng.random((160, 1), dtype=np.float32)

    class Kill(cornu.callbacks.Callback):
        """SIGKILL this process after ``kill_at`` batches trained by it (after resuming)."""

        def on_train_begin(self, logs=None):
            self.trained = 0
            print("started", flush=True)

        def on_train_batch_end(self, batch, logs=None):
            self.trained += 1
            if self.trained == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    model.fit(x, y, batch_size=8, epochs=4, verbose=0,
              callbacks=[cornu.callbacks.BackupAndRestore(backup, save_freq=save_freq), Kill()])
    np.savez(out, *model.get_weights())
''')


def _run_worker(script, backup, out, kill_at, save_freq, timed_kill=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CORNU_DEVICE": "cpu", "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen([sys.executable, str(script), str(backup), str(out), str(kill_at), str(save_freq)],
                            stdout=subprocess.PIPE, env=env, text=True)
    if timed_kill is not None:
        proc.stdout.readline()
        try:
            proc.wait(timeout=timed_kill)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=120)
    return proc.returncode


def _check_checkpoint_readable(backup):
    import h5py

    if os.path.exists(backup / "latest.weights.h5"):
        with h5py.File(backup / "latest.weights.h5", "r") as h5:
            assert "cornu_training_state" in h5.attrs
    if os.path.exists(backup / "training_metadata.json"):
        with open(backup / "training_metadata.json") as f:
            json.load(f)


def test_kill_9_at_many_points_ends_with_the_uninterrupted_weights(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    out = tmp_path / "out.npz"
    assert _run_worker(script, tmp_path / "ref_backup", tmp_path / "ref.npz", -1, 1) == 0
    reference = np.load(tmp_path / "ref.npz")
    rng = np.random.default_rng(2026)
    backup = tmp_path / "backup"
    # Ten SIGKILLs after a random number of batches each (so mid-epoch and on epoch ends; 80 batches in all,
    # checkpoints every 2), with three kills at random moments in between, checkpointing after every batch
    # (those may land mid-write).
    plan = [("after", int(k)) for k in rng.integers(1, 7, size=5)] + \
        [("timed", float(d)) for d in rng.uniform(0.0, 0.15, size=3)] + \
        [("after", int(k)) for k in rng.integers(1, 7, size=5)]
    kills = 0
    for kind, value in plan:
        if out.exists():
            out.unlink()
        if kind == "after":
            code = _run_worker(script, backup, out, value, 2)
        else:
            code = _run_worker(script, backup, out, -1, 1, timed_kill=value)
        kills += code == -signal.SIGKILL
        _check_checkpoint_readable(backup)
    assert kills >= 10
    if out.exists():
        out.unlink()
    assert _run_worker(script, backup, out, -1, 2) == 0
    assert not os.listdir(backup)  # finished: checkpoint and any interrupted write's temporary removed
    result = np.load(out)
    for key in reference.files:
        np.testing.assert_allclose(result[key], reference[key], rtol=0, atol=1e-6)
