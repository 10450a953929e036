"""The ``.keras`` archive: a zip of ``metadata.json``, ``config.json`` and ``model.weights.h5``.

Loading treats the archive as untrusted: member names must be plain relative
paths (no absolute paths, ``..``, backslashes or duplicates), sizes are
capped (zip bombs), nothing is extracted to disk, nothing is unpickled, and
code (lambda bytecode) is only loaded with ``safe_mode=False``.
"""
from __future__ import annotations

import datetime
import io
import json
import os
import tempfile
import warnings
import zipfile
import zlib
from typing import Any

from cornu.saving import legacy_h5, serialization, weights_h5

CONFIG_NAME = "config.json"
METADATA_NAME = "metadata.json"
WEIGHTS_NAME = "model.weights.h5"

MAX_MEMBERS = 10_000
MAX_JSON_BYTES = 64 * 1024 * 1024
MAX_WEIGHTS_BYTES = 32 * 1024 ** 3
MAX_COMPRESSION_RATIO = 200
_RATIO_FLOOR_BYTES = 1024 * 1024
# Raised by zipfile for a damaged archive (NotImplementedError: a corrupt compression-method field).
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)


def _check_extension(filepath: str, action: str) -> None:
    if filepath.endswith(weights_h5.WEIGHTS_SUFFIX):
        raise ValueError(f"{filepath!r} is a weights file: use `model.{action}_weights(...)` for `.weights.h5` files, "
                         f"or give a `.keras` path to {action} the whole model.")
    if not filepath.endswith(".keras") and not legacy_h5.is_legacy_path(filepath):
        raise ValueError(f"Invalid filepath extension for {action}: expected a `.keras` extension (or the legacy "
                         "`.h5` / `.hdf5`). "
                         f"Received: filepath={filepath}")


