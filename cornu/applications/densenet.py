"""``keras.applications.densenet``: DenseNet121/169/201 (Huang et al., 2016), layer for layer as Keras builds them.

Dense blocks concatenate every block's 32 new channels onto its input; transition blocks halve the
channels and the resolution.
"""
from __future__ import annotations

from typing import Any

from cornu import config, layers
from cornu.applications import imagenet_utils
from cornu.models import Functional

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
WEIGHTS_HASHES = {
    "densenet121": ("9d60b8095a5708f2dcce2bca79d332c7", "30ee3e1110167f948a6b9946edeeb738"),
    "densenet169": ("d699b8f76981ab1b30698df4c175e90b", "b8c4d4c20dd625c148057b9ff1c1176b"),
    "densenet201": ("1ceb130c1ea1b78c3bf6114dbdfd8807", "c13680b51ded0fb44dff2d8f86ac8bb1"),
}
_EPSILON = 1.001e-5


def _bn_axis() -> int:
    return 3 if config.image_data_format() == "channels_last" else 1


def conv_block(x, growth_rate: int, name: str):
    """BN-ReLU-1x1 conv (4x growth), BN-ReLU-3x3 conv (growth), concatenated onto the input."""
    bn_axis = _bn_axis()
    y = layers.BatchNormalization(axis=bn_axis, epsilon=_EPSILON, name=name + "_0_bn")(x)
    y = layers.Activation("relu", name=name + "_0_relu")(y)
    y = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=name + "_1_conv")(y)
    y = layers.BatchNormalization(axis=bn_axis, epsilon=_EPSILON, name=name + "_1_bn")(y)
    y = layers.Activation("relu", name=name + "_1_relu")(y)
    y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=name + "_2_conv")(y)
    return layers.Concatenate(axis=bn_axis, name=name + "_concat")([x, y])


def dense_block(x, blocks: int, name: str):
    for i in range(blocks):
        x = conv_block(x, 32, name=f"{name}_block{i + 1}")
    return x


def transition_block(x, reduction: float, name: str):
    """BN-ReLU, 1x1 conv to ``reduction`` of the channels, 2x2 average pooling."""
    bn_axis = _bn_axis()
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_EPSILON, name=name + "_bn")(x)
    x = layers.Activation("relu", name=name + "_relu")(x)
    x = layers.Conv2D(int(x.shape[bn_axis] * reduction), 1, use_bias=False, name=name + "_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=name + "_pool")(x)


def DenseNet(blocks: tuple[int, int, int, int], include_top: bool = True, weights: Any = "imagenet",
             input_tensor: Any = None, input_shape: tuple | None = None, pooling: str | None = None,
             classes: int = 1000, classifier_activation: Any = "softmax", name: str = "densenet",
             weights_name: str | None = None) -> Functional:
    """The DenseNet skeleton with ``blocks`` conv blocks in each of its four dense blocks."""
    imagenet_utils.check_weights_arg(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=224, min_size=32,
                                                    data_format=config.image_data_format(),
                                                    require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    bn_axis = _bn_axis()
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, count in enumerate(blocks, start=2):
        x = dense_block(x, count, name=f"conv{stage}")
        if stage < 5:
            x = transition_block(x, 0.5, name=f"pool{stage}")
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_EPSILON, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = imagenet_utils.classifier_head(x, include_top, pooling, classes, classifier_activation, weights)
    model = imagenet_utils.build_model(imagenet_utils.model_inputs(input_tensor, img_input), x, name)
    file_name = origin = file_hash = None
    if weights_name is not None:
        file_name = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
        origin = BASE_WEIGHTS_PATH + file_name
        file_hash = WEIGHTS_HASHES[weights_name][0 if include_top else 1]
    imagenet_utils.load_weights(model, weights, file_name, origin, file_hash)
    return model


def DenseNet121(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                input_shape: tuple | None = None, pooling: str | None = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str = "densenet121") -> Functional:
    """DenseNet121: dense blocks of (6, 12, 24, 16). Inputs: "torch"-mode preprocessing."""
    return DenseNet((6, 12, 24, 16), include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name, "densenet121")


def DenseNet169(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                input_shape: tuple | None = None, pooling: str | None = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str = "densenet169") -> Functional:
    """DenseNet169: dense blocks of (6, 12, 32, 32)."""
    return DenseNet((6, 12, 32, 32), include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name, "densenet169")


def DenseNet201(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                input_shape: tuple | None = None, pooling: str | None = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str = "densenet201") -> Functional:
    """DenseNet201: dense blocks of (6, 12, 48, 32)."""
    return DenseNet((6, 12, 48, 32), include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name, "densenet201")


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """DenseNet inputs: RGB in [0, 255] to [0, 1], then ImageNet mean/std standardisation ("torch" mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")


decode_predictions = imagenet_utils.decode_predictions
