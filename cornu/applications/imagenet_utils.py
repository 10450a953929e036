"""Shared pieces of ``keras.applications``: ImageNet preprocessing and labels, input checks, weights fetch.

Every family module builds on these so that argument checks, error messages and the weights
download behave the same for all architectures, as in Keras.
"""
from __future__ import annotations

import json
import os
import warnings
from typing import Any, Callable

import numpy as np
import torch

from cornu import config, layers
from cornu.symbolic import KerasTensor
from cornu.utils.file_utils import get_file

CLASS_INDEX_PATH = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"
_CLASS_INDEX: dict | None = None

_CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)

PREPROCESS_INPUT_DOC = """Preprocesses a tensor or NumPy array encoding a batch of images.

    Args:
        x: A floating point NumPy array or a tensor, 3D or 4D with 3 color channels, values in [0, 255].
        data_format: Optional data format of the image tensor/array. None means the global setting.

    Returns:
        Preprocessed array or tensor ({mode}).
    """


def _check_data_format(data_format: str | None) -> str:
    data_format = config.image_data_format() if data_format is None else data_format
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError("Expected data_format to be one of `channels_first` or `channels_last`. "
                         f"Received: data_format={data_format}")
    return data_format


def preprocess_input(x: Any, data_format: str | None = None, mode: str = "caffe") -> Any:
    """Scale a batch of RGB images in [0, 255] the way an ImageNet model was trained.

    ``mode``: ``"caffe"`` (RGB to BGR, minus the ImageNet channel means), ``"tf"`` (to [-1, 1]) or
    ``"torch"`` (to [0, 1], then per-channel standardisation). A floating NumPy array is modified in
    place, as in Keras; tensors give a new tensor.
    """
    if mode not in ("caffe", "tf", "torch"):
        raise ValueError(f"Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode={mode}")
    data_format = _check_data_format(data_format)
    if isinstance(x, np.ndarray):
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(config.floatx(), copy=False)
        return _preprocess(x, data_format, mode, lambda v: np.asarray(v, dtype=x.dtype))
    x = torch.as_tensor(x)
    x = x.to(getattr(torch, config.floatx())) if not x.is_floating_point() else x.clone()
    return _preprocess(x, data_format, mode, lambda v: torch.tensor(v, dtype=x.dtype, device=x.device))


