"""Exact rewrites of adjacent layers in a ``Sequential`` stack or a functional graph, for speed.

``Conv(activation="relu")`` followed by ``MaxPooling`` (the tutorial's pair) runs
as convolution, pooling, then ReLU on the pooled tensor: ReLU is monotonic, so
``max(relu(x)) == relu(max(x))`` over every window (``-inf`` padding included),
and the gradients agree too (both route a window's gradient to its maximum and
zero it where that maximum is not positive). Outputs and gradients are
bit-identical; ReLU and its backward touch a quarter of the elements (with 2x2
pools), the largest tensors of such models. Only plain calls take this path:
a built convolution with no activity regularizer, hooks, remat or
mixed-precision region, on a tensor of its compute dtype.
"""
from __future__ import annotations

from typing import Any

import torch

from cornu import activations, symbolic
from cornu.layers import layer as layer_module
from cornu.layers.convolutional import BaseConv
from cornu.layers.pooling import BasePooling


def _is_relu_pool(conv: Any, pool: Any) -> bool:
    return (isinstance(conv, BaseConv) and type(conv).call is BaseConv.call and conv.activation is activations.relu
            and isinstance(pool, BasePooling) and pool.mode == "max" and pool.rank == conv.rank
            and pool.data_format == conv.data_format)


def relu_pool_pairs(stack: list) -> frozenset[int]:
    """Indices ``i`` where ``stack[i]`` is a ReLU convolution and ``stack[i + 1]`` a max pooling over its output."""
    return frozenset(i for i, (conv, pool) in enumerate(zip(stack, stack[1:])) if _is_relu_pool(conv, pool))


def relu_pool_nodes(nodes: list[symbolic.Node], outputs: list) -> dict[int, int]:
    """``{i: j}`` for graph nodes where ``nodes[i]`` calls a ReLU convolution on one tensor and ``nodes[j]``
    max-pools its output, which nothing else reads (not another node, not a model output)."""
    readers: dict[int, int] = {}
    for node in nodes:
        for t in node.input_tensors:
            readers[id(t)] = readers.get(id(t), 0) + 1
    for t in outputs:
        readers[id(t)] = readers.get(id(t), 0) + 1
    producer = {id(t): i for i, node in enumerate(nodes) for t in node.output_tensors}
    found = {}
    for j, pool_node in enumerate(nodes):
        if len(pool_node.call_args) != 1 or pool_node.call_kwargs or len(pool_node.input_tensors) != 1:
            continue
        source = pool_node.input_tensors[0]
        i = producer.get(id(source))
        if i is None or readers[id(source)] != 1:
            continue
        conv_node = nodes[i]
        if (len(conv_node.call_args) == 1 and not conv_node.call_kwargs and len(conv_node.input_tensors) == 1
                and len(conv_node.output_tensors) == 1 and conv_node.output_tensors[0] is source
                and _is_relu_pool(conv_node.operation, pool_node.operation)):
            found[i] = j
    return found


def pool_first_applies(conv: BaseConv, x: Any) -> bool:
    """Whether this call of ``conv`` may leave its ReLU until after the pooling."""
    return (isinstance(x, torch.Tensor) and conv.built and conv.activation is activations.relu
            and x.dtype == conv._compute_torch_dtype
            and conv.activity_regularizer is None and conv._remat_mode is None and not conv._mixed
            and not conv._forward_hooks and not conv._forward_pre_hooks
            and not (layer_module._CALL_STACK and layer_module._CALL_STACK[-1].autocast is not None)
            and not symbolic.in_fake_run())


def conv_pool_relu(conv: BaseConv, pool: BasePooling, x: torch.Tensor) -> torch.Tensor:
    """``pool(conv(x))`` with the convolution's ReLU applied after the pooling."""
    conv._check_input_spec(x)
    return torch.relu(pool(conv._convolve(x)))
