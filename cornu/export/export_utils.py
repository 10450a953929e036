"""Shared export machinery: the traceable module around a function, the formats and their dependencies."""
from __future__ import annotations

import importlib.util
import warnings
from typing import Any, Callable

import torch

from cornu.export import signature as sig
from cornu.utils import tree

SUPPORTED_FORMATS = ("onnx", "torch")
# Keras's other formats: they need TensorFlow, OpenVINO or LiteRT converters, which cornu does not target.
_UNSUPPORTED_FORMATS = ("tf_saved_model", "openvino", "litert")


def check_format(format: str) -> None:
    """``ValueError`` for an unknown format, ``NotImplementedError`` for Keras formats cornu cannot write."""
    if format in _UNSUPPORTED_FORMATS:
        raise NotImplementedError(
            f"format={format!r} is not supported by cornu (it needs TensorFlow / OpenVINO / LiteRT converters). "
            f"Supported formats are: {list(SUPPORTED_FORMATS)}.")
    if format not in SUPPORTED_FORMATS:
        raise ValueError(f"Unrecognized format={format!r}. Supported formats are: {list(SUPPORTED_FORMATS)}.")


def require(*modules: str, what: str) -> None:
    """``ImportError`` naming the ``cornu[export]`` extra when one of ``modules`` is not installed."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(f"{what} needs the package(s) {missing}: install them with "
                          f"`pip install 'cornu[export]'` (or `pip install {' '.join(missing)}`).")


class _Traced(torch.nn.Module):
    """``fn`` over flat tensors: torch.export traces this; the cornu objects stay out of the module tree.

    Layers read their weights through ``Variable`` objects, not module attributes, so torch.export records
    them as constants of the program (the weights travel inside the file either way).
    """

    def __init__(self, fn: Callable, signature: list):
        super().__init__()
        object.__setattr__(self, "_fn", fn)
        object.__setattr__(self, "_signature", signature)

    def forward(self, *flat: torch.Tensor) -> Any:
        args = tree.pack_sequence_as(self._signature, list(flat))
        return self._fn(*args)


def device_of(resource: Any) -> torch.device:
    """Where ``resource``'s weights live (example inputs are made there), else cornu's default device."""
    from cornu import config

    weights = getattr(resource, "weights", None) or []
    return weights[0].value.device if weights else config.device()


def trace(fn: Callable, signature: list, device: torch.device | None = None,
          **kwargs: Any) -> tuple[torch.export.ExportedProgram, list]:
    """``torch.export`` of ``fn`` for ``signature`` (dynamic where the specs say ``None``), with example inputs on
    ``device``; also the spec names."""
    examples, dims, names = sig.example_and_dims(signature)
    if device is not None:
        examples = [e.to(device) for e in examples]
    module = _Traced(fn, signature).eval()
    kwargs.setdefault("dynamic_shapes", (tuple(dims),))
    with torch.no_grad():
        module(*examples)  # an eager call first: lazily built layers create their weights outside the trace
        program = torch.export.export(module, tuple(examples), **kwargs)
    _warn_specialized(program, dims)
    return program, names


def _warn_specialized(program: torch.export.ExportedProgram, dims: list) -> None:
    """Warn about each ``None`` dimension the trace fixed to its example size (a Python loop over time steps, a
    shape-dependent branch): the program then accepts only that size."""
    from torch.fx.experimental.symbolic_shapes import is_concrete_int

    vals = {n.name: n.meta.get("val") for n in program.graph.nodes if n.op == "placeholder"}
    for i, (name, wanted) in enumerate(zip(program.graph_signature.user_inputs, dims)):
        val = vals.get(name)
        for axis in wanted if val is not None else ():
            if is_concrete_int(val.shape[axis]):
                warnings.warn(f"Export: axis {axis} of input {i} was declared dynamic (None) but the traced "
                              f"computation fixed it to {int(val.shape[axis])}; the exported program accepts only that "
                              "size. Give `input_signature` that dimension explicitly.", stacklevel=4)


def model_fn(model: Any) -> Callable:
    """The inference call of ``model`` (``training=False``)."""
    def call(*args):
        return model(*args, training=False)

    return call


def export_model(model: Any, filepath: str, format: str = "tf_saved_model", verbose: bool | None = None,
                 input_signature: Any = None, **kwargs: Any) -> None:
    """``Model.export``: write ``model``'s inference function as an ONNX file or a ``.pt2`` torch program."""
    check_format(format)
    filepath = str(filepath)
    verbose = True if verbose is None else verbose
    signature = sig.normalize(input_signature, model) if input_signature is not None else sig.model_signature(model)
    if format == "onnx":
        from cornu.export.onnx import export_onnx

        export_onnx(model_fn(model), signature, filepath, model=model, verbose=verbose, device=device_of(model),
                    **kwargs)
    else:
        from cornu.export.torch_program import export_torch

        export_torch(model_fn(model), signature, filepath, verbose=verbose, device=device_of(model), **kwargs)
