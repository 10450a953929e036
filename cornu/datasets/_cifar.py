"""Reading CIFAR batch files without trusting pickle.

The official CIFAR archives store each batch as a Python pickle of a dict
(``data``: uint8 array ``(n, 3072)``, label lists). Plain ``pickle.load``
would run any callable a tampered file names, so batches go through an
Unpickler whose ``find_class`` only resolves the few NumPy constructors an
array needs (the "restricting globals" recipe of the pickle docs). Every
other global raises, and the result is then checked for the expected
keys, dtype and shapes.
"""
from __future__ import annotations

import io
import os
import pickle

import numpy as np

from cornu import config

try:
    from numpy._core.multiarray import _reconstruct
    from numpy._core.numeric import _frombuffer
except ImportError:
    from numpy.core.multiarray import _reconstruct
    from numpy.core.numeric import _frombuffer


def _latin1_encode(text: str, encoding: str) -> bytes:
    """``_codecs.encode`` as Python 3 protocol-2 pickles use it for bytes, latin-1 only."""
    if encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"Refusing codec {encoding!r} in a CIFAR batch.")
    return text.encode("latin-1")


_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the NumPy array constructors in ``_ALLOWED``."""

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"Global {module}.{name} is not allowed in a CIFAR batch file."
            ) from None


def load_batch(fpath: str, label_key: str = "labels") -> tuple[np.ndarray, np.ndarray]:
    """Return ``(images, labels)`` of one batch: uint8 ``(n, 3, 32, 32)`` and uint8 ``(n,)``."""
    try:
        with open(fpath, "rb") as f:
            batch = _NumpyOnlyUnpickler(io.BytesIO(f.read()), encoding="bytes").load()
    except FileNotFoundError:
        raise
    except Exception as e:
        raise ValueError(f"CIFAR batch file {fpath} is corrupt or unsafe: {e}") from e
    if not isinstance(batch, dict):
        raise ValueError(f"CIFAR batch file {fpath} does not hold a dict.")
    data = _get(batch, "data", fpath)
    labels = np.asarray(_get(batch, label_key, fpath))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        raise ValueError(f"CIFAR batch file {fpath}: `data` is not a 2-D uint8 array.")
    if data.shape[1] != 3 * 32 * 32 or labels.shape != (len(data),):
        raise ValueError(
            f"CIFAR batch file {fpath}: expected data (n, 3072) and n labels, got "
            f"{data.shape} and {labels.shape}."
        )
    if labels.size and (
        not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() > 255
    ):
        raise ValueError(f"CIFAR batch file {fpath}: labels are not small non-negative integers.")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.uint8)


def _get(batch: dict, key: str, fpath: str):
    """``batch[key]`` under either its bytes (Python 2 pickle) or str name."""
    for k in (key.encode(), key):
        if k in batch:
            return batch[k]
    raise ValueError(f"CIFAR batch file {fpath} has no {key!r} entry.")


def batches_dir(extraction_dir: str, inner: str) -> str:
    """Folder holding the batch files: the archive's ``inner`` folder if present."""
    nested = os.path.join(extraction_dir, inner)
    return nested if os.path.isdir(nested) else extraction_dir


def to_image_layout(x: np.ndarray) -> np.ndarray:
    """NCHW batches to the configured ``image_data_format`` (NHWC by default)."""
    if config.image_data_format() == "channels_last":
        return x.transpose(0, 2, 3, 1)
    return x
