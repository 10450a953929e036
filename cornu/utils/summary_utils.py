"""``model.summary()``: Keras 3's table of layers, output shapes and parameter counts."""
from __future__ import annotations

import math
from typing import Any, Callable

from cornu.symbolic import KerasTensor
from cornu.utils import tree


def _format_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} TB"


def _count(weights: list) -> tuple[int, int]:
    params = sum(math.prod(v.shape) for v in weights)
    nbytes = sum(math.prod(v.shape) * v.value.element_size() for v in weights)
    return int(params), int(nbytes)


def _shape_str(layer: Any) -> str:
    nodes = getattr(layer, "_inbound_nodes", [])
    if not nodes:
        return "?"
    outs = [t.shape for t in tree.flatten(nodes[-1].outputs) if isinstance(t, KerasTensor)]
    if not outs:
        return "?"
    return str(outs[0]) if len(outs) == 1 else str(outs)


def _connected_to(layer: Any) -> str:
    nodes = getattr(layer, "_inbound_nodes", [])
    parts = []
    for node in nodes:
        for t in node.input_tensors:
            src = t._node.operation if t._node is not None else None
            if src is not None:
                parts.append(f"{getattr(src, 'name', '?')}[0][{t._index}]")
    return ", ".join(parts) if parts else "-"


def _is_sequential_like(model: Any) -> bool:
    from cornu.models.sequential import Sequential

    if isinstance(model, Sequential):
        return True
    nodes = getattr(model, "_nodes", None)
    if nodes is None:
        return True
    for node in nodes:
        if len(node.input_tensors) > 1:
            return False
    return len(getattr(model, "inputs", [])) <= 1 and len(getattr(model, "outputs", [])) <= 1


def _table(rows: list[list[str]], headers: list[str], widths: list[int], right: set[int],
           center: frozenset = frozenset()) -> list[str]:
    def cell(text: str, w: int, i: int) -> list[str]:
        # As the Keras table: wrap at spaces; a word wider than the column is cut with an ellipsis.
        words = [word if len(word) <= w else word[:w - 1] + "…" for word in text.split(" ")]
        lines = [words[0]]
        for word in words[1:]:
            if len(lines[-1]) + 1 + len(word) <= w:
                lines[-1] += " " + word
            else:
                lines.append(word)
        if i in right:
            return [l.rjust(w) for l in lines]
        if i in center:
            return [(" " * ((w - len(l)) // 2) + l).ljust(w) for l in lines]
        return [l.ljust(w) for l in lines]

    def row_lines(values: list[str], left: str, sep: str, end: str) -> list[str]:
        cells = [cell(v, w, i) for i, (v, w) in enumerate(zip(values, widths))]
        height = max(len(c) for c in cells)
        out = []
        for h in range(height):
            parts = [c[h] if h < len(c) else " " * w for c, w in zip(cells, widths)]
            out.append(left + " " + f" {sep} ".join(parts) + " " + end)
        return out

    bar = lambda l, m, r, ch: l + m.join(ch * (w + 2) for w in widths) + r
    out = [bar("┏", "┳", "┓", "━")]
    out += row_lines(headers, "┃", "┃", "┃")
    out.append(bar("┡", "╇", "┩", "━"))
    for i, r in enumerate(rows):
        out += row_lines(r, "│", "│", "│")
        out.append(bar("├", "┼", "┤", "─") if i < len(rows) - 1 else bar("└", "┴", "┘", "─"))
    if not rows:
        out.append(bar("└", "┴", "┘", "─"))
    return out


# Column widths (text, without padding) of Keras's default tables, keyed by (sequential-like, show_trainable):
# what Keras 3.15 prints on an 80-column console.
_DEFAULT_WIDTHS = {(True, False): (31, 22, 13), (True, True): (27, 21, 10, 5),
                   (False, False): (19, 17, 10, 17), (False, True): (17, 15, 9, 14, 5)}


def print_summary(model: Any, line_length: int | None = None, positions: list | None = None,
                  print_fn: Callable[..., Any] | None = None, expand_nested: bool = False,
                  show_trainable: bool = False, layer_range: Any = None) -> None:
    """Print Keras's summary table for ``model``."""
    from cornu.layers.input_layer import InputLayer
    from cornu.models.sequential import Sequential

    sequential_like = _is_sequential_like(model)
    if isinstance(model, Sequential):
        layers = model.layers
    else:
        layers = model.layers
        if sequential_like and not hasattr(model, "_nodes"):
            layers = [l for l in layers if not isinstance(l, InputLayer)]
    if layer_range is not None:
        names = [l.name for l in layers]
        start, stop = layer_range
        if start not in names or stop not in names:
            raise ValueError(f"`layer_range` must name layers of the model. Received: {layer_range}; layers: {names}")
        layers = layers[names.index(start): names.index(stop) + 1]
    headers = ["Layer (type)", "Output Shape", "Param #"] + ([] if sequential_like else ["Connected to"])
    if show_trainable:
        headers.append("Trainable")
    widths = list(_DEFAULT_WIDTHS[sequential_like, show_trainable])
    if line_length:
        scale = line_length / (sum(widths) + 3 * len(widths) + 1)
        widths = [max(6, int(w * scale)) for w in widths]
    rows = []
    for layer in layers:
        row = [f"{layer.name} ({type(layer).__name__})", _shape_str(layer),
               f"{_count(layer.weights)[0]:,}" if layer.built else "0 (unbuilt)"]
        if not sequential_like:
            row.append(_connected_to(layer))
        if show_trainable:
            row.append("-" if not layer.weights else "Y" if layer.trainable else "N")
        rows.append(row)
    center = frozenset({len(headers) - 1}) if show_trainable else frozenset()
    lines = [f'Model: "{model.name}"', *_table(rows, headers, widths, right={2}, center=center)]
    trainable, trainable_b = _count(model.trainable_weights)
    non_t, non_t_b = _count(model.non_trainable_weights)
    opt_params, opt_b = 0, 0
    opt = getattr(model, "optimizer", None)
    if opt is not None and getattr(opt, "built", False) and getattr(opt, "variables", None):
        opt_params, opt_b = _count(opt.variables)
    # As Keras: after training, the total counts the optimizer's variables too.
    total, total_b = trainable + non_t + opt_params, trainable_b + non_t_b + opt_b
    lines += [f" Total params: {total:,} ({_format_bytes(total_b)})",
              f" Trainable params: {trainable:,} ({_format_bytes(trainable_b)})",
              f" Non-trainable params: {non_t:,} ({_format_bytes(non_t_b)})"]
    if opt_params:
        lines.append(f" Optimizer params: {opt_params:,} ({_format_bytes(opt_b)})")
    text = "\n".join(lines)
    if print_fn is None:
        from cornu.utils.io_utils import print_msg

        print_msg(text)
    else:  # Keras hands a custom ``print_fn`` the whole summary in one call, ending in a newline
        print_fn(text + "\n")