def _preprocess(x: Any, data_format: str, mode: str, const: Callable) -> Any:
    """The arithmetic of ``preprocess_input``, in place on ``x`` (a NumPy array or a torch tensor)."""
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    first = data_format == "channels_first"
    if mode == "torch":
        x /= 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        axis = -3 if first else -1
        x = np.flip(x, axis).copy() if isinstance(x, np.ndarray) else x.flip(axis)
        mean, std = _CAFFE_MEAN, None
    shape = (3, 1, 1) if first else (3,)
    x -= const(mean).reshape(shape)
    if std is not None:
        x /= const(std).reshape(shape)
    return x


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The ``top`` ImageNet classes of each row of ``preds``: ``(class_id, class_name, score)``, best first.

    The class index file is fetched once into ``$KERAS_HOME/models`` (Keras's URL and cache name).
    """
    global _CLASS_INDEX
    if isinstance(preds, torch.Tensor):
        preds = preds.detach().cpu().numpy()
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape "
                         f"(samples, 1000)). Received array with shape: {preds.shape}")
    if _CLASS_INDEX is None:
        path = get_file("imagenet_class_index.json", CLASS_INDEX_PATH, cache_subdir="models",
                        file_hash=CLASS_INDEX_HASH)
        with open(path) as f:
            _CLASS_INDEX = json.load(f)
    results = []
    for row in preds:
        best = row.argsort()[-top:][::-1]
        decoded = [tuple(_CLASS_INDEX[str(i)]) + (row[i],) for i in best]
        decoded.sort(key=lambda item: item[2], reverse=True)
        results.append(decoded)
    return results


def obtain_input_shape(input_shape: tuple | None, default_size: int, min_size: int, data_format: str,
                       require_flatten: bool, weights: str | None = None) -> tuple:
    """The model's input shape (batch excluded) from the user's ``input_shape``, checked as Keras does.

    ImageNet weights need 3 channels (and exactly ``default_size`` when the classifier is kept);
    every known spatial size must be at least ``min_size``.
    """
    first = data_format == "channels_first"
    if weights != "imagenet" or input_shape is None or len(input_shape) != 3:
        default_shape = (3, default_size, default_size) if first else (default_size, default_size, 3)
    elif first:
        default_shape = (input_shape[0], default_size, default_size)
    else:
        default_shape = (default_size, default_size, input_shape[-1])
    if weights == "imagenet" and require_flatten and input_shape is not None:
        if tuple(input_shape) != default_shape:
            raise ValueError("When setting `include_top=True` and loading `imagenet` weights, `input_shape` "
                             f"should be {default_shape}.  Received: input_shape={input_shape}")
        return tuple(input_shape)
    if input_shape is None:
        if require_flatten:
            return default_shape
        return (3, None, None) if first else (None, None, 3)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError("`input_shape` must be a tuple of three integers.")
    channels, spatial = (input_shape[0], input_shape[1:]) if first else (input_shape[-1], input_shape[:2])
    if channels != 3 and weights == "imagenet":
        raise ValueError(f"The input must have 3 channels; Received `input_shape={input_shape}`")
    if any(d is not None and d < min_size for d in spatial):
        raise ValueError(f"Input size must be at least {min_size}x{min_size}; Received: input_shape={input_shape}")
    if require_flatten and None in input_shape:
        raise ValueError("If `include_top` is True, you should specify a static `input_shape`. "
                         f"Received: input_shape={input_shape}")
    return input_shape


def mobile_input_shape(input_shape: tuple | None, input_tensor: Any, sizes: tuple, include_top: bool,
                       weights: Any) -> tuple[tuple, int]:
    """The MobileNets' input shape and the size their weights file is named by.

    A square input of one of ``sizes`` is the default size (224 otherwise), as Keras picks it; with ImageNet
    weights any other shape loads the 224 weights, with Keras's warning.
    """
    data_format = config.image_data_format()
    row_axis, col_axis = (1, 2) if data_format == "channels_first" else (0, 1)
    if input_shape is None and input_tensor is not None:
        input_shape = tuple(input_tensor.shape[1:])
    default_size = 224
    if input_shape is not None:
        rows, cols = input_shape[row_axis], input_shape[col_axis]
        default_size = rows if rows == cols and rows in sizes else 224
    input_shape = obtain_input_shape(input_shape, default_size=default_size, min_size=32, data_format=data_format,
                                     require_flatten=include_top, weights=weights)
    rows, cols = input_shape[row_axis], input_shape[col_axis]
    if weights == "imagenet" and (rows != cols or rows not in sizes):
        rows = 224
        warnings.warn(f"`input_shape` is undefined or non-square, or `rows` is not in {list(sizes)}. "
                      "Weights for input shape (224, 224) will be loaded as the default.", stacklevel=3)
    return input_shape, rows


def check_weights_arg(weights: Any, include_top: bool, classes: int) -> None:
    """Keras's checks of ``weights`` (None, "imagenet" or an existing file) against ``classes``."""
    if not (weights in {"imagenet", None} or (isinstance(weights, (str, os.PathLike)) and os.path.exists(weights))):
        raise ValueError("The `weights` argument should be either `None` (random initialization), 'imagenet' "
                         "(pre-training on ImageNet), or the path to the weights file to be loaded.  "
                         f"Received: weights={weights}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError("If using `weights='imagenet'` with `include_top=True`, `classes` should be 1000.  "
                         f"Received classes={classes}")


def validate_activation(classifier_activation: Any, weights: Any) -> None:
    """Pretrained classifiers allow only ``None`` or softmax as the last activation."""
    if weights is None:
        return
    from cornu import activations

    if classifier_activation in (None, "softmax") or activations.get(classifier_activation) is activations.get(
            "softmax"):
        return
    raise ValueError("Only `None` and `softmax` activations are allowed for the `classifier_activation` argument "
                     "when using pretrained weights, with `include_top=True`; Received: "
                     f"classifier_activation={classifier_activation}")


def image_input(input_tensor: Any, input_shape: tuple) -> KerasTensor:
    """The symbolic image the network starts from: a new ``Input`` or the user's ``input_tensor``."""
    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if not isinstance(input_tensor, KerasTensor):
        raise ValueError("Argument `input_tensor` must be a KerasTensor. Received invalid type: "
                         f"input_tensor={input_tensor} (of type {type(input_tensor)})")
    return input_tensor


def model_inputs(input_tensor: Any, img_input: KerasTensor) -> Any:
    """The model's inputs: ``img_input``, or the ``Input`` tensors ``input_tensor`` was computed from."""
    if input_tensor is None:
        return img_input
    sources: list[KerasTensor] = []
    seen: set[int] = set()
    stack = [input_tensor]
    while stack:
        t = stack.pop()
        node = getattr(t, "_node", None)
        if node is None or not node.input_tensors:
            if id(t) not in seen:
                seen.add(id(t))
                sources.append(t)
            continue
        stack.extend(reversed(list(node.input_tensors)))
    return sources[0] if len(sources) == 1 else sources


def classifier_head(x: KerasTensor, include_top: bool, pooling: str | None, classes: int,
                    classifier_activation: Any, weights: Any) -> KerasTensor:
    """Keras's common top: global average pooling + ``predictions`` Dense, or the optional pooling."""
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        validate_activation(classifier_activation, weights)
        return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    return pool_features(x, pooling)


def pool_features(x: KerasTensor, pooling: str | None) -> KerasTensor:
    """``pooling="avg"`` / ``"max"`` global pooling of the feature map; anything else leaves it."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


def load_weights(model: Any, weights: Any, file_name: str | None, origin: str | None,
                 file_hash: str | None = None) -> None:
    """Load ``weights`` into ``model``: a file path as is, or ``"imagenet"`` from Keras's published file.

    The published file is fetched once into ``$KERAS_HOME/models`` (so Keras's own cache is reused);
    offline with nothing cached, the error names the URL and the path to place the file at.
    """
    if weights is None:
        return
    if weights == "imagenet":
        if file_name is None:
            return
        try:
            path = get_file(file_name, origin, cache_subdir="models", file_hash=file_hash)
        except Exception as e:
            if isinstance(e, ValueError):
                raise
            from cornu.utils.file_utils import keras_home

            target = os.path.join(keras_home(), "models", file_name)
            raise OSError(f"Could not download the ImageNet weights from {origin} ({e}). To work offline, download "
                          f"the file yourself and place it at {target}") from e
        model.load_weights(path)
        return
    model.load_weights(os.fspath(weights))


def build_model(inputs: Any, outputs: Any, name: str) -> Any:
    """The functional model (its layers in Keras's order, which legacy ``.h5`` weights follow)."""
    from cornu.models import Functional

    return Functional(inputs, outputs, name=name)


def correct_pad(inputs: Any, kernel_size: int | tuple) -> tuple:
    """ZeroPadding2D amounts before a stride-2 ``valid`` convolution: TF's "same" padding, extra on the far side."""
    axis = 2 if config.image_data_format() == "channels_first" else 1
    size = inputs.shape[axis:axis + 2]
    kernel_size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    half = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((half[0] - adjust[0], half[0]), (half[1] - adjust[1], half[1]))


def make_divisible(value: float, divisor: int, min_value: int | None = None) -> int:
    """``value`` rounded to a multiple of ``divisor`` (at least ``min_value``), never more than 10% below it."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded
