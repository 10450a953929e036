"""``keras.export.ExportArchive``: several endpoints (and variable collections) of tracked layers in one artifact.

On torch there is no multi-function SavedModel: ``write_out(dirpath)`` writes a directory holding one
program per endpoint (``<name>.pt2`` for ``format="torch"``, loaded with ``torch.export.load``; or
``<name>.onnx``), each taking the signature's tensors flattened as positional inputs, and, when
collections were added, ``variable_collections.pt`` (``torch.load`` gives ``{collection: {variable path:
tensor in Keras layout}}``). TensorFlow-only options (``options``, ``is_static``, ``jax2tf_kwargs``) have
no torch meaning and are refused.
"""
from __future__ import annotations

import os
from typing import Any, Callable

import torch

from cornu.export import signature as sig
from cornu.export.export_utils import check_format, device_of


class ExportArchive:
    """Collect endpoints of tracked layers/models, then ``write_out`` them for inference.

    ```python
    archive = ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", lambda x: model(x, training=False),
                         input_signature=[keras.InputSpec(shape=(None, 3), dtype="float32")])
    archive.write_out("exported", format="torch")  # exported/serve.pt2
    ```
    """

    def __init__(self):
        self._tracked: list[Any] = []
        self._endpoints: dict[str, tuple[Callable, list]] = {}
        self._collections: dict[str, list] = {}

    @property
    def endpoint_names(self) -> list[str]:
        return list(self._endpoints)

    def track(self, resource: Any) -> None:
        """Track a built layer or model: its variables become part of the archive."""
        from cornu.layers import Layer

        if not isinstance(resource, Layer):
            raise ValueError("Invalid resource type. Expected a Keras `Layer` or `Model` instance. "
                             f"Received instead: {resource!r} (of type {type(resource).__name__})")
        if not resource.built:
            raise ValueError("The layer provided has not yet been built. It must be built before export. "
                             f"Received: {resource!r}")
        if all(resource is not r for r in self._tracked):
            self._tracked.append(resource)

    def add_endpoint(self, name: str, fn: Callable, input_signature: Any = None, **kwargs: Any) -> Callable:
        """Register ``fn`` under ``name``, traced for ``input_signature`` (a list of positional-argument specs).

        The endpoint is also callable as ``archive.<name>(...)`` before writing out.
        """
        if name in self._endpoints:
            raise ValueError(f"Endpoint name '{name}' is already taken.")
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"Endpoint name must be a valid Python identifier. Received: name={name!r}")
        if input_signature is None:
            raise ValueError("You must provide an `input_signature` when adding an endpoint (torch traces the "
                             f"function for it). Received: input_signature=None for endpoint {name!r}")
        if kwargs:
            raise ValueError(f"Unsupported arguments for a torch endpoint: {sorted(kwargs)} (`is_static` and "
                             "`jax2tf_kwargs` apply to the JAX backend only).")
        if not self._tracked:
            raise ValueError("No layer or model is tracked: call `track(layer)` before `add_endpoint` so that "
                             "the endpoint's variables belong to the archive.")
        self._endpoints[name] = (fn, sig.normalize(input_signature))
        setattr(self, name, fn)
        return fn

    def track_and_add_endpoint(self, name: str, resource: Any, input_signature: Any, **kwargs: Any) -> Callable:
        """``track(resource)`` then an endpoint calling it (``training=False``)."""
        self.track(resource)

        def call(*args):
            return resource(*args, training=False)

        return self.add_endpoint(name, call, input_signature, **kwargs)

    def add_variable_collection(self, name: str, variables: Any) -> None:
        """Store a named list of variables (of tracked layers) with the archive."""
        from cornu.variables import Variable

        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"Collection name must be a valid Python identifier. Received: name={name!r}")
        if isinstance(variables, (list, tuple, set)):
            variables = list(variables)
        else:
            raise ValueError(f"Expected `variables` to be a list/tuple/set. Received instead object of type "
                             f"'{type(variables).__name__}'.")
        bad = [v for v in variables if not isinstance(v, Variable)]
        if bad:
            raise ValueError(f"Expected all elements in `variables` to be `keras.Variable` instances. Found "
                             f"instead the following types: {sorted({type(v).__name__ for v in bad})}")
        tracked = {id(v) for r in self._tracked for v in r.weights}
        if any(id(v) not in tracked for v in variables):
            raise ValueError("All variables in a collection must belong to a tracked layer: call `track()` on "
                             f"their layer first (collection {name!r}).")
        self._collections[name] = variables
        setattr(self, name, variables)

    def write_out(self, filepath: str, options: Any = None, verbose: bool = True, format: str = "torch") -> None:
        """Write every endpoint to the directory ``filepath`` (see the module docstring for the layout)."""
        if options is not None:
            raise ValueError("`options` (tf.saved_model.SaveOptions) has no meaning on torch; pass None.")
        check_format(format)
        if not self._endpoints:
            raise ValueError("No endpoints have been set yet. Call `add_endpoint()`.")
        filepath = str(filepath)
        os.makedirs(filepath, exist_ok=True)
        device = device_of(self._tracked[0])
        for name, (fn, signature) in self._endpoints.items():
            if format == "onnx":
                from cornu.export.onnx import export_onnx

                export_onnx(fn, signature, os.path.join(filepath, f"{name}.onnx"), verbose=False, device=device)
            else:
                from cornu.export.torch_program import export_torch

                export_torch(fn, signature, os.path.join(filepath, f"{name}.pt2"), verbose=False, device=device)
        if self._collections:
            torch.save({name: {v.path: torch.as_tensor(v.numpy()) for v in variables}
                        for name, variables in self._collections.items()},
                       os.path.join(filepath, "variable_collections.pt"))
        if verbose:
            print(f"Saved artifact at '{filepath}'. The following endpoints are available: "
                  f"{self.endpoint_names}")
