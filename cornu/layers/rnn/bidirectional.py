"""``Bidirectional``: runs a recurrent layer forwards and a copy of it backwards, and merges the two."""
from __future__ import annotations

from typing import Any

import torch

from cornu.layers.layer import Layer
from cornu.layers.rnn.fused import FusedRNN, fused_bidirectional
from cornu.layers.rnn.rnn import RNN
from cornu.layers.rnn.utils import as_state_tensor, flatten_states, output_specs, pack_states

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


class NotRecurrentLayerError(ValueError, TypeError):
    """``Bidirectional`` was given a layer that is not recurrent.

    A ``ValueError``; also a ``TypeError``, the class Keras 3.15 ends up raising
    for such a layer (its copy fails on the unknown ``go_backwards`` argument).
    """


def _copy_layer(layer: Layer, **overrides: Any) -> Layer:
    """A fresh layer built from ``layer``'s config with ``overrides`` (Keras copies wrapped layers this way)."""
    return type(layer).from_config({**layer.get_config(), **overrides})


class Bidirectional(Layer):
    """``Bidirectional(layer, merge_mode="concat", weights=None, backward_layer=None)``.

    The forward layer is a copy of ``layer`` named ``forward_<name>``; the
    backward one a copy with ``go_backwards`` flipped named ``backward_<name>``
    (or ``backward_layer``). Backward output sequences are reversed back into
    input order before merging. ``initial_state`` is split in half: forward
    states first.
    """

    def __init__(self, layer, merge_mode: str | None = "concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. "
                             f"Received: {layer}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` need to be a `keras.layers.Layer` instance. Received: "
                             f"{backward_layer}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                             '{"sum", "mul", "ave", "concat", None}')
        missing = [a for a in ("go_backwards", "return_sequences", "return_state") if not hasattr(layer, a)]
        if missing:
            raise NotRecurrentLayerError(
                f"`Bidirectional` wraps a recurrent layer (an `RNN` such as LSTM or GRU, with `go_backwards`, "
                f"`return_sequences` and `return_state`). Received layer {layer.name!r} of type "
                f"{type(layer).__name__}, which has no {missing}.")
        super().__init__(**kwargs)
        forward = _copy_layer(layer, name=f"forward_{layer.name}")
        if backward_layer is None:
            backward = _copy_layer(layer, name=f"backward_{layer.name}", go_backwards=not layer.go_backwards)
        else:
            backward = backward_layer
        _verify(forward, backward)
        for sub in (forward, backward):
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = sub.return_sequences
        self.forward_layer = forward
        self.backward_layer = backward
        self.merge_mode = merge_mode
        self.return_sequences = forward.return_sequences
        self.return_state = forward.return_state
        self.stateful = getattr(forward, "stateful", False)
        self.supports_masking = True
        self.input_spec = forward.input_spec
        object.__setattr__(self, "_initial_weights", weights)

    # ---------------------------------------------------------------- build
    def build(self, sequences_shape, initial_state_shape=None) -> None:
        for sub in (self.forward_layer, self.backward_layer):
            sub._maybe_build(tuple(sequences_shape))
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            object.__setattr__(self, "_initial_weights", None)

    # ----------------------------------------------------------------- call
    def call(self, sequences, initial_state=None, mask=None, training=None):
        forward_state = backward_state = None
        if initial_state is not None:
            flat = flatten_states(initial_state)
            if len(flat) % 2:
                raise ValueError(f"Layer '{self.name}' expects an even number of initial states (the forward layer's, "
                                 f"then the backward layer's); received {len(flat)}.")
            forward_state, backward_state = flat[:len(flat) // 2], flat[len(flat) // 2:]
        fused = self._fused_call(sequences, forward_state, backward_state, mask)
        if fused is not None:
            y, y_rev, forward_states, backward_states, both = fused
            if self.merge_mode == "concat" and both is not None:
                return tuple([both] + forward_states + backward_states) if self.return_state else both
        else:
            y = self.forward_layer(sequences, initial_state=forward_state, mask=mask, training=training)
            y_rev = self.backward_layer(sequences, initial_state=backward_state, mask=mask, training=training)
            forward_states = backward_states = []
            if self.return_state:
                y, forward_states = y[0], list(y[1:])
                y_rev, backward_states = y_rev[0], list(y_rev[1:])
            if self.return_sequences:
                y_rev = torch.flip(y_rev, (1,))
        if self.merge_mode == "concat":
            outputs = [torch.cat([y, y_rev], -1)]
        elif self.merge_mode == "sum":
            outputs = [y + y_rev]
        elif self.merge_mode == "ave":
            outputs = [(y + y_rev) / 2]
        elif self.merge_mode == "mul":
            outputs = [y * y_rev]
        else:
            outputs = [y, y_rev]
        if self.return_state:
            return tuple(outputs + forward_states + backward_states)
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def _fused_call(self, sequences, forward_state, backward_state, mask):
        """Both directions as one bidirectional fused kernel, when both layers would run fused and unmasked.

        Returns ``(forward output, backward output in input order, forward states, backward states,
        the concatenated sequences or None)``, or None to run the two layers one after the other.
        """
        forward, backward = self.forward_layer, self.backward_layer
        if not _fusable_pair(forward, backward, mask):
            return None
        states = []
        for layer, given in ((forward, forward_state), (backward, backward_state)):
            if given is not None:
                states.append(layer._check_initial_state(given, sequences))
            else:
                initial = flatten_states(layer.get_initial_state(sequences.shape[0]))
                states.append([as_state_tensor(s, sequences) for s in initial])
        both, forward_finals, backward_finals = fused_bidirectional(
            forward._fused_mode(), sequences, states[0], states[1], forward._fused_weights(),
            backward._fused_weights())
        units = both.shape[-1] // 2
        if self.return_sequences:
            y, y_rev = both[..., :units], both[..., units:]
        else:
            y, y_rev, both = both[:, -1, :units], both[:, 0, units:], None
        forward_states = list(pack_states(forward._state_structure, forward_finals)) if self.return_state else []
        backward_states = list(pack_states(backward._state_structure, backward_finals)) if self.return_state else []
        return y, y_rev, forward_states, backward_states, both

    # ---------------------------------------------------------------- state
    @property
    def states(self) -> Any:
        if self.forward_layer.states is None:
            return None
        return tuple(self.forward_layer.states) + tuple(self.backward_layer.states)

    def reset_states(self) -> None:
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def reset_state(self) -> None:
        self.reset_states()

    # --------------------------------------------------------------- shapes
    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        out = self.forward_layer.compute_output_shape(tuple(sequences_shape))
        states: list = []
        if self.return_state:
            out, states = out[0], list(out[1:])
        if self.merge_mode == "concat":
            out = tuple(out[:-1]) + (None if out[-1] is None else 2 * out[-1],)
        outputs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            return tuple(outputs + states + states)
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def compute_output_spec(self, *args, **kwargs):
        shapes = self.compute_output_shape(tuple(self._first_arg(args, kwargs).shape))
        return output_specs(shapes, self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        if mask is not None and not isinstance(mask, torch.Tensor):
            mask = torch.as_tensor(mask, device=inputs.device if isinstance(inputs, torch.Tensor) else None)
        """As Keras: the sequence mask (``None`` without ``return_sequences``), a pair of it for
        ``merge_mode=None``; the states get none."""
        output_mask = mask if self.return_sequences else None
        return (output_mask, output_mask) if self.merge_mode is None else output_mask

    # ---------------------------------------------------------------- config
    def get_config(self) -> dict:
        from cornu.saving.serialization import serialize_keras_object

        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": serialize_keras_object(self.forward_layer),
                "backward_layer": serialize_keras_object(self.backward_layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Bidirectional":
        from cornu.saving.serialization import deserialize_keras_object

        config = dict(config)
        layer = deserialize_keras_object(config.pop("layer"), custom_objects=custom_objects)
        if layer.name.startswith("forward_"):
            # The config holds the forward copy; the constructor adds the prefix again.
            layer.name = layer.name[len("forward_"):]
        backward = config.pop("backward_layer", None)
        if backward is not None:
            backward = deserialize_keras_object(backward, custom_objects=custom_objects)
        return cls(layer, backward_layer=backward, **config)


def _fusable_pair(forward: Layer, backward: Layer, mask) -> bool:
    """Whether two built-in recurrent layers can run as torch's one bidirectional kernel.

    Both as they would run fused on their own (``FusedRNN._fusable``), of one class with no overridden
    ``call``, unmasked, not stateful, without dropout or activity regularizers, forward then backward.
    """
    if type(forward) is not type(backward) or not isinstance(forward, FusedRNN):
        return False
    kind = type(forward)
    if kind.call is not RNN.call or kind.inner_loop is not FusedRNN.inner_loop:
        return False
    if mask is not None or forward.stateful or forward.go_backwards or not backward.go_backwards:
        return False
    for layer in (forward, backward):
        if layer.use_cudnn is False or not layer._fusable() or layer.cell.dropout or \
                layer.activity_regularizer is not None:
            return False
    mode = forward._fused_mode()
    return mode is not None and mode == backward._fused_mode()


def _verify(forward: Layer, backward: Layer) -> None:
    """Keras's consistency checks between the two directions."""
    if getattr(backward, "go_backwards", None) is None or not hasattr(backward, "return_sequences"):
        raise NotRecurrentLayerError(f"`backward_layer` must be a recurrent layer. Received: {backward}")
    if forward.go_backwards == backward.go_backwards:
        raise ValueError("Forward layer and backward layer should have different `go_backwards` value. Received: "
                         f"forward_layer.go_backwards {forward.go_backwards}, "
                         f"backward_layer.go_backwards={backward.go_backwards}")
    for attr in ("stateful", "return_sequences", "return_state"):
        f, b = getattr(forward, attr, None), getattr(backward, attr, None)
        if f != b:
            raise ValueError(f'Forward layer and backward layer are expected to have the same value for attribute '
                             f'"{attr}", got "{f}" for forward layer and "{b}" for backward layer')
