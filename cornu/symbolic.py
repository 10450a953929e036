"""Symbolic tensors for the functional API.

A ``KerasTensor`` carries a shape (batch dimension ``None``), a dtype and the
``Node`` that produced it. Calling a layer or a ``keras.ops`` function on
KerasTensors records a node instead of computing. Output shapes come from the
layer's own ``compute_output_shape`` when it has one, otherwise from running
the computation on torch *fake* tensors (shapes and dtypes only, no data, no
FLOPs), with a sentinel size standing in for each unknown dimension.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable

import torch
from torch._subclasses.fake_tensor import FakeTensorMode, unset_fake_temporarily

from cornu import config
from cornu.utils import tree

# Stand-in sizes for unknown (None) dimensions during fake runs: large primes, so an
# output dimension derived from an unknown one is recognisable. Shape inference runs
# twice, once per sentinel, when any input dimension is unknown; output dimensions
# that differ between the runs are unknown too (this catches arithmetic such as
# pooling's ``n // 2``).
SENTINELS = (7919, 7927)
_SENTINEL_NOW: list[int] = []


def current_sentinel() -> int:
    """The stand-in size of the fake run in progress."""
    return _SENTINEL_NOW[-1] if _SENTINEL_NOW else SENTINELS[0]


class Node:
    """One call of an operation (layer or op) on symbolic inputs."""

    def __init__(self, operation: Any, call_args: tuple, call_kwargs: dict, outputs: Any):
        self.operation = operation
        self.call_args = call_args
        self.call_kwargs = call_kwargs
        self.filled_mask = False  # ``call_kwargs["mask"]`` is the input's mask, filled in as Keras records it
        self.outputs = outputs
        self.input_tensors = [t for t in tree.flatten((call_args, call_kwargs)) if isinstance(t, KerasTensor)]
        self.output_tensors = [t for t in tree.flatten(outputs) if isinstance(t, KerasTensor)]
        for i, t in enumerate(self.output_tensors):
            t._node = self
            t._index = i
        if hasattr(operation, "_inbound_nodes"):
            operation._inbound_nodes.append(self)
        if hasattr(operation, "compute_mask") and self.output_tensors:
            _attach_layer_masks(self)

    @property
    def parent_nodes(self) -> list["Node"]:
        return [t._node for t in self.input_tensors if t._node is not None]


class KerasTensor:
    """A symbolic placeholder: shape, dtype and the node that produced it."""

    def __init__(self, shape, dtype: Any = None, name: str | None = None, sparse: bool = False):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = config.standardize_dtype(dtype)
        self.name = name
        self.sparse = sparse
        self._node: Node | None = None
        self._index = 0
        # The symbolic mask (a boolean KerasTensor) this tensor carries, as ``_keras_mask`` on real tensors.
        self._keras_mask: KerasTensor | None = None
        self._mask_known = False  # set once shape inference has also inferred the mask

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __hash__(self) -> int:
        return id(self)

    def __bool__(self) -> bool:
        raise TypeError("A symbolic KerasTensor cannot be used as a Python bool.")

    def __len__(self) -> int:
        raise TypeError("A symbolic KerasTensor has no len(); use `keras.ops.shape(x)`.")

    def __iter__(self):
        raise TypeError("A symbolic KerasTensor is not iterable.")

    def __array__(self, *args, **kwargs):
        raise TypeError(
            "A KerasTensor is symbolic: it is a placeholder for a shape and a dtype and has no "
            "value. You can only use it as input to a Keras layer or a keras.ops function."
        )

    def _op(self, name: str, *args):
        from cornu import ops

        return getattr(ops, name)(*args)

    def __add__(self, o): return self._op("add", self, o)
    def __radd__(self, o): return self._op("add", o, self)
    def __sub__(self, o): return self._op("subtract", self, o)
    def __rsub__(self, o): return self._op("subtract", o, self)
    def __mul__(self, o): return self._op("multiply", self, o)
    def __rmul__(self, o): return self._op("multiply", o, self)
    def __truediv__(self, o): return self._op("divide", self, o)
    def __rtruediv__(self, o): return self._op("divide", o, self)
    def __floordiv__(self, o): return self._op("floor_divide", self, o)
    def __rfloordiv__(self, o): return self._op("floor_divide", o, self)
    def __mod__(self, o): return self._op("mod", self, o)
    def __rmod__(self, o): return self._op("mod", o, self)
    def __pow__(self, o): return self._op("power", self, o)
    def __rpow__(self, o): return self._op("power", o, self)
    def __matmul__(self, o): return self._op("matmul", self, o)
    def __rmatmul__(self, o): return self._op("matmul", o, self)
    def __neg__(self): return self._op("negative", self)
    def __pos__(self): return self
    def __abs__(self): return self._op("abs", self)
    def __invert__(self): return self._op("logical_not", self)
    def __lt__(self, o): return self._op("less", self, o)
    def __le__(self, o): return self._op("less_equal", self, o)
    def __gt__(self, o): return self._op("greater", self, o)
    def __ge__(self, o): return self._op("greater_equal", self, o)
    def __and__(self, o): return self._op("logical_and", self, o)
    def __or__(self, o): return self._op("logical_or", self, o)
    def __xor__(self, o): return self._op("logical_xor", self, o)

    def __getitem__(self, key):
        from cornu.ops.core import _getitem

        return _getitem(self, key)

    @property
    def T(self):
        return self._op("transpose", self)

    def reshape(self, *shape):
        return self._op("reshape", self, shape[0] if len(shape) == 1 else shape)

    def astype(self, dtype):
        return self._op("cast", self, dtype)


def is_symbolic(*args: Any, **kwargs: Any) -> bool:
    """True when any leaf of the arguments is a KerasTensor."""
    return any(isinstance(t, KerasTensor) for t in tree.flatten((args, kwargs)))


# ---------------------------------------------------------------- fake runs
_FAKE_MODE: list[FakeTensorMode] = []


def in_fake_run() -> bool:
    """True while a shape-inference fake run is executing."""
    return bool(_FAKE_MODE)


@contextlib.contextmanager
def real_mode():
    """Leave fake mode temporarily (creating real weights during a fake run)."""
    with unset_fake_temporarily():
        yield


def shape_from_fake(shape) -> tuple:
    """Map sentinel-derived dimensions of a fake tensor back to ``None``."""
    s = current_sentinel()
    return tuple(None if (d % s == 0 and d != 0) else int(d) for d in shape)


def _materialize(kt: KerasTensor, sentinel: int, origins: dict[int, KerasTensor]) -> torch.Tensor:
    """A fake tensor standing in for ``kt`` (and one for its mask); ``origins`` maps each back to its KerasTensor."""
    if kt.dtype == "string":
        raise TypeError(f"A string KerasTensor {kt!r} has no torch stand-in: a layer that takes text must infer its "
                        "output by `compute_output_spec` or `compute_output_shape` (as TextVectorization does).")
    shape = [sentinel if d is None else d for d in kt.shape]
    t = torch.empty(shape, dtype=config.torch_dtype(kt.dtype), device=config.device())
    origins[id(t)] = kt
    if isinstance(kt._keras_mask, KerasTensor):
        t._keras_mask = _materialize(kt._keras_mask, sentinel, origins)
    return t


def _fake_run(fn: Callable, args: tuple, kwargs: dict, sentinel: int) -> tuple[Any, dict[int, KerasTensor]]:
    mode = FakeTensorMode(allow_non_fake_inputs=True)
    _FAKE_MODE.append(mode)
    _SENTINEL_NOW.append(sentinel)
    origins: dict[int, KerasTensor] = {}
    try:
        with mode:
            fake_args, fake_kwargs = tree.map_structure(
                lambda a: _materialize(a, sentinel, origins) if isinstance(a, KerasTensor) else a, (args, kwargs))
            return fn(*fake_args, **fake_kwargs), origins
    finally:
        _FAKE_MODE.pop()
        _SENTINEL_NOW.pop()


def compute_output_spec(fn: Callable, args: tuple, kwargs: dict) -> Any:
    """Run ``fn`` on fake tensors standing in for the KerasTensors; return KerasTensors."""
    first, origins = _fake_run(fn, args, kwargs, SENTINELS[0])
    unknown = any(d is None for t in tree.flatten((args, kwargs)) if isinstance(t, KerasTensor) for d in t.shape)
    second = _fake_run(fn, args, kwargs, SENTINELS[1])[0] if unknown else first
    specs = []
    for a, b in zip(tree.flatten(first), tree.flatten(second)):
        if isinstance(a, torch.Tensor):
            spec = _spec_of(a, b, unknown)
            if id(a) not in origins:
                # The mask the run left on a new output. An output that *is* an input object says nothing
                # about its own mask (layers decide that by ``compute_mask``, see ``_attach_layer_masks``).
                mask_a, mask_b = getattr(a, "_keras_mask", None), getattr(b, "_keras_mask", None)
                if isinstance(mask_a, torch.Tensor) and isinstance(mask_b, torch.Tensor):
                    known = origins.get(id(mask_a))
                    spec._keras_mask = known if known is not None else _spec_of(mask_a, mask_b, unknown)
                spec._mask_known = True
            specs.append(spec)
        else:
            specs.append(a)
    return tree.pack_sequence_as(first, specs)


def _spec_of(a: torch.Tensor, b: torch.Tensor, unknown: bool) -> KerasTensor:
    """The KerasTensor for a fake result ``a`` (first sentinel) and ``b`` (second): differing sizes are unknown."""
    shape = tuple(None if (da != db or (unknown and da % SENTINELS[0] == 0 and da)) else int(da)
                  for da, db in zip(a.shape, b.shape))
    return KerasTensor(shape, dtype=a.dtype)


def _attach_layer_masks(node: Node) -> None:
    """Run a layer's ``compute_mask`` at graph-construction time; the mask travels on its symbolic outputs.

    Outputs inferred by a fake run already carry the mask the layer set
    there; layers that infer shapes without running (``compute_output_shape``)
    get theirs here, as ``compute_mask`` on the symbolic inputs and mask. A
    layer whose ``compute_mask`` is written with ``cornu.ops`` (``_mask_from_ops``)
    always gets it here: its mask is then an op node of the graph, as in Keras.
    """
    from cornu.layers.layer import _mask_of, _set_mask

    op = node.operation
    if not hasattr(op, "_first_arg"):
        return
    from_ops = getattr(op, "_mask_from_ops", False)
    if any(t._mask_known for t in node.output_tensors) and not from_ops:
        return
    inputs = op._first_arg(node.call_args, node.call_kwargs)
    mask = node.call_kwargs.get("mask")
    if mask is None:
        mask = _mask_of(inputs)
    if from_ops:
        _set_mask(node.outputs, op.compute_mask(inputs, mask))
        return
    if mask is None and not getattr(op, "_computes_own_mask", False):
        return
    if mask is not None and type(op).compute_mask is _base_compute_mask():
        out_mask = mask if getattr(op, "supports_masking", False) else None
    else:
        out_mask = _mask_spec(lambda x, m: op.compute_mask(x, m), inputs, mask)
    _set_mask(node.outputs, out_mask)


def _mask_spec(compute_mask: Callable, inputs: Any, mask: Any) -> Any:
    """Symbolic output mask(s) of ``compute_mask``: a mask passed through as it came is the same KerasTensor (so
    a mask that is a node of the graph stays one downstream), any other is inferred by a fake run."""
    result, origins = _fake_run(compute_mask, (inputs, mask), {}, SENTINELS[0])
    leaves = tree.flatten(result)
    if all(t is None or (isinstance(t, torch.Tensor) and id(t) in origins) for t in leaves):
        return tree.map_structure(lambda t: None if t is None else origins[id(t)], result)
    return compute_output_spec(compute_mask, (inputs, mask), {})


def _base_compute_mask():
    from cornu.layers.layer import Layer

    return Layer.compute_mask


class Operation:
    """A ``keras.ops`` function recorded in a functional graph."""

    def __init__(self, fn: Callable, name: str | None = None):
        self.fn = fn
        self.name = name or fn.__name__
        self._inbound_nodes: list[Node] = []

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Operation {self.name}>"


def symbolic_call(fn: Callable, args: tuple, kwargs: dict, name: str | None = None) -> Any:
    """Record ``fn(*args, **kwargs)`` as a graph node and return symbolic outputs."""
    outputs = compute_output_spec(fn, args, kwargs)
    Node(Operation(fn, name), args, kwargs, outputs)
    return outputs


def _op_name(function: str) -> str:
    """A new op object's name, as Keras names them: from the op class the Keras function builds (``not_equal``,
    then ``not_equal_1``...; ``silu`` for ``swish``), counted with the layer names (reset by clear_session)."""
    from cornu.saving.keras_op_classes import KERAS_OP_CLASSES
    from cornu.utils import naming

    if function == "_getitem":  # ``x[key]`` on a KerasTensor, Keras's GetItem
        return naming.uniquify("get_item")
    entry = KERAS_OP_CLASSES.get(function)
    return naming.uniquify(naming.to_snake_case(entry[1]) if entry else function)


def symbolic_op(fn: Callable) -> Callable:
    """Decorate a ``keras.ops`` function so that KerasTensor arguments build a graph node."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if is_symbolic(*args, **kwargs):
            return symbolic_call(fn, args, kwargs, name=_op_name(fn.__name__))
        return fn(*args, **kwargs)

    return wrapper
