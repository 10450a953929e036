"""``keras.applications.convnext``: ConvNeXt Tiny/Small/Base/Large/XLarge (Liu et al., 2022), as Keras builds them.

Each block: 7x7 depthwise convolution, LayerNorm, an inverted MLP (Dense 4x, GELU, Dense), a learned
per-channel ``LayerScale`` and stochastic depth on the residual branch. The model normalizes its own
inputs (``include_preprocessing``): feed RGB in [0, 255].
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cornu import config, initializers, layers
from cornu import random as cornu_random
from cornu.applications import imagenet_utils
from cornu.models import Functional, Sequential

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"
WEIGHTS_HASHES = {
    "convnext_tiny": ("8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
                      "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),
    "convnext_small": ("ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
                       "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab"),
    "convnext_base": ("52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
                      "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45"),
    "convnext_large": ("070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
                       "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd"),
    "convnext_xlarge": ("c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
                        "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05"),
}
MODEL_CONFIGS = {  # depths, projection dims
    "tiny": ((3, 3, 9, 3), (96, 192, 384, 768)),
    "small": ((3, 3, 27, 3), (96, 192, 384, 768)),
    "base": ((3, 3, 27, 3), (128, 256, 512, 1024)),
    "large": ((3, 3, 27, 3), (192, 384, 768, 1536)),
    "xlarge": ((3, 3, 27, 3), (256, 512, 1024, 2048)),
}


class StochasticDepth(layers.Layer):
    """Drops the whole residual branch per sample with probability ``drop_path_rate`` while training."""

    def __init__(self, drop_path_rate: float, **kwargs: Any):
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate

    def call(self, x, training=None):
        if not training or self.drop_path_rate == 0:
            return x
        keep_prob = 1.0 - self.drop_path_rate
        shape = (x.shape[0],) + (1,) * (x.dim() - 1)
        mask = torch.floor(keep_prob + cornu_random.uniform(shape, dtype=str(x.dtype).split(".")[-1]).to(x.device))
        return x / keep_prob * mask

    def get_config(self) -> dict:
        return {**super().get_config(), "drop_path_rate": self.drop_path_rate}


class LayerScale(layers.Layer):
    """Multiplies the last axis by a learned vector initialised to ``init_values``."""

    def __init__(self, init_values: float, projection_dim: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, input_shape) -> None:
        self.gamma = self.add_weight(shape=(self.projection_dim,), initializer=initializers.Constant(self.init_values),
                                     trainable=True, name="variable")
        self.built = True

    def call(self, x):
        return x * self.gamma.value

    def get_config(self) -> dict:
        return {**super().get_config(), "init_values": self.init_values, "projection_dim": self.projection_dim}


def ConvNeXtBlock(projection_dim: int, drop_path_rate: float = 0.0, layer_scale_init_value: float | None = 1e-6,
                  name: str = "convnext_block"):
    """A function applying one ConvNeXt block (layers named ``{name}_depthwise_conv`` ...) to a tensor."""

    def apply(inputs):
        x = layers.Conv2D(projection_dim, kernel_size=7, padding="same", groups=projection_dim,
                          name=name + "_depthwise_conv")(inputs)
        x = layers.LayerNormalization(epsilon=1e-6, name=name + "_layernorm")(x)
        x = layers.Dense(4 * projection_dim, name=name + "_pointwise_conv_1")(x)
        x = layers.Activation("gelu", name=name + "_gelu")(x)
        x = layers.Dense(projection_dim, name=name + "_pointwise_conv_2")(x)
        if layer_scale_init_value is not None:
            x = LayerScale(layer_scale_init_value, projection_dim, name=name + "_layer_scale")(x)
        if drop_path_rate:
            x = StochasticDepth(drop_path_rate, name=name + "_stochastic_depth")(x)
        else:
            x = layers.Activation("linear", name=name + "_identity")(x)
        return inputs + x

    return apply


def ConvNeXt(depths: tuple, projection_dims: tuple, drop_path_rate: float = 0.0,
             layer_scale_init_value: float = 1e-6, default_size: int = 224, name: str = "convnext",
             include_preprocessing: bool = True, include_top: bool = True, weights: Any = None,
             input_tensor: Any = None, input_shape: tuple | None = None, pooling: str | None = None,
             classes: int = 1000, classifier_activation: Any = "softmax", weights_name: str | None = None
             ) -> Functional:
    """The ConvNeXt skeleton: patchify stem, four stages with downsampling between them, the head."""
    imagenet_utils.check_weights_arg(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=default_size, min_size=32,
                                                    data_format=config.image_data_format(),
                                                    require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    inputs = imagenet_utils.model_inputs(input_tensor, img_input)
    x = img_input
    if include_preprocessing:
        channel_axis = 3 if config.image_data_format() == "channels_last" else 1
        n = x.shape[channel_axis]
        x = layers.Normalization(mean=[0.485 * 255, 0.456 * 255, 0.406 * 255][:n],
                                 variance=[(0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2][:n],
                                 name=name + "_prestem_normalization")(x)
    x = Sequential([
        layers.Conv2D(projection_dims[0], kernel_size=4, strides=4, name=name + "_stem_conv"),
        layers.LayerNormalization(epsilon=1e-6, name=name + "_stem_layernorm"),
    ], name=name + "_stem")(x)
    rates = [float(r) for r in np.linspace(0.0, drop_path_rate, sum(depths))]
    cursor = 0
    for i, depth in enumerate(depths):
        if i > 0:
            x = Sequential([
                layers.LayerNormalization(epsilon=1e-6, name=f"{name}_downsampling_layernorm_{i - 1}"),
                layers.Conv2D(projection_dims[i], kernel_size=2, strides=2, name=f"{name}_downsampling_conv_{i - 1}"),
            ], name=f"{name}_downsampling_block_{i - 1}")(x)
        for j in range(depth):
            x = ConvNeXtBlock(projection_dims[i], drop_path_rate=rates[cursor + j],
                              layer_scale_init_value=layer_scale_init_value, name=f"{name}_stage_{i}_block_{j}")(x)
        cursor += depth
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.GlobalAveragePooling2D(name=name + "_head_gap")(x)
        x = layers.LayerNormalization(epsilon=1e-6, name=name + "_head_layernorm")(x)
        x = layers.Dense(classes, activation=classifier_activation, name=name + "_head_dense")(x)
    else:
        if pooling == "avg":
            x = layers.GlobalAveragePooling2D()(x)
        elif pooling == "max":
            x = layers.GlobalMaxPooling2D()(x)
        x = layers.LayerNormalization(epsilon=1e-6)(x)
    model = imagenet_utils.build_model(inputs, x, name)
    file_name = origin = file_hash = None
    if weights_name is not None:
        file_name = name + (".h5" if include_top else "_notop.h5")
        origin = BASE_WEIGHTS_PATH + file_name
        file_hash = WEIGHTS_HASHES[weights_name][0 if include_top else 1]
    imagenet_utils.load_weights(model, weights, file_name, origin, file_hash)
    return model


def _variant(size: str, name, include_top, include_preprocessing, weights, input_tensor, input_shape, pooling,
             classes, classifier_activation) -> Functional:
    depths, dims = MODEL_CONFIGS[size]
    return ConvNeXt(depths, dims, default_size=224, name=name, include_preprocessing=include_preprocessing,
                    include_top=include_top, weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                    pooling=pooling, classes=classes, classifier_activation=classifier_activation,
                    weights_name=f"convnext_{size}")


def ConvNeXtTiny(include_top=True, include_preprocessing=True, weights="imagenet", input_tensor=None,
                 input_shape=None, pooling=None, classes=1000, classifier_activation="softmax",
                 name="convnext_tiny") -> Functional:
    """ConvNeXt-T: depths (3, 3, 9, 3), widths 96-768."""
    return _variant("tiny", name, include_top, include_preprocessing, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation)


def ConvNeXtSmall(include_top=True, include_preprocessing=True, weights="imagenet", input_tensor=None,
                  input_shape=None, pooling=None, classes=1000, classifier_activation="softmax",
                  name="convnext_small") -> Functional:
    """ConvNeXt-S: depths (3, 3, 27, 3), widths 96-768."""
    return _variant("small", name, include_top, include_preprocessing, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation)


def ConvNeXtBase(include_top=True, include_preprocessing=True, weights="imagenet", input_tensor=None,
                 input_shape=None, pooling=None, classes=1000, classifier_activation="softmax",
                 name="convnext_base") -> Functional:
    """ConvNeXt-B: depths (3, 3, 27, 3), widths 128-1024."""
    return _variant("base", name, include_top, include_preprocessing, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation)


def ConvNeXtLarge(include_top=True, include_preprocessing=True, weights="imagenet", input_tensor=None,
                  input_shape=None, pooling=None, classes=1000, classifier_activation="softmax",
                  name="convnext_large") -> Functional:
    """ConvNeXt-L: depths (3, 3, 27, 3), widths 192-1536."""
    return _variant("large", name, include_top, include_preprocessing, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation)


def ConvNeXtXLarge(include_top=True, include_preprocessing=True, weights="imagenet", input_tensor=None,
                   input_shape=None, pooling=None, classes=1000, classifier_activation="softmax",
                   name="convnext_xlarge") -> Functional:
    """ConvNeXt-XL: depths (3, 3, 27, 3), widths 256-2048."""
    return _variant("xlarge", name, include_top, include_preprocessing, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Identity: ConvNeXt models normalize their inputs themselves (RGB in [0, 255])."""
    return x


decode_predictions = imagenet_utils.decode_predictions
