"""Core ``keras.ops``: tensor conversion, casting, shapes, indexing and scatter.

Also holds the small private helpers (operand conversion, dtype promotion,
axis handling) that ``numpy.py``, ``nn.py``, ``math.py`` and ``random.py``
share, so each op module stays a flat list of short functions.
"""
from __future__ import annotations

import builtins
import functools
from typing import Any, Callable

import numpy as np
import torch

from cornu import config, symbolic
from cornu.symbolic import KerasTensor
from cornu.symbolic import symbolic_op as _graph_op
from cornu.utils import dtype_utils, tree
from cornu.variables import Variable

_SCALAR_TYPES = (bool, int, float, complex)


# ------------------------------------------------------------------ helpers
# Argument types that can never hide a KerasTensor: calls made only of these skip the structure walk.
_PLAIN = frozenset({torch.Tensor, torch.nn.Parameter, int, float, bool, str, type(None), torch.dtype})


def _plain_items(items) -> bool:
    for item in items:
        if type(item) not in _PLAIN:
            return False
    return True


def _plain(values) -> bool:
    for v in values:
        t = type(v)
        if t not in _PLAIN and not ((t is list or t is tuple) and _plain_items(v)):
            return False
    return True


def symbolic_op(fn: Callable) -> Callable:
    """``cornu.symbolic.symbolic_op`` with an eager fast path for the ops in ``cornu.ops``.

    A call whose arguments are tensors, numbers, strings or flat lists of them
    goes straight to ``fn``; anything else (KerasTensors, nested structures,
    Variables, arrays) takes the general route, which records graph nodes.
    """
    graph = _graph_op(fn)

    @functools.wraps(fn)
    def op(*args, **kwargs):
        if not kwargs:  # the commonest calls: one or two plain tensors
            n = len(args)
            if n == 1 and type(args[0]) is torch.Tensor:
                return fn(args[0])
            if n == 2 and type(args[0]) is torch.Tensor and type(args[1]) is torch.Tensor:
                return fn(args[0], args[1])
        for a in args:
            t = type(a)
            if t not in _PLAIN and not ((t is list or t is tuple) and _plain_items(a)):
                return graph(*args, **kwargs)
        if kwargs and not _plain(kwargs.values()):
            return graph(*args, **kwargs)
        return fn(*args, **kwargs)

    return op


def _floatx() -> torch.dtype:
    return config.torch_dtype(config.floatx())


def _is_float(t: torch.Tensor) -> bool:
    return t.dtype.is_floating_point or t.dtype.is_complex


def _contains_tensor(x: Any) -> bool:
    if isinstance(x, (torch.Tensor, Variable)):
        return True
    if isinstance(x, (list, tuple)):
        return builtins.any(_contains_tensor(v) for v in x)
    return False


def _from_python(x: Any, device: torch.device) -> torch.Tensor:
    """Python scalars / nested lists -> tensor, with Keras's dtype choices."""
    if isinstance(x, (list, tuple)) and _contains_tensor(x):
        parts = [_tensor(v, device=device) for v in x]
        dtype = parts[0].dtype
        for p in parts[1:]:
            dtype = torch.promote_types(dtype, p.dtype)
        return torch.stack([p.to(dtype) for p in parts])
    arr = np.asarray(x)
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"Cannot convert {x!r} to a tensor: unsupported element type {arr.dtype}.")
    t = torch.from_numpy(arr if arr.flags.c_contiguous else np.array(arr, order="C"))
    if t.dtype == torch.float64:
        t = t.to(_floatx())
    elif t.dtype == torch.int64:
        t = t.to(torch.int32)
    return t.to(device)


# torch has almost no kernels for these unsigned types; Keras on torch stores them widened, and refuses uint64.
_WIDENED = {torch.uint16: torch.int32, torch.uint32: torch.int64}


def _backend_dtype(dtype: Any) -> torch.dtype:
    """The torch dtype holding Keras dtype ``dtype``, as Keras on torch chooses (uint16 -> int32 ...)."""
    dt = config.torch_dtype(dtype)
    if dt == torch.uint64:
        raise ValueError(f"Unsupported dtype for PyTorch: {dtype}")
    return _WIDENED.get(dt, dt)


