"""``ModelParallel``: the model's variables as DTensors laid out by the ``LayoutMap``, run on the mesh.

Every parameter becomes a DTensor: the layout map's entries are sharded (a Keras
axis named after a mesh axis is split along it), the rest replicated. Batches
enter the model as DTensors split along ``batch_dim_name`` and leave it as whole
(replicated) tensors, so losses and metrics see the global batch on every
process; DTensor's sharding propagation runs the layers in between and routes
gradients back to the shards. Optimizer slots are made ``zeros_like`` their
variables and so are laid out the same way.
"""
from __future__ import annotations

from typing import Any

import torch
from torch.distributed.tensor import DTensor, Replicate, Shard, distribute_tensor

from cornu.distribution import distribution_lib


def _storage_placements(variable: Any, layout: distribution_lib.TensorLayout) -> list:
    """The layout's placements for the variable's storage, whose axes may be a permutation of Keras's."""
    order = variable.layout  # storage axis j holds Keras axis order[j]
    placements = []
    for name in layout.device_mesh.axis_names:
        keras_axes = [i for i, a in enumerate(layout.axes) if a == name]
        if not keras_axes:
            placements.append(Replicate())
            continue
        axis = keras_axes[0]
        placements.append(Shard(order.index(axis) if order is not None else axis))
    return placements


def _owners(model: Any) -> dict:
    """``id(parameter) -> [(module, attribute name), ...]`` for every registration of each parameter."""
    owners: dict[int, list] = {}
    for module in model.modules():
        for name, param in module._parameters.items():
            if param is not None:
                owners.setdefault(id(param), []).append((module, name))
    return owners


def shard_variables(model: Any, distribution: distribution_lib.ModelParallel) -> None:
    """Lay out every model variable on the mesh and hook the model to take and give whole batches."""
    mesh = distribution.device_mesh.torch_mesh
    owners = _owners(model)
    for variable in model.weights:
        param = variable.value
        if isinstance(param, DTensor):
            continue
        layout = distribution.get_variable_layout(variable)
        shards = distribute_tensor(param.detach(), mesh, _storage_placements(variable, layout))
        new = torch.nn.Parameter(shards, requires_grad=param.requires_grad)
        for module, name in owners.get(id(param), []):
            module._parameters[name] = new
        variable.value = new
    batch_axis = distribution.device_mesh.axis_names.index(distribution.batch_dim_name)
    split = distribution.device_mesh.shape[batch_axis] > 1
    input_placements = [Shard(0) if i == batch_axis and split else Replicate() for i in range(mesh.ndim)]

    def to_mesh(t: Any) -> Any:
        if isinstance(t, torch.Tensor) and not isinstance(t, DTensor) and t.ndim:
            return distribute_tensor(t.to(mesh.device_type), mesh, input_placements, src_data_rank=None)
        return t

    def whole(t: Any) -> Any:
        return t.full_tensor() if isinstance(t, DTensor) else t

    from cornu.utils import tree

    def pre_hook(module, args, kwargs):
        return tree.map_structure(to_mesh, args), kwargs

    def post_hook(module, args, output):
        return tree.map_structure(whole, output)

    model.register_forward_pre_hook(pre_hook, with_kwargs=True)
    model.register_forward_hook(post_hook)
    from cornu.utils import tracking

    tracking.bump()
