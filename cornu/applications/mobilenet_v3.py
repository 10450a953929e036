"""``keras.applications.mobilenet_v3``: MobileNetV3 Small and Large (Howard et al., 2019), as Keras builds them.

Inverted residual blocks with optional squeeze-and-excitation (gated by a hard sigmoid) and hard-swish
activations (``minimalistic=True``: 3x3 kernels, ReLU, no SE). The model rescales its own inputs
(``include_preprocessing``): feed RGB in [0, 255].
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

from cornu import config, layers
from cornu.applications import imagenet_utils
from cornu.applications.imagenet_utils import correct_pad
from cornu.applications.imagenet_utils import make_divisible
from cornu.models import Functional

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/"
WEIGHTS_HASHES = {
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb", "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7", "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": ("675e7b876c45c57e9e63e6d90a36599c", "ec5221f64a2f6d1ef965a614bdae7973"),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7", "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862", "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": ("99cd97fb2fcdad2bf028eb838de69e37", "cde8136e733e811080d9fcd8a252f7e4"),
}


def _depth(value: float, divisor: int = 8) -> int:
    return make_divisible(value, divisor)


def _channel_axis() -> int:
    return 1 if config.image_data_format() == "channels_first" else -1


def _bn(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(axis=_channel_axis(), epsilon=1e-3, momentum=0.999, name=name)


def relu(x):
    return layers.ReLU()(x)


def hard_sigmoid(x):
    """ReLU6(x + 3) / 6, built from a ReLU layer and two tensor ops as Keras does."""
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def hard_swish(x):
    return layers.Activation("hard_swish")(x)


def _se_block(inputs, filters: int, se_ratio: float, prefix: str):
    x = layers.GlobalAveragePooling2D(keepdims=True, name=prefix + "squeeze_excite_avg_pool")(inputs)
    x = layers.Conv2D(_depth(filters * se_ratio), kernel_size=1, padding="same",
                      name=prefix + "squeeze_excite_conv")(x)
    x = layers.ReLU(name=prefix + "squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", name=prefix + "squeeze_excite_conv_1")(x)
    x = hard_sigmoid(x)
    return layers.Multiply(name=prefix + "squeeze_excite_mul")([inputs, x])


def _inverted_res_block(x, expansion: float, filters: int, kernel_size: int, stride: int, se_ratio: float | None,
                        activation: Callable, block_id: int):
    shortcut = x
    infilters = x.shape[_channel_axis()]
    prefix = "expanded_conv_"
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(_depth(infilters * expansion), kernel_size=1, padding="same", use_bias=False,
                          name=prefix + "expand")(x)
        x = _bn(prefix + "expand_bn")(x)
        x = activation(x)
    if stride == 2:
        x = layers.ZeroPadding2D(padding=correct_pad(x, kernel_size), name=prefix + "depthwise_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=stride, padding="same" if stride == 1 else "valid",
                               use_bias=False, name=prefix + "depthwise")(x)
    x = _bn(prefix + "depthwise_bn")(x)
    x = activation(x)
    if se_ratio:
        x = _se_block(x, _depth(infilters * expansion), se_ratio, prefix)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", use_bias=False, name=prefix + "project")(x)
    x = _bn(prefix + "project_bn")(x)
    if stride == 1 and infilters == filters:
        x = layers.Add(name=prefix + "add")([shortcut, x])
    return x


def MobileNetV3(stack_fn: Callable, last_point_ch: int, input_shape=None, alpha: float = 1.0,
                model_type: str = "large", minimalistic: bool = False, include_top: bool = True,
                weights: Any = "imagenet", input_tensor: Any = None, classes: int = 1000, pooling: str | None = None,
                dropout_rate: float = 0.2, classifier_activation: Any = "softmax", include_preprocessing: bool = True,
                name: str | None = None) -> Functional:
    """The shared MobileNetV3 skeleton; ``stack_fn`` lays out the Small or Large blocks."""
    imagenet_utils.check_weights_arg(weights, include_top, classes)
    channels_first = config.image_data_format() == "channels_first"
    if input_shape is None and input_tensor is not None:
        input_shape = tuple(input_tensor.shape[1:])
    if input_shape is None:
        input_shape = (3, None, None) if channels_first else (None, None, 3)
    rows, cols = (input_shape[1], input_shape[2]) if channels_first else (input_shape[0], input_shape[1])
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError(f"Input size must be at least 32x32; Received `input_shape={input_shape}`")
    if weights == "imagenet":
        if (not minimalistic and alpha not in (0.75, 1.0)) or (minimalistic and alpha != 1.0):
            raise ValueError("If imagenet weights are being loaded, alpha can be one of `0.75`, `1.0` for non "
                             f"minimalistic or `1.0` for minimalistic only. Received alpha={alpha}")
        if rows != cols or rows != 224:
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not 224. Weights for input shape "
                          "(224, 224) will be loaded as the default.", stacklevel=2)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    if minimalistic:
        kernel, activation, se_ratio = 3, relu, None
    else:
        kernel, activation, se_ratio = 5, hard_swish, 0.25

    x = img_input
    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False, name="conv")(x)
    x = _bn("conv_bn")(x)
    x = activation(x)
    x = stack_fn(x, kernel, activation, se_ratio)
    last_conv_ch = _depth(x.shape[_channel_axis()] * 6)
    if alpha > 1.0:
        last_point_ch = _depth(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, kernel_size=1, padding="same", use_bias=False, name="conv_1")(x)
    x = _bn("conv_1_bn")(x)
    x = activation(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(last_point_ch, kernel_size=1, padding="same", use_bias=True, name="conv_2")(x)
        x = activation(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, kernel_size=1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.pool_features(x, pooling)
    model = imagenet_utils.build_model(imagenet_utils.model_inputs(input_tensor, img_input), x, name)
    file_name = origin = file_hash = None
    if weights == "imagenet":
        key = f"{model_type}{'_minimalistic' if minimalistic else ''}_224_{alpha}_float"
        file_name = f"weights_mobilenet_v3_{key}" + (".h5" if include_top else "_no_top_v2.h5")
        origin = BASE_WEIGHT_PATH + file_name
        file_hash = WEIGHTS_HASHES[key][0 if include_top else 1]
    imagenet_utils.load_weights(model, weights, file_name, origin, file_hash)
    return model


def MobileNetV3Small(input_shape=None, alpha=1.0, minimalistic=False, include_top=True, weights="imagenet",
                     input_tensor=None, classes=1000, pooling=None, dropout_rate=0.2,
                     classifier_activation="softmax", include_preprocessing=True,
                     name="MobileNetV3Small") -> Functional:
    """MobileNetV3-Small: 11 inverted residual blocks, a 1024-wide classifier stage."""

    def stack_fn(x, kernel, activation, se_ratio):
        def depth(d):
            return _depth(d * alpha)

        specs = ((1, 16, 3, 2, se_ratio, relu), (72.0 / 16, 24, 3, 2, None, relu), (88.0 / 24, 24, 3, 1, None, relu),
                 (4, 40, kernel, 2, se_ratio, activation), (6, 40, kernel, 1, se_ratio, activation),
                 (6, 40, kernel, 1, se_ratio, activation), (3, 48, kernel, 1, se_ratio, activation),
                 (3, 48, kernel, 1, se_ratio, activation), (6, 96, kernel, 2, se_ratio, activation),
                 (6, 96, kernel, 1, se_ratio, activation), (6, 96, kernel, 1, se_ratio, activation))
        for block_id, (expansion, filters, k, stride, se, act) in enumerate(specs):
            x = _inverted_res_block(x, expansion, depth(filters), k, stride, se, act, block_id)
        return x

    return MobileNetV3(stack_fn, 1024, input_shape, alpha, "small", minimalistic, include_top, weights, input_tensor,
                       classes, pooling, dropout_rate, classifier_activation, include_preprocessing, name)


def MobileNetV3Large(input_shape=None, alpha=1.0, minimalistic=False, include_top=True, weights="imagenet",
                     input_tensor=None, classes=1000, pooling=None, dropout_rate=0.2,
                     classifier_activation="softmax", include_preprocessing=True,
                     name="MobileNetV3Large") -> Functional:
    """MobileNetV3-Large: 15 inverted residual blocks, a 1280-wide classifier stage."""

    def stack_fn(x, kernel, activation, se_ratio):
        def depth(d):
            return _depth(d * alpha)

        specs = ((1, 16, 3, 1, None, relu), (4, 24, 3, 2, None, relu), (3, 24, 3, 1, None, relu),
                 (3, 40, kernel, 2, se_ratio, relu), (3, 40, kernel, 1, se_ratio, relu),
                 (3, 40, kernel, 1, se_ratio, relu), (6, 80, 3, 2, None, activation),
                 (2.5, 80, 3, 1, None, activation), (2.3, 80, 3, 1, None, activation),
                 (2.3, 80, 3, 1, None, activation), (6, 112, 3, 1, se_ratio, activation),
                 (6, 112, 3, 1, se_ratio, activation), (6, 160, kernel, 2, se_ratio, activation),
                 (6, 160, kernel, 1, se_ratio, activation), (6, 160, kernel, 1, se_ratio, activation))
        for block_id, (expansion, filters, k, stride, se, act) in enumerate(specs):
            x = _inverted_res_block(x, expansion, depth(filters), k, stride, se, act, block_id)
        return x

    return MobileNetV3(stack_fn, 1280, input_shape, alpha, "large", minimalistic, include_top, weights, input_tensor,
                       classes, pooling, dropout_rate, classifier_activation, include_preprocessing, name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Identity: MobileNetV3 models rescale their inputs themselves (RGB in [0, 255])."""
    return x


decode_predictions = imagenet_utils.decode_predictions
