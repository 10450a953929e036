"""``format="onnx"``: ``torch.onnx.export`` with the dynamo exporter, dynamic where the signature has ``None``."""
from __future__ import annotations

import warnings
from typing import Any, Callable

from cornu.export import signature as sig
from cornu.export.export_utils import require, trace


def export_onnx(fn: Callable, signature: list, filepath: str, model: Any = None, verbose: bool = True,
                opset_version: int | None = None, device: Any = None, **kwargs: Any) -> None:
    """Write ``fn`` (traced for ``signature``) to the ONNX file ``filepath``.

    The graph inputs are named after the specs (else the model's inputs); the batch and every other
    ``None`` dimension stay symbolic. ``kwargs`` go to ``torch.onnx.export`` (``external_data``,
    ``optimize``...).
    """
    require("onnx", "onnxscript", what="Exporting to ONNX")
    import torch

    program, spec_names = trace(fn, signature, device=device)
    names = sig.input_names(model, spec_names)
    if opset_version is not None:
        kwargs["opset_version"] = opset_version
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        onnx_program = torch.onnx.export(program, input_names=names, dynamo=True, verbose=False, **kwargs)
    onnx_program.save(str(filepath))
    if verbose:
        print(f"Saved artifact at '{filepath}'.")
