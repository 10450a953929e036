"""``format="torch"``: a ``torch.export`` program saved as ``.pt2`` (load it with ``torch.export.load``)."""
from __future__ import annotations

from typing import Any, Callable

import torch

from cornu.export.export_utils import trace


def export_torch(fn: Callable, signature: list, filepath: str, verbose: bool = True,
                 device: torch.device | None = None, **kwargs: Any) -> torch.export.ExportedProgram:
    """Trace ``fn`` for ``signature`` and save the program to ``filepath`` (which must end in ``.pt2``).

    ``kwargs`` go to ``torch.export.export`` (``strict``, ``dynamic_shapes``, ``preserve_module_call_signature``).
    """
    if not str(filepath).endswith(".pt2"):
        raise ValueError(f"The PyTorch export requires the filepath to end with '.pt2'. Got: {filepath}")
    program, _ = trace(fn, signature, device=device, **kwargs)
    torch.export.save(program, filepath)
    if verbose:
        print(f"Saved PyTorch ExportedProgram at '{filepath}'.")
    return program
