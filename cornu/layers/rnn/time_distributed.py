"""``TimeDistributed``: applies one layer to every time step of ``(batch, timesteps, ...)`` inputs."""
from __future__ import annotations

import inspect

import torch

from cornu.layers.layer import Layer
from cornu.layers.wrapper import Wrapper


def _uses_batch_statistics(layer: Layer) -> bool:
    """Whether ``layer`` or a layer inside it normalizes by batch statistics while training."""
    from cornu.layers.normalization import BatchNormalization

    stack = [layer]
    while stack:
        current = stack.pop()
        if isinstance(current, BatchNormalization):
            return True
        stack.extend(current._flat_layers())
    return False


class TimeDistributed(Wrapper):
    """Runs ``layer`` on all ``batch * timesteps`` slices at once (one call, the time axis folded into the batch).

    The input mask passes through unchanged; a layer whose ``call`` takes a
    ``mask`` gets the mask of each slice. A layer holding a ``BatchNormalization``
    runs once per time step while training, as Keras runs it: each step is
    normalized by its own batch statistics and updates the moving averages.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. "
                             f"Received: {layer}")
        super().__init__(layer, **kwargs)
        self.supports_masking = True
        self._layer_takes_mask = "mask" in inspect.signature(layer.call).parameters

    def _child_input_shape(self, input_shape) -> tuple:
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError("`TimeDistributed` Layer should be passed an `input_shape` with at least 3 dimensions, "
                             f"received: {input_shape}")
        return (input_shape[0],) + tuple(input_shape[2:])

    def build(self, input_shape) -> None:
        self.layer._maybe_build(self._child_input_shape(tuple(input_shape)))
        self.built = True

    def compute_output_shape(self, input_shape):
        with self._name_scope():  # a child built by its shape inference gets its path under this wrapper
            child = self.layer.compute_output_shape(self._child_input_shape(tuple(input_shape)))
        return (child[0], input_shape[1]) + tuple(child[1:])

    def call(self, inputs, training=None, mask=None):
        if inputs.ndim < 3:
            self._child_input_shape(tuple(inputs.shape))
        batch, steps = inputs.shape[0], inputs.shape[1]
        kwargs = {"training": training}
        if mask is not None and self._layer_takes_mask:
            mask = torch.as_tensor(mask, device=inputs.device)
        else:
            mask = None
        if training and _uses_batch_statistics(self.layer):
            outputs = [self.layer(inputs[:, t], **kwargs, **({"mask": mask[:, t]} if mask is not None else {}))
                       for t in range(steps)]
            return torch.stack(outputs, dim=1)
        if mask is not None:
            kwargs["mask"] = mask.reshape(batch * steps, *mask.shape[2:])
        outputs = self.layer(inputs.reshape(batch * steps, *inputs.shape[2:]), **kwargs)
        return outputs.reshape(batch, steps, *outputs.shape[1:])

    def compute_mask(self, inputs, mask=None):
        if mask is not None and not isinstance(mask, torch.Tensor):
            mask = torch.as_tensor(mask, device=inputs.device if isinstance(inputs, torch.Tensor) else None)
        return mask
