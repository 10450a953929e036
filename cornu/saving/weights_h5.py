"""Model weights in Keras 3's ``.weights.h5`` layout.

Each saveable object (layer, model, optimizer) owns a group holding a
``vars`` sub-group of datasets ``"0"``, ``"1"``, ... (its own variables, in
Keras layout, trainable ones first). Paths follow Keras's ``saving_lib``: the
root object writes ``vars``; Sequential and functional models put their
layers under ``layers/<snake_case class name>[_N]``; other sub-layers sit
under their attribute name (containers of layers again use class names);
a model's built optimizer writes ``optimizer/vars``. Files are written to a
temporary file beside the target and moved into place.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Mapping
from typing import Any, Callable, Iterator

import numpy as np
import torch

WEIGHTS_SUFFIX = ".weights.h5"


class WeightsMismatchError(ValueError):
    """The weights file does not fit the model (variable count, shape or unknown entries)."""


# ------------------------------------------------------------ atomic writes
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def writes_files() -> bool:
    """Whether this process writes files: always, except ranks other than 0 under a multi-process distribution."""
    distribution_lib = sys.modules.get("cornu.distribution.distribution_lib")
    return distribution_lib is None or distribution_lib.distribution() is None or distribution_lib.is_chief()


@contextlib.contextmanager
def atomic_write(filepath: str | os.PathLike, overwrite: bool = True) -> Iterator[str]:
    """Yield a temporary path beside ``filepath``; on success it replaces ``filepath``, on error it is removed."""
    filepath = os.fspath(filepath)
    if not writes_files():
        # Another process of a distributed job: compute what is written (weights may need gathering), discard it.
        fd, tmp = tempfile.mkstemp(suffix=".tmp")
        os.close(fd)
        try:
            yield tmp
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)
        return
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"File {filepath!r} already exists and overwrite=False.")
    directory = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(filepath)}.", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        mode = os.stat(filepath).st_mode & 0o777 if os.path.exists(filepath) else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, filepath)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


# ---------------------------------------------------------------- the walk
def _snake(name: str) -> str:
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _attr_key(name: str) -> str:
    return "~" + name if name.startswith("_") else name


def _is_saveable(obj: Any) -> bool:
    from cornu.layers.layer import Layer
    from cornu.optimizers.base import Optimizer

    return isinstance(obj, (Layer, Optimizer))


def _children(obj: Any) -> Iterator[tuple[str, Any]]:
    """``(attribute name, child or container)`` pairs in Keras's visiting order."""
    from cornu.models.functional import Functional
    from cornu.models.model import Model
    from cornu.models.sequential import Sequential
    from cornu.optimizers.base import Optimizer
    from cornu.saving.functional_config import functional_layers

    if isinstance(obj, Optimizer):
        return
    internal: set[str] = set()
    if isinstance(obj, Functional):
        yield "layers", functional_layers(obj)
        internal = {"_graph_layers"}
    elif isinstance(obj, Sequential):
        yield "layers", obj.layers
        internal = {"_stack", "_input_layer"}
    attrs = {k: v for k, v in obj._modules.items() if v is not None and k not in internal}
    optimizer = getattr(obj, "optimizer", None) if isinstance(obj, Model) else None
    if isinstance(optimizer, Optimizer):
        attrs.setdefault("optimizer", optimizer)
    for name in sorted(attrs, key=_attr_key):
        yield name, attrs[name]


def _container_items(container: Any) -> list:
    """Saveables in a container (list, dict, torch container or plain module), nested containers flattened."""
    if isinstance(container, (dict, torch.nn.ModuleDict)):
        items = list(container.values())
    elif isinstance(container, (list, tuple, torch.nn.ModuleList)):
        items = list(container)
    elif isinstance(container, torch.nn.Module):
        items = list(container.children())
    else:
        return []
    out = []
    for item in items:
        if _is_saveable(item):
            out.append(item)
        elif isinstance(item, (torch.nn.Module, list, tuple, dict)):
            out.extend(_container_items(item))
    return out


