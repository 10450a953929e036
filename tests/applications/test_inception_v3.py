"""InceptionV3: Keras's automatic layer names in a fresh graph, module outputs, size limits."""
import pytest

from cornu import layers
from cornu.applications import inception_v3


def test_mixed_modules_and_output():
    model = inception_v3.InceptionV3(weights=None, include_top=False, input_shape=(75, 75, 3))
    widths = {f"mixed{i}": model.get_layer(f"mixed{i}").output.shape[-1] for i in range(11)}
    assert widths == {"mixed0": 256, "mixed1": 288, "mixed2": 288, "mixed3": 768, "mixed4": 768, "mixed5": 768,
                      "mixed6": 768, "mixed7": 768, "mixed8": 1280, "mixed9": 2048, "mixed10": 2048}
    bns = [l for l in model.layers if isinstance(l, layers.BatchNormalization)]
    assert len(bns) == 94 and not any(bn.scale for bn in bns)
    assert model.output_shape == (None, 1, 1, 2048)


def test_too_small_input():
    with pytest.raises(ValueError, match="at least 75x75"):
        inception_v3.InceptionV3(weights=None, include_top=False, input_shape=(74, 80, 3))
