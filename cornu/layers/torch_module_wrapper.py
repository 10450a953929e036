"""``TorchModuleWrapper``: a plain ``torch.nn.Module`` used as a Keras layer.

Layers wrap any plain torch module assigned to them (``self.lin =
torch.nn.Linear(3, 4)``) in this class, as Keras does, so its parameters are
the layer's trainable weights (in torch's layout, as Keras shows them) and
``fit`` trains them.
"""
from __future__ import annotations

import base64
import io
from typing import Any

import torch
from torch import nn

from cornu.layers.layer import Layer
from cornu.variables import Variable

_UNSAFE_MESSAGE = (
    "Requested the deserialization of a `torch.nn.Module` object via `torch.load()`. This carries a potential "
    "risk of arbitrary code execution and thus it is disallowed by default. If you trust the source of the "
    "artifact, you can override this error by passing `safe_mode=False` to the loading function, or calling "
    "`keras.config.enable_unsafe_deserialization()`."
)


class TorchModuleWrapper(Layer):
    """Wrap ``module`` so its parameters are tracked, trained and saved as layer weights."""

    def __init__(self, module: nn.Module, name: str | None = None, output_shape: Any = None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not isinstance(module, nn.Module):
            raise TypeError(f"`module` must be a `torch.nn.Module`. Received: module={module!r} "
                            f"of type {type(module).__name__}")
        nn.Module.__setattr__(self, "module", module)
        self.output_shape = tuple(output_shape) if output_shape is not None else None
        self._track_module_parameters()
        self.built = not _has_uninitialized_parameters(module)

    def _track_module_parameters(self) -> None:
        """One ``Variable`` per module parameter (torch layout, as Keras's wrapper shows them)."""
        from cornu.utils import tracking

        known = {id(v.value) for v in self._variables}
        for param in self.module.parameters():
            if id(param) not in known and not isinstance(param, nn.parameter.UninitializedParameter):
                self._variables.append(Variable(param, trainable=param.requires_grad))
        tracking.bump()

    def build(self, input_shape: Any = None) -> None:
        if _has_uninitialized_parameters(self.module):
            # Lazy torch modules (nn.LazyLinear ...) materialise on a first forward pass.
            sample = torch.zeros(tuple(1 if d is None else d for d in input_shape))
            with torch.no_grad():
                self.module(sample)
            self._track_module_parameters()
        self.built = True

    def call(self, *args, training: bool | None = None, **kwargs):
        if training is not None and self.module.training != bool(training):
            self.module.train(bool(training))
        return self.module(*args, **kwargs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self.output_shape is not None:
            return self.output_shape
        return super().compute_output_shape(input_shape)

    def get_config(self) -> dict:
        buffer = io.BytesIO()
        torch.save(self.module, buffer)
        config = super().get_config()
        config.update({"module": base64.b64encode(buffer.getvalue()).decode("ascii"),
                       "output_shape": self.output_shape})
        return config

    @classmethod
    def from_config(cls, config: dict) -> "TorchModuleWrapper":
        from cornu.saving.serialization import effective_safe_mode

        config = dict(config)
        module = config.pop("module")
        if isinstance(module, str):
            if effective_safe_mode(None):
                raise ValueError(_UNSAFE_MESSAGE)
            module = torch.load(io.BytesIO(base64.b64decode(module)), weights_only=False)
        return cls(module, **config)


def _has_uninitialized_parameters(module: nn.Module) -> bool:
    return any(isinstance(p, nn.parameter.UninitializedParameter) for p in module.parameters())
