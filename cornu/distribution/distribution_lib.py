"""``keras.distribution`` on ``torch.distributed``: devices, meshes, layouts and the two distributions.

Keras 3 runs this API on JAX only; cornu runs it on PyTorch's own engine. One
process per device, launched by ``torchrun`` (or spawned), joined into one
process group by ``initialize()`` (NCCL on CUDA, gloo on CPU). A "device" is
one process's accelerator: on CPU, ``cpu:<rank>``; on GPUs, ``cuda:<rank>``.

- ``DataParallel``: every process holds a replica; ``fit`` splits each global
  batch across processes and DDP all-reduces the gradients during backward.
- ``ModelParallel``: variables whose path matches a ``LayoutMap`` entry are
  sharded over the mesh as DTensors; the rest are replicated; batches are split
  along ``batch_dim_name``.
"""
from __future__ import annotations

import contextlib
import os
import re
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any, Iterator

import numpy as np
import torch
import torch.distributed as dist

_GLOBAL_DISTRIBUTION: "Distribution | None" = None
# Collectives give up after this long, so a rank that dies stops the others with an error instead of a hang.
DEFAULT_TIMEOUT_S = float(os.environ.get("CORNU_DISTRIBUTED_TIMEOUT", "300"))


# ----------------------------------------------------------------- processes
def is_initialized() -> bool:
    """Whether this process belongs to a ``torch.distributed`` process group."""
    return dist.is_available() and dist.is_initialized()


def process_index() -> int:
    """This process's rank (0 when not distributed)."""
    return dist.get_rank() if is_initialized() else 0


def num_processes() -> int:
    """The number of processes in the group (1 when not distributed)."""
    return dist.get_world_size() if is_initialized() else 1


def is_chief() -> bool:
    """Whether this process writes files and prints progress (rank 0)."""
    return process_index() == 0


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else None


def initialize(job_addresses: str | None = None, num_processes: int | None = None,
               process_id: int | None = None) -> None:
    """Join the process group described by ``torchrun``'s environment (or the arguments).

    ``job_addresses`` is ``"host:port"`` of the rank-0 process (``MASTER_ADDR``/``MASTER_PORT``
    otherwise); ``num_processes`` and ``process_id`` default to ``WORLD_SIZE`` and ``RANK``.
    Arguments that contradict the environment raise ``ValueError`` naming both. NCCL on CUDA,
    gloo on CPU; each process takes the GPU numbered by ``LOCAL_RANK``.
    """
    env_world, env_rank = _env_int("WORLD_SIZE"), _env_int("RANK")
    job_addresses = job_addresses or os.environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES")
    num_processes = num_processes if num_processes is not None else _env_int("KERAS_DISTRIBUTION_NUM_PROCESSES")
    process_id = process_id if process_id is not None else _env_int("KERAS_DISTRIBUTION_PROCESS_ID")
    if num_processes is not None and env_world is not None and num_processes != env_world:
        raise ValueError(f"initialize() was given num_processes={num_processes}, but the launcher's WORLD_SIZE is "
                         f"{env_world}. They must be equal.")
    if process_id is not None and env_rank is not None and process_id != env_rank:
        raise ValueError(f"initialize() was given process_id={process_id}, but the launcher's RANK is {env_rank}.")
    world = num_processes if num_processes is not None else env_world
    rank = process_id if process_id is not None else env_rank
    if world is None or rank is None:
        raise ValueError("initialize() needs the number of processes and this process's id: launch with `torchrun` "
                         "(which sets WORLD_SIZE and RANK) or pass num_processes= and process_id=.")
    if not 0 <= rank < world:
        raise ValueError(f"process_id={rank} is outside the world of num_processes={world} processes.")
    if job_addresses:
        first = job_addresses.split(",")[0]
        host, _, port = first.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"job_addresses must be 'host:port' of the rank-0 process. Received: {job_addresses!r}")
        os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = host, port
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29500")
    if is_initialized():
        if (dist.get_world_size(), dist.get_rank()) != (world, rank):
            raise ValueError(f"A process group is already running with world size {dist.get_world_size()} and rank "
                             f"{dist.get_rank()}; initialize() was asked for {world} and {rank}.")
        return
    use_cuda = torch.cuda.is_available()
    if use_cuda:
        local_rank = _env_int("LOCAL_RANK")
        torch.cuda.set_device(local_rank if local_rank is not None else rank % torch.cuda.device_count())
    dist.init_process_group("nccl" if use_cuda else "gloo", rank=rank, world_size=world,
                            timeout=timedelta(seconds=DEFAULT_TIMEOUT_S))


