"""cifar10/cifar100.load_data on small fake archives; tampered pickles are refused."""
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from cornu import config
from cornu.datasets import cifar10, cifar100


def batch_bytes(obj):
    return pickle.dumps(obj, protocol=2)


def fake_images(n, seed):
    return np.random.default_rng(seed).integers(0, 256, (n, 3072), dtype=np.uint8)


def write_archive(path, members):
    os.makedirs(path.parent, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def cifar10_members(per_batch=2):
    members, images, labels = {}, [], []
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        x = fake_images(per_batch, i)
        y = [(i + j) % 10 for j in range(per_batch)]
        members[f"cifar-10-batches-py/{name}"] = batch_bytes({b"data": x, b"labels": y, b"batch_label": name.encode()})
        images.append(x)
        labels.append(y)
    return members, images, labels


@pytest.fixture
def cifar10_cache(home):
    members, images, labels = cifar10_members()
    write_archive(home / "datasets" / "cifar-10-batches-py-target_archive", members)
    return images, labels


def test_cifar10_from_cached_archive(cifar10_cache, no_network):
    images, labels = cifar10_cache
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3) and y_train.shape == (10, 1)
    assert x_test.shape == (2, 32, 32, 3) and y_test.shape == (2, 1)
    assert x_train.dtype == y_train.dtype == np.uint8
    first = images[0][0].reshape(3, 32, 32)
    np.testing.assert_array_equal(x_train[0, :, :, 1], first[1])
    np.testing.assert_array_equal(y_train[:, 0], np.concatenate(labels[:5]))
    np.testing.assert_array_equal(y_test[:, 0], labels[5])


def test_cifar10_reuses_extracted_dir_and_channels_first(cifar10_cache, home, no_network):
    cifar10.load_data()
    os.remove(home / "datasets" / "cifar-10-batches-py-target_archive")
    previous = config.image_data_format()
    config.set_image_data_format("channels_first")
    try:
        (x_train, _), _ = cifar10.load_data()
    finally:
        config.set_image_data_format(previous)
    assert x_train.shape == (10, 3, 32, 32)
    np.testing.assert_array_equal(x_train[0], cifar10_cache[0][0][0].reshape(3, 32, 32))


def test_tampered_pickle_is_refused(home, tmp_path, no_network):
    sentinel = tmp_path / "sentinel"
    sentinel.write_text("still here")

    class Exploit:
        def __reduce__(self):
            return os.remove, (str(sentinel),)

    members, _, _ = cifar10_members()
    members["cifar-10-batches-py/data_batch_3"] = batch_bytes({b"data": Exploit(), b"labels": []})
    write_archive(home / "datasets" / "cifar-10-batches-py-target_archive", members)
    with pytest.raises(ValueError, match="data_batch_3"):
        cifar10.load_data()
    assert sentinel.read_text() == "still here"


def test_wrong_shape_batch_is_refused(home, no_network):
    members, _, _ = cifar10_members()
    members["cifar-10-batches-py/test_batch"] = batch_bytes({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]})
    write_archive(home / "datasets" / "cifar-10-batches-py-target_archive", members)
    with pytest.raises(ValueError, match="test_batch"):
        cifar10.load_data()


@pytest.fixture
def cifar100_cache(home):
    members, expected = {}, {}
    for k, (name, n) in enumerate([("train", 4), ("test", 3)]):
        fine = list(range(10 * k, 10 * k + n))
        coarse = [f // 5 for f in fine]
        x = fake_images(n, 10 + k)
        members[f"cifar-100-python/{name}"] = batch_bytes({b"data": x, b"fine_labels": fine, b"coarse_labels": coarse})
        expected[name] = (x, fine, coarse)
    write_archive(home / "datasets" / "cifar-100-python-target_archive", members)
    return expected


@pytest.mark.parametrize("mode, column", [("fine", 1), ("coarse", 2)])
def test_cifar100_label_modes(cifar100_cache, no_network, mode, column):
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode=mode)
    assert x_train.shape == (4, 32, 32, 3) and x_test.shape == (3, 32, 32, 3)
    assert y_train.shape == (4, 1) and y_train.dtype == np.uint8
    np.testing.assert_array_equal(y_train[:, 0], cifar100_cache["train"][column])
    np.testing.assert_array_equal(y_test[:, 0], cifar100_cache["test"][column])


def test_cifar100_bad_label_mode():
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium")
