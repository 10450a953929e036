"""``keras.saving.KerasFileEditor``: inspect and edit the weights of a ``.keras`` or ``.weights.h5`` file.

The weights are read into ``weights_dict``, a nested dict that mirrors the
file's objects (``{"layers": {"dense": {"0": kernel, "1": bias}}}``, objects
without weights left out); edits change that dict and ``save`` writes it as a
``.weights.h5`` file, atomically. Names given to the editing methods are either
a path from the root (``"layers/dense"``) or a key that occurs once anywhere
(Keras 3.15 also calls such a key ambiguous when objects follow it in the file;
cornu does not).
``compare`` tallies matches and errors as Keras 3.15 does (a nested object's
tally is added onto its parent's running tally), so its counts equal Keras's.
"""
from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Any

import numpy as np

from cornu.saving import archive, weights_h5

_MAX_DEPTH = 64
_WEIGHTS_TYPE_ERROR = ("Argument `weights` should be a dict where keys are weight names (usually '0', '1', etc.) and "
                       "values are NumPy arrays. Received: type(weights)={}")


class _Recorder:
    """Stands in for an h5py file in ``weights_h5.write_weights``: keeps the arrays in the order they are written."""

    def __init__(self) -> None:
        self.tree: dict = {}

    def create_group(self, path: str) -> "_Recorder._Group":
        node = self.tree
        for part in path.split("/")[:-1]:
            node = node.setdefault(part, {})
        return _Recorder._Group(node)

    class _Group:
        def __init__(self, node: dict) -> None:
            self.node = node

        def create_dataset(self, key: str, data: Any) -> Any:
            self.node[key] = np.asarray(data)
            return _Recorder._Dataset()

    class _Dataset:
        def __init__(self) -> None:
            self.attrs: dict = {}


def _prune(tree: dict) -> dict:
    """``tree`` without objects that hold no weights (at any depth)."""
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            value = _prune(value)
            if not value:
                continue
        out[key] = value
    return out


def model_weights_dict(model: Any) -> dict:
    """The weights ``model.save_weights`` would write, as the editor's nested dict, in the model's order."""
    recorder = _Recorder()
    weights_h5.write_weights(model, recorder)
    return _prune(recorder.tree)


def _check_weights(weights: Any) -> dict:
    if not isinstance(weights, dict):
        raise ValueError(_WEIGHTS_TYPE_ERROR.format(type(weights)))
    out = {}
    for key, value in weights.items():
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise ValueError(f"Weight {key!r} must be a numeric array; received dtype {array.dtype}.")
        out[str(key)] = array
    return out


