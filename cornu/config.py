"""Global settings: float type, fuzz factor, image layout, compute device.

Mirrors ``keras.config``; the device setting is cornu's own addition (Keras
picks the device from the backend; we let the user choose it explicitly).
"""
from __future__ import annotations

import os

import torch

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_DEVICE: torch.device | None = None

_VALID_FLOATX = ("float16", "bfloat16", "float32", "float64")


def backend() -> str:
    """Name of the backend: always ``"torch"``."""
    return "torch"


def floatx() -> str:
    """Default float dtype name for weights and inputs (``"float32"``)."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float dtype name."""
    global _FLOATX
    if value not in _VALID_FLOATX:
        raise ValueError(f"Unknown floatx type: {value!r}. Expected one of {list(_VALID_FLOATX)}")
    _FLOATX = value


def epsilon() -> float:
    """Fuzz factor used to avoid division by zero and log(0)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor."""
    global _EPSILON
    _EPSILON = float(value)


def image_data_format() -> str:
    """``"channels_last"`` (default) or ``"channels_first"``."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    """Set the default image layout."""
    global _IMAGE_DATA_FORMAT
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"The `data_format` argument must be one of {{'channels_first', 'channels_last'}}. "
            f"Received: data_format={data_format!r}"
        )
    _IMAGE_DATA_FORMAT = data_format


def device() -> torch.device:
    """The device models and batches live on.

    Chosen once: ``set_device()`` if called, else the ``CORNU_DEVICE``
    environment variable, else CUDA when torch sees a GPU, else CPU.
    """
    global _DEVICE
    if _DEVICE is None:
        name = os.environ.get("CORNU_DEVICE")
        if name:
            _DEVICE = torch.device(name)
        elif torch.cuda.is_available():
            _DEVICE = torch.device("cuda")
        else:
            _DEVICE = torch.device("cpu")
    return _DEVICE


def set_device(name: str | torch.device) -> None:
    """Choose the device for models and data (``"cpu"``, ``"cuda"``, ``"cuda:1"``...)."""
    global _DEVICE
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"Cannot use device {str(name)!r}: torch sees no CUDA GPU.")
    _DEVICE = dev


_UNSET = object()
_MAX_EPOCHS: object = _UNSET
_MAX_STEPS_PER_EPOCH: object = _UNSET


def _limit_from_env(names: tuple[str, ...]) -> int | None:
    """The first of the environment variables ``names`` that is set, as an int (``None`` when none is)."""
    for name in names:
        value = os.environ.get(name)
        if value:
            try:
                return int(value)
            except ValueError:
                raise ValueError(
                    f"Environment variable {name} must be an integer. Received: {name}={value!r}"
                ) from None
    return None


def max_epochs() -> int | None:
    """The cap on the number of epochs of any ``fit()`` call, or ``None`` for no cap.

    Set by ``set_max_epochs()``, else read once from the ``CORNU_MAX_EPOCHS``
    (or Keras's ``KERAS_MAX_EPOCHS``) environment variable: a debugging aid to
    run a script quickly without editing it.
    """
    global _MAX_EPOCHS
    if _MAX_EPOCHS is _UNSET:
        _MAX_EPOCHS = _limit_from_env(("CORNU_MAX_EPOCHS", "KERAS_MAX_EPOCHS"))
    return _MAX_EPOCHS


def set_max_epochs(max_epochs: int | None) -> None:
    """Cap the number of epochs of any ``fit()`` call (``None`` removes the cap); for debugging."""
    global _MAX_EPOCHS
    _MAX_EPOCHS = max_epochs


def max_steps_per_epoch() -> int | None:
    """The cap on the steps of one epoch of ``fit()``, ``evaluate()`` or ``predict()``, or ``None``.

    Set by ``set_max_steps_per_epoch()``, else read once from the
    ``CORNU_MAX_STEPS_PER_EPOCH`` (or ``KERAS_MAX_STEPS_PER_EPOCH``)
    environment variable.
    """
    global _MAX_STEPS_PER_EPOCH
    if _MAX_STEPS_PER_EPOCH is _UNSET:
        _MAX_STEPS_PER_EPOCH = _limit_from_env(("CORNU_MAX_STEPS_PER_EPOCH", "KERAS_MAX_STEPS_PER_EPOCH"))
    return _MAX_STEPS_PER_EPOCH


def set_max_steps_per_epoch(max_steps_per_epoch: int | None) -> None:
    """Cap the steps of one epoch of ``fit()``/``evaluate()``/``predict()`` (``None`` removes the cap)."""
    global _MAX_STEPS_PER_EPOCH
    _MAX_STEPS_PER_EPOCH = max_steps_per_epoch


def standardize_dtype(dtype) -> str:
    """Return the Keras dtype name (``"float32"``...) for a string, numpy or torch dtype."""
    if dtype is None:
        return floatx()
    if isinstance(dtype, str) and dtype in _TORCH_DTYPES:
        return dtype
    if (isinstance(dtype, str) and dtype == "string") or dtype is str:
        return "string"  # text (NumPy string arrays at run time): no torch dtype, Keras's name
    if isinstance(dtype, torch.dtype):
        return str(dtype).removeprefix("torch.")
    if dtype is int or dtype is float or dtype is bool:  # Python types, as Keras reads them
        return {int: "int32", float: "float32", bool: "bool"}[dtype]
    if isinstance(dtype, type) and hasattr(dtype, "dtype"):  # NumPy scalar types (np.float64)
        import numpy as np

        dtype = np.dtype(dtype)
    if hasattr(dtype, "name") and not isinstance(dtype, str):
        if getattr(dtype, "kind", None) in ("U", "S", "O", "V", "M", "m"):  # text, object, records, dates
            raise ValueError(f"Invalid dtype: {dtype.name}")
        return str(dtype.name)
    name = str(dtype)
    name = "int32" if name == "int" else name
    if name not in _KERAS_DTYPES:  # as Keras: C-style names ("float", "double", "half", "long") are refused
        raise ValueError(f"Invalid dtype: {dtype!r}")
    return name


def torch_dtype(dtype) -> torch.dtype:
    """The torch dtype for a Keras dtype name (or any dtype-like)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    found = _TORCH_DTYPES.get(dtype) if isinstance(dtype, str) else None
    if found is not None:
        return found
    name = standardize_dtype(dtype)
    if name in _WIDENED_UNSIGNED:  # as Keras's torch backend: torch lacks arithmetic on these
        return _WIDENED_UNSIGNED[name]
    if name == "uint64":
        raise ValueError(f"Unsupported dtype for PyTorch: {name}")
    return getattr(torch, name)


# The common names, looked up on every layer call and loss: a dict is cheaper than getattr chains.
_TORCH_DTYPES = {name: getattr(torch, name) for name in (
    "float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
    "complex64", "complex128")}
_WIDENED_UNSIGNED = {"uint16": torch.int32, "uint32": torch.int64}
# The dtype names Keras 3 accepts.
_KERAS_DTYPES = frozenset(_TORCH_DTYPES) | {"uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2", "string"}


def enable_unsafe_deserialization() -> None:
    """Allow loading Python bytecode (``Lambda`` functions) from saved models; only for files you trust."""
    from cornu.saving.serialization import enable_unsafe_deserialization as enable

    enable()


def set_dtype_policy(policy) -> None:
    """Set the global dtype policy (``"mixed_bfloat16"``, ``"float32"`` or a ``DTypePolicy``) for new layers."""
    from cornu.dtype_policies.dtype_policy import set_dtype_policy as set_policy

    set_policy(policy)


def dtype_policy():
    """The global dtype policy: the one set last, else the policy named after ``floatx()``."""
    from cornu.dtype_policies.dtype_policy import dtype_policy as policy

    return policy()


def enable_interactive_logging() -> None:
    """Print progress bars and model summaries to stdout (the default)."""
    from cornu.utils import io_utils

    io_utils.enable_interactive_logging()


def disable_interactive_logging() -> None:
    """Send progress bars and summaries to the ``logging`` module (logger ``"cornu"``) instead of stdout."""
    from cornu.utils import io_utils

    io_utils.disable_interactive_logging()


def is_interactive_logging_enabled() -> bool:
    """Whether progress bars and summaries print to stdout."""
    from cornu.utils import io_utils

    return io_utils.is_interactive_logging_enabled()


def enable_traceback_filtering() -> None:
    """Keras's traceback-filtering switch (cornu keeps tracebacks whole; the setting reads back)."""
    from cornu.utils import traceback_utils

    traceback_utils.enable_traceback_filtering()


def disable_traceback_filtering() -> None:
    """Keras's traceback-filtering switch, off."""
    from cornu.utils import traceback_utils

    traceback_utils.disable_traceback_filtering()


def is_traceback_filtering_enabled() -> bool:
    """Whether traceback filtering is on (the default)."""
    from cornu.utils import traceback_utils

    return traceback_utils.is_traceback_filtering_enabled()


# None: attention layers decide (torch's fused scaled-dot-product kernels when they apply); False: never.
_FLASH_ATTENTION: bool | None = None


def enable_flash_attention() -> None:
    """Let attention layers use fused (flash) kernels when they apply; as in Keras this restores the
    automatic choice, so ``is_flash_attention_enabled()`` reads ``None`` afterwards."""
    global _FLASH_ATTENTION
    _FLASH_ATTENTION = None


def disable_flash_attention() -> None:
    """Ask attention layers not to use flash kernels."""
    global _FLASH_ATTENTION
    _FLASH_ATTENTION = False


def is_flash_attention_enabled() -> bool | None:
    """``None`` (automatic, the default) or ``False`` (disabled)."""
    return _FLASH_ATTENTION


def is_nnx_enabled() -> bool:
    """Flax NNX integration is JAX-only: always ``False`` on torch."""
    return False


def set_backend(backend: str) -> None:
    """cornu runs on torch only: ``"torch"`` is accepted (nothing to change), any other backend is an error."""
    if backend != "torch":
        raise ValueError(f"cornu implements Keras on PyTorch only; it cannot switch to backend={backend!r}. "
                         "Use real Keras for the JAX / TensorFlow / OpenVINO backends.")
