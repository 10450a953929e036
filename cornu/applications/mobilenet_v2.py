"""``keras.applications.mobilenet_v2``: MobileNetV2 (Sandler et al., 2018), layer for layer as Keras builds it.

Inverted residual blocks: 1x1 expansion, 3x3 depthwise convolution, linear 1x1 projection, with a
residual connection when shapes allow. ``alpha`` scales every width.
"""
from __future__ import annotations

from typing import Any

from cornu import config, layers
from cornu.applications import imagenet_utils
from cornu.applications.imagenet_utils import correct_pad, make_divisible
from cornu.models import Functional

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
_SIZES = (96, 128, 160, 192, 224)
_ALPHAS = (0.35, 0.50, 0.75, 1.0, 1.3, 1.4)
# (filters, stride, expansion) of blocks 0..16.
_BLOCKS = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6), (64, 1, 6),
           (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6),
           (320, 1, 6))


def _bn(name: str) -> layers.BatchNormalization:
    axis = 1 if config.image_data_format() == "channels_first" else -1
    return layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name=name)


def _inverted_res_block(inputs, expansion: int, stride: int, alpha: float, filters: int, block_id: int):
    """Expand (skipped in block 0), depthwise 3x3, project; add the input back when shapes match."""
    channel_axis = 1 if config.image_data_format() == "channels_first" else -1
    in_channels = inputs.shape[channel_axis]
    pointwise_filters = make_divisible(int(filters * alpha), 8)
    x = inputs
    if block_id:
        prefix = f"block_{block_id}_"
        x = layers.Conv2D(expansion * in_channels, kernel_size=1, padding="same", use_bias=False, activation=None,
                          name=prefix + "expand")(x)
        x = _bn(prefix + "expand_BN")(x)
        x = layers.ReLU(6.0, name=prefix + "expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=correct_pad(x, 3), name=prefix + "pad")(x)
    x = layers.DepthwiseConv2D(kernel_size=3, strides=stride, activation=None, use_bias=False,
                               padding="same" if stride == 1 else "valid", name=prefix + "depthwise")(x)
    x = _bn(prefix + "depthwise_BN")(x)
    x = layers.ReLU(6.0, name=prefix + "depthwise_relu")(x)
    x = layers.Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False, activation=None,
                      name=prefix + "project")(x)
    x = _bn(prefix + "project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=prefix + "add")([inputs, x])
    return x


def MobileNetV2(input_shape: tuple | None = None, alpha: float = 1.0, include_top: bool = True,
                weights: Any = "imagenet", input_tensor: Any = None, pooling: str | None = None,
                classes: int = 1000, classifier_activation: Any = "softmax", name: str | None = None) -> Functional:
    """MobileNetV2 with width multiplier ``alpha``; the default name is ``mobilenetv2_{alpha:.2f}_{rows}``.

    Inputs: RGB scaled to [-1, 1] ("tf" mode of ``preprocess_input``).
    """
    imagenet_utils.check_weights_arg(weights, include_top=False, classes=classes)
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError('If using `weights="imagenet"` with `include_top` as true, `classes` should be 1000. '
                         f"Received `classes={classes}`")
    if weights == "imagenet" and alpha not in _ALPHAS:
        raise ValueError("If imagenet weights are being loaded, alpha must be one of `0.35`, `0.50`, `0.75`, "
                         f"`1.0`, `1.3` or `1.4` only; Received `alpha={alpha}`")
    input_shape, rows = imagenet_utils.mobile_input_shape(input_shape, input_tensor, _SIZES, include_top, weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)

    first_block_filters = make_divisible(32 * alpha, 8)
    x = layers.Conv2D(first_block_filters, kernel_size=3, strides=(2, 2), padding="same", use_bias=False,
                      name="Conv1")(img_input)
    x = _bn("bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_res_block(x, expansion, stride, alpha, filters, block_id)
    last_block_filters = make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_block_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = _bn("Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)
    name = f"mobilenetv2_{alpha:0.2f}_{rows}" if name is None else name
    model = imagenet_utils.build_model(imagenet_utils.model_inputs(input_tensor, img_input), x, name)
    file_name = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}" + \
        (".h5" if include_top else "_no_top.h5")
    imagenet_utils.load_weights(model, weights, file_name, BASE_WEIGHT_PATH + file_name)
    return model


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """MobileNetV2 inputs: RGB in [0, 255] scaled to [-1, 1] ("tf" mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
