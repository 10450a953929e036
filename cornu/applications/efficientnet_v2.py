"""``keras.applications.efficientnet_v2``: EfficientNetV2 B0-B3, S, M, L (Tan & Le, 2021), as Keras builds them.

Fused-MBConv (one full convolution in place of expansion + depthwise) in the early stages, MBConv with
squeeze-and-excitation later, stochastic-depth dropout on the residuals. The model rescales its own
inputs (``include_preprocessing``): feed RGB in [0, 255].
"""
from __future__ import annotations

import math
from typing import Any

from cornu import config, initializers, layers
from cornu.applications import imagenet_utils
from cornu.applications.efficientnet import conv_kernel_initializer, dense_kernel_initializer
from cornu.models import Functional

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/"
WEIGHTS_HASHES = {
    "b0": ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
    "b1": ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
    "b2": ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
    "-s": ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
    "-m": ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
    "-l": ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
}

# Stages: (kernel_size, num_repeat, input_filters, output_filters, expand_ratio, se_ratio, strides, fused).
_B = ((3, 1, 32, 16, 1, 0, 1, True), (3, 2, 16, 32, 4, 0, 2, True), (3, 2, 32, 48, 4, 0, 2, True),
      (3, 3, 48, 96, 4, 0.25, 2, False), (3, 5, 96, 112, 6, 0.25, 1, False), (3, 8, 112, 192, 6, 0.25, 2, False))
BLOCKS_ARGS = {
    "efficientnetv2-b0": _B, "efficientnetv2-b1": _B, "efficientnetv2-b2": _B, "efficientnetv2-b3": _B,
    "efficientnetv2-s": ((3, 2, 24, 24, 1, 0, 1, True), (3, 4, 24, 48, 4, 0, 2, True), (3, 4, 48, 64, 4, 0, 2, True),
                         (3, 6, 64, 128, 4, 0.25, 2, False), (3, 9, 128, 160, 6, 0.25, 1, False),
                         (3, 15, 160, 256, 6, 0.25, 2, False)),
    "efficientnetv2-m": ((3, 3, 24, 24, 1, 0, 1, True), (3, 5, 24, 48, 4, 0, 2, True), (3, 5, 48, 80, 4, 0, 2, True),
                         (3, 7, 80, 160, 4, 0.25, 2, False), (3, 14, 160, 176, 6, 0.25, 1, False),
                         (3, 18, 176, 304, 6, 0.25, 2, False), (3, 5, 304, 512, 6, 0.25, 1, False)),
    "efficientnetv2-l": ((3, 4, 32, 32, 1, 0, 1, True), (3, 7, 32, 64, 4, 0, 2, True), (3, 7, 64, 96, 4, 0, 2, True),
                         (3, 10, 96, 192, 4, 0.25, 2, False), (3, 19, 192, 224, 6, 0.25, 1, False),
                         (3, 25, 224, 384, 6, 0.25, 2, False), (3, 7, 384, 640, 6, 0.25, 1, False)),
}


def _axis() -> int:
    return 3 if config.image_data_format() == "channels_last" else 1


def _bn(momentum: float, name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(axis=_axis(), momentum=momentum, name=name)


def _se(x, input_filters: int, filters: int, se_ratio: float, activation: str, name: str):
    se = layers.GlobalAveragePooling2D(name=name + "se_squeeze")(x)
    se = layers.Reshape((1, 1, filters) if _axis() == 3 else (filters, 1, 1), name=name + "se_reshape")(se)
    se = layers.Conv2D(max(1, int(input_filters * se_ratio)), 1, padding="same", activation=activation,
                       kernel_initializer=conv_kernel_initializer(), name=name + "se_reduce")(se)
    se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid", kernel_initializer=conv_kernel_initializer(),
                       name=name + "se_expand")(se)
    return layers.Multiply(name=name + "se_excite")([x, se])


def _residual(x, inputs, strides: int, input_filters: int, output_filters: int, rate: float, name: str):
    if strides == 1 and input_filters == output_filters:
        if rate:
            x = layers.Dropout(rate, noise_shape=(None, 1, 1, 1), name=name + "drop")(x)
        x = layers.Add(name=name + "add")([x, inputs])
    return x