def walk(obj: Any, visit: Callable[[Any, str, Any], None], path: str = "", owner: Any = None,
         visited: set | None = None) -> None:
    """Call ``visit(saveable, path, owner)`` once for ``obj`` and each saveable below it, at Keras's paths."""
    visited = set() if visited is None else visited
    if id(obj) in visited:
        return
    visited.add(id(obj))
    visit(obj, path, owner)
    for attr, child in _children(obj):
        child_path = f"{path}/{attr}" if path else attr
        if _is_saveable(child):
            walk(child, visit, child_path, obj, visited)
            continue
        counts: dict[str, int] = {}
        for item in _container_items(child):
            base = _snake(getattr(type(item), "_keras_class_name", type(item).__name__))
            counts[base] = counts.get(base, -1) + 1
            name = base if counts[base] == 0 else f"{base}_{counts[base]}"
            walk(item, visit, f"{child_path}/{name}", obj, visited)


# ------------------------------------------------------------------ arrays
def _created_trainable(variable: Any) -> bool:
    return bool(getattr(variable, "_trainable_wanted", getattr(variable, "trainable", True)))


def own_variables(layer: Any) -> list:
    """The layer's own variables in Keras's saving order: trainable first, then non-trainable.

    A layer that saves something else than its variables as they are (a LoRA
    Dense saves its merged kernel) lists it in ``_saved_variables()``.
    """
    custom = getattr(layer, "_saved_variables", None)
    if custom is not None:
        return custom()
    own = list(layer._variables)
    return [v for v in own if _created_trainable(v)] + [v for v in own if not _created_trainable(v)]


def _custom_hook(obj: Any, name: str) -> Callable | None:
    from cornu.layers.layer import Layer

    method = getattr(type(obj), name, None)
    if method is None or method is getattr(Layer, name, None):
        return None
    return getattr(obj, name)


def _to_numpy(value: Any) -> tuple[np.ndarray, str | None]:
    if hasattr(value, "keras_value"):
        value = value.keras_value
    if isinstance(value, torch.Tensor):
        value = value.detach()
        if hasattr(value, "full_tensor"):  # sharded by ModelParallel: every process gathers, rank 0 writes
            value = value.full_tensor()
        if value.dtype == torch.bfloat16:
            return value.float().cpu().numpy(), "bfloat16"
        return value.cpu().numpy(), None
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        return np.asarray(value.numpy()), None
    return np.asarray(value), None


