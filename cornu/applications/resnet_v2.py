"""``keras.applications.resnet_v2``: ResNet50V2/101V2/152V2 (He et al., 2016, pre-activation), as Keras builds them.

Same skeleton as ``resnet.py``; the blocks apply BatchNorm and ReLU before the convolutions, and the
stride sits in the last block of each stage.
"""
from __future__ import annotations

from typing import Any, Callable

from cornu import layers
from cornu.applications import imagenet_utils
from cornu.applications.resnet import _bn, build_resnet
from cornu.models import Functional


def preact_block(x, filters: int, kernel_size: int = 3, stride: int = 1, conv_shortcut: bool = False,
                 name: str = ""):
    """Pre-activation bottleneck; the shortcut is a 1x1 projection, a strided 1x1 max pool, or the input."""
    preact = _bn(name + "_preact_bn")(x)
    preact = layers.Activation("relu", name=name + "_preact_relu")(preact)
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(preact)
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=name + "_1_conv")(preact)
    x = _bn(name + "_1_bn")(x)
    x = layers.Activation("relu", name=name + "_1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=name + "_2_pad")(x)
    x = layers.Conv2D(filters, kernel_size, strides=stride, use_bias=False, name=name + "_2_conv")(x)
    x = _bn(name + "_2_bn")(x)
    x = layers.Activation("relu", name=name + "_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    return layers.Add(name=name + "_out")([shortcut, x])


def preact_stack(x, filters: int, blocks: int, stride1: int = 2, name: str = ""):
    """``blocks`` pre-activation blocks: a projected shortcut first, the stride in the last."""
    x = preact_block(x, filters, conv_shortcut=True, name=name + "_block1")
    for i in range(2, blocks):
        x = preact_block(x, filters, name=f"{name}_block{i}")
    return preact_block(x, filters, stride=stride1, name=f"{name}_block{blocks}")


def _stacks(blocks: tuple[int, int, int, int]) -> Callable:
    def stack_fn(x):
        x = preact_stack(x, 64, blocks[0], name="conv2")
        x = preact_stack(x, 128, blocks[1], name="conv3")
        x = preact_stack(x, 256, blocks[2], name="conv4")
        return preact_stack(x, 512, blocks[3], stride1=1, name="conv5")
    return stack_fn


def ResNet50V2(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
               input_shape: tuple | None = None, pooling: str | None = None, classes: int = 1000,
               classifier_activation: Any = "softmax", name: str = "resnet50v2") -> Functional:
    """ResNet50V2: pre-activation stages (3, 4, 6, 3). Inputs: "tf"-mode preprocessing."""
    return build_resnet(_stacks((3, 4, 6, 3)), True, True, name, "resnet50v2", include_top, weights, input_tensor,
                        input_shape, pooling, classes, classifier_activation)


def ResNet101V2(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                input_shape: tuple | None = None, pooling: str | None = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str = "resnet101v2") -> Functional:
    """ResNet101V2: pre-activation stages (3, 4, 23, 3)."""
    return build_resnet(_stacks((3, 4, 23, 3)), True, True, name, "resnet101v2", include_top, weights,
                        input_tensor, input_shape, pooling, classes, classifier_activation)


def ResNet152V2(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                input_shape: tuple | None = None, pooling: str | None = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str = "resnet152v2") -> Functional:
    """ResNet152V2: pre-activation stages (3, 8, 36, 3)."""
    return build_resnet(_stacks((3, 8, 36, 3)), True, True, name, "resnet152v2", include_top, weights,
                        input_tensor, input_shape, pooling, classes, classifier_activation)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """ResNetV2 inputs: RGB in [0, 255] scaled to [-1, 1] ("tf" mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
