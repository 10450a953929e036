"""``keras.applications.efficientnet``: EfficientNetB0-B7 (Tan & Le, 2019), layer for layer as Keras builds them.

MBConv blocks (expansion, depthwise convolution, squeeze-and-excitation, projection, stochastic-depth
dropout on the residual) scaled in width, depth and resolution per variant. The model rescales its
own inputs: feed RGB in [0, 255].
"""
from __future__ import annotations

import math
from typing import Any

from cornu import config, initializers, layers
from cornu.applications import imagenet_utils
from cornu.applications.imagenet_utils import correct_pad
from cornu.models import Functional

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/keras-applications/"
WEIGHTS_HASHES = {
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}
IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)

# kernel_size, repeats, filters_in, filters_out, expand_ratio, strides, se_ratio (all with identity skip).
DEFAULT_BLOCKS_ARGS = (
    (3, 1, 32, 16, 1, 1, 0.25), (3, 2, 16, 24, 6, 2, 0.25), (5, 2, 24, 40, 6, 2, 0.25), (3, 3, 40, 80, 6, 2, 0.25),
    (5, 3, 80, 112, 6, 1, 0.25), (5, 4, 112, 192, 6, 2, 0.25), (3, 1, 192, 320, 6, 1, 0.25),
)


def conv_kernel_initializer() -> initializers.Initializer:
    return initializers.VarianceScaling(scale=2.0, mode="fan_out", distribution="truncated_normal")


def dense_kernel_initializer() -> initializers.Initializer:
    return initializers.VarianceScaling(scale=1.0 / 3.0, mode="fan_out", distribution="uniform")


def _channel_axis() -> int:
    return 3 if config.image_data_format() == "channels_last" else 1


def _mb_conv_block(inputs, activation: str, drop_rate: float, name: str, filters_in: int, filters_out: int,
                   kernel_size: int, strides: int, expand_ratio: int, se_ratio: float):
    """One MBConv block; the residual (with per-sample dropout) only when strides and widths allow."""
    bn_axis = _channel_axis()
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = layers.Conv2D(filters, 1, padding="same", use_bias=False, kernel_initializer=conv_kernel_initializer(),
                          name=name + "expand_conv")(x)
        x = layers.BatchNormalization(axis=bn_axis, name=name + "expand_bn")(x)
        x = layers.Activation(activation, name=name + "expand_activation")(x)
    if strides == 2:
        x = layers.ZeroPadding2D(padding=correct_pad(x, kernel_size), name=name + "dwconv_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=strides, padding="valid" if strides == 2 else "same",
                               use_bias=False, depthwise_initializer=conv_kernel_initializer(),
                               name=name + "dwconv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name=name + "bn")(x)
    x = layers.Activation(activation, name=name + "activation")(x)
    if 0 < se_ratio <= 1:
        filters_se = max(1, int(filters_in * se_ratio))
        se = layers.GlobalAveragePooling2D(name=name + "se_squeeze")(x)
        se_shape = (1, 1, filters) if bn_axis == 3 else (filters, 1, 1)
        se = layers.Reshape(se_shape, name=name + "se_reshape")(se)
        se = layers.Conv2D(filters_se, 1, padding="same", activation=activation,
                           kernel_initializer=conv_kernel_initializer(), name=name + "se_reduce")(se)
        se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid",
                           kernel_initializer=conv_kernel_initializer(), name=name + "se_expand")(se)
        x = layers.Multiply(name=name + "se_excite")([x, se])
    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False, kernel_initializer=conv_kernel_initializer(),
                      name=name + "project_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name=name + "project_bn")(x)
    if strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=name + "drop")(x)
        x = layers.Add(name=name + "add")([x, inputs])
    return x