def _from_numpy(x: np.ndarray | np.generic, device: torch.device) -> torch.Tensor:
    arr = np.asarray(x)
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"Cannot convert a numpy array of dtype {arr.dtype} to a tensor.")
    if arr.dtype.kind == "u" and arr.dtype.itemsize > 1:
        _backend_dtype(arr.dtype.name)  # uint64 raises
        arr = arr.astype(np.int32 if arr.dtype.itemsize == 2 else np.int64)
    if not arr.flags.writeable or not arr.flags.c_contiguous:
        arr = np.array(arr, copy=True, order="C")
    return torch.from_numpy(arr).to(device)


def _tensor(x: Any, dtype: Any = None, device: torch.device | None = None) -> torch.Tensor:
    """Any array-like to a torch tensor; existing tensors are not moved."""
    if isinstance(x, torch.Tensor):
        t = x
    elif isinstance(x, Variable):
        t = x.keras_value
    elif isinstance(x, KerasTensor):
        raise TypeError(
            "A symbolic KerasTensor cannot be converted to a concrete tensor. "
            f"Received: {x!r}"
        )
    elif isinstance(x, (np.ndarray, np.generic)):
        t = _from_numpy(x, device or config.device())
    else:
        t = _from_python(x, device or config.device())
    if dtype is not None:
        t = t.to(_backend_dtype(dtype))
    return t


def _with_scalar(dtype: torch.dtype, scalar: Any) -> torch.dtype:
    """Promote ``dtype`` with a weakly typed Python scalar: only its kind matters."""
    if isinstance(scalar, bool):
        return dtype
    if isinstance(scalar, int):
        return torch.int64 if dtype == torch.bool else dtype
    if isinstance(scalar, float):
        return dtype if (dtype.is_floating_point or dtype.is_complex) else _floatx()
    if dtype.is_complex:
        return dtype
    return torch.complex128 if dtype == torch.float64 else torch.complex64


_KERAS_TABLE: dict[tuple[torch.dtype, torch.dtype], torch.dtype] = {}


def _keras_dtype(a: torch.dtype, b: torch.dtype) -> torch.dtype:
    """Keras's ``result_type`` of two tensor dtypes (its table narrows 64-bit results to 32 bits)."""
    found = _KERAS_TABLE.get((a, b))
    if found is None:
        name = dtype_utils.result_type(config.standardize_dtype(a), config.standardize_dtype(b))
        found = _KERAS_TABLE[(a, b)] = config.torch_dtype(name)
    return found


def _weak_result_dtype(*operands: Any, keras_table: bool = False) -> torch.dtype:
    """The result dtype of an element-wise op; the one promotion rule every op goes through.

    Python scalars are weakly typed (an int tensor + 1.5 gives floatx). Tensor
    dtypes meet as torch promotes them (Keras's ``add``, ``multiply``, ``where``
    ... on torch), or, with ``keras_table``, as Keras's ``result_type`` table
    says (Keras's ``maximum``, ``matmul``, ``arctan2`` ...: 64-bit results narrowed).
    """
    tensors = [o for o in operands if isinstance(o, torch.Tensor)]
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = _keras_dtype(dtype, t.dtype) if keras_table else torch.promote_types(dtype, t.dtype)
    if keras_table and len(tensors) == 1:
        dtype = _keras_dtype(dtype, dtype)
    for o in operands:
        if not isinstance(o, torch.Tensor):
            dtype = _with_scalar(dtype, o)
    if dtype == torch.int64 and not builtins.any(t.dtype == torch.int64 for t in tensors):
        return torch.int32
    return dtype


def _operands(*xs: Any, scalars: bool = True, keras_table: bool = False) -> tuple[list, torch.dtype]:
    """Convert operands of an element-wise op; returns them and the result dtype.

    Python scalars stay scalars (weak types, no device transfer) when
    ``scalars`` is true, else they become tensors of the result dtype.
    """
    items = [x.keras_value if isinstance(x, Variable) else x for x in xs]
    anchor = next((x for x in items if isinstance(x, torch.Tensor)), None)
    device = anchor.device if anchor is not None else None
    converted = [x if isinstance(x, _SCALAR_TYPES) else _tensor(x, device=device) for x in items]
    if not builtins.any(isinstance(x, torch.Tensor) for x in converted):
        converted = [_tensor(x) for x in converted]
    device = next(x.device for x in converted if isinstance(x, torch.Tensor))
    dtype = _weak_result_dtype(*converted, keras_table=keras_table)
    # torch ops take a Python number only after a tensor, never first.
    converted = [
        x if isinstance(x, torch.Tensor) or (scalars and i > 0)
        else torch.tensor(x, dtype=dtype, device=device)
        for i, x in enumerate(converted)
    ]
    return converted, dtype


