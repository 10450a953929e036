"""imagenet_utils: preprocessing formulas, label decoding from the cached index, input-shape checks,
and the ImageNet weights fetch (cache reuse, clear offline error)."""
import json

import numpy as np
import pytest
import torch

import cornu
from cornu.applications import imagenet_utils
from tests.helpers import assert_close, f64, random_array, seeded

MEAN_BGR = np.array([103.939, 116.779, 123.68])
MEAN_RGB = np.array([0.485, 0.456, 0.406])
STD_RGB = np.array([0.229, 0.224, 0.225])


def test_preprocess_modes_follow_their_formulas():
    x = random_array((2, 3, 4, 3), low=0.0, high=255.0)
    ref = f64(x)
    assert_close(imagenet_utils.preprocess_input(x.copy(), mode="tf"), ref / 127.5 - 1.0)
    assert_close(imagenet_utils.preprocess_input(x.copy(), mode="torch"), (ref / 255.0 - MEAN_RGB) / STD_RGB)
    assert_close(imagenet_utils.preprocess_input(x.copy(), mode="caffe"), ref[..., ::-1] - MEAN_BGR, rtol=1e-6)


def test_preprocess_channels_first_uses_axis_1():
    x = random_array((2, 3, 4, 5), low=0.0, high=255.0)
    ref = f64(x)[:, ::-1] - MEAN_BGR.reshape(3, 1, 1)
    assert_close(imagenet_utils.preprocess_input(x, data_format="channels_first", mode="caffe"), ref, rtol=1e-6)


def test_preprocess_tensor_gives_tensor_and_float_numpy_is_in_place():
    x = random_array((1, 2, 2, 3), low=0.0, high=255.0)
    t = torch.tensor(x)
    out = imagenet_utils.preprocess_input(t, mode="torch")
    assert isinstance(out, torch.Tensor)
    assert_close(out, (f64(x) / 255.0 - MEAN_RGB) / STD_RGB)
    assert_close(t, x)  # the input tensor is left alone
    arr = x.copy()
    assert imagenet_utils.preprocess_input(arr, mode="tf") is arr
    ints = imagenet_utils.preprocess_input(np.full((2, 2, 3), 255, dtype="uint8"), mode="tf")
    assert ints.dtype == np.float32 and np.all(ints == 1.0)


def test_preprocess_bad_arguments():
    with pytest.raises(ValueError, match="mode=bad"):
        imagenet_utils.preprocess_input(np.zeros((1, 2, 2, 3)), mode="bad")
    with pytest.raises(ValueError, match="data_format=nchw"):
        imagenet_utils.preprocess_input(np.zeros((1, 2, 2, 3)), data_format="nchw")


def _write_index(home) -> dict:
    index = {str(i): [f"n{i:08d}", f"label_{i}"] for i in range(1000)}
    (home / "models").mkdir(parents=True)
    (home / "models" / "imagenet_class_index.json").write_text(json.dumps(index))
    return index


def test_decode_predictions_reads_cached_index(home, monkeypatch):
    index = _write_index(home)
    monkeypatch.setattr(imagenet_utils, "_CLASS_INDEX", None)
    preds = seeded(1).random((2, 1000)).astype("float32")
    decoded = imagenet_utils.decode_predictions(torch.tensor(preds), top=3)
    for row, result in zip(preds, decoded):
        best = np.argsort(-row)[:3]
        assert [r[:2] for r in result] == [tuple(index[str(i)]) for i in best]
        assert_close([r[2] for r in result], row[best])


def test_decode_predictions_bad_shape():
    with pytest.raises(ValueError, match=r"\(2, 10\)"):
        imagenet_utils.decode_predictions(np.zeros((2, 10)))


def test_obtain_input_shape():
    fn = imagenet_utils.obtain_input_shape
    assert fn(None, 224, 32, "channels_last", True) == (224, 224, 3)
    assert fn(None, 224, 32, "channels_last", False) == (None, None, 3)
    assert fn(None, 224, 32, "channels_first", False) == (3, None, None)
    assert fn((64, 48, 1), 224, 32, "channels_last", False) == (64, 48, 1)
    with pytest.raises(ValueError, match="at least 32x32"):
        fn((31, 64, 3), 224, 32, "channels_last", False)
    with pytest.raises(ValueError, match="should be"):
        fn((64, 64, 3), 224, 32, "channels_last", True, "imagenet")
    with pytest.raises(ValueError, match="3 channels"):
        fn((64, 64, 1), 224, 32, "channels_last", False, "imagenet")
    with pytest.raises(ValueError, match="static"):
        fn((None, None, 3), 224, 32, "channels_last", True)
    with pytest.raises(ValueError, match="three integers"):
        fn((64, 64), 224, 32, "channels_last", False)


def test_imagenet_weights_offline_error_names_url_and_cache_path(home, monkeypatch):
    from cornu.utils import file_utils

    def offline(origin, target, file_hash, algorithm):
        raise Exception(f"URL fetch failure on {origin}: no network")

    monkeypatch.setattr(file_utils, "_download", offline)
    with pytest.raises(OSError) as err:
        cornu.applications.ResNet50(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    name = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert "https://storage.googleapis.com/tensorflow/keras-applications/resnet/" + name in str(err.value)
    assert str(home / "models" / name) in str(err.value)


def test_imagenet_weights_reuse_the_cached_file(home, monkeypatch):
    """A file already in $KERAS_HOME/models (Keras's cache) is loaded without any download."""
    from cornu.saving import legacy_h5
    from cornu.utils import file_utils

    source = cornu.applications.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3))
    source.layers[2].kernel.assign(np.full(source.layers[2].kernel.shape, 0.25, dtype="float32"))
    (home / "models").mkdir(parents=True)
    import h5py

    with h5py.File(home / "models" / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", "w") as f:
        legacy_h5.save_weights_to_hdf5_group(f, source)
    monkeypatch.setattr(file_utils, "_download", lambda *a: pytest.fail("downloaded"))
    model = cornu.applications.ResNet50(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert np.all(model.get_layer("conv1_conv").kernel.numpy() == 0.25)
