"""Functional models as Keras 3 configs, and back.

``functional_config`` writes ``{"name", "trainable", "layers", "input_layers",
"output_layers"}``; each layer entry is its serialized config plus ``name``
and ``inbound_nodes`` (the arguments of each call, KerasTensors written as
``__keras_tensor__`` entries whose ``keras_history`` is ``[layer name, node
index, tensor index]``). ``functional_from_config`` re-creates the layers and
re-calls them, in order, on new symbolic tensors.

Bare ``keras.ops`` calls in the graph are written as cornu ``Operation``
entries naming a public ``keras.ops`` function (Keras itself cannot read
those entries); an op that is not a public ``keras.ops`` function raises
``NotImplementedError``.
"""
from __future__ import annotations

import functools
from typing import Any

from cornu.layers.call_record import recorded_kwargs
from cornu.saving.keras_op_classes import KERAS_OP_CLASSES
from cornu.saving.serialization import deserialize_keras_object, serialize_keras_object
from cornu.utils import tree

_OP_MODULE = "cornu.ops"
_FUNCTION_OF_CLASS = {(module, class_name): function
                      for function, (module, class_name, _, _) in sorted(KERAS_OP_CLASSES.items(), reverse=True)}
_OP_CLASS = "Operation"


class _NotReady(Exception):
    """A node argument refers to a node that has not been re-created yet."""


# ------------------------------------------------------------ graph order
def operation_order(model: Any) -> tuple[list, list]:
    """``(operations, nodes)`` of a functional model in Keras's order.

    Operations are sorted by depth (distance from the outputs, deepest first),
    ties broken by first discovery in a depth-first walk from the outputs;
    ``nodes`` are the model's own nodes (input nodes included).
    """
    input_ids = {id(t) for t in model.inputs}
    discovery: dict[int, int] = {}
    ops: dict[int, Any] = {}
    post: list = []
    finished: set[int] = set()
    stack: list[tuple[Any, bool]] = [(t, False) for t in reversed(model.outputs)]
    while stack:
        tensor, expanded = stack.pop()
        node = tensor._node
        if node is None:
            raise ValueError(f"Tensor {tensor!r} of model {model.name!r} has no producing node.")
        if expanded:
            if id(node) not in finished:
                finished.add(id(node))
                post.append(node)
            continue
        if id(node) in finished:
            continue
        discovery.setdefault(id(node.operation), len(discovery))
        ops[id(node.operation)] = node.operation
        stack.append((tensor, True))
        if id(tensor) not in input_ids:
            stack.extend((parent, False) for parent in reversed(node.input_tensors))
    node_depth: dict[int, int] = {}
    op_depth: dict[int, int] = {}
    own = {id(n) for n in post}
    for node in reversed(post):
        depth = max(node_depth.get(id(node), 0), op_depth.get(id(node.operation), 0))
        node_depth[id(node)] = depth
        op_depth[id(node.operation)] = depth
        for parent in node.input_tensors:
            if parent._node is not None and id(parent._node) in own:
                node_depth[id(parent._node)] = max(depth + 1, node_depth.get(id(parent._node), 0))
    order = sorted(ops, key=lambda k: (-op_depth[k], discovery[k]))
    return [ops[k] for k in order], post


def functional_layers(model: Any) -> list:
    """The layers of a functional model (input layers included) in Keras's order."""
    from cornu.layers.layer import Layer

    return [op for op in operation_order(model)[0] if isinstance(op, Layer)]


# ----------------------------------------------------------------- config
def _op_function_name(op: Any) -> str:
    import cornu.ops as ops_module
    from cornu.ops import core

    candidates = dict(vars(ops_module))
    candidates["_getitem"] = core._getitem
    for name, fn in candidates.items():
        if callable(fn) and (fn is op.fn or getattr(fn, "__wrapped__", None) is op.fn) \
                and (not name.startswith("_") or name == "_getitem"):
            return name
    raise NotImplementedError(
        f"Cannot serialize the functional-graph operation {op.name!r}: it is not a public `keras.ops` "
        "function. Wrap the computation in a layer (a `Layer` subclass registered with "
        "`@keras.saving.register_keras_serializable()`) to save this model.")


# Op constructor arguments Keras's functions take through ``**kwargs``, with the default they fall back to.
_HIDDEN_DEFAULTS = {"rms_scaling": False}


