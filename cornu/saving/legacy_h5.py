"""The legacy HDF5 format (``.h5`` / ``.hdf5``) of Keras 2, tf.keras and Keras 3's legacy writer.

A whole-model file holds ``model_config`` (JSON) and ``training_config`` in its
root attributes, and the weights in ``model_weights``: one group per layer with
weights, listed in the ``layer_names`` attribute, whose ``weight_names``
attribute lists its datasets in the layer's legacy order (trainable weights,
then non-trainable ones, in Keras layout). ``save_weights("w.h5")`` files of
Keras 2 hold that weights group at the root. Keras 2 configs are mapped to
Keras 3 ones (``batch_input_shape``, ``input_dtype``, one-element ``axis`` lists, ``time_major``,
Sequential configs as a bare list, lambdas as ``[code, defaults, closure]``);
lambdas still load only with ``safe_mode=False``.
"""
from __future__ import annotations

import json
import os
import warnings
from typing import Any

import numpy as np

from cornu.saving import serialization, weights_h5

LEGACY_SUFFIXES = (".h5", ".hdf5")
LEGACY_WARNING = (
    "You are saving your model as an HDF5 file via `model.save()` or `keras.saving.save_model(model)`. This file "
    "format is considered legacy. We recommend using instead the native Keras format, e.g. "
    "`model.save('my_model.keras')` or `keras.saving.save_model(model, 'my_model.keras')`. ")

_ATTR_LIMIT = 64000
_MAX_CONFIG_BYTES = 64 * 1024 * 1024
_RNN_CLASSES = {"LSTM", "GRU", "SimpleRNN", "LSTMCell", "GRUCell", "SimpleRNNCell", "ConvLSTM1D", "ConvLSTM2D",
                "ConvLSTM3D", "CuDNNLSTM", "CuDNNGRU"}
_LAMBDA_DEPRECATED = ("module", "function_type", "output_shape_type", "output_shape_module")


def is_legacy_path(filepath: Any) -> bool:
    """Whether ``filepath`` names a legacy HDF5 file (``.h5`` / ``.hdf5`` but not ``.weights.h5``)."""
    path = str(filepath)
    return path.endswith(LEGACY_SUFFIXES) and not path.endswith(weights_h5.WEIGHTS_SUFFIX)


# ------------------------------------------------------------ attributes
def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.bytes_):
        return bytes(value).decode("utf-8")
    if isinstance(value, str):
        return value
    raise ValueError(f"Expected a string attribute, found {type(value).__name__}: {value!r:.100}")


def read_name_list(group: Any, name: str) -> list[str]:
    """A list-of-strings attribute, joined back from ``name0``, ``name1``... chunks when Keras split it."""
    if name in group.attrs:
        chunks = [group.attrs[name]]
    else:
        chunks, i = [], 0
        while f"{name}{i}" in group.attrs:
            chunks.append(group.attrs[f"{name}{i}"])
            i += 1
    out: list[str] = []
    for chunk in chunks:
        values = np.atleast_1d(np.asarray(chunk))
        if values.dtype.kind == "f" and values.size == 0:
            continue
        if values.dtype.kind not in "OSU":
            raise ValueError(f"Attribute {name!r} of {group.name!r} should list names; it holds {values.dtype} "
                             "values.")
        out.extend(_text(v) if not isinstance(v, str) else v for v in values.ravel())
    return out


def write_name_list(group: Any, name: str, names: list[str]) -> None:
    """Store ``names`` as an attribute, split into ``name0``, ``name1``... chunks past HDF5's 64 KB limit."""
    data = np.array([n.encode("utf-8") for n in names]) if names else np.array([], dtype="float64")
    if data.nbytes <= _ATTR_LIMIT:
        group.attrs[name] = data
        return
    chunks = int(np.ceil(data.nbytes / _ATTR_LIMIT))
    for i, chunk in enumerate(np.array_split(data, chunks)):
        group.attrs[f"{name}{i}"] = chunk


def _json_attr(h5: Any, name: str, filepath: str) -> Any:
    raw = h5.attrs.get(name)
    if raw is None:
        return None
    try:
        text = _text(raw)
        if len(text) > _MAX_CONFIG_BYTES:
            raise ValueError(f"over {_MAX_CONFIG_BYTES} bytes")
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        raise ValueError(f"The {name!r} attribute of {filepath!r} is not valid JSON text (or nested too deeply): "
                         f"{e}") from e


