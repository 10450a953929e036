"""``keras.applications.nasnet``: NASNet-A Mobile and Large (Zoph et al., 2018), layer for layer as Keras builds them.

A stem, two reduction cells, then three stacks of ``num_blocks`` normal cells separated by reduction
cells. Layers are created in Keras's order (so the automatic names match) under Keras's name scopes
(so the variable paths match); NASNet is channels-last only, as in Keras.
"""
from __future__ import annotations

from typing import Any

from cornu import config, layers
from cornu.applications import imagenet_utils
from cornu.models import Functional
from cornu.scopes import name_scope

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/"
# default size -> {include_top: (url file name, cache file name, md5)}
WEIGHTS = {
    224: {True: ("NASNet-mobile.h5", "nasnet_mobile.h5", "020fb642bf7360b370c678b08e0adf61"),
          False: ("NASNet-mobile-no-top.h5", "nasnet_mobile_no_top.h5", "1ed92395b5b598bdda52abe5c0dbfd63")},
    331: {True: ("NASNet-large.h5", "nasnet_large.h5", "11577c9a518f0070763c2b964a382f17"),
          False: ("NASNet-large-no-top.h5", "nasnet_large_no_top.h5", "d81d89dc07e6e56530c4e77faddd61b5")},
}
_CHANNEL_AXIS = -1


def _bn(name: str | None = None) -> layers.BatchNormalization:
    return layers.BatchNormalization(axis=_CHANNEL_AXIS, momentum=0.9997, epsilon=1e-3, name=name)


def _conv1x1(filters: int, name: str, strides=(1, 1)) -> layers.Conv2D:
    return layers.Conv2D(filters, (1, 1), strides=strides, padding="same", use_bias=False, name=name,
                         kernel_initializer="he_normal")


def _separable_conv_block(x, filters: int, kernel_size=(3, 3), strides=(1, 1), block_id: str = ""):
    """ReLU, (padded if strided) SeparableConv-BN, ReLU, SeparableConv-BN."""
    with name_scope(f"separable_conv_block_{block_id}"):
        x = layers.Activation("relu")(x)
        padding = "same"
        if tuple(strides) == (2, 2):
            x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                                     name=f"separable_conv_1_pad_{block_id}")(x)
            padding = "valid"
        x = layers.SeparableConv2D(filters, kernel_size, strides=strides, name=f"separable_conv_1_{block_id}",
                                   padding=padding, use_bias=False)(x)
        x = _bn(f"separable_conv_1_bn_{block_id}")(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, kernel_size, name=f"separable_conv_2_{block_id}", padding="same",
                                   use_bias=False)(x)
        return _bn(f"separable_conv_2_bn_{block_id}")(x)


def _adjust_block(p, ip, filters: int, block_id: str):
    """Bring the previous cell's output ``p`` to ``ip``'s spatial size (factorised reduction) and ``filters``."""
    with name_scope("adjust_block"):
        if p is None:
            return ip
        if p.shape[-2] != ip.shape[-2]:
            with name_scope(f"adjust_reduction_block_{block_id}"):
                p = layers.Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
                p1 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                                             name=f"adjust_avg_pool_1_{block_id}")(p)
                p1 = layers.Conv2D(filters // 2, (1, 1), padding="same", use_bias=False,
                                   name=f"adjust_conv_1_{block_id}", kernel_initializer="he_normal")(p1)
                p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
                p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
                p2 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                                             name=f"adjust_avg_pool_2_{block_id}")(p2)
                p2 = layers.Conv2D(filters // 2, (1, 1), padding="same", use_bias=False,
                                   name=f"adjust_conv_2_{block_id}", kernel_initializer="he_normal")(p2)
                p = layers.Concatenate(axis=_CHANNEL_AXIS)([p1, p2])
                return _bn(f"adjust_bn_{block_id}")(p)
        if p.shape[_CHANNEL_AXIS] != filters:
            with name_scope(f"adjust_projection_block_{block_id}"):
                p = layers.Activation("relu")(p)
                p = _conv1x1(filters, f"adjust_conv_projection_{block_id}")(p)
                return _bn(f"adjust_bn_{block_id}")(p)
        return p