def _op_entry(op: Any, name: str, calls: list) -> tuple[dict, list]:
    """The config entry of a ``keras.ops`` call, in Keras's form when it fits: an object of the op class the
    Keras function builds (``KERAS_OP_CLASSES``), its constructor arguments (defaults included) in the config,
    its ``call`` arguments in the node. Otherwise cornu's ``Operation`` entry (Keras cannot read it)."""
    import inspect

    import cornu.ops as ops_module
    from cornu.ops import core

    function = _op_function_name(op)
    fn = core._getitem if function == "_getitem" else getattr(ops_module, function)
    try:
        if len(calls) != 1 or not getattr(fn, "__module__", "").startswith("cornu.ops."):
            raise TypeError("not a single call of a cornu.ops function")
        signature = inspect.signature(fn)
        bound = signature.bind(*calls[0][0], **calls[0][1])
        bound.apply_defaults()
        values = bound.arguments
    except (TypeError, ValueError):
        return {"module": _OP_MODULE, "class_name": _OP_CLASS, "config": {"name": name, "function": function},
                "registered_name": None}, calls
    if function == "_getitem":
        x, key = values["x"], values["key"]
        return {"module": "keras.src.ops.numpy", "class_name": "GetItem", "config": {"name": name},
                "registered_name": "GetItem"}, [([x, list(key) if isinstance(key, tuple) else key], {})]
    submodule, class_name, init, call = KERAS_OP_CLASSES.get(function, (None, None, (), ()))
    if class_name is None or any(p.strip("*=") not in values for p in call):
        return {"module": _OP_MODULE, "class_name": _OP_CLASS, "config": {"name": name, "function": function},
                "registered_name": None}, calls
    config = {"name": name}
    hidden = values.get("kwargs") if isinstance(values.get("kwargs"), dict) else {}
    config.update({p: serialize_keras_object(values[p] if p in values else hidden.get(p, _HIDDEN_DEFAULTS.get(p)))
                   for p in init if p in values or p in _HIDDEN_DEFAULTS})
    args: list = []
    kwargs: dict = {}
    for p in call:
        if p.startswith("*"):
            args.extend(values[p[1:]])
        elif p.endswith("="):
            kwargs[p[:-1]] = values[p[:-1]]
        else:
            args.append(values[p])
    return {"module": f"keras.src.ops.{submodule}", "class_name": class_name, "config": config,
            "registered_name": class_name}, [(args, kwargs)]


def _check_inputs(model: Any) -> None:
    from cornu.layers.input_layer import InputLayer

    for t in model.inputs:
        if t._node is None or not isinstance(t._node.operation, InputLayer):
            raise NotImplementedError(f"Cannot serialize functional model {model.name!r}: its input {t!r} does not "
                                      "come from `keras.Input`.")


def functional_config(model: Any) -> dict:
    """Keras 3 config of a functional model."""
    from cornu.layers.layer import Layer
    from cornu.symbolic import KerasTensor

    _check_inputs(model)
    operations, nodes = operation_order(model)
    own = {id(n) for n in nodes}
    used = {op.name for op in operations if isinstance(op, Layer)}
    names: dict[int, str] = {}
    for op in operations:
        if isinstance(op, Layer):
            names[id(op)] = op.name
            continue
        base = name = op.name
        i = 1
        while name in used:
            name = f"{base}_{i}"
            i += 1
        used.add(name)
        names[id(op)] = name

    def own_nodes(op: Any) -> list:
        return [n for n in op._inbound_nodes if id(n) in own]

    def history(t: KerasTensor) -> list:
        node = t._node
        index = next(i for i, n in enumerate(own_nodes(node.operation)) if n is node)
        return [names[id(node.operation)], index, t._index]

    def arg(x: Any) -> Any:
        if isinstance(x, KerasTensor):
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": list(x.shape), "dtype": x.dtype, "keras_history": history(x)}}
        if isinstance(x, tuple):
            return {"class_name": "__tuple__", "config": {"value": [arg(v) for v in x]}}
        if isinstance(x, list):
            return [arg(v) for v in x]
        if isinstance(x, dict):
            return {k: arg(v) for k, v in x.items()}
        return serialize_keras_object(x)

    layers = []
    for op in operations:
        called = [n for n in own_nodes(op) if n.input_tensors]
        calls = [(list(n.call_args), dict(n.call_kwargs)) for n in called]
        if isinstance(op, Layer):
            entry = serialize_keras_object(op)
            calls = [(args, recorded_kwargs(op, args, kwargs, n.filled_mask))
                     for (args, kwargs), n in zip(calls, called)]
        else:
            entry, calls = _op_entry(op, names[id(op)], calls)
        entry["name"] = names[id(op)]
        entry["inbound_nodes"] = [{"args": [arg(a) for a in args], "kwargs": arg(kwargs)} for args, kwargs in calls]
        layers.append(entry)

    def structure(struct: Any) -> Any:
        if isinstance(struct, KerasTensor):
            return history(struct)  # Keras writes a single input/output unwrapped
        if isinstance(struct, dict):
            return {k: history(v) for k, v in struct.items()}
        return [history(t) for t in struct]

    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": structure(model._inputs_struct), "output_layers": structure(model._outputs_struct)}


