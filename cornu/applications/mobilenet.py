"""``keras.applications.mobilenet``: MobileNet (Howard et al., 2017), layer for layer as Keras builds it.

Depthwise-separable blocks (3x3 depthwise, 1x1 pointwise, each with BatchNorm and ReLU6); ``alpha``
scales the widths and ``depth_multiplier`` the depthwise channels. The classifier is a 1x1 convolution.
"""
from __future__ import annotations

from typing import Any

from cornu import config, layers
from cornu.applications import imagenet_utils
from cornu.models import Functional

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
_SIZES = (128, 160, 192, 224)
_ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.50: "5_0"}
# (pointwise filters, stride) of blocks 1..13.
_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
           (512, 1), (1024, 2), (1024, 1))


def _channel_axis() -> int:
    return 1 if config.image_data_format() == "channels_first" else -1


def _depthwise_block(x, filters: int, alpha: float, depth_multiplier: int, strides: int, block_id: int):
    """Depthwise 3x3 (stride 2 after explicit padding), then pointwise 1x1, each with BN and ReLU6."""
    if strides != 1:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D((3, 3), padding="same" if strides == 1 else "valid", depth_multiplier=depth_multiplier,
                               strides=(strides, strides), use_bias=False, name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(axis=_channel_axis(), name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(int(filters * alpha), (1, 1), padding="same", use_bias=False, strides=(1, 1),
                      name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(axis=_channel_axis(), name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def MobileNet(input_shape: tuple | None = None, alpha: float = 1.0, depth_multiplier: int = 1,
              dropout: float = 1e-3, include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
              pooling: str | None = None, classes: int = 1000, classifier_activation: Any = "softmax",
              name: str | None = None) -> Functional:
    """MobileNet with width multiplier ``alpha``; the default name is ``mobilenet_{alpha:.2f}_{rows}``.

    Inputs: RGB scaled to [-1, 1] ("tf" mode of ``preprocess_input``).
    """
    imagenet_utils.check_weights_arg(weights, include_top, classes)
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError("If imagenet weights are being loaded, depth multiplier must be 1.  "
                             f"Received depth_multiplier={depth_multiplier}")
        if alpha not in (0.25, 0.50, 0.75, 1.0):
            raise ValueError("If imagenet weights are being loaded, alpha can be one of`0.25`, `0.50`, `0.75` or "
                             f"`1.0` only.  Received alpha={alpha}")
    input_shape, rows = imagenet_utils.mobile_input_shape(input_shape, input_tensor, _SIZES, include_top, weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)

    x = layers.Conv2D(int(32 * alpha), (3, 3), padding="same", use_bias=False, strides=(2, 2),
                      name="conv1")(img_input)
    x = layers.BatchNormalization(axis=_channel_axis(), name="conv1_bn")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    for block_id, (filters, strides) in enumerate(_BLOCKS, start=1):
        x = _depthwise_block(x, filters, alpha, depth_multiplier, strides, block_id)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)
    name = f"mobilenet_{alpha:0.2f}_{rows}" if name is None else name
    model = imagenet_utils.build_model(imagenet_utils.model_inputs(input_tensor, img_input), x, name)
    file_name = None
    if weights == "imagenet":
        alpha_text = _ALPHA_TEXT.get(alpha, "2_5")
        file_name = f"mobilenet_{alpha_text}_{rows}_tf" + (".h5" if include_top else "_no_top.h5")
    imagenet_utils.load_weights(model, weights, file_name, BASE_WEIGHT_PATH + str(file_name))
    return model


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """MobileNet inputs: RGB in [0, 255] scaled to [-1, 1] ("tf" mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
