"""``Functional``: a model defined by a graph of layer calls on ``keras.Input`` tensors."""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from cornu.layers.input_layer import InputLayer
from cornu.layers import layer as layer_module
from cornu.layers.layer import Layer
from cornu.models import layer_fusion
from cornu.models.model import Model
from cornu.symbolic import KerasTensor, Node
from cornu.utils import tree


def _check_tensors(struct: Any, what: str) -> list[KerasTensor]:
    flat = tree.flatten(struct)
    for t in flat:
        if not isinstance(t, KerasTensor):
            raise ValueError(f"All `{what}` of a functional model must be KerasTensors (from `keras.Input` or "
                             f"layer calls on them). Received: {t!r:.200}")
    return flat


def _tensor_name(t: KerasTensor) -> str:
    node = t._node
    op = node.operation if node is not None else None
    return f"{getattr(op, 'name', '?')}" + (f"[{t._index}]" if t._index else "")


def topological_nodes(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> list[Node]:
    """Nodes from ``inputs`` to ``outputs`` in execution order; errors for a disconnected graph."""
    input_ids = {id(t) for t in inputs}
    order: list[Node] = []
    state: dict[int, int] = {}
    reached_inputs: set[int] = set()

    def visit(t: KerasTensor, consumer: Node | None):
        if id(t) in input_ids:
            reached_inputs.add(id(t))
            return
        node = t._node
        if node is None or isinstance(node.operation, InputLayer):
            user = getattr(consumer.operation, "name", "?") if consumer else "the outputs"
            raise ValueError(
                f"Graph disconnected: cannot find parent for tensor {t!r} (from {_tensor_name(t)!r}) at layer "
                f"{user!r}. It is not one of the model's inputs {[_tensor_name(i) for i in inputs]}: pass it "
                "in `inputs=` or build it from them.")
        if state.get(id(node)) == 2:
            return
        if state.get(id(node)) == 1:
            raise ValueError(f"The functional graph has a cycle at {getattr(node.operation, 'name', '?')!r}.")
        state[id(node)] = 1
        for parent in node.input_tensors:
            visit(parent, node)
        state[id(node)] = 2
        order.append(node)

    for out in outputs:
        visit(out, None)
    unused = [t for t in inputs if id(t) not in reached_inputs]
    if unused:
        raise ValueError(f"Input {_tensor_name(unused[0])!r} ({unused[0]!r}) is not connected to any model "
                         "output: every input must be used to compute the outputs.")
    return order


def keras_layer_order(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> list[Layer]:
    """The graph's layers in Keras's order (``model.layers``, and so ``weights`` and legacy ``.h5`` positions).

    Deepest first -- a layer's depth is the longest chain of nodes from it to an output, raised to the depth of
    its other nodes when shared -- and, at equal depth, in the order a depth-first walk from the outputs first
    reaches them (each node's inputs in call order, stopping at the model's inputs).
    """
    input_ids = {id(t) for t in inputs}
    first_seen: dict[int, int] = {}
    ops: dict[int, Any] = {}
    finished: set[int] = set()
    post_order: list[tuple[Node, bool]] = []  # (node, expanded): each node after everything it reads
    stack: list[tuple[bool, Any]] = [(False, t) for t in reversed(outputs)]
    while stack:
        done, item = stack.pop()
        if done:
            if id(item) not in finished:
                finished.add(id(item))
                post_order.append((item, True))
            continue
        node = item._node
        if node is None or id(node) in finished:
            continue
        first_seen.setdefault(id(node.operation), len(first_seen))
        ops[id(node.operation)] = node.operation
        if id(item) in input_ids or not node.input_tensors:
            finished.add(id(node))
            post_order.append((node, False))
            continue
        stack.append((True, node))
        stack.extend((False, t) for t in reversed(node.input_tensors))
    node_depth: dict[int, int] = {}
    op_depth: dict[int, int] = {}
    for node, expanded in reversed(post_order):
        depth = max(node_depth.get(id(node), 0), op_depth.get(id(node.operation), 0))
        node_depth[id(node)] = op_depth[id(node.operation)] = depth
        for t in node.input_tensors if expanded else ():
            if t._node is not None:
                node_depth[id(t._node)] = max(node_depth.get(id(t._node), 0), depth + 1)
    ranked = sorted(op_depth, key=lambda k: (-op_depth[k], first_seen[k]))
    return [ops[k] for k in ranked if isinstance(ops[k], Layer)]


def adjust_input_rank(spec: tuple, x: Any) -> Any:
    """Keras's leniency: an input one trailing size-1 axis short of (or beyond) its ``Input`` is fitted to it."""
    shape = getattr(x, "shape", None)
    if shape is None or not isinstance(x, (torch.Tensor, np.ndarray)):  # NumPy: string inputs
        return x
    if len(shape) == len(spec) - 1 and spec[-1] == 1:
        return x[..., None]
    if len(shape) == len(spec) + 1 and shape[-1] == 1:
        return x[..., 0]
    return x


def check_input_shapes(model_name: str, expected: list[tuple], inputs: list) -> None:
    """Raise Keras's ValueError when an input's rank or a fixed dimension differs from its ``Input``."""
    for i, (spec, x) in enumerate(zip(expected, inputs)):
        x = adjust_input_rank(spec, x)
        shape = getattr(x, "shape", None)
        if shape is None:
            continue
        if len(shape) != len(spec) or any(
                s is not None and d is not None and s != d for s, d in zip(spec[1:], tuple(shape)[1:])):
            raise ValueError(f'Input {i} of layer "{model_name}" is incompatible with the layer: expected '
                             f"shape={spec}, found shape={tuple(shape)}")


def _prepare_masks(tensors: list[KerasTensor], values: dict, masks: dict) -> bool:
    """Put on the value of each of ``tensors`` exactly the mask the graph gives it; True when any has one.

    Masks are carried by the graph (``masks``, keyed by symbolic tensor), not
    by whatever ``_keras_mask`` a tensor object happens to hold: one object
    can stand for several graph tensors (a layer returning its input), with a
    mask on one and none on the other.
    """
    any_mask = False
    for kt in tensors:
        value = values[id(kt)]
        if not isinstance(value, torch.Tensor):
            continue
        m = masks.get(id(kt))
        if m is not None:
            value._keras_mask = m
            any_mask = True
        elif getattr(value, "_keras_mask", None) is not None:
            del value._keras_mask
    return any_mask


def _record_mask(node: Node, kt: KerasTensor, out: Any, values: dict, masks: dict) -> None:
    """Keep the real mask of ``out`` if the graph gives ``kt`` one, or if the call made a new masked tensor."""
    m = getattr(out, "_keras_mask", None)
    if m is None:
        return
    passthrough = any(values[id(t)] is out for t in node.input_tensors)
    if kt._keras_mask is not None or not passthrough:
        masks[id(kt)] = m


def _output_values(struct: Any, values: dict) -> Any:
    """The outputs' values in plain lists/tuples/dicts; a one-element list or tuple gives its tensor, as Keras."""
    if isinstance(struct, (list, tuple)) and len(struct) == 1:
        struct = struct[0]
    return _plain_values(struct, values)


def _plain_values(struct: Any, values: dict) -> Any:
    if isinstance(struct, KerasTensor):
        return values[id(struct)]
    if isinstance(struct, dict):
        return {k: _plain_values(v, values) for k, v in struct.items()}
    items = [_plain_values(v, values) for v in struct]
    return tuple(items) if isinstance(struct, tuple) else items


class Functional(Model):
    """A model whose forward pass is a recorded DAG of layer and op calls."""

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None, trainable: bool = True, **kwargs):
        Model.__init__(self, name=name, trainable=trainable, **kwargs)
        if isinstance(inputs, dict):
            inputs = {k: v for k, v in inputs.items()}
        if isinstance(outputs, dict):
            # Keras flattens dict outputs in key order: losses, metrics and logs follow it.
            outputs = dict(sorted(outputs.items()))
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self.inputs = _check_tensors(inputs, "inputs")
        self.outputs = _check_tensors(outputs, "outputs")
        if len({id(t) for t in self.inputs}) != len(self.inputs):
            raise ValueError("The same input tensor is passed more than once in `inputs`.")
        self._nodes = topological_nodes(self.inputs, self.outputs)
        layers = keras_layer_order(self.inputs, self.outputs)
        names = [l.name for l in layers]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup is not None:
            raise ValueError(f"The name {dup!r} is used 2 times in the model. All layer names should be unique.")
        self._graph_layers = list(layers)
        # Keras names outputs by their layers, even in a dict; `compile`/`fit` match dict outputs by key.
        self.output_names = [_tensor_name(t) for t in self.outputs]
        self._output_keys = list(outputs.keys()) if isinstance(outputs, dict) else None
        self.input_names = list(inputs.keys()) if isinstance(inputs, dict) else [_tensor_name(t) for t in self.inputs]
        self.built = True

    # --------------------------------------------------------------- shapes
    @property
    def input_shape(self) -> Any:
        return tree.map_structure(lambda t: t.shape, self._inputs_struct) if len(self.inputs) > 1 \
            else self.inputs[0].shape

    @property
    def output_shape(self) -> Any:
        return tree.map_structure(lambda t: t.shape, self._outputs_struct) if len(self.outputs) > 1 \
            else self.outputs[0].shape

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    @property
    def layers(self) -> list[Layer]:
        return list(self._graph_layers)

    # ----------------------------------------------------------------- call
    def _flatten_inputs(self, inputs: Any) -> list:
        n = len(self.inputs)
        if isinstance(inputs, dict):
            names = self.input_names
            missing = [k for k in names if k not in inputs]
            if missing:
                raise ValueError(f"Missing data for input {missing[0]!r} of model {self.name!r}. You passed a data "
                                 f"dictionary with keys {list(inputs)}. Expected the following keys: {names}")
            unknown = [k for k in inputs if k not in names]
            if unknown:  # Keras warns and leaves them out
                warnings.warn(f"The structure of `inputs` doesn't match the expected structure: model {self.name!r} "
                              f"has no input named {unknown[0]!r} (its inputs: {names}); it is ignored.",
                              stacklevel=2)
            return [inputs[k] for k in names]
        flat = tree.flatten(inputs)
        if len(flat) != n:
            raise ValueError(f'Layer "{self.name}" expects {n} input(s), but it received {len(flat)} input tensors. '
                             f"Expected inputs: {[t.shape for t in self.inputs]}")
        return flat

    def _check_input_spec(self, inputs: Any) -> None:
        check_input_shapes(self.name, [t.shape for t in self.inputs], self._flatten_inputs(inputs))

    def call(self, inputs, training=None, mask=None):
        values: dict[int, Any] = {}
        masks: dict[int, torch.Tensor] = {}
        flat = self._flatten_inputs(inputs)
        given = [None] * len(flat) if mask is None else (tree.flatten(mask) + [None] * len(flat))[:len(flat)]
        for kt, v, m in zip(self.inputs, flat, given):
            v = adjust_input_rank(kt.shape, v)
            values[id(kt)] = v
            m = getattr(v, "_keras_mask", None) if m is None else m
            if m is not None:
                masks[id(kt)] = m
        lookup = lambda a: values[id(a)] if isinstance(a, KerasTensor) else a
        outer_training = layer_module._CALL_STACK[-1].training if layer_module._CALL_STACK else None
        fusable, fused = self._fusable_nodes(), set()
        for i, node in enumerate(self._nodes):
            if i in fused:
                continue
            if i in fusable:
                source = node.input_tensors[0]
                x = values[id(source)]
                if id(source) not in masks and layer_fusion.pool_first_applies(node.operation, x):
                    pool_node = self._nodes[fusable[i]]
                    values[id(pool_node.output_tensors[0])] = layer_fusion.conv_pool_relu(
                        node.operation, pool_node.operation, x)
                    fused.add(fusable[i])
                    continue
            args = tree.map_structure(lookup, node.call_args)
            kwargs = tree.map_structure(lookup, node.call_kwargs)
            op = node.operation
            if outer_training is not None and "training" in kwargs:
                kwargs["training"] = outer_training  # a mode the caller gave wins over one the graph recorded
            if _prepare_masks(node.input_tensors, values, masks) and isinstance(op, Layer) and op._call_takes_mask \
                    and "mask" not in kwargs and len(op._tensor_arguments(args, kwargs)) < 2:
                first = op._first_arg(node.call_args, node.call_kwargs)
                node_mask = tree.map_structure(lambda t: masks.get(id(t)) if isinstance(t, KerasTensor) else None,
                                               first)
                if any(m is not None for m in tree.flatten(node_mask)):
                    kwargs["mask"] = node_mask
            outs = op(*args, **kwargs)
            for kt, o in zip(node.output_tensors, tree.flatten(outs)):
                values[id(kt)] = o
                _record_mask(node, kt, o, values, masks)
        _prepare_masks(self.outputs, values, masks)  # the outputs carry their graph masks to losses and metrics
        return _output_values(self._outputs_struct, values)

    def _fusable_nodes(self) -> dict[int, int]:
        """``layer_fusion.relu_pool_nodes`` of the graph, found once (a graph's nodes do not change)."""
        cached = self.__dict__.get("_fusion_cache")
        if cached is None:
            cached = self.__dict__["_fusion_cache"] = layer_fusion.relu_pool_nodes(self._nodes, self.outputs)
        return cached

    def get_build_config(self) -> dict:
        """Keras's: a functional model is built from its graph, so its build config names no shape."""
        return {"input_shape": None}

    def get_config(self) -> dict:
        from cornu.saving.functional_config import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Functional":
        from cornu.saving.functional_config import functional_from_config

        return functional_from_config(config, custom_objects=custom_objects, cls=cls)
