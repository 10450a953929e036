"""``keras.applications.resnet``: ResNet50/101/152 (He et al., 2015), layer for layer as Keras builds them.

``build_resnet`` is the shared skeleton (stem, residual stacks, top); ResNetV2 reuses it with
pre-activation blocks (``resnet_v2.py``).
"""
from __future__ import annotations

from typing import Any, Callable

from cornu import config, layers
from cornu.applications import imagenet_utils
from cornu.models import Functional

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
WEIGHTS_HASHES = {
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}


def bn_axis() -> int:
    """The channel axis of the global image data format (3 or 1)."""
    return 3 if config.image_data_format() == "channels_last" else 1


def _bn(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(axis=bn_axis(), epsilon=1.001e-5, name=name)


def build_resnet(stack_fn: Callable, preact: bool, use_bias: bool, name: str, weights_name: str,
                 include_top: bool, weights: Any, input_tensor: Any, input_shape: tuple | None, pooling: str | None,
                 classes: int, classifier_activation: Any) -> Functional:
    """Stem, ``stack_fn``'s residual stages, then the classifier or pooling; loads ``weights``."""
    imagenet_utils.check_weights_arg(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=224, min_size=32,
                                                    data_format=config.image_data_format(),
                                                    require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if not preact:
        x = _bn("conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = stack_fn(x)
    if preact:
        x = _bn("post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)
    x = imagenet_utils.classifier_head(x, include_top, pooling, classes, classifier_activation, weights)
    model = imagenet_utils.build_model(imagenet_utils.model_inputs(input_tensor, img_input), x, name)
    file_name = None
    if weights == "imagenet":
        suffix = "" if include_top else "_notop"
        file_name = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
    imagenet_utils.load_weights(model, weights, file_name, BASE_WEIGHTS_PATH + str(file_name),
                                WEIGHTS_HASHES[weights_name][0 if include_top else 1])
    return model


def residual_block(x, filters: int, kernel_size: int = 3, stride: int = 1, conv_shortcut: bool = True,
                   name: str = ""):
    """Bottleneck block (1x1, kxk, 1x1 with 4x expansion) plus the identity or a projected shortcut."""
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(x)
        shortcut = _bn(name + "_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=name + "_1_conv")(x)
    x = _bn(name + "_1_bn")(x)
    x = layers.Activation("relu", name=name + "_1_relu")(x)
    x = layers.Conv2D(filters, kernel_size, padding="same", name=name + "_2_conv")(x)
    x = _bn(name + "_2_bn")(x)
    x = layers.Activation("relu", name=name + "_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    x = _bn(name + "_3_bn")(x)
    x = layers.Add(name=name + "_add")([shortcut, x])
    return layers.Activation("relu", name=name + "_out")(x)


def residual_stack(x, filters: int, blocks: int, stride1: int = 2, name: str = ""):
    """``blocks`` bottleneck blocks; the first one projects the shortcut and strides by ``stride1``."""
    x = residual_block(x, filters, stride=stride1, name=name + "_block1")
    for i in range(2, blocks + 1):
        x = residual_block(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def _stacks(blocks: tuple[int, int, int, int]) -> Callable:
    def stack_fn(x):
        x = residual_stack(x, 64, blocks[0], stride1=1, name="conv2")
        x = residual_stack(x, 128, blocks[1], name="conv3")
        x = residual_stack(x, 256, blocks[2], name="conv4")
        return residual_stack(x, 512, blocks[3], name="conv5")
    return stack_fn


def ResNet50(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
             input_shape: tuple | None = None, pooling: str | None = None, classes: int = 1000,
             classifier_activation: Any = "softmax", name: str = "resnet50") -> Functional:
    """ResNet50: 50 layers of bottleneck residual blocks (3, 4, 6, 3). Inputs: caffe-preprocessed RGB."""
    return build_resnet(_stacks((3, 4, 6, 3)), False, True, name, "resnet50", include_top, weights, input_tensor,
                        input_shape, pooling, classes, classifier_activation)


def ResNet101(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
              input_shape: tuple | None = None, pooling: str | None = None, classes: int = 1000,
              classifier_activation: Any = "softmax", name: str = "resnet101") -> Functional:
    """ResNet101: bottleneck stages (3, 4, 23, 3)."""
    return build_resnet(_stacks((3, 4, 23, 3)), False, True, name, "resnet101", include_top, weights, input_tensor,
                        input_shape, pooling, classes, classifier_activation)


def ResNet152(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
              input_shape: tuple | None = None, pooling: str | None = None, classes: int = 1000,
              classifier_activation: Any = "softmax", name: str = "resnet152") -> Functional:
    """ResNet152: bottleneck stages (3, 8, 36, 3)."""
    return build_resnet(_stacks((3, 8, 36, 3)), False, True, name, "resnet152", include_top, weights, input_tensor,
                        input_shape, pooling, classes, classifier_activation)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """ResNet inputs: RGB in [0, 255] to BGR minus the ImageNet means ("caffe" mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