def _device_type(device_type: str | None) -> str:
    if device_type is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    kind = device_type.lower()
    if kind == "gpu":
        kind = "cuda"
    if kind not in ("cpu", "cuda"):
        raise ValueError(f"Unknown device_type {device_type!r}: expected 'cpu', 'gpu' or 'cuda'.")
    return kind


def list_devices(device_type: str | None = None) -> list[str]:
    """All devices of the job: one per process when distributed (``cpu:<rank>`` / ``cuda:<rank>``), else local."""
    kind = _device_type(device_type)
    if is_initialized():
        return [f"{kind}:{i}" for i in range(num_processes())]
    count = torch.cuda.device_count() if kind == "cuda" else 1
    return [f"{kind}:{i}" for i in range(count)]


def get_device_count(device_type: str | None = None) -> int:
    """``len(list_devices(device_type))``."""
    return len(list_devices(device_type))


# -------------------------------------------------------------------- meshes
class DeviceMesh:
    """An n-D grid of devices with named axes; ``devices`` default to ``list_devices()``."""

    def __init__(self, shape, axis_names, devices=None):
        shape, axis_names = tuple(shape), list(axis_names)
        if not shape or len(shape) != len(axis_names):
            raise ValueError(f"Shape and axis_names should have same size. Received: shape={shape}, "
                             f"axis_names={axis_names}")
        devices = np.array(list_devices() if devices is None else list(np.asarray(devices).reshape(-1)))
        if int(np.prod(shape)) != devices.size:
            raise ValueError(f"Shape does not match the number of devices. Received: shape={shape}; "
                             f"devices.shape={devices.shape}")
        self._shape, self._axis_names = shape, axis_names
        self._devices = devices.reshape(shape)
        self._torch_mesh = None

    @property
    def shape(self) -> tuple:
        return self._shape

    @property
    def axis_names(self) -> list:
        return self._axis_names

    @property
    def devices(self) -> np.ndarray:
        return self._devices

    @property
    def torch_mesh(self):
        """The ``torch.distributed.device_mesh.DeviceMesh`` over the process group (made on first use)."""
        if self._torch_mesh is None:
            if not is_initialized():
                raise ValueError("A DeviceMesh needs the process group: call keras.distribution.initialize() "
                                 "(or launch with torchrun) first.")
            if int(np.prod(self._shape)) != num_processes():
                raise ValueError(f"The mesh shape {self._shape} holds {int(np.prod(self._shape))} devices, but the "
                                 f"job has {num_processes()} processes.")
            from torch.distributed.device_mesh import init_device_mesh

            kind = str(self._devices.reshape(-1)[0]).split(":")[0]
            self._torch_mesh = init_device_mesh(kind, self._shape, mesh_dim_names=tuple(self._axis_names))
        return self._torch_mesh

    def __repr__(self) -> str:
        return f"<DeviceMesh shape={self._shape}, axis_names={self._axis_names}>"


