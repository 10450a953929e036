"""``plot_model`` / ``model_to_dot``: a model's layer graph as a Graphviz diagram (via pydot), as Keras draws it.

``model_to_dot`` needs only the ``pydot`` package; rendering to a file (``plot_model``) also needs the
Graphviz ``dot`` program on the PATH.
"""
from __future__ import annotations

import html
import os
import shutil
import sys
from typing import Any


def _require_pydot(what: str):
    try:
        import pydot
    except ImportError:
        raise ImportError(f"You must install pydot (`pip install pydot`) for `{what}` to work.") from None
    return pydot


def _require_graphviz() -> None:
    if shutil.which("dot") is None:
        raise ImportError("You must install graphviz (the `dot` program: `apt install graphviz`, `brew install "
                          "graphviz`, or see https://graphviz.org/download/) for `plot_model` to work.")


def _format_shape(shapes: list) -> str:
    shapes = [tuple(s) for s in shapes]
    text = str(shapes[0]) if len(shapes) == 1 else str(shapes)
    return html.escape(text)


def _graph_of(model: Any) -> tuple[list, list[tuple[Any, Any]], dict]:
    """``(layers, edges, node_of)``: the drawn operations, ``(source, target)`` pairs, and each one's graph node."""
    from cornu.models.sequential import Sequential

    node_of: dict[int, Any] = {}
    if isinstance(model, Sequential):
        layers = list(model.layers)
        if getattr(model, "_input_layer", None) is not None:
            layers.insert(0, model._input_layer)
        for layer in layers:
            if getattr(layer, "_inbound_nodes", None):
                node_of[id(layer)] = layer._inbound_nodes[-1]
        return layers, list(zip(layers[:-1], layers[1:])), node_of
    nodes = getattr(model, "_nodes", None)
    if nodes is None:  # a subclassed model: its tracked layers, unconnected
        return list(model.layers), [], node_of
    ops: list = []
    for t in model.inputs:
        if t._node is not None and all(t._node.operation is not o for o in ops):
            ops.append(t._node.operation)
            node_of[id(t._node.operation)] = t._node
    edges: list[tuple[Any, Any]] = []
    for node in nodes:
        op = node.operation
        if all(op is not o for o in ops):
            ops.append(op)
        node_of.setdefault(id(op), node)
        for t in node.input_tensors:
            if t._node is not None and (t._node.operation, op) not in edges:
                edges.append((t._node.operation, op))
    return ops, edges, node_of


def _label(layer: Any, node: Any, show_shapes: bool, show_dtype: bool, show_layer_names: bool,
           show_layer_activations: bool, show_trainable: bool) -> str:
    """An HTML-like Graphviz label: a title row, then activation / shape / dtype / trainable cells."""
    cls = type(layer).__name__
    title = f"<b>{html.escape(layer.name)}</b> ({cls})" if show_layer_names else f"<b>{cls}</b>"
    rows = [f'<tr><td colspan="4" bgcolor="black"><font point-size="16" color="white">{title}</font></td></tr>']
    activation = getattr(layer, "activation", None)
    if show_layer_activations and activation is not None and callable(activation):
        name = getattr(activation, "__name__", None) or getattr(activation, "name", None) or type(activation).__name__
        rows.append(f'<tr><td bgcolor="white" colspan="4"><font point-size="14">Activation: <b>{html.escape(name)}'
                    "</b></font></td></tr>")
    cells = []
    is_input = cls == "InputLayer"
    if show_shapes and node is not None:
        if node.input_tensors and not is_input:
            cells.append(("Input shape", _format_shape([t.shape for t in node.input_tensors])))
        cells.append(("Output shape", _format_shape([t.shape for t in node.output_tensors])))
    if show_dtype and node is not None:
        dtypes = [t.dtype for t in node.output_tensors]
        cells.append(("Output dtype", html.escape(dtypes[0] if len(dtypes) == 1 else str(dtypes))))
    row = "".join(f'<td bgcolor="white"><font point-size="14">{k}: <b>{v}</b></font></td>' for k, v in cells)
    if show_trainable and layer.weights and not is_input:
        color, text = ("forestgreen", "Trainable") if layer.trainable else ("firebrick", "Non-trainable")
        row += f'<td bgcolor="{color}"><font point-size="14" color="white"><b>{text}</b></font></td>'
    if row:
        rows.append(f"<tr>{row}</tr>")
    return '<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">' + "".join(rows) + "</table>>"


def model_to_dot(model: Any, show_shapes: bool = False, show_dtype: bool = False, show_layer_names: bool = True,
                 rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200, subgraph: bool = False,
                 show_layer_activations: bool = False, show_trainable: bool = False, splines: str = "ortho",
                 **kwargs: Any):
    """The ``pydot.Dot`` graph of ``model``'s layers (a ``pydot.Cluster`` when ``subgraph=True``).

    ``rankdir``: ``"TB"`` (top to bottom) or ``"LR"`` (left to right); ``expand_nested`` draws nested models
    as clusters of their own layers.
    """
    pydot = _require_pydot("model_to_dot")
    if not getattr(model, "built", False):
        raise ValueError("This model has not yet been built. Build the model first by calling `build()` or by "
                         "calling the model on a batch of data.")
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot(graph_type="digraph")
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set("splines", splines)
        dot.set_node_defaults(shape="record")
    options = dict(show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                   show_layer_activations=show_layer_activations, show_trainable=show_trainable)
    layers, edges, node_of = _graph_of(model)
    entry: dict[int, str] = {}  # where edges into a drawn layer land (a nested model: its first node)
    exit_: dict[int, str] = {}  # where edges out of it start (a nested model: its last node)
    from cornu.models.model import Model

    for layer in layers:
        if expand_nested and isinstance(layer, Model) and layer.built:
            sub = model_to_dot(layer, dpi=dpi, subgraph=True, expand_nested=True, rankdir=rankdir, **options)
            dot.add_subgraph(sub)
            names = [n.get_name() for n in sub.get_nodes()] + [n.get_name() for g in sub.get_subgraphs()
                                                                for n in g.get_nodes()]
            entry[id(layer)], exit_[id(layer)] = names[0], names[-1]
            continue
        name = str(id(layer))
        dot.add_node(pydot.Node(name, label=_label(layer, node_of.get(id(layer)), **options),
                                fontname="Helvetica", border=0, margin=0))
        entry[id(layer)] = exit_[id(layer)] = name
    for source, target in edges:
        if id(source) in exit_ and id(target) in entry:
            dot.add_edge(pydot.Edge(exit_[id(source)], entry[id(target)], penwidth=2))
    return dot


def plot_model(model: Any, to_file: str = "model.png", show_shapes: bool = False, show_dtype: bool = False,
               show_layer_names: bool = False, rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200,
               show_layer_activations: bool = False, show_trainable: bool = False, splines: str = "ortho",
               **kwargs: Any):
    """Draw ``model`` to ``to_file``; the extension picks the format (``.png``, ``.svg``, ``.pdf``, ``.dot``...).

    In a notebook the image is returned for display (except for PDF).
    """
    _require_pydot("plot_model")
    _require_graphviz()
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                       rankdir=rankdir, expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations, show_trainable=show_trainable,
                       splines=splines, **kwargs)
    to_file = str(to_file)
    extension = os.path.splitext(to_file)[1][1:].lower() or "png"
    dot.write(to_file, format=extension)
    if extension != "pdf" and "ipykernel" in sys.modules:
        try:
            from IPython import display
        except ImportError:
            return None
        return display.Image(filename=to_file)
    return None