# ------------------------------------------------------------ from config
def _operation_callable(entry: dict) -> Any:
    import cornu.ops as ops_module
    from cornu.saving.serialization import UnresolvedObjectError

    config = entry.get("config") or {}
    module = entry.get("module") or ""
    call: tuple = ()
    if module == _OP_MODULE and entry.get("class_name") == _OP_CLASS:
        name = config.get("function")
    else:
        from cornu.utils.naming import to_snake_case

        class_name = str(entry.get("class_name"))
        name = _FUNCTION_OF_CLASS.get((module.rpartition(".")[2], class_name), to_snake_case(class_name))
        call = KERAS_OP_CLASSES.get(name, (None, None, (), ()))[3]
    if name == "_getitem" or name == "get_item":
        return _getitem_from_config
    fn = getattr(ops_module, name, None) if isinstance(name, str) and not name.startswith("_") else None
    if not callable(fn):
        raise UnresolvedObjectError(f"Functional config entry {entry.get('name')!r} names operation {name!r}, "
                                    "which is not a `keras.ops` function.")
    if module == _OP_MODULE:
        return fn
    # Keras writes an op's constructor arguments (``Any``'s axis, keepdims) in its config and its ``call``
    # arguments in the node, positionally in ``call``'s order (which need not be the function's).
    init = {k: v for k, v in config.items() if k != "name"}
    if not call:
        return functools.partial(fn, **init) if init else fn
    positional = [p for p in call if not p.endswith("=") and not p.startswith("*")]
    collects = any(p.startswith("*") for p in call)

    def by_call_order(*args, **kwargs):
        if len(args) > len(positional) and not collects:
            raise ValueError(f"Operation {entry.get('name')!r} ({name}) takes {len(positional)} positional call "
                             f"arguments {positional}; its node gives {len(args)}.")
        named = {**init, **kwargs, **dict(zip(positional, args))}
        return _call_by_name(fn, named, list(args[len(positional):]))

    return by_call_order


def _call_by_name(fn: Any, named: dict, rest: list) -> Any:
    """``fn`` called with ``named`` arguments by name, and ``rest`` for its ``*args`` (the parameters before
    those then go positionally)."""
    import inspect

    if not rest:
        return fn(**named)
    leading = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            break
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            leading.append(named.pop(p.name) if p.name in named or p.default is p.empty else p.default)
    return fn(*leading, *rest, **named)


def _getitem_from_config(x: Any, key: Any) -> Any:
    """``x[key]`` with a JSON list of slices (Keras's form of an index tuple) read back as the tuple."""
    from cornu.ops import core

    if isinstance(key, list) and any(k is None or k is Ellipsis or isinstance(k, (slice, list)) for k in key):
        key = tuple(key)
    return core._getitem(x, key)


def _is_operation(entry: dict) -> bool:
    module = entry.get("module") or ""
    return (module == _OP_MODULE and entry.get("class_name") == _OP_CLASS) or module.startswith("keras.src.ops")


def _legacy_node(node_data: list) -> dict:
    """Keras 2 ``[[name, node_index, tensor_index, kwargs], ...]`` as Keras 3 ``{"args", "kwargs"}``."""
    tensors, kwargs = [], {}
    for item in node_data:
        if not isinstance(item, (list, tuple)) or len(item) < 3:
            raise ValueError(f"Malformed inbound node entry: {item!r:.200}")
        tensors.append({"class_name": "__keras_tensor__", "config": {"keras_history": list(item[:3])}})
        if len(item) > 3 and isinstance(item[3], dict):
            kwargs = item[3]
    return {"args": [tensors[0] if len(tensors) == 1 else tensors], "kwargs": kwargs}