def _binary(fn: Callable, x1: Any, x2: Any, out_dtype: torch.dtype | None = None,
            scalars: bool = True, cast_inputs: bool = False, keras_table: bool = False) -> torch.Tensor:
    """Apply a torch binary op with Keras-style dtype promotion (see ``_weak_result_dtype``)."""
    if type(x1) is torch.Tensor and type(x2) is torch.Tensor and x1.dtype == x2.dtype:  # the common case
        dtype = _keras_dtype(x1.dtype, x1.dtype) if keras_table else x1.dtype
        out = fn(x1, x2)
        target = out_dtype if out_dtype is not None else dtype
        return out if out.dtype == target else out.to(target)
    (a, b), dtype = _operands(x1, x2, scalars=scalars, keras_table=keras_table)
    if cast_inputs:
        a = a.to(dtype) if isinstance(a, torch.Tensor) else a
        b = b.to(dtype) if isinstance(b, torch.Tensor) else b
    out = fn(a, b)
    target = out_dtype if out_dtype is not None else dtype
    return out if out.dtype == target else out.to(target)


def _canonical_axis(axis: int, ndim: int) -> int:
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"`axis` must be an integer. Received: axis={axis!r}")
    if not -builtins.max(ndim, 1) <= axis < builtins.max(ndim, 1):
        raise ValueError(f"axis {axis} is out of bounds for a tensor of rank {ndim}.")
    return int(axis) % builtins.max(ndim, 1)