def _read_array(dataset: Any) -> np.ndarray:
    tag = dataset.attrs.get("dtype")
    if isinstance(tag, bytes):
        tag = tag.decode("utf-8", "replace")
    kind = dataset.dtype.kind
    if kind not in "biuf" and not (tag == "bfloat16" and kind == "V" and dataset.dtype.itemsize == 2):
        raise WeightsMismatchError(f"Dataset {dataset.name!r} has non-numeric dtype {dataset.dtype}.")
    arr = np.asarray(dataset[()])
    if tag == "bfloat16":
        if arr.dtype.itemsize == 2 and arr.dtype.kind in "uiV":
            return (arr.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
        return arr.astype(np.float32)
    return arr


class _Store(Mapping):
    """Read-only, lazy view of one ``vars`` group: datasets are read (and size-checked) on access."""

    def __init__(self, group: Any, limit: int):
        self._group = group
        self._limit = limit

    def __len__(self) -> int:
        return len(self._group)

    def __iter__(self) -> Iterator[str]:
        return iter(self._group)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._group.get(key, getlink=True) is not None

    def _dataset(self, key: str) -> Any:
        import h5py

        link = self._group.get(key, getlink=True)
        if link is None:
            raise KeyError(key)
        dataset = self._group[key] if isinstance(link, h5py.HardLink) else None
        if not isinstance(dataset, h5py.Dataset) or dataset.is_virtual or dataset.external:
            raise WeightsMismatchError(f"Entry {key!r} of {self._group.name!r} is not a plain dataset stored in "
                                       "the weights file.")
        return dataset

    def shape(self, key: str) -> tuple:
        return tuple(self._dataset(key).shape)

    def __getitem__(self, key: str) -> np.ndarray:
        dataset = self._dataset(key)
        if dataset.size * dataset.dtype.itemsize > self._limit:
            raise WeightsMismatchError(f"Dataset {dataset.name!r} declares {dataset.size} values, more than the "
                                       "model could hold; refusing to read it.")
        return _read_array(dataset)


def _write_group(h5: Any, path: str, store: dict) -> None:
    group = h5.create_group(f"{path}/vars" if path else "vars")
    for key, value in store.items():
        arr, tag = _to_numpy(value)
        dataset = group.create_dataset(str(key), data=arr)
        if tag is not None:
            dataset.attrs["dtype"] = tag


def _read_group(h5: Any, path: str, limit: int) -> Mapping:
    """The ``vars`` group at ``path`` as a lazy store (empty when absent); links must stay inside the file."""
    import h5py

    node = h5
    for part in (f"{path}/vars" if path else "vars").split("/"):
        link = node.get(part, getlink=True)
        if link is None:
            return {}
        if not isinstance(link, h5py.HardLink):
            raise WeightsMismatchError(f"{node.name.rstrip('/')}/{part} is a {type(link).__name__}; only plain "
                                       "groups inside the weights file are read.")
        node = node[part]
        if not isinstance(node, h5py.Group):
            return {}
    return _Store(node, limit)


# -------------------------------------------------------------------- write
def write_weights(model: Any, h5: Any) -> None:
    """Write the weights of ``model`` (and its built optimizer) into the open h5py file ``h5``."""
    from cornu.optimizers.base import Optimizer

    covered: set[int] = set()

    def visit(obj: Any, path: str, owner: Any) -> None:
        store: dict = {}
        if isinstance(obj, Optimizer):
            if not obj.built:
                return
            obj.save_own_variables(store)
        else:
            hook = _custom_hook(obj, "save_own_variables")
            if hook is not None:
                hook(store)
                covered.update(id(v) for v in obj._variables)
            else:
                for i, variable in enumerate(own_variables(obj)):
                    store[str(i)] = variable
                covered.update(id(v) for v in getattr(obj, "_variables", ()))
        _write_group(h5, path, store)

    walk(model, visit)
    missing = [v.path for v in model.weights if id(v) not in covered]
    if missing:
        raise ValueError(f"Cannot save the weights of {model.name!r}: variables {missing} are not reachable through "
                         "layer attributes or the model's layer list, so they would be lost.")


def save_weights(model: Any, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Write ``model``'s weights to ``filepath`` (must end in ``.weights.h5``), atomically."""
    import h5py

    filepath = os.fspath(filepath)
    if not str(filepath).endswith(WEIGHTS_SUFFIX):
        raise ValueError("The filename must end in `.weights.h5` (Keras 3's weights format). "
                         f"Received: filepath={filepath}")
    with atomic_write(filepath, overwrite) as tmp:
        with h5py.File(tmp, "w") as h5:
            write_weights(model, h5)


# --------------------------------------------------------------------- read
def _check_own(layer: Any, store: dict, path: str, source: str) -> None:
    expected = own_variables(layer)
    where = f"'{path}/vars' in {source}" if path else f"'vars' in {source}"
    if len(store) != len(expected):
        hint = (" The layer was never built, so it has no variables yet: build the model (call it on data or give "
                "it an input shape) before loading.") if not expected and not getattr(layer, "built", True) else ""
        raise WeightsMismatchError(
            f"Layer '{layer.name}' expects {len(expected)} variables {[v.name for v in expected]}, but the weights "
            f"file has {len(store)} at {where}.{hint}")
    for i, variable in enumerate(expected):
        if str(i) not in store:
            raise WeightsMismatchError(f"Layer '{layer.name}': variable {i} ('{variable.name}') is missing from "
                                       f"{where} (found keys {sorted(store)}).")
        shape = store.shape(str(i)) if isinstance(store, _Store) else tuple(np.shape(store[str(i)]))
        if shape != tuple(variable.shape):
            raise WeightsMismatchError(
                f"Layer '{layer.name}': variable {i} ('{variable.name}') has shape {tuple(variable.shape)} in the "
                f"model but shape {shape} in the weights file ({where}).")


def _saved_paths(h5: Any) -> set[str]:
    import h5py

    found: set[str] = set()

    def collect(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Group) and (name == "vars" or name.endswith("/vars")) and len(obj):
            found.add(name[: -len("vars")].rstrip("/"))

    h5.visititems(collect)
    return found


def _read_limit(model: Any) -> int:
    """Bytes any one dataset may hold: no variable of the model (or its optimizer) is bigger."""
    return 8 * sum(int(np.prod(v.shape)) for v in model.weights) + (1 << 20)


def read_weights(model: Any, h5: Any, skip_mismatch: bool = False, source: str = "the weights file") -> None:
    """Load ``model``'s weights from the open h5py file ``h5``.

    Every layer's entries are checked and read before any variable changes, so a
    mismatch (without ``skip_mismatch``) or a read failure leaves the model as it was.
    """
    from cornu.optimizers.base import Optimizer

    limit = _read_limit(model)
    plan: list[tuple[Any, Any, Any]] = []
    visited_paths: set[str] = set()

    def visit(obj: Any, path: str, owner: Any) -> None:
        visited_paths.add(path)
        store = _read_group(h5, path, limit)
        if isinstance(obj, Optimizer) or _custom_hook(obj, "load_own_variables") is not None:
            plan.append((obj, store, owner))
            return
        try:
            _check_own(obj, store, path, source)
        except WeightsMismatchError as e:
            if not skip_mismatch:
                raise
            warnings.warn(f"Skipping loading weights for layer '{obj.name}': {e}", stacklevel=4)
            return
        plan.append((obj, [store[str(i)] for i in range(len(store))], owner))

    walk(model, visit)
    unused = sorted(p for p in _saved_paths(h5) - visited_paths if p.rsplit("/", 1)[-1] != "optimizer")
    if unused:
        message = (f"The weights file {source} has variables at {unused}, which match no layer of model "
                   f"'{model.name}' (the architectures differ).")
        if not skip_mismatch:
            raise WeightsMismatchError(message)
        warnings.warn(message, stacklevel=3)
    for obj, data, owner in plan:
        if isinstance(obj, Optimizer):
            _load_optimizer(obj, data, owner)
        elif isinstance(data, list):
            for variable, value in zip(own_variables(obj), data):
                variable.assign(value)
        else:
            _custom_hook(obj, "load_own_variables")(data)


def _load_optimizer(optimizer: Any, store: Mapping, owner: Any) -> None:
    if not store:
        return
    if not optimizer.built:
        if owner is None or not getattr(owner, "built", False):
            warnings.warn(f"Skipping optimizer state for '{optimizer.name}': its model is not built.", stacklevel=4)
            return
        optimizer.build(owner.trainable_weights)
    variables = optimizer.variables
    if len(store) == len(variables) and isinstance(store, _Store):
        for i, variable in enumerate(variables):
            if store.shape(str(i)) != tuple(variable.shape):
                warnings.warn(f"Skipping optimizer state for '{optimizer.name}': variable {i} has shape "
                              f"{tuple(variable.shape)} but the file has {store.shape(str(i))}.", stacklevel=4)
                return
    optimizer.load_own_variables(store)


def _open_error(filepath: str, error: Exception) -> ValueError:
    return ValueError(f"Could not read weights from {filepath!r}: it is not a valid HDF5 weights file (corrupt, "
                      f"truncated or another format): {error}")


def load_weights(model: Any, filepath: str | os.PathLike, skip_mismatch: bool = False, **kwargs: Any) -> None:
    """Load weights saved by ``save_weights`` (or Keras 3) from a ``.weights.h5`` file or a ``.keras`` archive, or
    from a legacy ``.h5`` / ``.hdf5`` file (there ``by_name=True`` matches layers by name)."""
    import h5py

    from cornu.saving import legacy_h5

    filepath = os.fspath(filepath)
    if legacy_h5.is_legacy_path(filepath):
        by_name = kwargs.pop("by_name", False)
        if kwargs:
            raise ValueError(f"Invalid keyword arguments: {kwargs}")
        legacy_h5.load_weights(model, filepath, skip_mismatch=skip_mismatch, by_name=by_name)
        return
    if "by_name" in kwargs:
        raise ValueError(f"`by_name` only supports loading legacy '.h5' or '.hdf5' files. Received: {filepath}")
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    if str(filepath).endswith(".keras"):
        from cornu.saving.archive import load_weights_from_archive

        load_weights_from_archive(model, filepath, skip_mismatch=skip_mismatch)
        return
    if not str(filepath).endswith(WEIGHTS_SUFFIX):
        raise ValueError("Weights can be loaded from a `.weights.h5` file, a `.keras` archive or a legacy `.h5` file. "
                         f"Received: filepath={filepath}")
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"No weights file found at {filepath!r}.")
    try:
        h5 = h5py.File(filepath, "r")
    except OSError as e:
        raise _open_error(filepath, e) from e
    with h5:
        read_weights_checked(model, h5, skip_mismatch, repr(filepath))


def read_weights_checked(model: Any, h5: Any, skip_mismatch: bool, source: str) -> None:
    """``read_weights`` with HDF5 read failures reported as ``ValueError`` naming ``source``."""
    try:
        read_weights(model, h5, skip_mismatch=skip_mismatch, source=source)
    except (OSError, KeyError, RuntimeError) as e:
        raise ValueError(f"Could not read weights from {source}: the file is corrupt or truncated: {e}") from e
