"""Resizing, CenterCrop and ``ops.image.resize`` against float64 NumPy references."""
import json

import numpy as np
import pytest

import cornu
from cornu.layers.preprocessing.image.center_crop import CenterCrop
from cornu.layers.preprocessing.image.resizing import Resizing
from cornu.ops import image as image_ops
from tests.helpers import assert_close, random_array


def _linear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Half-pixel linear interpolation as an (n_out, n_in) matrix (sources clamped at 0)."""
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        src = max((i + 0.5) * n_in / n_out - 0.5, 0.0)
        i0 = min(int(np.floor(src)), n_in - 1)
        i1 = min(i0 + 1, n_in - 1)
        frac = src - i0
        m[i, i0] += 1 - frac
        m[i, i1] += frac
    return m


def _nearest_index(n_in: int, n_out: int) -> np.ndarray:
    return np.minimum(np.floor((np.arange(n_out) + 0.5) * n_in / n_out).astype(int), n_in - 1)


def _bilinear_ref(x: np.ndarray, th: int, tw: int) -> np.ndarray:
    x = x.astype(np.float64)
    return np.einsum("ih,bhwc,jw->bijc", _linear_matrix(x.shape[1], th), x, _linear_matrix(x.shape[2], tw))


def _nearest_ref(x: np.ndarray, th: int, tw: int) -> np.ndarray:
    return x[:, _nearest_index(x.shape[1], th)][:, :, _nearest_index(x.shape[2], tw)]


@pytest.mark.parametrize("size", [(4, 4), (9, 13), (5, 8)])
def test_bilinear_and_nearest_match_references(size):
    x = random_array((2, 7, 10, 3))
    assert_close(Resizing(*size)(x), _bilinear_ref(x, *size), rtol=1e-5, atol=1e-5)
    assert_close(Resizing(*size, interpolation="nearest")(x), _nearest_ref(x, *size))


def test_crop_to_aspect_ratio_takes_the_centred_window():
    x = random_array((2, 6, 10, 2))
    # target 4:5 -> crop width int(6 * 5 / 4) = 7, starting at (10 - 7) // 2 = 1
    out = Resizing(4, 5, crop_to_aspect_ratio=True)(x)
    assert_close(out, _bilinear_ref(x[:, :, 1:8], 4, 5), atol=1e-5)


def test_pad_to_aspect_ratio_pads_both_sides_with_fill_value():
    x = random_array((1, 6, 10, 1))
    # target 4:5 -> height int(10 * 4 / 5) = 8, padded (8 - 6) // 2 = 1 row each side
    padded = np.pad(x.astype(np.float64), ((0, 0), (1, 1), (0, 0), (0, 0)), constant_values=-3.0)
    out = Resizing(4, 5, interpolation="nearest", pad_to_aspect_ratio=True, fill_value=-3.0)(x)
    assert_close(out, _nearest_ref(padded, 4, 5))


def test_unbatched_channels_first_and_integer_inputs():
    x = random_array((7, 10, 3))
    assert_close(Resizing(4, 5)(x), _bilinear_ref(x[None], 4, 5)[0], atol=1e-5)
    xc = np.transpose(random_array((2, 7, 10, 3)), (0, 3, 1, 2))
    out = Resizing(4, 5, data_format="channels_first")(xc)
    assert_close(out, np.transpose(_bilinear_ref(np.transpose(xc, (0, 2, 3, 1)), 4, 5), (0, 3, 1, 2)), atol=1e-5)
    xi = (random_array((1, 5, 5, 1), low=0, high=10)).astype("int32")
    out = image_ops.resize(xi, (3, 3))
    assert out.dtype == cornu.ops.convert_to_tensor(xi).dtype
    assert_close(out, np.round(_bilinear_ref(xi, 3, 3)))


def test_resize_errors():
    x = random_array((1, 4, 4, 1))
    with pytest.raises(ValueError, match="interpolation"):
        image_ops.resize(x, (2, 2), interpolation="area")
    with pytest.raises(ValueError, match="Lanczos"):
        image_ops.resize(x, (2, 2), interpolation="lanczos3")
    with pytest.raises(ValueError, match="Only one"):
        image_ops.resize(x, (2, 2), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="reflect"):
        image_ops.resize(x, (2, 2), fill_mode="reflect")
    with pytest.raises(ValueError, match="size"):
        image_ops.resize(x, (2,))
    with pytest.raises(ValueError, match="rank"):
        image_ops.resize(x[0, :, :, 0], (2, 2))


def test_center_crop_crops_or_resizes_smaller_images():
    x = random_array((2, 7, 10, 3))
    assert_close(CenterCrop(3, 4)(x), x[:, 2:5, 3:7])
    small = random_array((2, 4, 10, 1))
    # 4 rows < 6: crop to the 6:3 aspect (width int(4 * 3 / 6) = 2 from column 4), then resize
    assert_close(CenterCrop(6, 3)(small), _bilinear_ref(small[:, :, 4:6], 6, 3), atol=1e-5)
    assert CenterCrop(3, 4)(np.zeros((7, 10, 1), "int32")).dtype == cornu.ops.convert_to_tensor(x).dtype
    with pytest.raises(ValueError, match="rank"):
        CenterCrop(3, 4)(np.zeros((3, 4), "float32"))


def test_symbolic_shapes_and_config_round_trip():
    inp = cornu.Input((None, None, 3))
    assert tuple(Resizing(3, 4)(inp).shape) == (None, 3, 4, 3)
    assert tuple(CenterCrop(3, 4, data_format="channels_first")(cornu.Input((3, 8, 8))).shape) == (None, 3, 3, 4)
    layer = Resizing(3, 4, interpolation="nearest", pad_to_aspect_ratio=True, fill_value=1.0)
    again = Resizing.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()


def test_model_of_image_layers_saves_and_loads(tmp_path):
    layers = cornu.layers
    inputs = cornu.Input((10, 12, 3))
    y = inputs
    for layer in (layers.RandomFlip(seed=1), layers.RandomRotation(0.1), layers.RandomZoom(0.1),
                  layers.RandomTranslation(0.1, 0.1), layers.RandomCrop(8, 8), layers.RandomContrast(0.2),
                  layers.RandomBrightness(0.2), layers.Resizing(6, 6), layers.CenterCrop(4, 4)):
        y = layer(y)
    model = cornu.Model(inputs, y)
    x = random_array((2, 10, 12, 3), low=0, high=255)
    path = tmp_path / "images.keras"
    model.save(path)
    loaded = cornu.saving.load_model(path)
    as_json = [json.loads(json.dumps(layer.get_config())) for layer in model.layers]
    assert [json.loads(json.dumps(layer.get_config())) for layer in loaded.layers] == as_json
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert_close(model.predict(x, verbose=0), _bilinear_ref(x, 6, 6)[:, 1:5, 1:5], atol=1e-4)
