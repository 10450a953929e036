"""image_dataset_from_directory: labels, class order, splits, batches, pixel values, bad input; Keras's indexing."""
import os

import numpy as np
import pytest
import torch
from PIL import Image

import cornu as keras
from cornu.utils import dataset_utils
from tests.helpers import assert_close, seeded


def make_tree(root, counts=None, size=(6, 8), ext=".png"):
    """Class folders of small random images; returns {path: pixels}."""
    counts = counts or {"cat": 4, "dog": 3}
    pixels = {}
    rng = seeded(0)
    for name, n in counts.items():
        os.makedirs(root / name, exist_ok=True)
        for i in range(n):
            arr = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
            path = str(root / name / f"img{i}{ext}")
            Image.fromarray(arr).save(path)
            pixels[path] = arr
    return pixels


def load(directory, **kwargs):
    kwargs.setdefault("num_workers", 0)
    kwargs.setdefault("verbose", False)
    return keras.utils.image_dataset_from_directory(str(directory), **kwargs)


def test_labels_class_order_and_pixels(tmp_path, capsys):
    pixels = make_tree(tmp_path)
    (tmp_path / "cat" / "notes.txt").write_text("not an image, not listed")
    ds = load(tmp_path, image_size=(6, 8), batch_size=3, shuffle=False, verbose=True)
    assert capsys.readouterr().out == "Found 7 files belonging to 2 classes.\n"
    assert ds.class_names == ["cat", "dog"] and len(ds) == 3
    assert ds.file_paths == sorted(p for p in pixels if "/cat/" in p) + sorted(p for p in pixels if "/dog/" in p)
    xs, ys = zip(*ds)
    assert [tuple(x.shape) for x in xs] == [(3, 6, 8, 3), (3, 6, 8, 3), (1, 6, 8, 3)]
    assert xs[0].dtype == torch.float32 and ys[0].dtype == torch.int32
    assert torch.cat(ys).tolist() == [0, 0, 0, 0, 1, 1, 1]
    images = torch.cat(xs).numpy()
    for image, path in zip(images, ds.file_paths):
        assert_close(image, pixels[path])


def test_label_modes_color_modes_and_channels_first(tmp_path):
    make_tree(tmp_path)
    x, y = next(iter(load(tmp_path, image_size=(6, 8), label_mode="categorical", shuffle=False, batch_size=7)))
    assert y.dtype == torch.float32 and y.shape == (7, 2)
    assert_close(y, np.eye(2)[[0, 0, 0, 0, 1, 1, 1]])
    _, y = next(iter(load(tmp_path, image_size=(6, 8), label_mode="binary", shuffle=False, batch_size=7)))
    assert y.shape == (7, 1) and y.dtype == torch.float32 and y[:, 0].tolist() == [0, 0, 0, 0, 1, 1, 1]
    images = next(iter(load(tmp_path, image_size=(6, 8), label_mode=None, batch_size=7)))
    assert isinstance(images, torch.Tensor) and images.shape == (7, 6, 8, 3)
    gray = next(iter(load(tmp_path, image_size=(6, 8), color_mode="grayscale", batch_size=2)))[0]
    rgba = next(iter(load(tmp_path, image_size=(6, 8), color_mode="rgba", batch_size=2)))[0]
    assert gray.shape == (2, 6, 8, 1) and rgba.shape == (2, 6, 8, 4)
    cf = next(iter(load(tmp_path, image_size=(3, 4), data_format="channels_first", batch_size=2)))[0]
    assert cf.shape == (2, 3, 3, 4)


def test_resized_values_are_bilinear_block_means(tmp_path):
    pixels = make_tree(tmp_path, {"a": 2}, size=(6, 8))
    ds = load(tmp_path, image_size=(3, 4), shuffle=False, batch_size=None)
    for (image, label), path in zip(ds, ds.file_paths):
        assert image.shape == (3, 4, 3) and int(label) == 0
        blocks = pixels[path].astype("float64").reshape(3, 2, 4, 2, 3).mean(axis=(1, 3))
        assert_close(image, blocks, atol=1e-3)


def test_mixed_formats_and_modes(tmp_path):
    """16-bit grayscale keeps its high byte (TensorFlow's uint8 decode); RGBA, palette GIF and BMP convert."""
    os.makedirs(tmp_path / "a")
    wide = (np.arange(6 * 8, dtype=np.uint16).reshape(6, 8) * 1000)
    Image.fromarray(wide).save(tmp_path / "a" / "0_g16.png")
    rgba = seeded(1).integers(0, 256, (6, 8, 4), dtype=np.uint8)
    Image.fromarray(rgba).save(tmp_path / "a" / "1_rgba.png")
    rgb = seeded(2).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "a" / "2_rgb.bmp")
    Image.fromarray(rgb).convert("P").save(tmp_path / "a" / "3_p.gif")
    palette = np.asarray(Image.open(tmp_path / "a" / "3_p.gif").convert("RGB"), dtype="float64")
    for mode, channels in (("rgb", 3), ("grayscale", 1), ("rgba", 4)):
        x = next(iter(load(tmp_path, image_size=(6, 8), color_mode=mode, shuffle=False, batch_size=4)))[0]
        assert x.shape == (4, 6, 8, channels)
        high = (wide >> 8).astype("float64")
        assert_close(x[0], np.repeat(high[..., None], channels, -1) if mode == "rgb" else
                     high[..., None] if mode == "grayscale" else
                     np.concatenate([np.repeat(high[..., None], 3, -1), np.full((6, 8, 1), 255.0)], -1))
        if mode == "rgba":
            assert_close(x[1], rgba)
        if mode == "rgb":
            assert_close(x[1], np.asarray(Image.fromarray(rgba).convert("RGB")))
            assert_close(x[2], rgb)
            assert_close(x[3], palette)


