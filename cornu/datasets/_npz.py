"""Safe loading of the ``.npz`` files behind mnist and boston_housing."""
from __future__ import annotations

import zipfile
import zlib

import numpy as np
from numpy.lib.npyio import NpzFile


def load_npz_arrays(path: str, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Read ``keys`` from the npz at ``path`` eagerly, never unpickling.

    A truncated, corrupt or incomplete file raises ``ValueError`` naming it,
    so the user knows which cached file to delete or replace.
    """
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, NpzFile):
            raise ValueError("it holds a single array, not named arrays")
        with data:
            found = sorted(data.files)
            arrays = {k: data[k] for k in keys if k in found}
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, ValueError) as e:
        raise ValueError(
            f"Dataset file {path} is corrupt or not a valid .npz archive ({e}). "
            "Delete it and load again."
        ) from e
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise ValueError(
            f"Dataset file {path} is incomplete: missing arrays {missing} (found {found}). "
            "Delete it and load again."
        )
    return arrays


def check_pairs(path: str, arrays: dict[str, np.ndarray], pairs: list[tuple[str, str]]) -> None:
    """Raise ``ValueError`` naming ``path`` if inputs and targets differ in length."""
    for x_key, y_key in pairs:
        if len(arrays[x_key]) != len(arrays[y_key]):
            raise ValueError(
                f"Dataset file {path} is inconsistent: {x_key} has {len(arrays[x_key])} "
                f"rows but {y_key} has {len(arrays[y_key])}."
            )