class TensorLayout:
    """How one tensor is laid out on a mesh: per tensor axis, the mesh axis it is split along, or None."""

    def __init__(self, axes, device_mesh: DeviceMesh | None = None):
        self._axes = tuple(axes)
        self._device_mesh = None
        if device_mesh is not None:
            self.device_mesh = device_mesh

    @property
    def axes(self) -> tuple:
        return self._axes

    @property
    def device_mesh(self) -> DeviceMesh | None:
        return self._device_mesh

    @device_mesh.setter
    def device_mesh(self, device_mesh: DeviceMesh) -> None:
        if self._device_mesh is not None:
            raise ValueError("Cannot override device mesh value. Existing value is "
                             f"{self._device_mesh}")
        named = {a for a in self._axes if a is not None}
        if not named <= set(device_mesh.axis_names):
            raise ValueError(f"Invalid axis names for Layout. Valid axis names: {set(device_mesh.axis_names)}, "
                             f"Got {named - set(device_mesh.axis_names)}")
        self._device_mesh = device_mesh

    def placements(self) -> list:
        """torch's placements: per mesh axis, ``Shard(tensor axis)`` or ``Replicate()``."""
        from torch.distributed.tensor import Replicate, Shard

        placements = []
        for name in self._device_mesh.axis_names:
            dims = [i for i, a in enumerate(self._axes) if a == name]
            placements.append(Shard(dims[0]) if dims else Replicate())
        return placements

    def __repr__(self) -> str:
        return f"<TensorLayout axes={self._axes}, device_mesh={self._device_mesh}>"


class LayoutMap(MutableMapping):
    """Variable paths (regular expressions, matched in full) to ``TensorLayout``s on one mesh."""

    def __init__(self, device_mesh: DeviceMesh):
        self._layout_map: dict[str, TensorLayout] = {}
        self._device_mesh = device_mesh

    @property
    def device_mesh(self) -> DeviceMesh:
        return self._device_mesh

    def __getitem__(self, key: str) -> TensorLayout | None:
        if key in self._layout_map:
            return self._layout_map[key]
        matching = [k for k in self._layout_map if re.fullmatch(k, key)]
        if len(matching) > 1:
            raise ValueError(f"Path '{key}' matches multiple layout specification keys: {matching}. Please make "
                             "sure each tensor/variable path only matches at most one layout specification key in "
                             "the LayoutMap.")
        return self._layout_map[matching[0]] if matching else None

    def __setitem__(self, key: str, layout) -> None:
        if key in self._layout_map:
            raise ValueError(f"{key} already exist in the LayoutMap with value {self._layout_map[key]}. Please make "
                             "sure to not use duplicated keys.")
        if isinstance(layout, (tuple, list)):
            layout = TensorLayout(axes=layout, device_mesh=None)
        if not isinstance(layout, TensorLayout):
            raise ValueError(f"{layout} should be a TensorLayout type, got {type(layout)}")
        if layout.device_mesh is None:
            layout.device_mesh = self._device_mesh
        self._layout_map[key] = layout

    def __delitem__(self, key: str) -> None:
        del self._layout_map[key]

    def __len__(self) -> int:
        return len(self._layout_map)

    def __iter__(self) -> Iterator[str]:
        return iter(self._layout_map)


# ------------------------------------------------------------- distributions
class Distribution:
    """The base: a mesh, the batch axis's name, and whether ``fit`` splits datasets across processes."""

    def __init__(self, device_mesh: DeviceMesh, batch_dim_name: str | None = None, auto_shard_dataset: bool = True):
        self._device_mesh = device_mesh
        self._batch_dim_name = batch_dim_name
        self._auto_shard_dataset = auto_shard_dataset

    @property
    def device_mesh(self) -> DeviceMesh:
        return self._device_mesh

    @property
    def batch_dim_name(self) -> str | None:
        return self._batch_dim_name

    @property
    def auto_shard_dataset(self) -> bool:
        return self._auto_shard_dataset

    @auto_shard_dataset.setter
    def auto_shard_dataset(self, value: bool) -> None:
        self._auto_shard_dataset = value

    def get_data_layout(self, data_shape) -> TensorLayout:
        """Batches are split along their first axis over the batch mesh axis."""
        axes = [None] * len(data_shape)
        if axes:
            axes[0] = self._batch_dim_name
        return TensorLayout(axes, self._device_mesh)

    def get_variable_layout(self, variable) -> TensorLayout:
        """Replicated unless a subclass says otherwise."""
        return TensorLayout([None] * len(variable.shape), self._device_mesh)

    def get_tensor_layout(self, path: str) -> TensorLayout | None:
        return None

    @contextlib.contextmanager
    def scope(self):
        """Make this the global distribution inside the ``with`` block."""
        previous = distribution()
        set_distribution(self)
        try:
            yield
        finally:
            set_distribution(previous)

    def distribute_dataset(self, dataset):
        """cornu splits batches inside ``fit``/``evaluate``/``predict``; datasets pass through unchanged."""
        return dataset

    def __repr__(self) -> str:
        return f"<{type(self).__name__} device_mesh={self._device_mesh}>"