def _mbconv(inputs, input_filters, output_filters, expand_ratio, kernel_size, strides, se_ratio, bn_momentum,
            activation, rate, name):
    """MBConv: 1x1 expansion, depthwise convolution, squeeze-and-excitation, 1x1 projection."""
    filters = input_filters * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = layers.Conv2D(filters, 1, strides=1, kernel_initializer=conv_kernel_initializer(), padding="same",
                          use_bias=False, name=name + "expand_conv")(x)
        x = _bn(bn_momentum, name + "expand_bn")(x)
        x = layers.Activation(activation, name=name + "expand_activation")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=strides, depthwise_initializer=conv_kernel_initializer(),
                               padding="same", use_bias=False, name=name + "dwconv2")(x)
    x = _bn(bn_momentum, name + "bn")(x)
    x = layers.Activation(activation, name=name + "activation")(x)
    if 0 < se_ratio <= 1:
        x = _se(x, input_filters, filters, se_ratio, activation, name)
    x = layers.Conv2D(output_filters, 1, strides=1, kernel_initializer=conv_kernel_initializer(), padding="same",
                      use_bias=False, name=name + "project_conv")(x)
    x = _bn(bn_momentum, name + "project_bn")(x)
    return _residual(x, inputs, strides, input_filters, output_filters, rate, name)


def _fused_mbconv(inputs, input_filters, output_filters, expand_ratio, kernel_size, strides, se_ratio, bn_momentum,
                  activation, rate, name):
    """Fused-MBConv: one kxk expansion convolution (or the kxk projection alone when not expanding)."""
    filters = input_filters * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = layers.Conv2D(filters, kernel_size, strides=strides, kernel_initializer=conv_kernel_initializer(),
                          padding="same", use_bias=False, name=name + "expand_conv")(x)
        x = _bn(bn_momentum, name + "expand_bn")(x)
        x = layers.Activation(activation, name=name + "expand_activation")(x)
    if 0 < se_ratio <= 1:
        x = _se(x, input_filters, filters, se_ratio, activation, name)
    x = layers.Conv2D(output_filters, 1 if expand_ratio != 1 else kernel_size,
                      strides=1 if expand_ratio != 1 else strides, kernel_initializer=conv_kernel_initializer(),
                      padding="same", use_bias=False, name=name + "project_conv")(x)
    x = _bn(bn_momentum, name + "project_bn")(x)
    if expand_ratio == 1:
        x = layers.Activation(activation, name=name + "project_activation")(x)
    return _residual(x, inputs, strides, input_filters, output_filters, rate, name)