def test_crop_and_pad_to_aspect_ratio(tmp_path):
    pixels = make_tree(tmp_path, {"a": 1}, size=(4, 8))
    (path,) = pixels
    crop = next(iter(load(tmp_path, image_size=(4, 4), crop_to_aspect_ratio=True, batch_size=None)))[0]
    assert_close(crop, pixels[path][:, 2:6])
    pad = next(iter(load(tmp_path, image_size=(8, 8), pad_to_aspect_ratio=True, batch_size=None)))[0]
    expected = np.zeros((8, 8, 3))
    expected[2:6] = pixels[path]
    assert_close(pad, expected)


def test_validation_split_disjoint_and_covering(tmp_path, capsys):
    make_tree(tmp_path, {"a": 6, "b": 5})
    train, val = load(tmp_path, image_size=(6, 8), validation_split=0.3, subset="both", seed=7, verbose=True)
    out = capsys.readouterr().out
    assert "Using 8 files for training." in out and "Using 3 files for validation." in out
    assert not set(train.file_paths) & set(val.file_paths)
    assert len(set(train.file_paths) | set(val.file_paths)) == 11
    t2 = load(tmp_path, image_size=(6, 8), validation_split=0.3, subset="training", seed=7)
    v2 = load(tmp_path, image_size=(6, 8), validation_split=0.3, subset="validation", seed=7)
    assert t2.file_paths == train.file_paths and v2.file_paths == val.file_paths
    # Training batches are reshuffled each epoch; every image still appears once.
    epoch = [torch.cat([y for _, y in train]).tolist() for _ in range(2)]
    assert sorted(epoch[0]) == sorted(epoch[1])


def test_labels_list_and_none(tmp_path):
    make_tree(tmp_path, {"a": 2, "b": 2})
    ds = load(tmp_path, labels=[3, 1, 2, 0], image_size=(6, 8), shuffle=False, batch_size=4)
    assert ds.class_names == ["0", "1", "2", "3"]
    assert next(iter(ds))[1].tolist() == [3, 1, 2, 0]
    with pytest.raises(ValueError, match="len\\(labels\\) is 2"):
        load(tmp_path, labels=[0, 1], image_size=(6, 8))


