"""``keras.applications``: ImageNet architectures layer for layer as Keras builds them, with Keras's weights."""
from cornu.applications import imagenet_utils, resnet
from cornu.applications.resnet import ResNet50, ResNet101, ResNet152
