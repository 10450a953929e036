"""``Wrapper``: the base of layers that wrap another layer (``TimeDistributed``, ``SpectralNormalization``)."""
from __future__ import annotations

from cornu.layers.layer import Layer


class Wrapper(Layer):
    """Holds ``layer``, builds it with this layer, and serializes it under the ``"layer"`` config key.

    An abstract base: subclasses implement ``call``.
    """

    def __init__(self, layer: Layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Layer {layer} supplied to Wrapper isn't a supported layer type. Please ensure "
                             "wrapped layer is a valid Keras layer.")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None) -> None:
        if not self.layer.built:
            self.layer._maybe_build(input_shape)
        self.built = True

    def get_config(self) -> dict:
        from cornu.saving.serialization import serialize_keras_object

        return {**super().get_config(), "layer": serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Wrapper":
        from cornu.saving.serialization import deserialize_keras_object

        config = dict(config)
        config["layer"] = deserialize_keras_object(config["layer"], custom_objects=custom_objects)
        return cls(**config)