def _squeeze(ip, filters: int, prefix: str, block_id: str):
    """ReLU, 1x1 conv to ``filters``, BN: the cell's own input before its branches."""
    h = layers.Activation("relu")(ip)
    h = _conv1x1(filters, f"{prefix}_conv_1_{block_id}")(h)
    return _bn(f"{prefix}_bn_1_{block_id}")(h)


def _normal_a_cell(ip, p, filters: int, block_id: str):
    """NASNet-A normal cell: five pairwise-added branches on ``h`` (this input) and ``p`` (the previous one)."""
    with name_scope(f"normal_A_block_{block_id}"):
        p = _adjust_block(p, ip, filters, block_id)
        h = _squeeze(ip, filters, "normal", block_id)
        with name_scope("block_1"):
            left = _separable_conv_block(h, filters, kernel_size=(5, 5), block_id=f"normal_left1_{block_id}")
            right = _separable_conv_block(p, filters, block_id=f"normal_right1_{block_id}")
            x1 = layers.Add(name=f"normal_add_1_{block_id}")([left, right])
        with name_scope("block_2"):
            left = _separable_conv_block(p, filters, (5, 5), block_id=f"normal_left2_{block_id}")
            right = _separable_conv_block(p, filters, (3, 3), block_id=f"normal_right2_{block_id}")
            x2 = layers.Add(name=f"normal_add_2_{block_id}")([left, right])
        with name_scope("block_3"):
            x3 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same", name=f"normal_left3_{block_id}")(h)
            x3 = layers.Add(name=f"normal_add_3_{block_id}")([x3, p])
        with name_scope("block_4"):
            left = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same",
                                           name=f"normal_left4_{block_id}")(p)
            right = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same",
                                            name=f"normal_right4_{block_id}")(p)
            x4 = layers.Add(name=f"normal_add_4_{block_id}")([left, right])
        with name_scope("block_5"):
            x5 = _separable_conv_block(h, filters, block_id=f"normal_left5_{block_id}")
            x5 = layers.Add(name=f"normal_add_5_{block_id}")([x5, h])
        x = layers.Concatenate(axis=_CHANNEL_AXIS, name=f"normal_concat_{block_id}")([p, x1, x2, x3, x4, x5])
    return x, ip


def _reduction_a_cell(ip, p, filters: int, block_id: str):
    """NASNet-A reduction cell: halves the spatial size with strided separable convs and poolings."""
    with name_scope(f"reduction_A_block_{block_id}"):
        p = _adjust_block(p, ip, filters, block_id)
        h = _squeeze(ip, filters, "reduction", block_id)
        h3 = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(h, 3), name=f"reduction_pad_1_{block_id}")(h)
        with name_scope("block_1"):
            left = _separable_conv_block(h, filters, (5, 5), strides=(2, 2), block_id=f"reduction_left1_{block_id}")
            right = _separable_conv_block(p, filters, (7, 7), strides=(2, 2),
                                          block_id=f"reduction_right1_{block_id}")
            x1 = layers.Add(name=f"reduction_add_1_{block_id}")([left, right])
        with name_scope("block_2"):
            left = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                                       name=f"reduction_left2_{block_id}")(h3)
            right = _separable_conv_block(p, filters, (7, 7), strides=(2, 2),
                                          block_id=f"reduction_right2_{block_id}")
            x2 = layers.Add(name=f"reduction_add_2_{block_id}")([left, right])
        with name_scope("block_3"):
            left = layers.AveragePooling2D((3, 3), strides=(2, 2), padding="valid",
                                           name=f"reduction_left3_{block_id}")(h3)
            right = _separable_conv_block(p, filters, (5, 5), strides=(2, 2),
                                          block_id=f"reduction_right3_{block_id}")
            x3 = layers.Add(name=f"reduction_add3_{block_id}")([left, right])
        with name_scope("block_4"):
            x4 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same",
                                         name=f"reduction_left4_{block_id}")(x1)
            x4 = layers.Add()([x2, x4])
        with name_scope("block_5"):
            left = _separable_conv_block(x1, filters, (3, 3), block_id=f"reduction_left4_{block_id}")
            right = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                                        name=f"reduction_right5_{block_id}")(h3)
            x5 = layers.Add(name=f"reduction_add4_{block_id}")([left, right])
        x = layers.Concatenate(axis=_CHANNEL_AXIS, name=f"reduction_concat_{block_id}")([x2, x3, x4, x5])
    return x, ip


