"""torch's fused recurrent kernels (``torch._VF.lstm`` / ``gru`` / ``rnn_tanh`` / ``rnn_relu``) with Keras semantics.

The layers hand over weights already in torch's layout and gate order
(``w_ih (G*units, in)``, ``w_hh (G*units, units)``, ``b_ih``, ``b_hh``), built
once per call. Right-padded masks run as packed sequences
(``pack_padded_sequence``); the outputs are then put where Keras's step loop
puts them: past a sequence's end the last output is carried (or zeros with
``zero_output_for_mask``), with ``go_backwards`` the padding comes first and
outputs are in processing order.
"""
from __future__ import annotations

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from cornu import symbolic
from cornu.layers.layer import Layer
from cornu.layers.rnn.rnn import RNN

_KERNELS = {"lstm": torch._VF.lstm, "gru": torch._VF.gru, "rnn_tanh": torch._VF.rnn_tanh,
            "rnn_relu": torch._VF.rnn_relu}


def right_padded_lengths(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(lengths on the device, lengths on the CPU)`` when every row of ``mask`` is ``True…True False…False``.

    This is the one host read of a masked fused call (packing needs CPU lengths anyway).
    """
    lengths = mask.sum(1)
    steps = torch.arange(mask.shape[1], device=mask.device)
    right_padded = ((steps < lengths[:, None]) == mask).all()
    host = torch.cat([lengths, right_padded.view(1).to(lengths.dtype)]).cpu()
    return (lengths, host[:-1]) if bool(host[-1]) else None


def input_dropout(sequences: torch.Tensor, w_ih: torch.Tensor, masks: list) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-gate input dropout folded into one fused call: each gate reads its own masked copy of the inputs.

    ``masks`` are ``(batch, features)`` in the kernel's gate order; the inputs become
    ``[x*m_1, ..., x*m_G]`` and ``w_ih`` the block-diagonal of its gate blocks.
    """
    x = torch.cat([sequences * m.unsqueeze(1) for m in masks], -1)
    return x, torch.block_diag(*w_ih.chunk(len(masks), 0))


def _one_buffer(weights: list) -> list:
    """On CUDA, the weights as views of one contiguous buffer (what cuDNN wants; one copy per call)."""
    flat = torch.cat([w.reshape(-1) for w in weights])
    out, start = [], 0
    for w in weights:
        out.append(flat[start:start + w.numel()].view_as(w))
        start += w.numel()
    return out


def _run(mode: str, x: torch.Tensor, states: list, weights: list, batch_sizes: torch.Tensor | None = None):
    kernel = _KERNELS[mode]
    if x.is_cuda:
        weights = _one_buffer(weights)
    hx = tuple(s.unsqueeze(0) for s in states) if mode == "lstm" else states[0].unsqueeze(0)
    train = torch.is_grad_enabled()
    if batch_sizes is None:
        result = kernel(x, hx, weights, True, 1, 0.0, train, False, True)
    else:
        result = kernel(x, batch_sizes, hx, weights, True, 1, 0.0, train, False)
    return result[0], [r[0] for r in result[1:]]


def _bidirectional(mode: str, x: torch.Tensor, forward_states: list, backward_states: list,
                   forward_weights: list, backward_weights: list) -> tuple:
    weights = forward_weights + backward_weights
    if x.is_cuda:
        weights = _one_buffer(weights)
    hx = [torch.stack([f, b]) for f, b in zip(forward_states, backward_states)]
    hx = tuple(hx) if mode == "lstm" else hx[0]
    result = _KERNELS[mode](x, hx, weights, True, 1, 0.0, torch.is_grad_enabled(), True, True)
    return result[0], [r[0] for r in result[1:]], [r[1] for r in result[1:]]


_EAGER_BIDIRECTIONAL = None


def fused_bidirectional(mode: str, x: torch.Tensor, forward_states: list, backward_states: list,
                        forward_weights: list, backward_weights: list) -> tuple:
    """Both directions of an unmasked ``Bidirectional`` in one kernel call (torch's ``bidirectional=True``).

    Returns ``(outputs (batch, steps, 2*units), forward final states, backward final states)``; the
    outputs are in input order, forward features first, as ``Bidirectional`` concatenates them.
    """
    global _EAGER_BIDIRECTIONAL
    if _EAGER_BIDIRECTIONAL is None:
        _EAGER_BIDIRECTIONAL = torch.compiler.disable(_bidirectional)
    return _EAGER_BIDIRECTIONAL(mode, x, forward_states, backward_states, forward_weights, backward_weights)


_EAGER_RUN_FUSED = None


def run_fused(mode: str, sequences: torch.Tensor, states: list, weights: list, mask: torch.Tensor | None,
              go_backwards: bool, zero_output_for_mask: bool, return_sequences: bool):
    """``fused_rnn`` for an optional mask; None when the mask is not right-padded (the caller loops instead).

    Always eager: under ``torch.compile`` this is a graph break, as ``torch.nn.LSTM`` is (the fused
    kernels do not trace, and packing reads the lengths on the host). The ``torch.compiler.disable``
    wrapper is made on first use, so importing cornu does not import the compiler.
    """
    global _EAGER_RUN_FUSED
    if _EAGER_RUN_FUSED is None:
        _EAGER_RUN_FUSED = torch.compiler.disable(_run_fused)
    return _EAGER_RUN_FUSED(mode, sequences, states, weights, mask, go_backwards, zero_output_for_mask,
                            return_sequences)


def _run_fused(mode: str, sequences: torch.Tensor, states: list, weights: list, mask: torch.Tensor | None,
               go_backwards: bool, zero_output_for_mask: bool, return_sequences: bool):
    lengths = None
    if mask is not None:
        lengths = right_padded_lengths(mask)
        if lengths is None:
            return None
    return fused_rnn(mode, sequences, states, weights, lengths, go_backwards, zero_output_for_mask, return_sequences)


def fused_rnn(mode: str, sequences: torch.Tensor, states: list, weights: list, lengths: tuple | None,
              go_backwards: bool, zero_output_for_mask: bool, return_sequences: bool):
    """``(last_output, outputs or None, final states)`` as Keras's step loop computes them.

    ``lengths`` is ``right_padded_lengths(mask)`` (None without a mask).
    """
    if lengths is None:
        x = sequences.flip(1) if go_backwards else sequences
        out, finals = _run(mode, x, states, weights)
        return out[:, -1], (out if return_sequences else None), finals
    lengths, host_lengths = lengths
    steps_count = sequences.shape[1]
    steps = torch.arange(steps_count, device=sequences.device)
    col = lengths[:, None]
    x = sequences
    if go_backwards:
        # Keras reverses the padded sequence, so the padding comes first: run each row's valid part reversed.
        index = torch.where(steps < col, col - 1 - steps, steps)
        x = torch.gather(sequences, 1, index.unsqueeze(-1).expand_as(sequences))
    packed = pack_padded_sequence(x, host_lengths.clamp(min=1), batch_first=True, enforce_sorted=False)
    hx = [s.index_select(0, packed.sorted_indices) for s in states]
    out_data, finals = _run(mode, packed.data, hx, weights, packed.batch_sizes)
    finals = [f.index_select(0, packed.unsorted_indices) for f in finals]
    empty = (lengths == 0)[:, None]
    # Rows with no valid step keep their initial states and output zeros.
    finals = [torch.where(empty, s, f) for s, f in zip(states, finals)]
    carried = torch.where(empty, 0.0, finals[0])
    if zero_output_for_mask and not go_backwards:
        last_output = torch.where((lengths == steps_count)[:, None], carried, 0.0)
    else:
        last_output = carried
    if not return_sequences:
        return last_output, None, finals
    padded, _ = pad_packed_sequence(PackedSequence(out_data, packed.batch_sizes, packed.sorted_indices,
                                                   packed.unsorted_indices), batch_first=True,
                                    total_length=steps_count)
    if go_backwards:
        shift = steps_count - col
        source = (steps - shift).clamp(min=0)
        shifted = torch.gather(padded, 1, source.unsqueeze(-1).expand_as(padded))
        outputs = torch.where((steps >= shift).unsqueeze(-1), shifted, 0.0)
    else:
        fill = 0.0 if zero_output_for_mask else carried.unsqueeze(1)
        outputs = torch.where((steps < col).unsqueeze(-1), padded, fill)
    return last_output, outputs, finals


class FusedRNN(RNN):
    """An ``RNN`` over a built-in cell that also runs as one fused kernel when Keras's cuDNN conditions hold.

    Conditions: the cell's own activations (``_fused_mode``), no recurrent
    dropout, ``unroll=False``, ``use_bias=True``, and a right-padded mask or
    none. ``use_cudnn=False`` always loops; ``use_cudnn=True`` raises when the
    configuration cannot be fused.
    """

    def __init__(self, cell, use_cudnn="auto", **kwargs):
        super().__init__(cell, **kwargs)
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"Invalid value received for argument `use_cudnn`. Expected one of {{'auto', True, "
                             f"False}}. Received: use_cudnn={use_cudnn!r}")
        self.use_cudnn = use_cudnn

    def _layer_config(self) -> dict:
        """The base layer's and the RNN's config entries (the cell's arguments are added flat, without ``cell``)."""
        return {**Layer.get_config(self), **self._rnn_config()}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def _fused_mode(self) -> str | None:
        """The kernel name for this cell's configuration, or None when it has no fused equivalent."""
        raise NotImplementedError

    def _fused_weights(self) -> list:
        """``[w_ih, w_hh, b_ih, b_hh]`` in torch's layout and gate order."""
        raise NotImplementedError

    def _kernel_gate_order(self, masks: list) -> list:
        """Per-gate dropout masks reordered from Keras's gate order to the kernel's."""
        return masks

    def _fusable(self) -> bool:
        cell = self.cell
        return (not self.unroll and cell.recurrent_dropout == 0 and cell.use_bias
                and self._fused_mode() is not None)

    def inner_loop(self, sequences, states, mask, training):
        if self.use_cudnn is False:
            return self._loop(sequences, states, mask, training)
        if not self._fusable():
            if self.use_cudnn is True:
                raise ValueError("use_cudnn=True was specified, but cuDNN is not supported for this layer "
                                 "configuration with this backend. Pass use_cudnn='auto' to fallback to a non-cuDNN "
                                 "implementation.")
            return self._loop(sequences, states, mask, training)
        weights = self._fused_weights()
        cell = self.cell
        x = sequences
        if training and 0.0 < cell.dropout < 1.0:
            masks = cell.get_dropout_mask(sequences[:, 0])
            masks = self._kernel_gate_order(masks if isinstance(masks, list) else [masks])
            x, w_ih = input_dropout(sequences, weights[0], masks)
            weights = [w_ih] + weights[1:]
        if symbolic.in_fake_run():
            mask = None  # shape inference: the outputs' shapes do not depend on the mask
        result = run_fused(self._fused_mode(), x, states, weights, mask, self.go_backwards,
                           self.zero_output_for_mask, self.return_sequences)
        return self._loop(sequences, states, mask, training) if result is None else result
