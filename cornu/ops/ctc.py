"""Connectionist temporal classification: ``ctc_loss`` and ``ctc_decode`` (greedy and beam search).

Inputs are ``(batch, time, classes)`` logits; ``mask_index`` is the blank
class. Decoded label sequences come back as ``(top_paths, batch, time)``
int32 tensors padded with -1, as in Keras. Both decoders run batch-wise on
the inputs' device; the beam search loops over time steps only.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from cornu import symbolic
from cornu.ops.core import _tensor, symbolic_op
from cornu.ops.numpy import _as_float

_NEG_INF = float("-inf")


@symbolic_op
def ctc_loss(target: Any, output: Any, target_length: Any, output_length: Any,
             mask_index: int = 0) -> torch.Tensor:
    """Per-sample CTC negative log-likelihood of the label sequences ``target`` under logits ``output``."""
    out = _as_float(output)
    tgt = _tensor(target, device=out.device)
    if out.ndim != 3 or tgt.ndim != 2 or tgt.shape[0] != out.shape[0]:
        raise ValueError("`target` must be (batch, max_label_length) and `output` (batch, time, classes). "
                         f"Received: target.shape={tuple(tgt.shape)}, output.shape={tuple(out.shape)}")
    if symbolic.in_fake_run():  # the CTC kernel has no shape-only (fake tensor) version
        return out.new_empty(out.shape[:1], dtype=torch.float32)
    log_probs = torch.log_softmax(out.float(), dim=-1).transpose(0, 1)
    t_len = _tensor(target_length, device=out.device).to(torch.int64)
    o_len = _tensor(output_length, device=out.device).to(torch.int64)
    return F.ctc_loss(log_probs, tgt.to(torch.int64), o_len, t_len, blank=mask_index, reduction="none")


def _compact(labels: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Move the kept labels of each row to its front (order preserved) and pad the rest with -1."""
    order = torch.argsort((~keep).to(torch.int8), dim=-1, stable=True)
    packed = torch.gather(labels, -1, order)
    count = keep.sum(dim=-1, keepdim=True)
    position = torch.arange(labels.shape[-1], device=labels.device)
    return torch.where(position < count, packed, torch.full_like(packed, -1))


def _greedy(x: torch.Tensor, lengths: torch.Tensor, merge_repeated: bool, mask_index: int):
    best, labels = torch.max(x, dim=-1)
    valid = torch.arange(x.shape[1], device=x.device) < lengths.unsqueeze(-1)
    keep = valid & (labels != mask_index)
    if merge_repeated:
        changed = torch.ones_like(keep)
        changed[:, 1:] = labels[:, 1:] != labels[:, :-1]
        keep = keep & changed
    decoded = _compact(labels, keep).to(torch.int32)
    scores = -torch.sum(torch.where(valid, best, torch.zeros_like(best)), dim=-1, keepdim=True)
    return decoded.unsqueeze(0), scores


