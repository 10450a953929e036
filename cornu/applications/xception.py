"""``keras.applications.xception``: Xception (Chollet, 2017), layer for layer as Keras builds it.

Entry flow (strided separable-convolution blocks with 1x1 projected shortcuts), eight middle-flow
residual blocks of three separable convolutions, exit flow. Inputs: "tf"-mode preprocessing.
"""
from __future__ import annotations

from typing import Any

from cornu import config, layers
from cornu.applications import imagenet_utils
from cornu.models import Functional

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/xception/"
                "xception_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://storage.googleapis.com/tensorflow/keras-applications/xception/"
                       "xception_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_HASHES = ("0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97")


def _channel_axis() -> int:
    return 1 if config.image_data_format() == "channels_first" else -1


def _sep_bn(x, filters: int, name: str):
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=_channel_axis(), name=name + "_bn")(x)


def _strided_block(x, filters: tuple[int, int], block: int, first_activation: bool = True):
    """Two separable convs and a strided max pool, plus a strided 1x1 projection of the input."""
    residual = layers.Conv2D(filters[1], (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    residual = layers.BatchNormalization(axis=_channel_axis())(residual)
    if first_activation:
        x = layers.Activation("relu", name=f"block{block}_sepconv1_act")(x)
    x = _sep_bn(x, filters[0], f"block{block}_sepconv1")
    x = layers.Activation("relu", name=f"block{block}_sepconv2_act")(x)
    x = _sep_bn(x, filters[1], f"block{block}_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"block{block}_pool")(x)
    return layers.add([x, residual])


def Xception(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
             input_shape: tuple | None = None, pooling: str | None = None, classes: int = 1000,
             classifier_activation: Any = "softmax", name: str = "xception") -> Functional:
    """Xception (299x299 by default, at least 71x71)."""
    imagenet_utils.check_weights_arg(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=299, min_size=71,
                                                    data_format=config.image_data_format(),
                                                    require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    axis = _channel_axis()
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = layers.BatchNormalization(axis=axis, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=axis, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)
    x = _strided_block(x, (128, 128), 2, first_activation=False)
    x = _strided_block(x, (256, 256), 3)
    x = _strided_block(x, (728, 728), 4)
    for i in range(8):
        residual = x
        prefix = f"block{i + 5}"
        for j in (1, 2, 3):
            x = layers.Activation("relu", name=f"{prefix}_sepconv{j}_act")(x)
            x = _sep_bn(x, 728, f"{prefix}_sepconv{j}")
        x = layers.add([x, residual])
    x = _strided_block(x, (728, 1024), 13)
    x = layers.SeparableConv2D(1536, (3, 3), padding="same", use_bias=False, name="block14_sepconv1")(x)
    x = layers.BatchNormalization(axis=axis, name="block14_sepconv1_bn")(x)
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = layers.SeparableConv2D(2048, (3, 3), padding="same", use_bias=False, name="block14_sepconv2")(x)
    x = layers.BatchNormalization(axis=axis, name="block14_sepconv2_bn")(x)
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)
    x = imagenet_utils.classifier_head(x, include_top, pooling, classes, classifier_activation, weights)
    model = imagenet_utils.build_model(imagenet_utils.model_inputs(input_tensor, img_input), x, name)
    url = WEIGHTS_PATH if include_top else WEIGHTS_PATH_NO_TOP
    imagenet_utils.load_weights(model, weights, url.rsplit("/", 1)[1], url, WEIGHTS_HASHES[0 if include_top else 1])
    return model


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Xception inputs: RGB in [0, 255] scaled to [-1, 1] ("tf" mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