# ------------------------------------------------------- Keras 2 configs
def _legacy_layer(config: dict) -> dict:
    """One Keras 2 layer entry (``{"class_name", "config"}`` without ``module``) in Keras 3's form."""
    class_name, inner = config.get("class_name"), dict(config["config"])
    if "input_dtype" in inner:
        dtype = inner.pop("input_dtype")
        inner.setdefault("dtype", dtype)
    batch_input_shape = inner.pop("batch_input_shape", None)
    if batch_input_shape is not None:
        inner["batch_shape" if class_name == "InputLayer" else "batch_input_shape"] = batch_input_shape
    axis = inner.get("axis")
    if isinstance(axis, list) and len(axis) == 1:
        inner["axis"] = axis[0]
    if class_name in _RNN_CLASSES:
        if inner.pop("time_major", False):
            raise ValueError(f"Layer {inner.get('name')!r} ({class_name}) was saved with time_major=True, which "
                             "Keras 3 layers do not support.")
        inner.pop("implementation", None)
    if class_name == "Lambda":
        for key in _LAMBDA_DEPRECATED:
            inner.pop(key, None)
        function = inner.get("function")
        if isinstance(function, list) and len(function) == 3:
            inner["function"] = {"class_name": "__lambda__", "config": dict(zip(("code", "defaults", "closure"),
                                                                                 function))}
    return {**config, "config": inner}


def convert_config(config: Any) -> Any:
    """A Keras 2 model config (nested layers included) mapped to what Keras 3 ``from_config`` takes."""
    if isinstance(config, list):
        return [convert_config(c) for c in config]
    if not isinstance(config, dict):
        return config
    if config.get("class_name") == "Sequential" and isinstance(config.get("config"), list):
        config = {**config, "config": {"name": "sequential", "layers": config["config"]}}
    out = {k: convert_config(v) for k, v in config.items()}
    if isinstance(out.get("class_name"), str) and isinstance(out.get("config"), dict) and "module" not in out:
        out = _legacy_layer(out)
    return out


# ------------------------------------------------------------- weights
def _legacy_weights(layer: Any) -> list:
    """A layer's variables in the legacy order: trainable ones, then non-trainable ones."""
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _layers_of(model_or_layers: Any) -> list:
    if isinstance(model_or_layers, (list, tuple)):
        return list(model_or_layers)
    return list(model_or_layers.layers)


def _datasets(group: Any, layer_name: str) -> list:
    """The datasets ``weight_names`` lists, checked to be plain numeric datasets stored in the file (not read)."""
    import h5py

    datasets = []
    for name in read_name_list(group, "weight_names"):
        link = group.get(name, getlink=True)
        dataset = group[name] if isinstance(link, h5py.HardLink) else None
        if not isinstance(dataset, h5py.Dataset) or dataset.is_virtual or dataset.external:
            raise ValueError(f"Weight {name!r} of layer {layer_name!r} is missing from the file or is not a plain "
                             "dataset stored in it.")
        if dataset.dtype.kind not in "biuf":
            raise ValueError(f"Weight {name!r} of layer {layer_name!r} has non-numeric dtype {dataset.dtype}.")
        datasets.append(dataset)
    return datasets


def _read(datasets: list, layer_name: str, limit: int) -> list[np.ndarray]:
    values = []
    for dataset in datasets:
        if dataset.size * dataset.dtype.itemsize > limit:
            raise ValueError(f"Weight {dataset.name!r} of layer {layer_name!r} declares {dataset.size} values, more "
                             "than the model could hold; refusing to read it.")
        values.append(np.asarray(dataset[()]))
    return values


def _read_limit(layers: list) -> int:
    return 8 * sum(int(np.prod(v.shape)) for layer in layers for v in layer.weights) + (1 << 20)


def _shape_problem(layer: Any, variables: list, values: list) -> str | None:
    for variable, value in zip(variables, values):
        if tuple(variable.shape) != tuple(value.shape):
            return (f"for weight {getattr(variable, 'path', variable.name)}. Weight expects shape "
                    f"{tuple(variable.shape)}. Received saved weight with shape {tuple(value.shape)}")
    return None


def _assign(variables: list, values: list) -> None:
    for variable, value in zip(variables, values):
        variable.assign(value)


def _top_level(model_or_layers: Any, layers: list) -> list:
    if isinstance(model_or_layers, (list, tuple)) or not hasattr(model_or_layers, "weights"):
        return []
    in_layers = {id(v) for layer in layers for v in layer.weights}
    return [v for v in _legacy_weights(model_or_layers) if id(v) not in in_layers]