def _beam_search(x: torch.Tensor, lengths: torch.Tensor, beam_width: int, top_paths: int,
                 merge_repeated: bool, mask_index: int):
    """Prefix beam search: per step, every beam either stays (blank or repeat) or extends by one label.

    Prefixes are identified by a rolling hash, so an extension that equals an
    existing beam is merged into it (probabilities added in log space).
    """
    batch, steps, classes = x.shape
    log_probs = torch.log_softmax(x.float(), dim=-1)
    device = x.device
    width = beam_width
    seqs = torch.full((batch, width, steps), -1, dtype=torch.int64, device=device)
    seq_len = torch.zeros((batch, width), dtype=torch.int64, device=device)
    last = torch.full((batch, width), -1, dtype=torch.int64, device=device)
    hashes = torch.zeros((batch, width), dtype=torch.int64, device=device)
    p_blank = torch.full((batch, width), _NEG_INF, device=device)
    p_blank[:, 0] = 0.0
    p_label = torch.full((batch, width), _NEG_INF, device=device)
    label_ids = torch.arange(classes, device=device)
    is_label = label_ids != mask_index
    for t in range(steps):
        lp = log_probs[:, t]  # (batch, classes)
        total = torch.logaddexp(p_blank, p_label)
        lp_last = torch.gather(lp, 1, last.clamp(min=0))
        stay_blank = total + lp[:, mask_index:mask_index + 1]
        stay_label = torch.where(last >= 0, p_label + lp_last, torch.full_like(p_label, _NEG_INF))
        repeat = (last.unsqueeze(-1) == label_ids) & merge_repeated  # (batch, width, classes)
        ext = torch.where(repeat, p_blank.unsqueeze(-1), total.unsqueeze(-1)) + lp.unsqueeze(1)
        ext = torch.where(is_label, ext, torch.full_like(ext, _NEG_INF))
        ext_hash = hashes.unsqueeze(-1) * 1000003 + label_ids + 1
        # An extension equal to an existing beam adds its probability to that beam's label path.
        ext_len = (seq_len + 1).unsqueeze(-1).expand(-1, -1, classes).reshape(batch, -1)
        same = ((ext_hash.reshape(batch, -1, 1) == hashes.unsqueeze(1))
                & (ext_len.unsqueeze(-1) == seq_len.unsqueeze(1)) & (total > _NEG_INF).unsqueeze(1))
        ext_flat = ext.reshape(batch, -1)
        merged = torch.where(same, ext_flat.unsqueeze(-1), torch.full(same.shape, _NEG_INF, device=device))
        stay_label = torch.logaddexp(stay_label, torch.logsumexp(merged, dim=1))
        ext_flat = torch.where(same.any(-1), torch.full_like(ext_flat, _NEG_INF), ext_flat)
        cand_blank = torch.cat([stay_blank, torch.full_like(ext_flat, _NEG_INF)], dim=1)
        cand_label = torch.cat([stay_label, ext_flat], dim=1)
        cand_total = torch.logaddexp(cand_blank, cand_label)
        top = torch.topk(cand_total, width, dim=1).indices  # (batch, width)
        from_ext = top >= width
        parent = torch.where(from_ext, (top - width) // classes, top)
        label = torch.where(from_ext, (top - width) % classes, torch.full_like(top, -1))
        new_seqs = torch.gather(seqs, 1, parent.unsqueeze(-1).expand(-1, -1, steps)).clone()
        new_len = torch.gather(seq_len, 1, parent)
        write = torch.where(from_ext, new_len, torch.full_like(new_len, steps - 1))
        current = torch.gather(new_seqs, 2, write.unsqueeze(-1)).squeeze(-1)
        new_seqs.scatter_(2, write.unsqueeze(-1), torch.where(from_ext, label, current).unsqueeze(-1))
        new_state = (
            new_seqs,
            new_len + from_ext.to(torch.int64),
            torch.where(from_ext, label, torch.gather(last, 1, parent)),
            torch.where(from_ext, torch.gather(ext_hash.reshape(batch, -1), 1, (top - width).clamp(min=0)),
                        torch.gather(hashes, 1, parent)),
            torch.gather(cand_blank, 1, top),
            torch.gather(cand_label, 1, top),
        )
        active = (t < lengths).reshape(batch, 1)
        seqs = torch.where(active.unsqueeze(-1), new_state[0], seqs)
        seq_len, last, hashes, p_blank, p_label = (
            torch.where(active, new, old) for new, old in zip(new_state[1:], (seq_len, last, hashes, p_blank, p_label)))
    scores = torch.logaddexp(p_blank, p_label)[:, :top_paths]
    decoded = seqs[:, :top_paths].to(torch.int32).transpose(0, 1)
    return decoded, scores


@symbolic_op
def ctc_decode(inputs: Any, sequence_lengths: Any, strategy: str = "greedy", beam_width: int = 100,
               top_paths: int = 1, merge_repeated: bool = True, mask_index: int = 0) -> tuple:
    """Decode CTC logits: ``(decoded, scores)``, decoded ``(top_paths, batch, time)`` padded with -1.

    ``greedy`` takes the best class per step (score: minus the sum of the
    best logits); ``beam_search`` keeps ``beam_width`` prefixes and returns the
    ``top_paths`` most likely label sequences with their log-probabilities.
    Known difference: with ``merge_repeated=False`` the beam search keeps
    repeated labels as separate emissions; Keras on torch returns other (and
    sometimes duplicate) paths there.
    """
    x = _as_float(inputs)
    if x.ndim != 3:
        raise ValueError(f"`inputs` must be (batch, time, classes). Received shape {tuple(x.shape)}")
    lengths = _tensor(sequence_lengths, device=x.device).to(torch.int64)
    if strategy == "greedy":
        return _greedy(x, lengths, merge_repeated, mask_index)
    if strategy == "beam_search":
        if top_paths > beam_width:
            raise ValueError(f"`top_paths` ({top_paths}) must be at most `beam_width` ({beam_width}).")
        return _beam_search(x, lengths, beam_width, top_paths, merge_repeated, mask_index)
    raise ValueError(f"Invalid strategy {strategy!r}. Supported values are 'greedy' and 'beam_search'.")
