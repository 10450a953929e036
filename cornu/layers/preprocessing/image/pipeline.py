"""``Pipeline``: a sequence of preprocessing layers applied in order, as one layer.

Unlike ``Sequential``, it is a plain layer (no model machinery): each call runs the layers in
turn, passing the ``training`` flag on, so a chain of augmentations stays one step of a model.
"""
from __future__ import annotations

from cornu.layers.layer import Layer


class Pipeline(Layer):
    """Applies ``layers`` one after another (images, or a dict of images and labels, flow through)."""

    def __init__(self, layers, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.layers = list(layers)

    def call(self, inputs, training=None, mask=None):
        for layer in self.layers:
            inputs = layer(inputs, training=training)
        return inputs

    def get_config(self) -> dict:
        from cornu.saving.serialization import serialize_keras_object

        return {"layers": [serialize_keras_object(layer) for layer in self.layers], "name": self.name}

    @classmethod
    def from_config(cls, config: dict):
        from cornu.saving.serialization import deserialize_keras_object

        config = dict(config)
        config["layers"] = [deserialize_keras_object(layer) for layer in config["layers"]]
        return cls(**config)