def _first_difference(layers: list, f: Any, names: list[str]) -> str:
    for k, (layer, name) in enumerate(zip(layers, names)):
        variables = _legacy_weights(layer)
        values = _datasets(f[name], name)
        if len(variables) != len(values):
            return (f" First difference: layer #{k} (named {layer.name} in the current model, {name} in the save "
                    f"file) expects {len(variables)} weight(s), the file has {len(values)}.")
        problem = _shape_problem(layer, variables, values)
        if problem:
            return f" First difference: layer #{k} (named {layer.name} in the current model, {name} in the save " \
                   f"file), {problem}."
    k = min(len(layers), len(names))
    if k < len(names):
        return (f" First difference: layer #{k}, {names[k]!r} in the save file (with weights), is not in the current "
                "model (was the file saved with a different `include_top`?).")
    if k < len(layers):
        return (f" First difference: layer #{k}, {layers[k].name!r} in the current model (with weights), is not in "
                "the save file (was the file saved with a different `include_top`?).")
    return ""


def load_weights_from_hdf5_group(f: Any, model_or_layers: Any, skip_mismatch: bool = False) -> None:
    """Load legacy weights from the h5py group ``f`` into the layers (with weights) of a model, in order.

    Every layer is checked and read before any variable changes. With
    ``skip_mismatch``, layers whose weight shapes differ are skipped with a
    warning; a different number of layers or of weights in a layer always raises.
    """
    layers = [layer for layer in _layers_of(model_or_layers) if layer.weights]
    names = [n for n in read_name_list(f, "layer_names") if n in f and read_name_list(f[n], "weight_names")]
    limit = _read_limit(layers) + 8 * sum(int(np.prod(v.shape)) for v in _top_level(model_or_layers, layers))
    if len(names) != len(layers):
        raise ValueError(f"Layer count mismatch when loading weights from file. Model expected {len(layers)} "
                         f"layers, found {len(names)} saved layers.{_first_difference(layers, f, names)}")
    plan = []
    for k, (layer, name) in enumerate(zip(layers, names)):
        variables = _legacy_weights(layer)
        values = _datasets(f[name], name)
        if len(variables) != len(values):
            raise ValueError(f"Weight count mismatch for layer #{k} (named {layer.name} in the current model, {name} "
                             f"in the save file). Layer expects {len(variables)} weight(s). Received {len(values)} "
                             "saved weight(s)")
        problem = _shape_problem(layer, variables, values)
        if problem:
            if not skip_mismatch:
                raise ValueError(f"Shape mismatch in layer #{k} (named {layer.name}) {problem}")
            warnings.warn(f"Skipping loading weights for layer #{k} (named {layer.name}) due to mismatch in shape "
                          f"{problem}.", stacklevel=2)
            continue
        plan.append((variables, _read(values, name, limit)))
    top = _top_level(model_or_layers, layers)
    if "top_level_model_weights" in f and top:
        values = _datasets(f["top_level_model_weights"], "top_level_model_weights")
        if len(values) != len(top) or _shape_problem(model_or_layers, top, values):
            raise ValueError(f"The top-level weights of {model_or_layers.name!r} ({len(top)}) do not match the "
                             f"{len(values)} saved in 'top_level_model_weights'.")
        plan.append((top, _read(values, "top_level_model_weights", limit)))
    for variables, values in plan:
        _assign(variables, values)


def load_weights_from_hdf5_group_by_name(f: Any, model_or_layers: Any, skip_mismatch: bool = False) -> None:
    """Load legacy weights into the layers whose names match saved layer names; others are left as they are."""
    layers = _layers_of(model_or_layers)
    by_name: dict[str, list] = {}
    for layer in layers:
        by_name.setdefault(layer.name, []).append(layer)
    limit = _read_limit(layers)
    plan = []
    for name in read_name_list(f, "layer_names"):
        if name not in f or name not in by_name:
            continue
        values = _datasets(f[name], name)
        for k, layer in enumerate(by_name[name]):
            variables = _legacy_weights(layer)
            if len(variables) != len(values):
                message = (f"Weight count mismatch for layer #{k} (named {layer.name}). Layer expects "
                           f"{len(variables)} weight(s). Received {len(values)} saved weight(s)")
            else:
                problem = _shape_problem(layer, variables, values)
                message = f"Shape mismatch in layer #{k} (named {layer.name}) {problem}" if problem else None
            if message is None:
                plan.append((variables, _read(values, name, limit)))
            elif skip_mismatch:
                warnings.warn(f"Skipping loading weights: {message}", stacklevel=2)
            else:
                raise ValueError(message)
    for variables, values in plan:
        _assign(variables, values)