def EfficientNet(width_coefficient: float, depth_coefficient: float, default_size: int, dropout_rate: float = 0.2,
                 drop_connect_rate: float = 0.2, depth_divisor: int = 8, activation: str = "swish",
                 blocks_args: Any = "default", name: str = "efficientnet", include_top: bool = True,
                 weights: Any = "imagenet", input_tensor: Any = None, input_shape: tuple | None = None,
                 pooling: str | None = None, classes: int = 1000, classifier_activation: Any = "softmax",
                 weights_name: str | None = None) -> Functional:
    """The EfficientNet family skeleton: preprocessing, stem, scaled MBConv stages, 1280-wide head."""
    blocks_args = DEFAULT_BLOCKS_ARGS if blocks_args == "default" else blocks_args
    imagenet_utils.check_weights_arg(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=default_size, min_size=32,
                                                    data_format=config.image_data_format(),
                                                    require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    bn_axis = _channel_axis()

    def round_filters(filters: float) -> int:
        filters *= width_coefficient
        rounded = max(depth_divisor, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor)
        return int(rounded + depth_divisor if rounded < 0.9 * filters else rounded)

    def round_repeats(repeats: int) -> int:
        return int(math.ceil(depth_coefficient * repeats))

    x = layers.Rescaling(1.0 / 255.0)(img_input)
    x = layers.Normalization(axis=bn_axis)(x)
    if weights == "imagenet":
        # Keras's published weights expect a second division by sqrt(std) (Keras issue tensorflow#49930).
        x = layers.Rescaling([1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(padding=correct_pad(x, 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(round_filters(32), 3, strides=2, padding="valid", use_bias=False,
                      kernel_initializer=conv_kernel_initializer(), name="stem_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)

    total = float(sum(round_repeats(args[1]) for args in blocks_args))
    b = 0
    for i, (kernel_size, repeats, filters_in, filters_out, expand_ratio, strides, se_ratio) in enumerate(
            blocks_args):
        filters_in, filters_out = round_filters(filters_in), round_filters(filters_out)
        for j in range(round_repeats(repeats)):
            if j > 0:
                strides, filters_in = 1, filters_out
            x = _mb_conv_block(x, activation, drop_connect_rate * b / total, f"block{i + 1}{chr(j + 97)}_",
                               filters_in, filters_out, kernel_size, strides, expand_ratio, se_ratio)
            b += 1

    x = layers.Conv2D(round_filters(1280), 1, padding="same", use_bias=False,
                      kernel_initializer=conv_kernel_initializer(), name="top_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name="top_bn")(x)
    x = layers.Activation(activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, kernel_initializer=dense_kernel_initializer(),
                         bias_initializer="zeros", name="predictions")(x)
    else:
        x = imagenet_utils.pool_features(x, pooling)
    model = imagenet_utils.build_model(imagenet_utils.model_inputs(input_tensor, img_input), x, name)
    if weights_name is not None:
        file_name = name + (".h5" if include_top else "_notop.h5")
        imagenet_utils.load_weights(model, weights, file_name, BASE_WEIGHTS_PATH + file_name,
                                    WEIGHTS_HASHES[weights_name][0 if include_top else 1])
    else:
        imagenet_utils.load_weights(model, weights, None, None)
    return model


_VARIANTS = {  # width, depth, resolution, dropout
    "b0": (1.0, 1.0, 224, 0.2), "b1": (1.0, 1.1, 240, 0.2), "b2": (1.1, 1.2, 260, 0.3),
    "b3": (1.2, 1.4, 300, 0.3), "b4": (1.4, 1.8, 380, 0.4), "b5": (1.6, 2.2, 456, 0.4),
    "b6": (1.8, 2.6, 528, 0.5), "b7": (2.0, 3.1, 600, 0.5),
}


def _variant(key: str, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
             name) -> Functional:
    width, depth, size, dropout = _VARIANTS[key]
    return EfficientNet(width, depth, size, dropout, name=name, include_top=include_top, weights=weights,
                        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
                        classifier_activation=classifier_activation, weights_name=key)


def EfficientNetB0(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                   classes=1000, classifier_activation="softmax", name="efficientnetb0") -> Functional:
    """EfficientNetB0 (width 1.0, depth 1.0, 224x224)."""
    return _variant("b0", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    name)


def EfficientNetB1(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                   classes=1000, classifier_activation="softmax", name="efficientnetb1") -> Functional:
    """EfficientNetB1 (width 1.0, depth 1.1, 240x240)."""
    return _variant("b1", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    name)


def EfficientNetB2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                   classes=1000, classifier_activation="softmax", name="efficientnetb2") -> Functional:
    """EfficientNetB2 (width 1.1, depth 1.2, 260x260)."""
    return _variant("b2", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    name)


def EfficientNetB3(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                   classes=1000, classifier_activation="softmax", name="efficientnetb3") -> Functional:
    """EfficientNetB3 (width 1.2, depth 1.4, 300x300)."""
    return _variant("b3", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    name)


def EfficientNetB4(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                   classes=1000, classifier_activation="softmax", name="efficientnetb4") -> Functional:
    """EfficientNetB4 (width 1.4, depth 1.8, 380x380)."""
    return _variant("b4", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    name)


def EfficientNetB5(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                   classes=1000, classifier_activation="softmax", name="efficientnetb5") -> Functional:
    """EfficientNetB5 (width 1.6, depth 2.2, 456x456)."""
    return _variant("b5", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    name)


def EfficientNetB6(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                   classes=1000, classifier_activation="softmax", name="efficientnetb6") -> Functional:
    """EfficientNetB6 (width 1.8, depth 2.6, 528x528)."""
    return _variant("b6", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    name)


def EfficientNetB7(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                   classes=1000, classifier_activation="softmax", name="efficientnetb7") -> Functional:
    """EfficientNetB7 (width 2.0, depth 3.1, 600x600)."""
    return _variant("b7", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Identity: EfficientNet models rescale and normalize their inputs themselves (RGB in [0, 255])."""
    return x


decode_predictions = imagenet_utils.decode_predictions
