"""load_img / img_to_array / array_to_img / save_img / smart_resize: Pillow values, and the same as Keras."""
import io

import numpy as np
import pytest
from PIL import Image

import cornu as keras
from cornu.utils import image_utils
from tests.helpers import assert_close, seeded


def write_png(path, shape=(12, 20, 3), seed=0):
    arr = seeded(seed).integers(0, 256, shape, dtype=np.uint8)
    Image.fromarray(arr if arr.shape[-1] != 1 else arr[..., 0]).save(path)
    return arr


def test_load_img_modes_and_values(tmp_path):
    arr = write_png(tmp_path / "a.png")
    img = keras.utils.load_img(tmp_path / "a.png")
    assert img.mode == "RGB" and img.size == (20, 12)
    assert_close(keras.utils.img_to_array(img), arr)
    gray = keras.utils.load_img(str(tmp_path / "a.png"), color_mode="grayscale")
    assert gray.mode == "L"
    expected = np.asarray(Image.fromarray(arr).convert("L"), dtype="float64")[..., None]
    assert_close(keras.utils.img_to_array(gray), expected)
    assert keras.utils.load_img(tmp_path / "a.png", color_mode="rgba").mode == "RGBA"
    with open(tmp_path / "a.png", "rb") as f:
        assert keras.utils.load_img(io.BytesIO(f.read())).size == (20, 12)
    with pytest.raises(ValueError, match="color_mode"):
        keras.utils.load_img(tmp_path / "a.png", color_mode="cmyk")
    with pytest.raises(TypeError, match="path"):
        keras.utils.load_img(3)


def test_load_img_resizes_with_pillow_and_keeps_aspect_ratio(tmp_path):
    arr = write_png(tmp_path / "a.png")
    img = keras.utils.load_img(tmp_path / "a.png", target_size=(6, 10), interpolation="bilinear")
    expected = np.asarray(Image.fromarray(arr).resize((10, 6), Image.Resampling.BILINEAR))
    assert_close(keras.utils.img_to_array(img), expected)
    # keep_aspect_ratio: the centred 12x12 window of the 12x20 image, then resized to 6x6.
    img = keras.utils.load_img(tmp_path / "a.png", target_size=(6, 6), keep_aspect_ratio=True)
    expected = np.asarray(Image.fromarray(arr[:, 4:16]).resize((6, 6), Image.Resampling.NEAREST))
    assert_close(keras.utils.img_to_array(img), expected)
    with pytest.raises(ValueError, match="interpolation"):
        keras.utils.load_img(tmp_path / "a.png", target_size=(6, 6), interpolation="cubic")


def test_img_to_array_layouts_and_errors():
    img = Image.fromarray(np.arange(12, dtype=np.uint8).reshape(3, 4))
    x = keras.utils.img_to_array(img)
    assert x.shape == (3, 4, 1) and x.dtype == np.float32
    assert keras.utils.img_to_array(img, data_format="channels_first").shape == (1, 3, 4)
    assert keras.utils.img_to_array(img, dtype="uint8").dtype == np.uint8
    with pytest.raises(ValueError, match="data_format"):
        keras.utils.img_to_array(img, data_format="nhwc")


def test_array_to_img_scales_to_0_255_and_round_trips(tmp_path):
    x = seeded(1).uniform(-3, 5, (5, 7, 3)).astype("float32")
    img = keras.utils.array_to_img(x)
    expected = ((x - x.min()) / (x - x.min()).max() * 255).astype("uint8")
    assert img.mode == "RGB"
    assert_close(np.asarray(img), expected)
    assert keras.utils.array_to_img(np.zeros((4, 4, 1))).mode == "L"
    assert keras.utils.array_to_img(np.zeros((4, 4, 4))).mode == "RGBA"
    assert keras.utils.array_to_img(np.full((2, 2, 1), 1000.0), scale=False).mode == "I"
    with pytest.raises(ValueError, match="rank 3"):
        keras.utils.array_to_img(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="channel number"):
        keras.utils.array_to_img(np.zeros((4, 4, 2)))
    raw = seeded(2).integers(0, 256, (6, 5, 3)).astype("float32")
    keras.utils.save_img(tmp_path / "b.png", raw, scale=False)
    assert_close(keras.utils.img_to_array(keras.utils.load_img(tmp_path / "b.png")), raw)
    with pytest.warns(UserWarning, match="RGBA"):
        keras.utils.save_img(tmp_path / "c.jpg", np.zeros((4, 4, 4)))