def NASNet(input_shape: tuple | None = None, penultimate_filters: int = 4032, num_blocks: int = 6,
           stem_block_filters: int = 96, skip_reduction: bool = True, filter_multiplier: int = 2,
           include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None, pooling: str | None = None,
           classes: int = 1000, default_size: int | None = None, classifier_activation: Any = "softmax",
           name: str = "NASNet") -> Functional:
    """The NASNet-A skeleton: ``penultimate_filters`` channels at the end, ``num_blocks`` normal cells per stack."""
    if config.image_data_format() == "channels_first":
        raise ValueError("NASNet does not support the `channels_first` image data format. Switch to "
                         "`channels_last` by editing your local config file at ~/.keras/keras.json")
    imagenet_utils.check_weights_arg(weights, include_top, classes)
    if isinstance(input_shape, tuple) and None in input_shape and weights == "imagenet":
        raise ValueError("When specifying the input shape of a NASNet and loading `ImageNet` weights, the "
                         f"input_shape argument must be static (no None entries). Got: `input_shape={input_shape}`.")
    default_size = 331 if default_size is None else default_size
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=default_size, min_size=32,
                                                    data_format=config.image_data_format(),
                                                    require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    if penultimate_filters % (24 * filter_multiplier ** 2) != 0:
        raise ValueError("For NASNet-A models, the `penultimate_filters` must be a multiple of 24 * "
                         f"(`filter_multiplier` ** 2). Current value: {penultimate_filters}")
    filters = penultimate_filters // 24
    x = layers.Conv2D(stem_block_filters, (3, 3), strides=(2, 2), padding="valid", use_bias=False,
                      name="stem_conv1", kernel_initializer="he_normal")(img_input)
    x = _bn("stem_bn1")(x)
    p = None
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier ** 2, block_id="stem_1")
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier, block_id="stem_2")
    for stack in range(3):
        width = filters * filter_multiplier ** stack
        if stack:
            x, p0 = _reduction_a_cell(x, p, width, block_id=f"reduce_{stack * num_blocks}")
            p = p if skip_reduction else p0
        for i in range(num_blocks):
            x, p = _normal_a_cell(x, p, width, block_id=f"{stack * num_blocks + i + (1 if stack else 0)}")
    x = layers.Activation("relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)
    model = imagenet_utils.build_model(imagenet_utils.model_inputs(input_tensor, img_input), x, name)
    if weights == "imagenet":
        if default_size not in WEIGHTS:
            raise ValueError("ImageNet weights can only be loaded with NASNetLarge or NASNetMobile")
        url_name, cache_name, file_hash = WEIGHTS[default_size][bool(include_top)]
        imagenet_utils.load_weights(model, weights, cache_name, BASE_WEIGHTS_PATH + url_name, file_hash)
    else:
        imagenet_utils.load_weights(model, weights, None, None)
    return model


def NASNetMobile(input_shape: tuple | None = None, include_top: bool = True, weights: Any = "imagenet",
                 input_tensor: Any = None, pooling: str | None = None, classes: int = 1000,
                 classifier_activation: Any = "softmax", name: str = "nasnet_mobile") -> Functional:
    """NASNet-A Mobile (4 @ 1056): 224x224 by default, at least 32x32. Inputs: "tf"-mode preprocessing."""
    return NASNet(input_shape, penultimate_filters=1056, num_blocks=4, stem_block_filters=32, skip_reduction=False,
                  filter_multiplier=2, include_top=include_top, weights=weights, input_tensor=input_tensor,
                  pooling=pooling, classes=classes, default_size=224, classifier_activation=classifier_activation,
                  name=name)


def NASNetLarge(input_shape: tuple | None = None, include_top: bool = True, weights: Any = "imagenet",
                input_tensor: Any = None, pooling: str | None = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str = "nasnet_large") -> Functional:
    """NASNet-A Large (6 @ 4032): 331x331 by default, at least 32x32. Inputs: "tf"-mode preprocessing."""
    return NASNet(input_shape, penultimate_filters=4032, num_blocks=6, stem_block_filters=96, skip_reduction=True,
                  filter_multiplier=2, include_top=include_top, weights=weights, input_tensor=input_tensor,
                  pooling=pooling, classes=classes, default_size=331, classifier_activation=classifier_activation,
                  name=name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """NASNet inputs: RGB in [0, 255] scaled to [-1, 1] ("tf" mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
