"""What ``fit``/``evaluate``/``predict`` do differently when a distribution spans several processes.

- The model: its weights are broadcast from rank 0 and it is wrapped with torch's
  DDP machinery (``torch.distributed._composable.replicate``: bucketed gradient
  all-reduce overlapped with backward, hooked on the model's own ``__call__``);
  under ``ModelParallel`` the variables a ``LayoutMap`` names become DTensors.
- The data: every process walks the same global batches (the shuffle is drawn
  on rank 0 and broadcast once per epoch) and keeps its own contiguous slice of
  each, so ``batch_size`` is the global batch as in Keras's JAX distribution.
- The results: metric states are summed over processes before epoch logs are
  read (every rank's History is the same); ``predict`` gathers the slices back
  in order on every rank.
"""
from __future__ import annotations

from typing import Any, Iterator

import torch
import torch.distributed as dist

from cornu.distribution import distribution_lib
from cornu.utils import tree


def active() -> distribution_lib.Distribution | None:
    """The global distribution when it spans more than one process, else None.

    Its mesh must hold one device per process: ``ValueError`` naming both counts otherwise.
    """
    current = distribution_lib.distribution()
    if current is None or distribution_lib.num_processes() < 2:
        return None
    size, world = current.device_mesh.devices.size, distribution_lib.num_processes()
    if size != world:
        raise ValueError(f"The distribution's device mesh {current.device_mesh.shape} holds {size} devices, but the "
                         f"job runs {world} processes (one device each). Make the mesh from "
                         f"keras.distribution.list_devices() after initialize().")
    return current


def sync_random_state() -> None:
    """Give every process rank 0's torch random state (shuffles of loaders and generators then agree)."""
    state = torch.get_rng_state().to(_comm_device())
    dist.broadcast(state, src=0)
    torch.set_rng_state(state.cpu())


def shard(adapter: Any, what: str, distribution: distribution_lib.Distribution) -> "ShardedAdapter":
    """``adapter`` for a multi-process run: sliced per rank, or whole under ``ModelParallel``."""
    return ShardedAdapter(adapter, what, split=not isinstance(distribution, distribution_lib.ModelParallel))


def _slice_bounds(n: int, rank: int, world: int) -> tuple[int, int]:
    """``[lo, hi)`` of rank's contiguous part of ``n`` rows (the first ``n % world`` ranks take one more)."""
    base, extra = divmod(n, world)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


def _local_slice(batch: Any, rank: int, world: int) -> Any:
    leaves = [t for t in tree.flatten(batch) if isinstance(t, torch.Tensor) and t.ndim]
    if not leaves:
        return batch
    lo, hi = _slice_bounds(int(leaves[0].shape[0]), rank, world)
    return tree.map_structure(lambda t: t[lo:hi] if isinstance(t, torch.Tensor) and t.ndim else t, batch)


class ShardedAdapter:
    """A data adapter whose batches are this process's slices of the global batches."""

    def __init__(self, adapter: Any, what: str, split: bool = True):
        if adapter.num_batches is None:
            raise ValueError(f"The {what} data has no known length (an infinite or unsized generator), so the "
                             f"processes cannot agree on the number of steps: pass `steps_per_epoch` (or "
                             f"`validation_steps` / `steps`) when training on several processes.")
        self.adapter = adapter
        self.rank, self.world = distribution_lib.process_index(), distribution_lib.num_processes()
        self.split = split  # ModelParallel feeds whole batches: the model splits them on its mesh
        if getattr(adapter, "shuffle", False) is True:
            adapter.shuffle_source = _broadcast_permutation

    @property
    def num_batches(self) -> int:
        return self.adapter.num_batches

    def __iter__(self) -> Iterator[tuple]:
        for batch in self.adapter:
            yield _local_slice(batch, self.rank, self.world) if self.split else batch


def _broadcast_permutation(n: int, device: torch.device) -> torch.Tensor:
    """Rank 0's ``randperm(n)`` on every rank (one broadcast per epoch)."""
    comm_device = _comm_device()
    perm = torch.randperm(n, device=comm_device) if distribution_lib.is_chief() else \
        torch.empty(n, dtype=torch.int64, device=comm_device)
    dist.broadcast(perm, src=0)
    return perm.to(device)


def _comm_device() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def prepare_model(model: Any, distribution: distribution_lib.Distribution, sample_x: Any) -> None:
    """Build the model on a batch if needed, lay its variables out, and hook DDP on it (once per model)."""
    if model.__dict__.get("_cornu_distributed") is distribution:
        return
    if not model.built:
        with torch.no_grad():
            model(sample_x, training=False)
    if isinstance(distribution, distribution_lib.ModelParallel):
        from cornu.trainers.sharding import shard_variables

        shard_variables(model, distribution)
    else:
        from torch.distributed._composable.replicate import replicate

        cls = type(model)
        replicate(model, device_ids=[torch.cuda.current_device()] if dist.get_backend() == "nccl" else None)
        # replicate() swaps in a "DDP<class>" subclass for its gradient-sync switches, which cornu does not use;
        # its hooks are on the instance, so the model keeps its own class (configs, saving, type checks).
        model.__class__ = cls
    model.__dict__["_cornu_distributed"] = distribution


def reduce_metrics(model: Any, adapter: Any) -> None:
    """Sum (or average, per ``aggregation``) every metric variable over the processes, in one all-reduce.

    Only when each process saw its own slice of the data (``ModelParallel`` sees whole batches everywhere).
    """
    if not getattr(adapter, "split", False):
        return
    variables = [v for m in model.metrics for v in m.variables
                 if getattr(v, "aggregation", "sum") in ("sum", "mean")]
    if not variables:
        return
    values = [v.value.detach() for v in variables]
    flat = torch.cat([t.reshape(-1).to(torch.float64) for t in values]).to(_comm_device())
    dist.all_reduce(flat)
    world = distribution_lib.num_processes()
    start = 0
    with torch.no_grad():
        for var, value in zip(variables, values):
            part = flat[start:start + value.numel()].view(value.shape)
            start += value.numel()
            if var.aggregation == "mean":
                part = part / world
            value.copy_(part.to(device=value.device, dtype=value.dtype))


def gather_batch(outputs: Any) -> Any:
    """Every rank's slice of one predicted batch, concatenated back in rank order (on every rank)."""
    world = distribution_lib.num_processes()
    comm = _comm_device()

    def gather(t: torch.Tensor) -> torch.Tensor:
        sizes = torch.tensor([t.shape[0]], device=comm)
        all_sizes = [torch.empty_like(sizes) for _ in range(world)]
        dist.all_gather(all_sizes, sizes)
        largest = int(max(s.item() for s in all_sizes))
        padded = torch.zeros((largest,) + tuple(t.shape[1:]), dtype=t.dtype, device=comm)
        padded[:t.shape[0]] = t.to(comm)
        parts = [torch.empty_like(padded) for _ in range(world)]
        dist.all_gather(parts, padded)
        return torch.cat([p[:int(s.item())] for p, s in zip(parts, all_sizes)]).to(t.device)

    return tree.map_structure(lambda t: gather(t) if isinstance(t, torch.Tensor) else t, outputs)


def barrier() -> None:
    """Wait for every process (after rank 0 wrote a file the others will read)."""
    if distribution_lib.is_initialized():
        dist.barrier()