def _open(filepath: str) -> Any:
    import h5py

    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"No such file: {filepath!r}.")
    try:
        return h5py.File(filepath, "r")
    except OSError as e:
        raise OSError(f"Could not open {filepath!r} as an HDF5 file (corrupt, truncated or another format): {e}") \
            from e


def _guarded(filepath: str, fn: Any, *args: Any) -> Any:
    """Run ``fn``; HDF5 read failures of a corrupt file become a ``ValueError`` naming the file."""
    try:
        return fn(*args)
    except (NotImplementedError, RecursionError):
        raise
    except (KeyError, RuntimeError) as e:
        raise ValueError(f"Could not read {filepath!r}: the HDF5 file is corrupt or truncated: {e}") from e
    except OSError as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise ValueError(f"Could not read {filepath!r}: the HDF5 file is corrupt or truncated: {e}") from e


def load_weights(model: Any, filepath: str | os.PathLike, skip_mismatch: bool = False, by_name: bool = False) -> None:
    """Load a legacy ``.h5`` weights file (or the weights of a legacy whole-model file) into ``model``."""
    filepath = os.fspath(filepath)
    with _open(filepath) as h5:
        def load() -> None:
            group = h5
            if "layer_names" not in h5.attrs and "layer_names0" not in h5.attrs and "model_weights" in h5:
                group = h5["model_weights"]
            loader = load_weights_from_hdf5_group_by_name if by_name else load_weights_from_hdf5_group
            loader(group, model, skip_mismatch)

        _guarded(filepath, load)


# ---------------------------------------------------------------- models
def _compile_args(training_config: dict) -> dict:
    from cornu import optimizers

    optimizer_config = training_config.get("optimizer_config")
    if isinstance(optimizer_config, dict) and isinstance(optimizer_config.get("config"), dict):
        inner = dict(optimizer_config["config"])
        if "lr" in inner:
            inner.setdefault("learning_rate", inner.pop("lr"))
        inner.pop("decay", None)
        optimizer_config = {**optimizer_config, "config": inner}
    optimizer = optimizers.deserialize(optimizer_config) if optimizer_config is not None else "rmsprop"
    args = {"optimizer": optimizer}
    for key in ("loss", "metrics", "weighted_metrics", "loss_weights"):
        value = training_config.get(key)
        if value is not None:
            args[key] = serialization.deserialize_keras_object(value)
    return args


def _compile(model: Any, training_config: Any, filepath: str) -> None:
    if training_config is None:
        warnings.warn("No training configuration found in the save file, so the model was *not* compiled. "
                      "Compile it manually.", stacklevel=3)
        return
    try:
        if not isinstance(training_config, dict):
            raise TypeError(f"expected a dict, found {type(training_config).__name__}")
        model.compile(**_compile_args(training_config))
    except (ValueError, TypeError, KeyError) as e:
        warnings.warn(f"Could not compile the model from the training configuration of {filepath!r} ({e}); the "
                      "model was *not* compiled. Compile it manually.", stacklevel=3)


def _load_optimizer_weights(model: Any, h5: Any) -> None:
    optimizer = getattr(model, "optimizer", None)
    if "optimizer_weights" not in h5 or optimizer is None:
        return
    group = h5["optimizer_weights"]
    try:
        if not optimizer.built:
            optimizer.build(model.trainable_weights)
        variables = list(optimizer.variables)
        datasets = _datasets(group, "optimizer_weights")
        if len(datasets) != len(variables) or any(tuple(v.shape) != d.shape for v, d in zip(variables, datasets)):
            raise ValueError(f"the optimizer has {len(variables)} variables, the file {len(datasets)}")
        values = _read(datasets, "optimizer_weights", _read_limit([model]) * 4)
    except ValueError as e:
        warnings.warn(f"Error in loading the saved optimizer state ({e}). As a result, your model is starting with a "
                      "freshly initialized optimizer.", stacklevel=3)
        return
    _assign(variables, values)


