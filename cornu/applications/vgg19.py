"""``keras.applications.vgg19``: VGG19, the 16-convolution VGG (blocks of 2, 2, 4, 4, 4)."""
from __future__ import annotations

from typing import Any

from cornu.applications import imagenet_utils
from cornu.applications.vgg16 import build_vgg
from cornu.models import Functional

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                "vgg19_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                       "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_HASHES = ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6")


def VGG19(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
          input_shape: tuple | None = None, pooling: str | None = None, classes: int = 1000,
          classifier_activation: Any = "softmax", name: str = "vgg19") -> Functional:
    """VGG19: 16 convolutions in blocks of (2, 2, 4, 4, 4). Inputs: caffe-preprocessed RGB."""
    return build_vgg((2, 2, 4, 4, 4), name, (WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP), WEIGHTS_HASHES, include_top,
                     weights, input_tensor, input_shape, pooling, classes, classifier_activation)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """VGG inputs: RGB in [0, 255] to BGR minus the ImageNet means ("caffe" mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
