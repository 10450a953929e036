"""``keras.Operation`` (the base of layers and ops) and ``keras.Function`` (a graph of operations).

An ``Operation`` computes eagerly on tensors and records a graph node on ``KerasTensor`` inputs. Layers are
``Operation``s too (registered as virtual subclasses, since cornu's ``Layer`` derives from
``torch.nn.Module``), and so are the wrappers that record ``keras.ops`` functions in functional graphs.
"""
from __future__ import annotations

import abc
from typing import Any

import torch

from cornu import symbolic
from cornu.symbolic import KerasTensor
from cornu.utils import naming, tree


class Operation(abc.ABC):  # an ABC only so that layers can be registered as virtual subclasses
    """A computation with ``call`` (on tensors) and ``compute_output_spec`` (on ``KerasTensor``s)."""

    def __init__(self, name: str | None = None):
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError(f"Argument `name` must be a string and cannot contain character `/`. "
                             f"Received: name={name!r} (of type {type(name)})")
        self.name = name or naming.uniquify(naming.to_snake_case(type(self).__name__))
        self._inbound_nodes: list = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if symbolic.is_symbolic(*args, **kwargs):
            return self.symbolic_call(*args, **kwargs)
        return self.call(*args, **kwargs)

    def call(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement `call()`.")

    def symbolic_call(self, *args: Any, **kwargs: Any) -> Any:
        """Record a graph node for this call and return its symbolic outputs."""
        outputs = self.compute_output_spec(*args, **kwargs)
        symbolic.Node(self, args, kwargs, outputs)
        return outputs

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        """Output ``KerasTensor``s, by default from running ``call`` on shape-only (fake) tensors."""
        return symbolic.compute_output_spec(self.call, args, kwargs)

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "Operation":
        return cls(**config)

    def _node_tensors(self, which: str) -> Any:
        if not self._inbound_nodes:
            raise AttributeError(f"Operation {self.name!r} has never been called on symbolic inputs, so it has "
                                 f"no {which}.")
        node = self._inbound_nodes[0]
        return node.input_tensors[0] if which == "input" else node.outputs

    @property
    def input(self) -> Any:
        return self._node_tensors("input")

    @property
    def output(self) -> Any:
        return self._node_tensors("output")

    def __repr__(self) -> str:
        return f"<Operation name={self.name}>"


class Function(Operation):
    """The graph of operations from ``inputs`` to ``outputs`` (``KerasTensor`` structures), callable on data."""

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None):
        from cornu.models.functional import topological_nodes

        super().__init__(name=name)
        self._inputs_struct = tree.map_structure(lambda t: t, inputs)
        self._outputs_struct = tree.map_structure(lambda t: t, outputs)
        self._inputs = tree.flatten(inputs)
        self._outputs = tree.flatten(outputs)
        for t in self._inputs + self._outputs:
            if not isinstance(t, KerasTensor):
                raise ValueError(f"All `inputs` and `outputs` of a Function must be KerasTensors. Received: {t!r}")
        self._nodes = topological_nodes(self._inputs, self._outputs)

    @property
    def inputs(self) -> list:
        return list(self._inputs)

    @property
    def outputs(self) -> list:
        return list(self._outputs)

    @property
    def operations(self) -> list:
        """The operations of the graph, inputs' layers first, in execution order."""
        out: list = []
        for t in self._inputs:
            if t._node is not None and all(t._node.operation is not o for o in out):
                out.append(t._node.operation)
        for node in self._nodes:
            if all(node.operation is not o for o in out):
                out.append(node.operation)
        return out

    def call(self, inputs: Any) -> Any:
        flat = tree.flatten(inputs)
        if len(flat) != len(self._inputs):
            raise ValueError(f"Function {self.name!r} expects {len(self._inputs)} input(s), received {len(flat)}.")
        values = {id(t): v if isinstance(v, (torch.Tensor, KerasTensor)) else torch.as_tensor(v)
                  for t, v in zip(self._inputs, flat)}

        def lookup(a):
            return values[id(a)] if isinstance(a, KerasTensor) else a

        for node in self._nodes:
            if all(id(t) in values for t in node.output_tensors):
                continue
            outs = node.operation(*tree.map_structure(lookup, node.call_args),
                                  **tree.map_structure(lookup, node.call_kwargs))
            for kt, o in zip(node.output_tensors, tree.flatten(outs)):
                values[id(kt)] = o
        return tree.map_structure(lambda t: values[id(t)], self._outputs_struct)

    def __call__(self, inputs: Any) -> Any:
        return self.call(inputs)

    def compute_output_spec(self, inputs: Any) -> Any:
        return symbolic.compute_output_spec(self.call, (inputs,), {})

    def compute_output_shape(self, input_shape: Any) -> Any:
        from cornu.tree import map_shape_structure

        specs = map_shape_structure(KerasTensor, input_shape)
        return tree.map_structure(lambda t: t.shape, self.compute_output_spec(specs))

    def get_config(self) -> dict:
        raise NotImplementedError("A Function's graph has no config of its own; rebuild it from its inputs and "
                                  "outputs (or wrap it in a functional `keras.Model` to save it).")


def _register_virtual_subclasses() -> None:
    from cornu.layers.layer import Layer

    Operation.register(Layer)
    Operation.register(symbolic.Operation)


_register_virtual_subclasses()
