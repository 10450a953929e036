"""What Keras 3.15 records of a layer call in its graph node, beyond the caller's arguments.

Keras fills in a layer's ``training`` (the resolved mode, when not None) and,
for a call on one tensor argument whose ``call`` takes ``mask``, the input's
mask; it records those fills only when its ``__call__`` handed ``call`` the
caller's own kwargs dict (see ``_keras_keeps_filled``). Functional configs
write the recorded kwargs, so these rules decide what a config says.
"""
from __future__ import annotations

from typing import Any

from cornu.utils import tree

# Keras records a layer call's resolved ``training`` (when not None) and, for a call with a ``mask`` argument and
# one tensor argument, the input's mask. Where a cornu built-in's ``call`` signature differs from its Keras
# counterpart's, these tables give Keras's: the ``training`` default, and whether ``call`` takes ``mask``.
_KERAS_TRAINING_DEFAULT = {name: False for name in (
    "AlphaDropout", "Dropout", "GaussianDropout", "GaussianNoise", "SpatialDropout1D", "SpatialDropout2D",
    "SpatialDropout3D")}
_KERAS_TRAINING_DEFAULT.update({"CenterCrop": True, "Resizing": True})
_KERAS_TAKES_MASK = {name: False for name in (
    "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "GlobalMaxPooling3D")}
_KERAS_TAKES_MASK["Lambda"] = True
_UNSET = object()


# Keras's layers that hand their arguments to ``call`` unconverted (``_convert_input_args`` off).
_KERAS_UNCONVERTED = frozenset({
    "CategoryEncoding", "Functional", "HashedCrossing", "Hashing", "IntegerLookup", "Pipeline", "RandomCrop",
    "RandomFlip", "StringLookup", "TextVectorization"})


def _keras_keeps_filled(layer: Any, args: Any, kwargs: dict) -> bool:
    """Whether Keras's node of this call records the ``training``/``mask`` values Keras fills in.

    Keras fills them into the keyword arguments it calls ``call`` with, and
    records the call's own keyword arguments: the same dict when the arguments
    needed no conversion (one positional tensor of the layer's input dtype and
    no keyword arguments, or a layer that converts nothing), a copy otherwise.
    """
    from cornu.symbolic import KerasTensor

    if any(c.__name__ in _KERAS_UNCONVERTED for c in type(layer).__mro__):
        return True
    if kwargs or len(args) != 1 or not isinstance(args[0], KerasTensor):
        return False
    return args[0].dtype == _keras_input_dtype(layer)


def _keras_input_dtype(layer: Any) -> str:
    """The dtype Keras converts a layer's inputs to: the compute dtype; a Sequential model's input layer's dtype."""
    from cornu.models.sequential import Sequential

    if isinstance(layer, Sequential) and layer._input_layer is not None:
        return layer._input_layer.dtype
    return layer.compute_dtype


def _tensor_arguments(args: Any, kwargs: dict) -> list:
    """The call's arguments that are (structures of) KerasTensors."""
    from cornu.symbolic import KerasTensor

    return [a for a in list(args) + list(kwargs.values())
            if tree.flatten(a) and all(isinstance(t, KerasTensor) for t in tree.flatten(a))]


def _keras_takes_mask(layer: Any, params: Any) -> bool:
    if type(layer).__module__.startswith("cornu."):
        return _KERAS_TAKES_MASK.get(type(layer).__name__, "mask" in params)
    return "mask" in params


def keras_mask_argument(layer: Any, args: tuple, kwargs: dict) -> Any:
    """The ``mask`` argument Keras's node of this symbolic call records when it is a node of the graph (the mask an
    ``Embedding(mask_zero=True)`` or ``Masking`` computed, passed along), else None: a layer whose ``call`` takes
    ``mask``, called on one tensor argument carrying such a mask, without ``mask=``."""
    import inspect

    from cornu.symbolic import KerasTensor

    if "mask" in kwargs or not getattr(layer, "_call_takes_mask", False):
        return None
    tensor_args = _tensor_arguments(args, kwargs)
    if len(tensor_args) != 1:
        return None
    masks = tree.map_structure(lambda t: t._keras_mask, tensor_args[0])
    flat = [m for m in tree.flatten(masks) if m is not None]
    if not flat or not all(isinstance(m, KerasTensor) and m._node is not None for m in flat):
        return None
    try:
        params = inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return None
    if not _keras_takes_mask(layer, params) or not _keras_keeps_filled(layer, args, kwargs):
        return None
    return masks


def recorded_kwargs(layer: Any, args: list, kwargs: dict, filled_mask: bool = False) -> dict:
    """``kwargs`` of a layer call plus the ``training`` and ``mask`` values Keras records for it (``filled_mask``:
    the mask in ``kwargs`` was filled in from the input, not passed by the caller)."""
    import inspect

    builtin = type(layer).__module__.startswith("cornu.")
    name = type(layer).__name__
    try:
        params = inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return kwargs
    if not _keras_keeps_filled(layer, args, {k: v for k, v in kwargs.items() if k != "mask" or not filled_mask}):
        return kwargs
    out = dict(kwargs)
    training = _KERAS_TRAINING_DEFAULT.get(name, _UNSET) if builtin else _UNSET
    if training is _UNSET and "training" in params:
        training = params["training"].default
        training = None if training is inspect.Parameter.empty else training
    if "training" not in out and training is not _UNSET and training is not None:
        out["training"] = training
    takes_mask = _keras_takes_mask(layer, params)
    tensor_args = _tensor_arguments(args, kwargs)
    if takes_mask and "mask" not in out and len(tensor_args) == 1:
        masks = tree.map_structure(lambda t: getattr(t, "_keras_mask", None), tensor_args[0])
        if all(m is None for m in tree.flatten(masks)):
            out["mask"] = masks
    return out