def load_model(filepath: str | os.PathLike, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True) -> Any:
    """Rebuild a model saved in the legacy HDF5 format (Keras 2, tf.keras or Keras 3's ``model.save("x.h5")``)."""
    filepath = os.fspath(filepath)
    with _open(filepath) as h5:
        def load() -> Any:
            config = _json_attr(h5, "model_config", filepath)
            if config is None:
                raise ValueError(f"No model config found in the file at {filepath}.")
            if not isinstance(config, dict) or not isinstance(config.get("class_name"), str) \
                    or "config" not in config:
                raise ValueError(f"The model config of {filepath!r} does not describe a model: {config!r:.200}")
            from cornu.saving.archive import deserialize_model

            try:
                converted = convert_config(config)
            except RecursionError as e:
                raise ValueError(f"The model config of {filepath!r} is nested too deeply to load.") from e
            model = deserialize_model(converted, filepath, custom_objects, safe_mode)
            if not hasattr(model, "layers") or not hasattr(model, "weights"):
                raise ValueError(f"The model config of {filepath!r} describes a {type(model).__name__}, not a model.")
            if "model_weights" not in h5:
                raise ValueError(f"{filepath!r} has a model config but no 'model_weights' group.")
            load_weights_from_hdf5_group(h5["model_weights"], model)
            if compile:
                _compile(model, _json_attr(h5, "training_config", filepath), filepath)
                _load_optimizer_weights(model, h5)
            return model

        return _guarded(filepath, load)


def _weight_names(layer_name: str, variables: list) -> list[str]:
    names, used = [], set()
    for variable in variables:
        base = getattr(variable, "path", None) or f"{layer_name}/{variable.name}"
        name, i = base, 1
        while name in used:
            name, i = f"{base}_{i}", i + 1
        used.add(name)
        names.append(name)
    return names


def save_weights_to_hdf5_group(f: Any, model: Any) -> None:
    """Write ``model``'s weights into the h5py group ``f`` in the legacy layout (one group per layer)."""
    from cornu.version import __version__

    layers = list(model.layers)
    write_name_list(f, "layer_names", [layer.name for layer in layers])
    f.attrs["backend"] = "torch"
    f.attrs["keras_version"] = str(__version__)
    groups = [(layer.name, _legacy_weights(layer)) for layer in layers]
    groups.append(("top_level_model_weights", _top_level(model, layers)))
    for name, variables in groups:
        group = f.create_group(name)
        names = _weight_names(name, variables)
        write_name_list(group, "weight_names", names)
        for weight_name, variable in zip(names, variables):
            value = np.asarray(variable.numpy())
            dataset = group.create_dataset(weight_name, value.shape, dtype=value.dtype)
            if value.ndim:
                dataset[:] = value
            else:
                dataset[()] = value


def _training_config(model: Any) -> dict | None:
    config = serialization.get_compile_config(model)
    if not config or getattr(model, "optimizer", None) is None:
        return None
    config = dict(config)
    optimizer = config.pop("optimizer", None)
    config.setdefault("loss_weights", None)
    if isinstance(optimizer, dict):
        config["optimizer_config"] = {"class_name": optimizer.get("class_name"), "config": optimizer.get("config")}
    elif isinstance(optimizer, str):
        config["optimizer_config"] = {"class_name": optimizer, "config": {}}
    return config


def save_model(model: Any, filepath: str | os.PathLike, overwrite: bool = True, include_optimizer: bool = True) \
        -> None:
    """Write ``model`` in the legacy HDF5 format (with a warning: ``.keras`` is the current format), atomically."""
    import h5py

    from cornu.version import __version__

    filepath = os.fspath(filepath)
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"File {filepath!r} already exists and overwrite=False.")
    warnings.warn(LEGACY_WARNING, stacklevel=3)
    serialized = serialization.serialize_keras_object(model)
    try:
        model_config = json.dumps({"class_name": serialized["class_name"], "config": serialized["config"]})
        training = _training_config(model) if include_optimizer else None
        training_json = json.dumps(training) if training is not None else None
    except TypeError as e:
        raise ValueError(f"The config of model {model.name!r} is not JSON-serializable: {e}") from e
    with weights_h5.atomic_write(filepath, overwrite) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["backend"] = "torch"
            f.attrs["keras_version"] = str(__version__)
            f.attrs["model_config"] = model_config
            save_weights_to_hdf5_group(f.create_group("model_weights"), model)
            if training_json is not None:
                f.attrs["training_config"] = training_json
                optimizer = model.optimizer
                if getattr(optimizer, "built", False):
                    group = f.create_group("optimizer_weights")
                    variables = list(optimizer.variables)
                    names = _weight_names(optimizer.name, variables)
                    write_name_list(group, "weight_names", names)
                    for name, variable in zip(names, variables):
                        group.create_dataset(name, data=np.asarray(variable.numpy()))
