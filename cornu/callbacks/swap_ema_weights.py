"""``SwapEMAWeights``: evaluate (and optionally end epochs) with the optimizer's EMA weights."""
from __future__ import annotations

import torch

from cornu.callbacks.callback import Callback


class SwapEMAWeights(Callback):
    """Swap the model's weights with the optimizer's moving averages around evaluation.

    Needs an optimizer built with ``use_ema=True``. Before evaluation (and
    prediction) each trainable weight trades values in place with its EMA
    (one weight-sized temporary at a time, no host sync), and trades back
    after. With ``swap_on_epoch=True`` the model also holds the EMA weights
    from the end of each epoch until the next one begins, so callbacks placed
    after this one (``ModelCheckpoint``) see them; at the last epoch the EMA
    weights are copied in instead of swapped, as ``fit`` keeps them anyway.
    """

    def __init__(self, swap_on_epoch: bool = False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._swapped_for_epoch = False

    def _pairs(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(model tensor, EMA tensor) pairs; empty while the optimizer holds no averages yet."""
        optimizer = getattr(self.model, "optimizer", None)
        use_ema = getattr(optimizer, "use_ema", False)
        if not use_ema:
            raise ValueError(
                "SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. "
                f"Received: use_ema={use_ema}"
            )
        averages = list(getattr(optimizer, "_averages", None) or [])
        if not averages:
            return []
        variables = list(self.model.trainable_weights)
        if len(variables) != len(averages):
            raise ValueError(
                f"SwapEMAWeights found {len(variables)} trainable weights in the model but "
                f"{len(averages)} EMA weights in its optimizer; the optimizer must have been built on this model."
            )
        return [(v.value, a.value) for v, a in zip(variables, averages)]

    def _swap(self) -> None:
        with torch.no_grad():
            for param, average in self._pairs():
                held = param.clone()
                param.copy_(average)
                average.copy_(held)

    def _copy_averages_in(self) -> None:
        with torch.no_grad():
            for param, average in self._pairs():
                param.copy_(average)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._swapped_for_epoch = False

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self._swapped_for_epoch:
            self._swap()
            self._swapped_for_epoch = False

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not self.swap_on_epoch:
            return
        epochs = (self.params or {}).get("epochs")
        if getattr(self.model, "stop_training", False) or (epochs is not None and epoch + 1 >= epochs):
            self._copy_averages_in()
        else:
            self._swap()
            self._swapped_for_epoch = True

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._swap()

    def on_test_end(self, logs: dict | None = None) -> None:
        self._swap()

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._swap()

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._swap()

    def get_config(self) -> dict:
        return {"swap_on_epoch": self.swap_on_epoch}
