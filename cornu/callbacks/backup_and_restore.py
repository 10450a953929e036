"""``BackupAndRestore``: checkpoint a ``fit`` run so a killed process resumes where it stopped.

Keras's files and arguments (``latest.weights.h5`` + ``training_metadata.json``
in ``backup_dir``, ``save_freq``, ``double_checkpoint``,
``delete_checkpoint``). cornu also records, inside the weights file so the two
can never disagree, the step within the epoch, the metric state, every random
generator (the epoch's shuffle and the dropout masks) and the progress of the
other callbacks: a resumed run continues exactly as if it had never stopped.
Every file is written to a temporary name and renamed into place, so a kill at
any moment leaves the previous checkpoint intact.
"""
from __future__ import annotations

import json
import os

import numpy as np

from cornu.saving import weights_h5
from cornu import config
from cornu.callbacks.callback import Callback
from cornu.utils import rng_utils

_STATE_ATTRIBUTE = "cornu_training_state"


class BackupAndRestore(Callback):
    """Back up the model and training state to ``backup_dir``; restore from it when ``fit`` starts."""

    _accepts_tensor_logs = True  # logs are never read: no host sync per batch

    def __init__(self, backup_dir: str, save_freq: str | int = "epoch", double_checkpoint: bool = False,
                 delete_checkpoint: bool = True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and not (isinstance(save_freq, int) and not isinstance(save_freq, bool)
                                         and save_freq > 0):
            raise ValueError("Invalid value for argument `save_freq`. Expected 'epoch' or a positive integer. "
                             f"Received: save_freq={save_freq!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._prev_weights_path = self._weights_path + ".bkp"
        self._prev_training_metadata_path = self._training_metadata_path + ".bkp"
        self._batches_seen = 0
        self._epoch = 0
        self._started = False

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs: dict | None = None) -> None:
        from cornu.trainers import distributed

        if distributed.active() is not None:
            distributed.barrier()  # across processes: read only once rank 0 has finished writing the backup
        if weights_h5.writes_files():
            self._remove_stale_temporaries()
        self.model._track_epoch_rng = True
        self._batches_seen = 0
        self._started = False
        resume = self._restore()
        if resume is not None:
            self.model._resume_from = resume

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        # The epoch boundary is saved here rather than at the previous epoch's end, so the other callbacks
        # have all finished that epoch and the random state is the one this epoch starts from.
        if self.save_freq == "epoch" and self._started:
            self._save(epoch, 0)
        self._epoch = epoch
        self._started = True

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            self._save(self._epoch, batch + 1)

    def on_train_end(self, logs: dict | None = None) -> None:
        self.model._track_epoch_rng = False
        if self.delete_checkpoint:
            if not weights_h5.writes_files():
                return  # across processes rank 0 deletes what it wrote
            for path in (self._weights_path, self._training_metadata_path, self._prev_weights_path,
                         self._prev_training_metadata_path):
                if os.path.exists(path):
                    os.remove(path)
        elif self.save_freq == "epoch" and self._started:
            self._save(self._epoch + 1, 0)

    def _remove_stale_temporaries(self) -> None:
        """Temporary files of a write that a kill interrupted (the checkpoint itself is intact)."""
        if not os.path.isdir(self.backup_dir):
            return
        prefixes = tuple(f".{os.path.basename(p)}." for p in (self._weights_path, self._training_metadata_path))
        for name in os.listdir(self.backup_dir):
            if name.startswith(prefixes) and name.endswith(".tmp"):
                os.remove(os.path.join(self.backup_dir, name))

    # ---------------------------------------------------------------- saving
    def _state(self, epoch: int, step: int) -> dict:
        model = self.model
        callbacks = getattr(model, "_fit_callbacks", None) or []
        return {
            "epoch": epoch,
            "step": step,
            "epoch_rng": model.__dict__.get("_epoch_rng_state") if step else None,
            "rng": rng_utils.get_rng_state(model),
            "metrics": [[np.asarray(v.numpy()).tolist() for v in m.variables] for m in model.metrics],
            "callbacks": {f"{i}:{type(c).__name__}": c.get_state() for i, c in enumerate(callbacks)
                          if c is not self and c.get_state()},
        }

    def _save(self, epoch: int, step: int) -> None:
        import h5py

        from cornu.saving.weights_h5 import atomic_write, write_weights

        os.makedirs(self.backup_dir, exist_ok=True)
        state = self._state(epoch, step)
        if self.double_checkpoint and weights_h5.writes_files() and os.path.exists(self._weights_path):
            os.replace(self._weights_path, self._prev_weights_path)
            if os.path.exists(self._training_metadata_path):
                os.replace(self._training_metadata_path, self._prev_training_metadata_path)
        with atomic_write(self._weights_path) as tmp:
            with h5py.File(tmp, "w") as h5:
                write_weights(self.model, h5)
                h5.attrs[_STATE_ATTRIBUTE] = json.dumps(state)
        # Keras's own record (epoch, last finished batch), for Keras and for readers of the directory.
        keras_metadata = {"epoch": epoch, "batch": step - 1 if step else 0}
        with atomic_write(self._training_metadata_path) as tmp:
            with open(tmp, "w") as f:
                json.dump(keras_metadata, f)

    # --------------------------------------------------------------- loading
    def _restore(self) -> dict | None:
        """Load the newest readable checkpoint into the model; the resume point for ``fit``, or None."""
        candidates = [(self._weights_path, self._training_metadata_path)]
        if self.double_checkpoint:
            candidates.append((self._prev_weights_path, self._prev_training_metadata_path))
        errors = []
        for weights_path, metadata_path in candidates:
            if not os.path.exists(weights_path):
                continue
            try:
                return self._load(weights_path, metadata_path)
            except (OSError, ValueError, KeyError) as e:
                errors.append(f"{weights_path}: {e}")
        if errors:
            raise ValueError("BackupAndRestore could not read any checkpoint in "
                             f"{self.backup_dir!r}: " + "; ".join(errors))
        return None

    def _load(self, weights_path: str, metadata_path: str) -> dict:
        import h5py

        from cornu.saving.weights_h5 import read_weights_checked

        self.model.to(config.device())
        with h5py.File(weights_path, "r") as h5:
            raw = h5.attrs.get(_STATE_ATTRIBUTE)
            read_weights_checked(self.model, h5, False, repr(weights_path))
        if raw is not None:
            state = json.loads(raw)
        else:  # written by Keras: only the epoch and the last finished batch are known
            with open(metadata_path) as f:
                keras_metadata = json.load(f)
            batch = int(keras_metadata.get("batch", 0))
            state = {"epoch": int(keras_metadata["epoch"]), "step": batch + 1 if batch > 0 else 0}
        self._epoch = int(state["epoch"])
        return state

    def get_config(self) -> dict:
        return {"backup_dir": self.backup_dir, "save_freq": self.save_freq,
                "double_checkpoint": self.double_checkpoint, "delete_checkpoint": self.delete_checkpoint}