class KerasFileEditor:
    """Open ``filepath`` (``.keras`` or ``.weights.h5``) and load its weights (and config, metadata) for editing."""

    def __init__(self, filepath: str | os.PathLike):
        filepath = os.fspath(filepath)
        self.filepath = filepath
        self.metadata: dict | None = None
        self.config: dict | None = None
        self.model = None
        self.object_metadata: dict = {}
        if filepath.endswith(".keras"):
            self.weights_dict = self._read_archive(filepath)
        elif filepath.endswith(weights_h5.WEIGHTS_SUFFIX):
            if not os.path.isfile(filepath):
                raise FileNotFoundError(f"No such file: {filepath!r}")
            with open(filepath, "rb") as f:
                self.weights_dict = self._read_h5(f, repr(filepath))
        else:
            raise ValueError("Invalid filename: expected a `.keras` `.weights.h5` extension. "
                             f"Received: filepath={filepath}")
        print(f"Keras model file '{filepath}'")
        if self.metadata is not None:
            print(f"Saved with Keras {self.metadata.get('keras_version')} - date: {self.metadata.get('date_saved')}")

    # ------------------------------------------------------------- reading
    def _read_archive(self, filepath: str) -> dict:
        if not os.path.isfile(filepath):
            raise FileNotFoundError(f"No such file: {filepath!r}")
        with archive._open_archive(filepath) as zf:
            try:
                data = self._read_members(zf, filepath)
            except archive._ZIP_ERRORS as e:
                raise archive._corrupt(filepath, e) from e
        return self._read_h5(io.BytesIO(data), f"'{archive.WEIGHTS_NAME}' in {filepath!r}")

    def _read_members(self, zf: zipfile.ZipFile, filepath: str) -> bytes:
        """Read config and metadata (when present) into the editor; return the weights file's bytes."""
        for name, attr in ((archive.CONFIG_NAME, "config"), (archive.METADATA_NAME, "metadata")):
            if name in zf.namelist():
                raw = archive._read_member(zf, name, archive.MAX_JSON_BYTES, filepath)
                try:
                    setattr(self, attr, json.loads(raw))
                except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
                    raise ValueError(f"{name!r} in {filepath!r} is not valid JSON: {e}") from e
        return archive._read_member(zf, archive.WEIGHTS_NAME, archive.MAX_WEIGHTS_BYTES, filepath)

    def _read_h5(self, fileobj: Any, source: str) -> dict:
        import h5py

        try:
            h5 = h5py.File(fileobj, "r")
        except OSError as e:
            raise ValueError(f"Could not read {source}: not a valid HDF5 file (corrupt or truncated): {e}") from e
        size = fileobj.seek(0, os.SEEK_END)
        fileobj.seek(0)
        # Weights are stored uncompressed by Keras and cornu: a dataset declaring far more bytes than the file holds
        # is refused before anything is allocated.
        budget = [min(archive.MAX_WEIGHTS_BYTES, archive.MAX_COMPRESSION_RATIO * size + (1 << 20))]
        try:
            with h5:
                return _prune(self._read_group(h5, "", source, budget, 0))
        except (OSError, KeyError, RuntimeError) as e:
            raise ValueError(f"Could not read {source}: the file is corrupt or truncated: {e}") from e

    def _read_group(self, group: Any, path: str, source: str, budget: list, depth: int) -> dict:
        import h5py

        if depth > _MAX_DEPTH:
            raise ValueError(f"{source} nests objects more than {_MAX_DEPTH} levels deep at {path!r}.")
        out: dict = {}
        for key in group:
            link = group.get(key, getlink=True)
            if not isinstance(link, h5py.HardLink):
                raise ValueError(f"{source}: {path}/{key} is a {type(link).__name__}; only plain groups and datasets "
                                 "inside the file are read.")
            child = group[key]
            if key == "vars" and isinstance(child, h5py.Group):
                for name in child:
                    array = weights_h5._Store(child, budget[0])[name]
                    budget[0] -= array.nbytes
                    out[name] = array
                attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in child.attrs.items()}
                if attrs and len(child):
                    self.object_metadata[path or "/"] = attrs
            elif isinstance(child, h5py.Group):
                out[key] = self._read_group(child, f"{path}/{key}", source, budget, depth + 1)
        return out

    # ------------------------------------------------------------- lookup
    def _locate(self, name: str) -> tuple[dict, str]:
        """``(parent dict, key)`` of the object or weight ``name`` (a path, or a key found once)."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"Expected an object name (a non-empty string). Received: {name!r}")
        missing = ValueError(f"Source name '{name}' does not appear in the model. Use `editor.weights_summary()` "
                             "to list all objects.")
        if "/" in name.strip("/"):
            parts = name.strip("/").split("/")
            node = self.weights_dict
            for part in parts[:-1]:
                node = node.get(part)
                if not isinstance(node, dict):
                    raise missing
            if parts[-1] not in node:
                raise missing
            return node, parts[-1]
        name = name.strip("/")
        found: list[tuple[dict, str]] = []

        def search(node: dict) -> None:
            for key, value in node.items():
                if key == name:
                    found.append((node, key))
                if isinstance(value, dict):
                    search(value)

        search(self.weights_dict)
        if not found:
            raise missing
        if len(found) > 1:
            raise ValueError(f"Name '{name}' occurs more than once in the model; try passing a complete path")
        return found[0]

    def _object(self, name: str) -> dict:
        parent, key = self._locate(name)
        if not isinstance(parent[key], dict):
            raise ValueError(f"'{name}' is a weight, not an object.")
        return parent[key]

    # ------------------------------------------------------------- edits
    def rename_object(self, object_name: str, new_name: str) -> None:
        """Rename an object (or weight); ``new_name`` is a plain name in the same place."""
        if not isinstance(new_name, str) or not new_name or "/" in new_name:
            raise ValueError(f"`new_name` must be a plain name without '/'. Received: new_name={new_name!r}")
        parent, key = self._locate(object_name)
        value = parent.pop(key)
        parent[new_name] = value

    def delete_object(self, object_name: str) -> None:
        """Remove an object (with all its weights and sub-objects), or a single weight."""
        parent, key = self._locate(object_name)
        del parent[key]

    def add_object(self, object_path: str, weights: dict) -> None:
        """Add (or replace) the object at ``object_path`` holding ``weights`` (``{"0": array, ...}``)."""
        weights = _check_weights(weights)
        if not isinstance(object_path, str) or not object_path.strip("/"):
            raise ValueError(f"Expected an object path (a non-empty string). Received: {object_path!r}")
        parts = object_path.strip("/").split("/")
        node = self.weights_dict
        for part in parts[:-1]:
            node = node.get(part)
            if not isinstance(node, dict):
                raise ValueError(f"Path '{'/'.join(parts[:-1])}' not found in model.")
        node[parts[-1]] = weights

    def delete_weight(self, object_name: str, weight_name: str) -> None:
        """Remove the weight ``weight_name`` (``"0"``, ``"1"``...) of an object."""
        obj = self._object(object_name)
        if str(weight_name) not in obj or isinstance(obj[str(weight_name)], dict):
            weights = [k for k, v in obj.items() if not isinstance(v, dict)]
            raise ValueError(f"Weight {weight_name} not found in object {object_name}. Weights found: {weights}")
        del obj[str(weight_name)]

    def add_weights(self, object_name: str, weights: dict) -> None:
        """Add (or replace) weights of an existing object."""
        weights = _check_weights(weights)
        self._object(object_name).update(weights)

    # ------------------------------------------------------------- output
    def save(self, filepath: str | os.PathLike) -> None:
        """Write the (edited) weights to a ``.weights.h5`` file, atomically."""
        import h5py

        filepath = os.fspath(filepath)
        if not filepath.endswith(weights_h5.WEIGHTS_SUFFIX):
            raise ValueError("Invalid `filepath` argument: expected a `.weights.h5` extension. "
                             f"Received: filepath={filepath}")

        def write(group: Any, node: dict) -> None:
            arrays = {k: v for k, v in node.items() if not isinstance(v, dict)}
            if arrays:
                vars_group = group.create_group("vars")
                for key, value in arrays.items():
                    vars_group.create_dataset(key, data=np.asarray(value))
            for key, value in node.items():
                if isinstance(value, dict):
                    write(group.create_group(key), value)

        with weights_h5.atomic_write(filepath) as tmp:
            with h5py.File(tmp, "w") as h5:
                write(h5, self.weights_dict)

    def resave_weights(self, filepath: str | os.PathLike) -> None:
        """Write the weights to a ``.weights.h5`` file (the same as ``save``)."""
        self.save(filepath)

    def summary(self) -> None:
        """Print the tree of objects and weights with their shapes and dtypes."""
        print("Weights structure")
        self._print_tree(self.weights_dict, "  ", top=True)

    def _print_tree(self, node: dict, prefix: str, top: bool = False) -> None:
        items = list(node.items())
        for i, (key, value) in enumerate(items):
            last = i == len(items) - 1
            connector = "> " if top and i == 0 else ("└─ " if last else "├─ ")
            if isinstance(value, dict):
                print(f"{prefix}{connector}{key}")
                self._print_tree(value, prefix + ("    " if last else "│   "))
            else:
                print(f"{prefix}{connector}{key}: shape={tuple(value.shape)}, dtype={value.dtype}")

    def compare(self, reference_model: Any) -> dict:
        """Check the file's weights against ``reference_model``'s: prints each difference and returns
        ``{"status": "success" | "error", "error_count", "match_count"}``."""
        print("Running comparison")
        reference = model_weights_dict(reference_model)
        checked: set[str] = set()
        errors, matches = self._compare_reference(self.weights_dict, reference, "", 0, 0, checked)
        errors += self._compare_saved(self.weights_dict, reference, "", 0, checked)
        print("─────────────────────")
        if errors == 0:
            print("Comparison successful: saved file is compatible with the reference model")
            if matches:
                print(f"    Found {matches} matching weights")
            return {"status": "success", "error_count": 0, "match_count": matches}
        print(f"Found {errors} error{'s' if errors > 1 else ''}: saved file is not compatible with the reference "
              "model")
        return {"status": "error", "error_count": errors, "match_count": matches}

    def _compare_reference(self, saved: dict, reference: dict, path: str, errors: int, matches: int,
                           checked: set) -> tuple[int, int]:
        for key, ref_value in reference.items():
            inner = f"{path}/{key}"
            if key not in saved:
                kind = "Object" if isinstance(ref_value, dict) else "Weight"
                print(f"...{kind} {inner} present in reference model, missing from saved file")
                if isinstance(ref_value, dict):
                    print(f"    In reference model, {inner} contains the following keys: {list(ref_value)}")
                errors += 1
                checked.add(inner)
            elif isinstance(ref_value, dict) != isinstance(saved[key], dict):
                print(f"...{inner} is an object in one file and a weight in the other")
                errors += 1
                checked.add(inner)
            elif isinstance(ref_value, dict):
                e, m = self._compare_reference(saved[key], ref_value, inner, errors, matches, checked)
                errors += e
                matches += m
            elif tuple(ref_value.shape) != tuple(saved[key].shape):
                print(f"...Weight shape mismatch for {inner}\n    In reference model: shape={tuple(ref_value.shape)}"
                      f"\n    In saved file: shape={tuple(saved[key].shape)}")
                errors += 1
                checked.add(inner)
            else:
                matches += 1
        return errors, matches

    def _compare_saved(self, saved: dict, reference: dict, path: str, errors: int, checked: set) -> int:
        for key, value in saved.items():
            inner = f"{path}/{key}"
            if inner in checked:
                continue
            if key not in reference:
                kind = "Object" if isinstance(value, dict) else "Weight"
                print(f"...{kind} {inner} present in saved file, missing from reference model")
                if isinstance(value, dict):
                    print(f"    In saved file, {inner} contains the following keys: {list(value)}")
                errors += 1
            elif isinstance(value, dict) and isinstance(reference[key], dict):
                errors += self._compare_saved(value, reference[key], inner, errors, checked)
        return errors