def test_resize_array_bilinear_halving_averages_blocks():
    x = seeded(3).uniform(0, 255, (8, 6, 2)).astype("float32")
    out = image_utils.resize_array(x, (4, 3))
    blocks = x.astype("float64").reshape(4, 2, 3, 2, 2).mean(axis=(1, 3))
    assert_close(out, blocks, rtol=1e-5, atol=1e-3)
    nearest = image_utils.resize_array(x, (4, 3), "nearest")
    assert_close(nearest, x[1::2, 1::2], atol=0)


def test_resize_array_crop_and_pad_to_aspect_ratio():
    x = np.arange(4 * 8, dtype="float32").reshape(4, 8, 1)
    crop = image_utils.resize_array(x, (4, 4), crop_to_aspect_ratio=True)
    assert_close(crop, x[:, 2:6])
    pad = image_utils.resize_array(x, (8, 8), pad_to_aspect_ratio=True)
    expected = np.zeros((8, 8, 1))
    expected[2:6] = x
    assert_close(pad, expected)
    with pytest.raises(ValueError, match="Only one"):
        image_utils.resize_array(x, (4, 4), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)


def test_smart_resize_crops_then_resizes():
    x = np.arange(4 * 8, dtype="float32").reshape(4, 8, 1)
    assert_close(keras.preprocessing.image.smart_resize(x, (4, 4)), x[:, 2:6])
    assert keras.preprocessing.image.smart_resize(np.stack([x, x]), (2, 2)).shape == (2, 2, 2, 1)


def test_keras_namespaces():
    assert keras.preprocessing.image.load_img is keras.utils.load_img
    assert keras.preprocessing.sequence.pad_sequences is keras.utils.pad_sequences


# Differential: real Keras (torch backend) on the same files and arrays.

@pytest.mark.parametrize("kwargs", [{}, {"color_mode": "grayscale"}, {"color_mode": "rgba"},
                                    {"target_size": (7, 9), "interpolation": "bilinear"},
                                    {"target_size": (5, 5), "keep_aspect_ratio": True},
                                    {"target_size": (9, 4), "interpolation": "bicubic", "keep_aspect_ratio": True}])
def test_load_img_matches_keras(tmp_path, keras_ref, kwargs):
    write_png(tmp_path / "a.png", shape=(13, 19, 3), seed=4)
    ours = keras.utils.img_to_array(keras.utils.load_img(tmp_path / "a.png", **kwargs))
    theirs = keras_ref.utils.img_to_array(keras_ref.utils.load_img(tmp_path / "a.png", **kwargs))
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_array_functions_match_keras(keras_ref, data_format):
    x = seeded(5).uniform(-1, 2, (3, 6, 5) if data_format == "channels_first" else (6, 5, 3)).astype("float32")
    for scale in (True, False):
        ours = keras.utils.array_to_img(x * (1 if scale else 100), data_format=data_format, scale=scale)
        theirs = keras_ref.utils.array_to_img(x * (1 if scale else 100), data_format=data_format, scale=scale)
        assert ours.mode == theirs.mode
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
        np.testing.assert_array_equal(keras.utils.img_to_array(ours, data_format=data_format),
                                      keras_ref.utils.img_to_array(theirs, data_format=data_format))
    for bad in (np.zeros((4, 4)), np.zeros((4, 4, 2))):
        with pytest.raises(ValueError) as ours_err:
            keras.utils.array_to_img(bad)
        with pytest.raises(ValueError) as theirs_err:
            keras_ref.utils.array_to_img(bad)
        assert str(ours_err.value) == str(theirs_err.value)


def test_preprocessing_namespace_matches_keras(keras_ref):
    import keras.preprocessing as kp

    def public(module):
        return sorted(n for n in dir(module) if not n.startswith("_"))

    assert public(kp) == public(keras.preprocessing)
    assert public(kp.image) == public(keras.preprocessing.image)
    assert public(kp.sequence) == public(keras.preprocessing.sequence)