class DataParallel(Distribution):
    """Replicate the model on every device and split each batch across them (DDP underneath)."""

    def __init__(self, device_mesh: DeviceMesh | None = None, devices=None, auto_shard_dataset: bool = True):
        if device_mesh is not None:
            if len(device_mesh.shape) != 1:
                raise ValueError(f"DataParallel expects a 1D device mesh. Received: device_mesh.shape="
                                 f"{device_mesh.shape}")
        else:
            devices = list_devices() if devices is None else list(devices)
            device_mesh = DeviceMesh((len(devices),), ["batch"], devices)
        super().__init__(device_mesh, device_mesh.axis_names[0], auto_shard_dataset)


class ModelParallel(Distribution):
    """Shard the variables a ``LayoutMap`` names over its mesh (DTensor); split batches along ``batch_dim_name``."""

    def __init__(self, *, layout_map: LayoutMap | None = None, batch_dim_name: str | None = None,
                 auto_shard_dataset: bool = True, **kwargs):
        kwargs.pop("device_mesh", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments for ModelParallel: {sorted(kwargs)}")
        if layout_map is None:
            raise ValueError("You must specify a layout_map argument.")
        if not isinstance(layout_map, LayoutMap):
            raise ValueError(f"Expect `layout_map` to be an instance of `LayoutMap`. Received: {type(layout_map)}")
        mesh = layout_map.device_mesh
        batch_dim_name = batch_dim_name or mesh.axis_names[0]
        if batch_dim_name not in mesh.axis_names:
            raise ValueError(f"batch_dim_name={batch_dim_name!r} is not an axis of the mesh {mesh.axis_names}.")
        super().__init__(mesh, batch_dim_name, auto_shard_dataset)
        self._layout_map = layout_map

    @property
    def layout_map(self) -> LayoutMap:
        return self._layout_map

    def get_variable_layout(self, variable) -> TensorLayout:
        layout = self._layout_map[variable.path]
        return layout if layout is not None else super().get_variable_layout(variable)

    def get_tensor_layout(self, path: str) -> TensorLayout | None:
        return self._layout_map[path]


def set_distribution(value: Distribution | None) -> None:
    """Set the global distribution that ``fit``/``evaluate``/``predict`` and new variables follow."""
    global _GLOBAL_DISTRIBUTION
    if value is not None and not isinstance(value, Distribution):
        raise ValueError(f"Expected a keras.distribution.Distribution or None. Received: {value!r}")
    _GLOBAL_DISTRIBUTION = value


def distribution() -> Distribution | None:
    """The global distribution, or None."""
    return _GLOBAL_DISTRIBUTION


def distribute_tensor(tensor: Any, layout: TensorLayout) -> Any:
    """``tensor`` laid out as ``layout`` says: a DTensor over the mesh when distributed, else as it is."""
    if not isinstance(layout, TensorLayout):
        raise ValueError(f"Expected a TensorLayout. Received: {layout!r}")
    tensor = torch.as_tensor(tensor)
    if not is_initialized() or layout.device_mesh is None:
        return tensor
    from torch.distributed.tensor import distribute_tensor as _distribute

    mesh = layout.device_mesh.torch_mesh
    return _distribute(tensor.to(mesh.device_type), mesh, layout.placements())