def _canonical_axes(axis: Any, ndim: int) -> tuple[int, ...] | None:
    """``None`` stays ``None``; an int or a sequence becomes a tuple of non-negative axes."""
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)):
        axes = tuple(_canonical_axis(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"Repeated axis in `axis`: {axis!r}")
        return axes
    return (_canonical_axis(axis, ndim),)


def _shape_tuple(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    if isinstance(shape, torch.Size):
        return tuple(shape)
    if isinstance(shape, torch.Tensor):
        return tuple(int(s) for s in shape.tolist())
    try:
        return tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"Expected a shape (int or sequence of ints). Received: {shape!r}") from None


# ------------------------------------------------------------------ public
@symbolic_op
def convert_to_tensor(x: Any, dtype: Any = None, sparse: bool | None = None,
                      ragged: bool | None = None) -> torch.Tensor:
    """Convert ``x`` (array, scalar, list, Variable, tensor) to a tensor on ``config.device()``.

    NumPy arrays keep their dtype; Python floats become ``floatx()`` and
    Python ints ``int32``, as in Keras.
    """
    if sparse:
        raise ValueError("cornu does not support sparse tensors. Received: sparse=True")
    if ragged:
        raise ValueError("cornu does not support ragged tensors. Received: ragged=True")
    t = _tensor(x, dtype=dtype)
    device = config.device()
    if t.device.type != device.type:
        t = t.to(device)
    return t


def convert_to_numpy(x: Any) -> np.ndarray:
    """A NumPy copy of ``x`` (bfloat16 becomes float32, since NumPy lacks it)."""
    if isinstance(x, KerasTensor):
        raise TypeError(
            "A KerasTensor is symbolic: it has no value and cannot be converted to NumPy. "
            f"Received: {x!r}"
        )
    if isinstance(x, Variable):
        return x.numpy()
    if isinstance(x, torch.Tensor):
        t = x.detach()
        if t.dtype == torch.bfloat16:
            t = t.float()
        return t.cpu().numpy()
    return np.asarray(x)


@symbolic_op
def cast(x: Any, dtype: Any) -> torch.Tensor:
    """Cast ``x`` to ``dtype`` (uint16 / uint32 are held as int32 / int64, as Keras on torch does)."""
    return _tensor(x).to(_backend_dtype(dtype))


def shape(x: Any) -> tuple:
    """The shape as a tuple of ints (``None`` for unknown dims of a KerasTensor)."""
    if isinstance(x, (KerasTensor, Variable)):
        return tuple(x.shape)
    if isinstance(x, (torch.Tensor, np.ndarray, np.generic)):
        return tuple(int(d) for d in x.shape)
    return tuple(_tensor(x).shape)


def dtype(x: Any) -> str:
    """The Keras dtype name of ``x``."""
    if isinstance(x, (KerasTensor, Variable)):
        return x.dtype
    return config.standardize_dtype(_tensor(x).dtype)


def is_tensor(x: Any) -> bool:
    """True for torch tensors (the native tensor type of this backend)."""
    return isinstance(x, torch.Tensor)


@symbolic_op
def stop_gradient(variable: Any) -> torch.Tensor:
    """Same values, no gradient flowing back."""
    return _tensor(variable).detach()


def _index_part(k: Any, device: torch.device) -> Any:
    if isinstance(k, (builtins.slice, type(None), type(Ellipsis), int, np.integer)):
        return int(k) if isinstance(k, np.integer) else k
    if isinstance(k, (torch.Tensor, Variable, np.ndarray, list)):
        t = _tensor(k, device=device)
        if t.dtype != torch.bool and not t.is_floating_point() and t.dtype != torch.int64:
            t = t.to(torch.int64)
        return t
    raise TypeError(f"Invalid index: {k!r}")


@symbolic_op
def _getitem(x: Any, key: Any) -> torch.Tensor:
    """NumPy-style indexing ``x[key]`` (used by ``KerasTensor.__getitem__``)."""
    x = _tensor(x)
    if isinstance(key, tuple):
        key = tuple(_index_part(k, x.device) for k in key)
    else:
        key = _index_part(key, x.device)
    return x[key]


@symbolic_op
def get_item(x: Any, key: Any) -> torch.Tensor:
    """NumPy-style indexing ``x[key]``."""
    return _getitem.__wrapped__(x, key)


def _starts(start_indices: Any, rank: int) -> list:
    if isinstance(start_indices, (torch.Tensor, Variable)):
        t = _tensor(start_indices)
        starts = [t[i] for i in range(rank)]
    else:
        starts = list(start_indices)
    if len(starts) != rank:
        raise ValueError(
            f"`start_indices` must have one entry per axis ({rank}). Received: {start_indices!r}"
        )
    return starts


@symbolic_op
def slice(inputs: Any, start_indices: Any, shape: Any) -> torch.Tensor:
    """The block of size ``shape`` starting at ``start_indices`` (tensor starts allowed)."""
    x = _tensor(inputs)
    sizes = _shape_tuple(shape)
    starts = _starts(start_indices, x.ndim)
    if len(sizes) != x.ndim:
        raise ValueError(f"`shape` must have one entry per axis ({x.ndim}). Received: shape={shape!r}")
    for axis, (start, size) in enumerate(zip(starts, sizes)):
        if isinstance(start, (int, np.integer)):
            x = x.narrow(axis, int(start), size)
        else:
            idx = _tensor(start, device=x.device).to(torch.int64) + torch.arange(size, device=x.device)
            x = x.index_select(axis, idx)
    return x


@symbolic_op
def slice_update(inputs: Any, start_indices: Any, updates: Any) -> torch.Tensor:
    """A copy of ``inputs`` with the block at ``start_indices`` replaced by ``updates``."""
    x = _tensor(inputs)
    u = _tensor(updates, device=x.device).to(x.dtype)
    starts = [int(s) for s in _starts(start_indices, x.ndim)]
    if u.ndim != x.ndim:
        raise ValueError(f"`updates` must have rank {x.ndim}. Received shape {tuple(u.shape)}")
    out = x.clone()
    index = tuple(builtins.slice(s, s + n) for s, n in zip(starts, u.shape))
    out[index] = u
    return out


def _scatter_index(indices: torch.Tensor, values: torch.Tensor, shape: tuple) -> tuple:
    depth = indices.shape[-1]
    idx = indices.reshape(-1, depth).to(torch.int64)
    vals = values.reshape((-1,) + tuple(shape[depth:]))
    return tuple(idx[:, i] for i in range(depth)), vals


@symbolic_op
def scatter(indices: Any, values: Any, shape: Any) -> torch.Tensor:
    """Zeros of ``shape`` with ``values`` added at ``indices`` (shape ``(..., depth)``)."""
    v = _tensor(values)
    idx = _tensor(indices, device=v.device)
    out_shape = _shape_tuple(shape)
    out = torch.zeros(out_shape, dtype=v.dtype, device=v.device)
    index, vals = _scatter_index(idx, v, out_shape)
    return out.index_put(index, vals, accumulate=True)


_SCATTER_REDUCE = {"add": "sum", "mul": "prod", "max": "amax", "min": "amin"}


@symbolic_op
def scatter_update(inputs: Any, indices: Any, updates: Any, reduction: str | None = None) -> torch.Tensor:
    """A copy of ``inputs`` with the entries at ``indices`` replaced by ``updates``.

    With ``reduction`` ('add', 'mul', 'max' or 'min') they are combined with
    the current entries instead (repeated indices all contribute).
    """
    if reduction is not None and reduction not in _SCATTER_REDUCE:
        raise ValueError(f"Invalid reduction: {reduction}. Supported values are: None, 'add', 'max', 'min', 'mul'.")
    x = _tensor(inputs)
    idx = _tensor(indices, device=x.device)
    index, vals = _scatter_index(idx, _tensor(updates, device=x.device).to(x.dtype), tuple(x.shape))
    if reduction is None:
        return x.index_put(index, vals)
    depth = len(index)
    lead = tuple(x.shape[:depth])
    linear = torch.zeros_like(index[0])
    for i, part in enumerate(index):
        linear = linear * lead[i] + part
    flat = x.reshape((-1,) + tuple(x.shape[depth:]))
    where = linear.reshape((-1,) + (1,) * (flat.ndim - 1)).expand_as(vals)
    return flat.scatter_reduce(0, where, vals, reduce=_SCATTER_REDUCE[reduction]).reshape(x.shape)


@symbolic_op
def unstack(x: Any, num: int | None = None, axis: int = 0) -> list[torch.Tensor]:
    """Split ``x`` along ``axis`` into a list of tensors of rank ``ndim - 1``."""
    x = _tensor(x)
    axis = _canonical_axis(axis, x.ndim)
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"`num` ({num}) must equal the size of axis {axis} ({x.shape[axis]}).")
    return list(torch.unbind(x, axis))


