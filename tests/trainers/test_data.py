"""Data adapters: batching, on-device shuffling by index, validation split, fallbacks."""
import numpy as np
import pytest
import torch

from cornu.trainers import data as data_module


def test_batches_cover_every_sample_once_per_epoch_with_shuffle():
    x = np.arange(10, dtype="float32").reshape(10, 1)
    adapter = data_module.ArrayDataAdapter(x, x[:, 0].astype("int64"), batch_size=4, shuffle=True)
    assert adapter.num_batches == 3 and adapter.on_device
    seen = []
    for bx, by, bsw in adapter:
        assert bsw is None and torch.equal(bx[:, 0].long(), by)
        seen.extend(by.tolist())
    assert sorted(seen) == list(range(10)) and len(seen) == 10


def test_no_shuffle_keeps_order_and_floats_become_float32():
    x = np.arange(6, dtype="float64").reshape(6, 1)
    batches = [bx for bx, _, _ in data_module.ArrayDataAdapter(x, batch_size=4, shuffle=False)]
    assert [b.dtype for b in batches] == [torch.float32, torch.float32]
    assert torch.cat(batches)[:, 0].tolist() == list(range(6))


def test_arrays_too_big_for_the_device_are_batched_from_host(monkeypatch):
    monkeypatch.setattr(data_module, "_fits_on_device", lambda tensors, device: False)
    x = np.arange(8, dtype="float32").reshape(8, 1)
    adapter = data_module.ArrayDataAdapter({"a": x}, x, batch_size=3, shuffle=True)
    assert not adapter.on_device
    got = sorted(v for bx, _, _ in adapter for v in bx["a"][:, 0].tolist())
    assert got == list(range(8))


def test_validation_split_takes_the_last_fraction_before_shuffling():
    x = np.arange(10).reshape(10, 1)
    (tx, ty, _), (vx, vy, _) = data_module.train_validation_split((x, x[:, 0], None), 0.2)
    assert tx[:, 0].tolist() == list(range(8)) and vx[:, 0].tolist() == [8, 9]
    with pytest.raises(ValueError, match="validation_split"):
        data_module.train_validation_split((x, None, None), 1.5)


def test_generators_and_iterables_of_batches():
    def gen():
        for i in range(3):
            yield np.full((2, 1), i, "float32"), np.full((2,), i)

    adapter = data_module.get_data_adapter(gen(), steps=2)
    out = [int(by[0]) for _, by, _ in adapter]
    assert out == [0, 1]
    with pytest.raises(ValueError, match="`y` argument is not supported"):
        data_module.get_data_adapter(gen(), y=np.zeros(3))


def test_bad_batch_size_and_cardinality():
    with pytest.raises(ValueError, match="batch_size"):
        data_module.ArrayDataAdapter(np.zeros((3, 1)), batch_size=-1)
    with pytest.raises(ValueError, match="'x' sizes: 3.*'y' sizes: 2"):
        data_module.ArrayDataAdapter(np.zeros((3, 1)), np.zeros(2))
