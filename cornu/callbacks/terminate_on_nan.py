"""``TerminateOnNaN``: stop training as soon as the batch loss is NaN or infinite."""
from __future__ import annotations

import math
import sys

from cornu.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Sets ``model.stop_training`` when ``logs["loss"]`` is NaN/inf (checks every batch, so it syncs each step).

    With ``raise_error=True`` it raises ``RuntimeError`` at once instead, so no other callback's
    ``on_train_end`` runs (backups stay as they were).
    """

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and (math.isnan(loss) or math.isinf(loss)):
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                    "Terminating training immediately."
                )
            sys.stdout.write(f"Batch {batch}: Invalid loss, terminating training\n")
            self.model.stop_training = True