def save_model(model: Any, filepath: str | os.PathLike, overwrite: bool = True, zipped: bool = True,
               **kwargs: Any) -> None:
    """Save architecture, weights and compile state of ``model`` to a ``.keras`` archive, atomically."""
    import h5py

    from cornu.version import __version__

    if "save_format" in kwargs:
        raise ValueError("The `save_format` argument is not supported (Keras 3): the format follows the extension. "
                         f"Received: save_format={kwargs['save_format']!r}")
    filepath = os.fspath(filepath)
    _check_extension(str(filepath), "save")
    if legacy_h5.is_legacy_path(filepath):
        include_optimizer = kwargs.pop("include_optimizer", True)
        if kwargs:
            raise TypeError(f"save_model() got unexpected keyword arguments: {sorted(kwargs)}")
        legacy_h5.save_model(model, filepath, overwrite=overwrite, include_optimizer=include_optimizer)
        return
    if kwargs:
        raise TypeError(f"save_model() got unexpected keyword arguments: {sorted(kwargs)}")
    if not zipped:
        raise NotImplementedError("zipped=False (an unzipped model directory) is not supported; use zipped=True.")
    if not getattr(model, "built", False):
        warnings.warn("You are saving a model that has not yet been built: it may not contain any weights yet.",
                      stacklevel=2)
    try:
        config_json = json.dumps(serialization.serialize_keras_object(model))
    except TypeError as e:
        raise ValueError(f"The config of model {model.name!r} is not JSON-serializable: {e}") from e
    metadata_json = json.dumps({"keras_version": __version__,
                                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        weights_h5.write_weights(model, h5)
    with weights_h5.atomic_write(filepath, overwrite) as tmp:
        with zipfile.ZipFile(tmp, "w") as zf:
            zf.writestr(METADATA_NAME, metadata_json)
            zf.writestr(CONFIG_NAME, config_json)
            zf.writestr(WEIGHTS_NAME, buffer.getvalue())
            _write_assets(model, zf)


ASSETS_DIR = "assets"


def _assets_prefix(path: str) -> str:
    return f"{ASSETS_DIR}/{path}/" if path else f"{ASSETS_DIR}/"


def _write_assets(model: Any, zf: zipfile.ZipFile) -> None:
    """Each saveable's ``save_assets(dir)`` files go to ``assets/<its weights path>/`` (Keras's layout)."""
    def visit(obj: Any, path: str, owner: Any) -> None:
        hook = weights_h5._custom_hook(obj, "save_assets")
        if hook is None:
            return
        with tempfile.TemporaryDirectory() as tmp:
            hook(tmp)
            for root, _, files in os.walk(tmp):
                for name in sorted(files):
                    full = os.path.join(root, name)
                    zf.write(full, _assets_prefix(path) + os.path.relpath(full, tmp).replace(os.sep, "/"))

    weights_h5.walk(model, visit)


# ------------------------------------------------------------------- reading
def _unsafe_name(name: str) -> bool:
    parts = name.split("/")
    return (not name or name.startswith("/") or "\\" in name or "\x00" in name or ".." in parts
            or (len(name) > 1 and name[1] == ":"))


def _check_members(zf: zipfile.ZipFile, filepath: str) -> None:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ValueError(f"Archive {filepath!r} has {len(infos)} members (more than {MAX_MEMBERS}); refusing it.")
    seen: set[str] = set()
    for info in infos:
        if _unsafe_name(info.filename):
            raise ValueError(f"Archive {filepath!r} contains an unsafe member path {info.filename!r} (absolute, "
                             "'..' or backslash); refusing to load it.")
        if info.filename in seen:
            raise ValueError(f"Archive {filepath!r} contains the member {info.filename!r} twice; refusing to load it.")
        seen.add(info.filename)
        if info.file_size > _RATIO_FLOOR_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
            raise ValueError(f"Archive member {info.filename!r} of {filepath!r} would expand "
                             f"{info.compress_size} bytes to {info.file_size} (a zip bomb?); refusing to load it.")


def _read_member(zf: zipfile.ZipFile, name: str, limit: int, filepath: str) -> bytes:
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ValueError(f"Archive {filepath!r} has no {name!r}: it is not a `.keras` model file.") from None
    if info.file_size > limit:
        raise ValueError(f"Archive member {name!r} of {filepath!r} is {info.file_size} bytes, over the {limit}-byte "
                         "limit; refusing to load it.")
    with zf.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"Archive member {name!r} of {filepath!r} expands past the {limit}-byte limit.")
    return data


def _open_archive(filepath: str) -> zipfile.ZipFile:
    if not os.path.isfile(filepath):
        raise ValueError(f"File not found: filepath={filepath}. Please ensure the file is an accessible `.keras` "
                         "zip file.")
    try:
        zf = zipfile.ZipFile(filepath, "r")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise ValueError(f"{filepath!r} is not a valid `.keras` archive (not a zip file, corrupt or truncated): "
                         f"{e}") from e
    try:
        _check_members(zf, filepath)
    except BaseException:
        zf.close()
        raise
    return zf


def _read_weights_member(zf: zipfile.ZipFile, model: Any, filepath: str, skip_mismatch: bool) -> None:
    import h5py

    source = f"'{WEIGHTS_NAME}' in {filepath!r}"
    data = _read_member(zf, WEIGHTS_NAME, MAX_WEIGHTS_BYTES, filepath)
    try:
        h5 = h5py.File(io.BytesIO(data), "r")
    except OSError as e:
        raise ValueError(f"Could not read {source}: not a valid HDF5 file (corrupt or truncated): {e}") from e
    with h5:
        weights_h5.read_weights_checked(model, h5, skip_mismatch, source)


def _corrupt(filepath: str, error: Exception) -> ValueError:
    return ValueError(f"Could not read {filepath!r}: the archive is corrupt or truncated: {error}")


def load_model(filepath: str | os.PathLike, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True) -> Any:
    """Rebuild a model saved with ``save_model`` (or Keras 3) from a ``.keras`` archive."""
    filepath = os.fspath(filepath)
    _check_extension(str(filepath), "load")
    if legacy_h5.is_legacy_path(filepath):
        return legacy_h5.load_model(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)
    with _open_archive(filepath) as zf:
        try:
            raw = _read_member(zf, CONFIG_NAME, MAX_JSON_BYTES, filepath)
        except (*_ZIP_ERRORS, OSError) as e:
            raise _corrupt(filepath, e) from e
        try:
            config = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
            raise ValueError(f"{CONFIG_NAME!r} in {filepath!r} is not valid JSON (or nested too deeply): {e}") from e
        if not isinstance(config, dict) or "class_name" not in config:
            raise ValueError(f"{CONFIG_NAME!r} in {filepath!r} does not describe a model.")
        if not compile:
            config = {k: v for k, v in config.items() if k != "compile_config"}
        model = deserialize_model(config, filepath, custom_objects, safe_mode)
        try:
            _read_weights_member(zf, model, filepath, skip_mismatch=False)
            _read_assets(zf, model, filepath)
        except _ZIP_ERRORS as e:
            raise _corrupt(filepath, e) from e
    return model


def _read_assets(zf: zipfile.ZipFile, model: Any, filepath: str) -> None:
    """Hand each saveable with ``load_assets`` a temporary folder holding the files directly under
    ``assets/<its weights path>/`` (member names were checked by ``_check_members``)."""
    names = [n for n in zf.namelist() if n.startswith(ASSETS_DIR + "/") and not n.endswith("/")]
    if not names:
        return

    def visit(obj: Any, path: str, owner: Any) -> None:
        hook = weights_h5._custom_hook(obj, "load_assets")
        if hook is None:
            return
        prefix = _assets_prefix(path)
        mine = [n for n in names if n.startswith(prefix) and "/" not in n[len(prefix):]]
        if not mine:
            return
        with tempfile.TemporaryDirectory() as tmp:
            for name in mine:
                with open(os.path.join(tmp, name[len(prefix):]), "wb") as f:
                    f.write(_read_member(zf, name, MAX_JSON_BYTES, filepath))
            hook(tmp)

    weights_h5.walk(model, visit)


def deserialize_model(config: dict, filepath: str, custom_objects: dict | None, safe_mode: bool) -> Any:
    """``deserialize_keras_object`` for a model config read from ``filepath``; a config nested past Python's
    recursion limit is a ``ValueError``."""
    try:
        return serialization.deserialize_keras_object(config, custom_objects=custom_objects, safe_mode=safe_mode)
    except RecursionError as e:
        raise ValueError(f"The model config in {filepath!r} is nested too deeply to load.") from e


def load_weights_from_archive(model: Any, filepath: str, skip_mismatch: bool = False) -> None:
    """Load only the weights stored in a ``.keras`` archive into ``model``."""
    with _open_archive(filepath) as zf:
        try:
            _read_weights_member(zf, model, filepath, skip_mismatch)
        except _ZIP_ERRORS as e:
            raise _corrupt(filepath, e) from e