def test_fit_on_an_image_folder(tmp_path):
    make_tree(tmp_path, {"a": 5, "b": 5})
    ds = load(tmp_path, image_size=(6, 8), batch_size=4, seed=1)
    model = keras.Sequential([keras.layers.Input((6, 8, 3)), keras.layers.Rescaling(1 / 255),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(ds, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_workers_decode_the_same_pixels(tmp_path):
    make_tree(tmp_path)
    serial = torch.cat([x for x, _ in load(tmp_path, image_size=(6, 8), shuffle=False, batch_size=3)])
    parallel = torch.cat([x for x, _ in load(tmp_path, image_size=(6, 8), shuffle=False, batch_size=3,
                                             num_workers=2)])
    assert torch.equal(serial, parallel)


# Bad input.

def test_non_images_skipped_with_one_warning(tmp_path):
    make_tree(tmp_path)
    (tmp_path / "cat" / "fake.png").write_text("plain text")
    (tmp_path / "dog" / "empty.jpg").write_bytes(b"")
    with pytest.warns(UserWarning, match="Skipping 2 file") as record:
        ds = load(tmp_path, image_size=(6, 8), shuffle=False)
    message = str([w for w in record if "Skipping" in str(w.message)][0].message)
    assert "fake.png" in message and "empty.jpg" in message
    assert len(ds.file_paths) == 7 and len(torch.cat([y for _, y in ds])) == 7


def test_corrupt_image_found_while_iterating_is_skipped(tmp_path):
    make_tree(tmp_path)
    (tmp_path / "dog" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    ds = load(tmp_path, image_size=(6, 8), shuffle=False, batch_size=4)
    assert len(ds.file_paths) == 8
    with pytest.warns(UserWarning, match="broken.jpg"):
        labels = torch.cat([y for _, y in ds]).tolist()
    assert labels == [0, 0, 0, 0, 1, 1, 1]


def test_empty_directory_and_bad_arguments(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No images found in directory .*empty"):
        load(tmp_path / "empty")
    make_tree(tmp_path / "data")
    with pytest.raises(ValueError, match="`subset`"):
        load(tmp_path / "data", subset="training")
    with pytest.raises(ValueError, match="seed"):
        load(tmp_path / "data", validation_split=0.2, subset="training")
    with pytest.raises(ValueError) as err:
        load(tmp_path / "data", class_names=["cat", "bird"])
    assert "['cat', 'dog']" in str(err.value) and "['cat', 'bird']" in str(err.value)
    with pytest.raises(ValueError, match="label_mode"):
        load(tmp_path / "data", label_mode="sparse")
    with pytest.raises(ValueError, match="exactly 2"):
        load(make_tree(tmp_path / "three", {"a": 1, "b": 1, "c": 1}) and tmp_path / "three", label_mode="binary")
    with pytest.raises(ValueError, match="color_mode"):
        load(tmp_path / "data", color_mode="cmyk")
    with pytest.raises(ValueError, match="interpolation"):
        load(tmp_path / "data", interpolation="cubic")
    with pytest.raises(ValueError, match="format"):
        load(tmp_path / "data", format="grain2")


def test_format_tf_needs_tensorflow(tmp_path):
    make_tree(tmp_path)
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="tensorflow"):
            load(tmp_path, format="tf")
    else:
        assert type(load(tmp_path, format="tf")).__module__.startswith("tensorflow")


def test_class_names_subset_and_order(tmp_path):
    make_tree(tmp_path, {"a": 1, "b": 2, "c": 1})
    ds = load(tmp_path, class_names=["c", "a"], image_size=(6, 8), shuffle=False, batch_size=None)
    assert ds.class_names == ["c", "a"] and [int(y) for _, y in ds] == [0, 1]


def test_preprocessing_alias():
    assert keras.preprocessing.image_dataset_from_directory is keras.utils.image_dataset_from_directory


# Differential: Keras's own indexing (it runs without TensorFlow) gives the same order, labels and split.

@pytest.mark.parametrize("labels,shuffle,seed,class_names", [
    ("inferred", False, None, None), ("inferred", True, 3, None), ("inferred", True, 11, ["dog", "cat"]),
    (None, True, 5, None), ("list", True, 2, None)])
def test_index_and_split_match_keras(tmp_path, keras_ref, labels, shuffle, seed, class_names):
    from keras.src.utils import dataset_utils as kdu

    make_tree(tmp_path, {"cat": 5, "dog": 4})
    os.makedirs(tmp_path / "cat" / "inner")
    Image.new("RGB", (3, 3)).save(tmp_path / "cat" / "inner" / "Z.PNG")
    Image.new("RGB", (3, 3)).save(tmp_path / "top.jpg")
    formats = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
    if labels == "list":
        labels = list(range(11))
    ours = dataset_utils.index_directory(str(tmp_path), labels, formats, class_names, shuffle, seed, verbose=False)
    theirs = kdu.index_directory(str(tmp_path), labels, formats, class_names=class_names, shuffle=shuffle,
                                 seed=seed, verbose=False)
    assert ours[0] == theirs[0] and ours[2] == theirs[2]
    if theirs[1] is None:
        assert ours[1] is None
    else:
        np.testing.assert_array_equal(np.asarray(ours[1]), np.asarray(theirs[1]))
    for subset in ("training", "validation"):
        o = dataset_utils.training_or_validation_split(ours[0], ours[1], 0.25, subset, verbose=False)
        t = kdu.get_training_or_validation_split(theirs[0], theirs[1], 0.25, subset)
        assert o[0] == t[0]


def test_argument_errors_match_keras(tmp_path, keras_ref):
    from keras.src.utils import dataset_utils as kdu

    for args in [(None, "training", True, 1), (0.2, None, True, 1), (0.2, "training", True, None),
                 (1.5, "training", True, 1), (0.2, "foo", True, 1)]:
        with pytest.raises(ValueError) as ours:
            dataset_utils.check_validation_split_arg(*args)
        with pytest.raises(ValueError) as theirs:
            kdu.check_validation_split_arg(*args)
        assert str(ours.value) == str(theirs.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError) as theirs:
        keras_ref.utils.image_dataset_from_directory(str(tmp_path / "empty"), verbose=False)
    with pytest.raises(ValueError) as ours:
        load(tmp_path / "empty")
    assert str(ours.value) == str(theirs.value)
    make_tree(tmp_path / "data")
    for kwargs in [{"label_mode": "foo"}, {"color_mode": "x"}, {"labels": "x"}, {"interpolation": "zz"},
                   {"class_names": ["a", "c"]}]:
        with pytest.raises(ValueError) as theirs:
            keras_ref.utils.image_dataset_from_directory(str(tmp_path / "data"), verbose=False, **kwargs)
        with pytest.raises(ValueError) as ours:
            load(tmp_path / "data", **kwargs)
        assert str(ours.value) == str(theirs.value), kwargs