def EfficientNetV2(width_coefficient: float, depth_coefficient: float, default_size: int, dropout_rate: float = 0.2,
                   drop_connect_rate: float = 0.2, depth_divisor: int = 8, min_depth: int = 8,
                   bn_momentum: float = 0.9, activation: str = "swish", blocks_args: Any = "default",
                   name: str = "efficientnetv2", include_top: bool = True, weights: Any = "imagenet",
                   input_tensor: Any = None, input_shape: tuple | None = None, pooling: str | None = None,
                   classes: int = 1000, classifier_activation: Any = "softmax", include_preprocessing: bool = True,
                   weights_name: str | None = None) -> Functional:
    """The EfficientNetV2 skeleton; ``blocks_args="default"`` takes the stages of the variant ``name``."""
    blocks_args = BLOCKS_ARGS[name] if blocks_args == "default" else blocks_args
    imagenet_utils.check_weights_arg(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=default_size, min_size=32,
                                                    data_format=config.image_data_format(),
                                                    require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    axis = _axis()

    def round_filters(filters: float) -> int:
        filters *= width_coefficient
        minimum = min_depth or depth_divisor
        return int(max(minimum, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor))

    x = img_input
    if include_preprocessing:
        channels = input_shape[axis - 1]
        if name.split("-")[-1].startswith("b") and channels == 3:
            x = layers.Rescaling(scale=1.0 / 255)(x)
            x = layers.Normalization(mean=[0.485, 0.456, 0.406], variance=[0.229**2, 0.224**2, 0.225**2],
                                     axis=axis)(x)
        else:
            x = layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)
    x = layers.Conv2D(round_filters(blocks_args[0][2]), 3, strides=2, kernel_initializer=conv_kernel_initializer(),
                      padding="same", use_bias=False, name="stem_conv")(x)
    x = _bn(bn_momentum, "stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)

    total = float(sum(args[1] for args in blocks_args))
    b = 0
    for i, (kernel_size, repeats, f_in, f_out, expand_ratio, se_ratio, strides, fused) in enumerate(blocks_args):
        f_in, f_out = round_filters(f_in), round_filters(f_out)
        block = _fused_mbconv if fused else _mbconv
        for j in range(int(math.ceil(depth_coefficient * repeats))):
            if j > 0:
                strides, f_in = 1, f_out
            x = block(x, f_in, f_out, expand_ratio, kernel_size, strides, se_ratio, bn_momentum, activation,
                      drop_connect_rate * b / total, f"block{i + 1}{chr(j + 97)}_")
            b += 1

    x = layers.Conv2D(round_filters(1280), 1, strides=1, kernel_initializer=conv_kernel_initializer(),
                      padding="same", use_bias=False, name="top_conv")(x)
    x = _bn(bn_momentum, "top_bn")(x)
    x = layers.Activation(activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, kernel_initializer=dense_kernel_initializer(),
                         bias_initializer=initializers.Constant(0.0), name="predictions")(x)
    else:
        x = imagenet_utils.pool_features(x, pooling)
    model = imagenet_utils.build_model(imagenet_utils.model_inputs(input_tensor, img_input), x, name)
    file_name = origin = file_hash = None
    if weights_name is not None:
        file_name = name + (".h5" if include_top else "_notop.h5")
        origin = BASE_WEIGHTS_PATH + file_name
        file_hash = WEIGHTS_HASHES[weights_name][0 if include_top else 1]
    imagenet_utils.load_weights(model, weights, file_name, origin, file_hash)
    return model


_VARIANTS = {  # width, depth, resolution
    "b0": (1.0, 1.0, 224), "b1": (1.0, 1.1, 240), "b2": (1.1, 1.2, 260), "b3": (1.2, 1.4, 300),
    "-s": (1.0, 1.0, 384), "-m": (1.0, 1.0, 480), "-l": (1.0, 1.0, 480),
}


def _variant(key, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
             include_preprocessing, name) -> Functional:
    width, depth, size = _VARIANTS[key]
    variant = "efficientnetv2-" + key.lstrip("-")
    return EfficientNetV2(width, depth, size, name=name, blocks_args=BLOCKS_ARGS[variant], include_top=include_top,
                          weights=weights, input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                          classes=classes, classifier_activation=classifier_activation,
                          include_preprocessing=include_preprocessing, weights_name=key)


def EfficientNetV2B0(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                     classes=1000, classifier_activation="softmax", include_preprocessing=True,
                     name="efficientnetv2-b0") -> Functional:
    """EfficientNetV2-B0 (224x224)."""
    return _variant("b0", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    include_preprocessing, name)


def EfficientNetV2B1(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                     classes=1000, classifier_activation="softmax", include_preprocessing=True,
                     name="efficientnetv2-b1") -> Functional:
    """EfficientNetV2-B1 (depth 1.1, 240x240)."""
    return _variant("b1", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    include_preprocessing, name)


def EfficientNetV2B2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                     classes=1000, classifier_activation="softmax", include_preprocessing=True,
                     name="efficientnetv2-b2") -> Functional:
    """EfficientNetV2-B2 (width 1.1, depth 1.2, 260x260)."""
    return _variant("b2", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    include_preprocessing, name)


def EfficientNetV2B3(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                     classes=1000, classifier_activation="softmax", include_preprocessing=True,
                     name="efficientnetv2-b3") -> Functional:
    """EfficientNetV2-B3 (width 1.2, depth 1.4, 300x300)."""
    return _variant("b3", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    include_preprocessing, name)


def EfficientNetV2S(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                    classes=1000, classifier_activation="softmax", include_preprocessing=True,
                    name="efficientnetv2-s") -> Functional:
    """EfficientNetV2-S (384x384)."""
    return _variant("-s", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    include_preprocessing, name)


def EfficientNetV2M(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                    classes=1000, classifier_activation="softmax", include_preprocessing=True,
                    name="efficientnetv2-m") -> Functional:
    """EfficientNetV2-M (480x480)."""
    return _variant("-m", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    include_preprocessing, name)


def EfficientNetV2L(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                    classes=1000, classifier_activation="softmax", include_preprocessing=True,
                    name="efficientnetv2-l") -> Functional:
    """EfficientNetV2-L (480x480)."""
    return _variant("-l", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    include_preprocessing, name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Identity: EfficientNetV2 models rescale their inputs themselves (RGB in [0, 255])."""
    return x


decode_predictions = imagenet_utils.decode_predictions