def functional_from_config(config: dict, custom_objects: dict | None = None, cls: type | None = None) -> Any:
    """Rebuild a functional model (of class ``cls``, default ``Functional``) from ``functional_config``."""
    from cornu.layers.input_layer import InputLayer
    from cornu.models.functional import Functional
    from cornu.symbolic import KerasTensor

    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError(f"A functional model config needs a 'layers' list. Received: {config!r:.200}")
    created: dict[str, Any] = {}
    created_nodes: dict[str, list] = {}
    pending: dict[str, list] = {}
    order: list[str] = []
    config_entries: dict[str, dict] = {}
    for entry in config["layers"]:
        if not isinstance(entry, dict):
            raise ValueError(f"Malformed layer entry in functional config: {entry!r:.200}")
        inner = entry.get("config")
        name = entry.get("name") or (inner.get("name") if isinstance(inner, dict) else None)
        if not isinstance(name, str) or name in created:
            raise ValueError(f"Functional config layer entries need unique names; got {name!r}.")
        config_entries[name] = entry
        if _is_operation(entry):
            created[name] = _operation_callable(entry)
        else:
            created[name] = deserialize_keras_object(entry, custom_objects=custom_objects)
        created_nodes[name] = []
        if isinstance(created[name], InputLayer):
            created_nodes[name] = list(created[name]._inbound_nodes[:1])
        nodes = entry.get("inbound_nodes") or []
        if not isinstance(nodes, list):
            raise ValueError(f"The inbound_nodes of layer {name!r} must be a list. Received: {nodes!r:.200}")
        pending[name] = [_legacy_node(n) if isinstance(n, list) else n for n in nodes]
        for node in pending[name]:
            if not isinstance(node, dict) or not isinstance(node.get("args", []), list) \
                    or not isinstance(node.get("kwargs", {}), dict):
                raise ValueError(f"Malformed inbound node of layer {name!r}: expected {{'args': [...], "
                                 f"'kwargs': {{...}}}}. Received: {node!r:.200}")
        order.append(name)

    def tensor_at(history: Any) -> KerasTensor:
        if not isinstance(history, (list, tuple)) or len(history) != 3 or history[0] not in created:
            raise ValueError(f"Functional config refers to unknown tensor {history!r:.200}.")
        layer_name, node_index, tensor_index = history
        if not isinstance(node_index, int) or not isinstance(tensor_index, int) or node_index < 0:
            raise ValueError(f"Malformed keras_history {history!r:.200}: indices must be non-negative integers.")
        nodes = created_nodes[layer_name]
        if node_index >= len(nodes):
            raise _NotReady
        outputs = nodes[node_index].output_tensors
        if not 0 <= tensor_index < len(outputs):
            raise ValueError(f"keras_history {history!r:.200} refers to output {tensor_index} of a call that has "
                             f"{len(outputs)} output(s).")
        return outputs[tensor_index]

    def restore(x: Any) -> Any:
        if isinstance(x, list):
            return [restore(v) for v in x]
        if not isinstance(x, dict):
            return x
        if x.get("class_name") == "__keras_tensor__":
            return tensor_at((x.get("config") or {}).get("keras_history"))
        if x.get("class_name") == "__tuple__":
            return tuple(restore(v) for v in (x.get("config") or {}).get("value", []))
        if "class_name" in x and "config" in x:
            return deserialize_keras_object(x, custom_objects=custom_objects)
        return {k: restore(v) for k, v in x.items()}

    while any(pending.values()):
        progressed = False
        for name in order:
            queue = pending[name]
            while queue:
                node_data = queue[0]
                try:
                    args = restore(node_data.get("args", []))
                    kwargs = restore(node_data.get("kwargs", {}))
                except _NotReady:
                    break
                if not any(isinstance(t, KerasTensor) for t in tree.flatten((args, kwargs))):
                    raise ValueError(f"A call of layer {name!r} in the functional config has no tensor inputs "
                                     f"(malformed inbound node): {node_data!r:.200}")
                try:
                    outputs = created[name](*args, **kwargs)
                except (AttributeError, KeyError, IndexError) as e:
                    raise ValueError(f"Re-calling layer {name!r} on the inputs its config describes failed "
                                     f"(malformed inbound node {node_data!r:.200}): {type(e).__name__}: {e}") from e
                first = next((t for t in tree.flatten(outputs) if isinstance(t, KerasTensor)), None)
                if first is None or first._node is None:
                    raise ValueError(f"Re-calling {name!r} while rebuilding the functional model produced no "
                                     "symbolic output.")
                if _is_operation(config_entries[name]):
                    first._node.operation.name = name  # as Keras rebuilds an op object: under its config's name
                created_nodes[name].append(first._node)
                queue.pop(0)
                progressed = True
        if not progressed:
            stuck = next(n for n in order if pending[n])
            raise ValueError(f"Cannot rebuild functional model {config.get('name')!r}: a call of layer {stuck!r} "
                             "depends on a tensor that no layer in the config produces.")

    def structure(struct: Any) -> Any:
        if isinstance(struct, (list, tuple)) and len(struct) == 3 and isinstance(struct[0], str):
            try:
                return tensor_at(struct)
            except _NotReady:
                raise ValueError(f"Model input/output {struct!r} refers to a layer call that the config never "
                                 "makes.") from None
        if isinstance(struct, dict):
            return {k: structure(v) for k, v in struct.items()}
        if isinstance(struct, (list, tuple)):
            return [structure(v) for v in struct]
        raise ValueError(f"Malformed input/output layers entry: {struct!r:.200}")

    inputs = structure(config.get("input_layers"))
    outputs = structure(config.get("output_layers"))
    if isinstance(inputs, list) and len(inputs) == 1:
        inputs = inputs[0]
    if isinstance(outputs, list) and len(outputs) == 1:
        outputs = outputs[0]
    target = cls or Functional
    return target(inputs=inputs, outputs=outputs, name=config.get("name"), trainable=config.get("trainable", True))

