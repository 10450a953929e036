"""DenseNet: channel growth through dense and transition blocks, shapes, preprocessing mode."""
import pytest

from cornu.applications import densenet
from tests.helpers import assert_close, f64, random_array


@pytest.mark.parametrize("fn,blocks", [(densenet.DenseNet121, (6, 12, 24, 16))])
def test_channels_grow_by_32_per_block_and_halve_at_transitions(fn, blocks):
    model = fn(weights=None, include_top=False, input_shape=(32, 32, 3))
    channels = 64
    for stage, count in enumerate(blocks, start=2):
        channels += 32 * count
        assert model.get_layer(f"conv{stage}_block{count}_concat").output.shape[-1] == channels
        if stage < 5:
            channels //= 2
            assert model.get_layer(f"pool{stage}_conv").filters == channels
    assert model.output_shape == (None, 1, 1, channels)


def test_predict_and_preprocess():
    model = densenet.DenseNet121(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3))
    assert model.predict(random_array((2, 32, 32, 3)), verbose=0).shape == (2, 1024)
    x = random_array((1, 2, 2, 3), low=0.0, high=255.0)
    ref = (f64(x) / 255.0 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    assert_close(densenet.preprocess_input(x.copy()), ref)