# ------------------------------------------------------------------ control flow
def _leaf_tensor(x: Any) -> Any:
    """Python numbers and arrays become tensors (Keras dtypes); tensors and ``None`` pass through."""
    if x is None or isinstance(x, torch.Tensor):
        return x
    return _tensor(x)


def _stack_outputs(outputs: list) -> Any:
    """Stack a list of same-structured outputs leaf by leaf along a new axis 0."""
    if not outputs or outputs[0] is None:
        return None
    columns = zip(*(tree.flatten(o) for o in outputs))
    return tree.pack_sequence_as(outputs[0], [torch.stack([_tensor(v) for v in col]) for col in columns])


def _leading_size(leaves: list, length: int | None) -> int:
    sizes = {int(leaf.shape[0]) for leaf in leaves}
    if len(sizes) > 1:
        raise ValueError(f"All `xs` must have the same leading dimension. Received sizes {sorted(sizes)}")
    if length is not None and sizes and length not in sizes:
        raise ValueError(f"`length` ({length}) must equal the leading dimension of `xs` ({sizes.pop()}).")
    return sizes.pop() if sizes else int(length)


def _symbolic(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """KerasTensor outputs for a control-flow call on KerasTensors (``fn`` then runs on fake tensors)."""
    return symbolic.symbolic_call(fn, args, kwargs, name=fn.__name__)


def _compiling() -> bool:
    return torch.compiler.is_compiling()


def _same_kind(outputs: list, what: str) -> None:
    """All branch outputs share one structure, shapes and dtypes (checked during symbolic runs, as Keras)."""
    def kind(out):
        return [(tuple(v.shape), config.standardize_dtype(v.dtype)) if isinstance(v, (torch.Tensor, KerasTensor))
                else type(v) for v in tree.flatten(out)]
    first = kind(outputs[0])
    for out in outputs[1:]:
        if kind(out) != first:
            raise ValueError(f"{what} should return outputs of the same kind (struct, dtype and shape). "
                             f"Got {first} and {kind(out)}")


def _fresh(fn: Callable, *args: Any) -> Callable:
    """A branch for ``torch.cond``, which refuses outputs aliasing its inputs: such outputs are copied."""
    def branch() -> Any:
        return tree.map_structure(lambda v: v.clone() if isinstance(v, torch.Tensor) else v, fn(*args))
    return branch


def cond(pred: Any, true_fn: Callable, false_fn: Callable) -> Any:
    """``true_fn()`` when ``pred`` holds, else ``false_fn()``.

    Eagerly ``pred`` is read on the host; inside ``torch.compile`` a tensor
    ``pred`` becomes ``torch.cond`` (no graph break); on KerasTensors both
    branches are traced and must agree in structure, shapes and dtypes.
    """
    if isinstance(pred, KerasTensor):
        return _symbolic(cond, pred, true_fn, false_fn)
    if symbolic.in_fake_run() and isinstance(pred, torch.Tensor):
        outputs = [true_fn(), false_fn()]
        _same_kind(outputs, "`true_fn` and `false_fn`")
        return outputs[0]
    if _compiling() and isinstance(pred, torch.Tensor):
        return torch.cond(pred.reshape(()).to(torch.bool), _fresh(true_fn), _fresh(false_fn), ())
    return true_fn() if bool(pred if isinstance(pred, bool) else _tensor(pred)) else false_fn()


def switch(index: Any, branches: list, *operands: Any) -> Any:
    """``branches[index](*operands)``, with ``index`` clamped into ``[0, len(branches) - 1]``."""
    if not branches:
        raise ValueError("`branches` must contain at least one callable. Received: branches=[]")
    if symbolic.is_symbolic(index, operands):
        return _symbolic(switch, index, branches, *operands)
    if symbolic.in_fake_run() and isinstance(index, torch.Tensor):
        outputs = [b(*operands) for b in branches]
        _same_kind(outputs, "All branches")
        return outputs[0]
    if _compiling() and isinstance(index, torch.Tensor):
        def pick(i: torch.Tensor, k: int) -> Any:
            if k == len(branches) - 1:
                return branches[k](*operands)
            return torch.cond(i <= k, _fresh(branches[k], *operands), _fresh(pick, i, k + 1), ())
        return pick(index.reshape(()), 0)
    i = int(index if isinstance(index, (int, np.integer)) else _tensor(index))
    return branches[builtins.min(builtins.max(i, 0), len(branches) - 1)](*operands)


def _as_state(loop_vars: Any) -> tuple[bool, tuple]:
    is_seq = isinstance(loop_vars, (list, tuple))
    state = tuple(loop_vars) if is_seq else (loop_vars,)
    return is_seq, tuple(tree.map_structure(_leaf_tensor, v) for v in state)


def while_loop(cond: Callable, body: Callable, loop_vars: Any, maximum_iterations: int | None = None) -> Any:
    """Run ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``; returns the final ``loop_vars``.

    A tuple or list of variables is unpacked into the calls and comes back as
    a tuple; any other value (a tensor, a dict) is passed and returned whole.
    Inside ``torch.compile`` the loop is torch's ``while_loop`` (one graph, no
    break); on KerasTensors the result has the specs of ``loop_vars``.
    """
    if symbolic.is_symbolic(loop_vars):
        return _symbolic(while_loop, cond, body, loop_vars, maximum_iterations=maximum_iterations)
    is_seq, state = _as_state(loop_vars)
    if symbolic.in_fake_run():
        return state if is_seq else state[0]
    if _compiling():
        return _compiled_while(cond, body, state, is_seq, maximum_iterations)
    steps = 0
    while (maximum_iterations is None or steps < maximum_iterations) and bool(cond(*state)):
        out = body(*state)
        state = tuple(out) if is_seq and isinstance(out, (list, tuple)) else (out,)
        steps += 1
    return state if is_seq else state[0]


def _compiled_while(cond: Callable, body: Callable, state: tuple, is_seq: bool,
                    maximum_iterations: int | None) -> Any:
    """``while_loop`` as torch's while-loop operator: flat tensor carries plus an iteration counter."""
    from torch._higher_order_ops.while_loop import while_loop as torch_while

    leaves = tree.flatten(state)
    limit = -1 if maximum_iterations is None else int(maximum_iterations)

    def unpack(flat):
        return tree.pack_sequence_as(state, list(flat))

    def keep_going(step, *flat):
        go = cond(*unpack(flat))
        go = _tensor(go, device=step.device).reshape(()).to(torch.bool)
        return go & ((step < limit) | (limit < 0))

    def advance(step, *flat):
        out = body(*unpack(flat))
        out = tuple(out) if is_seq and isinstance(out, (list, tuple)) else (out,)
        return (step + 1,) + tuple(_tensor(v).to(leaf.dtype) for v, leaf in zip(tree.flatten(out), leaves))

    device = leaves[0].device if leaves else config.device()
    result = torch_while(keep_going, advance, (torch.zeros((), dtype=torch.int64, device=device),) + tuple(leaves))
    final = unpack(result[1:])
    return final if is_seq else final[0]


def fori_loop(lower: Any, upper: Any, body_fun: Callable, init_val: Any) -> Any:
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``; returns the final ``val``.

    Python-int bounds unroll (and compile without breaks); tensor bounds run
    through ``while_loop``.
    """
    if symbolic.is_symbolic(lower, upper, init_val):
        return _symbolic(fori_loop, lower, upper, body_fun, init_val)
    if isinstance(lower, (int, np.integer)) and isinstance(upper, (int, np.integer)):
        val = init_val
        for i in range(int(lower), int(upper)):
            val = body_fun(i, val)
        return val
    if symbolic.in_fake_run():
        return tree.map_structure(_leaf_tensor, init_val)
    if _compiling():
        i, val = while_loop(lambda i, v: i < upper, lambda i, v: (i + 1, body_fun(i, v)),
                            (_tensor(lower), init_val))
        return val
    val = init_val
    for i in range(int(_tensor(lower)), int(_tensor(upper))):
        val = body_fun(i, val)
    return val


def _broadcast_leading(value: Any, n: int) -> Any:
    """Fake-run stand-in for stacking ``n`` results shaped like ``value``."""
    if value is None:
        return None
    return tree.map_structure(lambda v: _tensor(v).unsqueeze(0).expand((n,) + tuple(_tensor(v).shape)), value)


def scan(f: Callable, init: Any, xs: Any = None, length: int | None = None, reverse: bool = False,
         unroll: int | bool = 1) -> tuple[Any, Any]:
    """Carry a state through ``(carry, y) = f(carry, x)`` over the leading axis of ``xs``.

    Returns the final carry and the ``y`` values stacked along a new axis 0
    (``None`` when ``f`` yields ``None``). Without ``xs``, ``f`` gets ``None``
    ``length`` times. ``unroll`` only matters to compilers; the loop runs eagerly
    (and is unrolled inside ``torch.compile``).
    """
    if xs is None and length is None:
        raise ValueError("Got no `xs` to scan over and `length` not provided.")
    if symbolic.is_symbolic(init, xs):
        return _symbolic(scan, f, init, xs, length=length, reverse=reverse, unroll=unroll)
    xs = None if xs is None else tree.map_structure(_leaf_tensor, xs)
    leaves = [] if xs is None else [leaf for leaf in tree.flatten(xs) if leaf is not None]
    n = _leading_size(leaves, length)
    carry = tree.map_structure(_leaf_tensor, init)
    if symbolic.in_fake_run():
        carry, y = f(carry, None if xs is None else tree.map_structure(lambda leaf: leaf[0], xs))
        return tree.map_structure(_leaf_tensor, carry), _broadcast_leading(y, n)
    ys = []
    for i in (reversed(range(n)) if reverse else range(n)):
        x = None if xs is None else tree.map_structure(lambda leaf: leaf[i], xs)
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    return carry, _stack_outputs(ys)


def map(f: Callable, xs: Any) -> Any:
    """``f`` applied to each slice of ``xs`` along axis 0, the results stacked."""
    if symbolic.is_symbolic(xs):
        return _symbolic(map, f, xs)
    xs = tree.map_structure(_leaf_tensor, xs)
    n = _leading_size(tree.flatten(xs), None)
    if symbolic.in_fake_run():
        return _broadcast_leading(f(tree.map_structure(lambda leaf: leaf[0], xs)), n)
    return _stack_outputs([f(tree.map_structure(lambda leaf: leaf[i], xs)) for i in range(n)])


def vectorized_map(function: Callable, elements: Any) -> Any:
    """``map`` as one batched call, through ``torch.vmap`` over axis 0 of every leaf."""
    if symbolic.is_symbolic(elements):
        return _symbolic(vectorized_map, function, elements)
    return torch.vmap(function)(tree.map_structure(_leaf_tensor, elements))


def associative_scan(f: Callable, elems: Any, reverse: bool = False, axis: int = 0) -> Any:
    """Inclusive scan of the associative ``f`` along ``axis`` (``log2(n)`` batched calls of ``f``).

    ``reverse`` scans the flipped sequence and flips the result back, as JAX does
    (so ``f`` sees later elements as its left operand).
    """
    if symbolic.is_symbolic(elems):
        return _symbolic(associative_scan, f, elems, reverse=reverse, axis=axis)
    leaves = [_tensor(leaf) for leaf in tree.flatten(elems)]
    axis = _canonical_axis(axis, leaves[0].ndim)
    n = int(leaves[0].shape[axis])
    if builtins.any(int(leaf.shape[axis]) != n for leaf in leaves):
        raise ValueError(f"All `elems` must have the same size along axis {axis}.")
    pack = lambda ls: tree.pack_sequence_as(elems, ls)  # noqa: E731
    if reverse:
        leaves = [leaf.flip(axis) for leaf in leaves]
    k = 1
    while k < n:
        left = pack([leaf.narrow(axis, 0, n - k) for leaf in leaves])
        right = pack([leaf.narrow(axis, k, n - k) for leaf in leaves])
        merged = [_tensor(v) for v in tree.flatten(f(left, right))]
        leaves = [torch.cat([leaf.narrow(axis, 0, k), m.to(leaf.dtype)], dim=axis)
                  for leaf, m in zip(leaves, merged)]
        k *= 2
    if reverse:
        leaves = [leaf.flip(axis) for leaf in leaves]
    return pack(leaves)


class _CustomGradient(torch.autograd.Function):
    """Runs ``f`` forward and its own ``grad(*args, upstream=...)`` backward."""

    @staticmethod
    def forward(ctx, f, *args):
        out, grad_fn = f(*args)
        ctx.grad_fn, ctx.args = grad_fn, args
        return out

    @staticmethod
    def backward(ctx, *upstream):
        grads = ctx.grad_fn(*ctx.args, upstream=upstream[0] if len(upstream) == 1 else upstream)
        grads = tuple(grads) if isinstance(grads, (list, tuple)) else (grads,)
        return (None,) + grads


def custom_gradient(f: Callable) -> Callable:
    """Decorate ``f(*args) -> (outputs, grad)``: backward calls ``grad(*args, upstream=...)``.

    ``grad`` returns one gradient per positional argument of ``f``.
    """
    def wrapped(*args: Any) -> Any:
        return _CustomGradient.apply(f, *args)

    wrapped.__name__ = getattr(f, "__name__", "custom_gradient")
    wrapped.__doc__ = f.__doc__
    return wrapped


@symbolic_op
def saturate_cast(x: Any, dtype: Any) -> torch.Tensor:
    """Cast to ``dtype``, first clipping values to the range ``dtype`` can hold (no wrap-around)."""
    t = _tensor(x)
    target = config.torch_dtype(dtype)
    if target == torch.bool or t.dtype == torch.bool or target.is_complex or t.dtype.is_complex:
        return t.to(target)
    info = torch.finfo(target) if target.is_floating_point else torch.iinfo(target)
    if t.is_floating_point():
        out = t.clamp(info.min, info.max).to(target)
        if not target.is_floating_point:  # the float nearest to an int limit may lie beyond it
            out = torch.where(t >= info.max, torch.full_like(out, info.max), out)
            out = torch.where(t <= info.min, torch.full_like(out, info.min), out)
        return out
    if target.is_floating_point:
        return t.to(target)
    return t.to(torch.int64).clamp(info.min, info.max).to(target)


__all__ = [
    "associative_scan", "cast", "cond", "convert_to_numpy", "convert_to_tensor", "custom_gradient",
    "dtype", "fori_loop", "get_item", "is_tensor", "map", "saturate_cast", "scan", "scatter",
    "scatter_update", "shape", "slice", "slice_update", "stop_gradient", "switch", "unstack",
    "vectorized_map", "while_loop",
]
