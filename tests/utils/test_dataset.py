"""cornu.utils.Dataset: tf.data's verbs over torch.utils.data, and fit/evaluate/predict taking it."""
import numpy as np
import pytest
import torch

import cornu as keras
from cornu.utils import Dataset
from tests.helpers import assert_close, random_array


def pairs(n=10):
    x = np.arange(n, dtype="float32").reshape(n, 1)
    return x, np.arange(n, dtype="int64")


def labels_of(ds):
    return [np.asarray(y).tolist() for _, y in ds.as_numpy_iterator()]


def test_from_tensor_slices_elements_and_batches():
    x, y = pairs(10)
    ds = Dataset.from_tensor_slices((x, y))
    assert len(ds) == 10 and ds.cardinality() == 10 and ds.cardinality().numpy() == 10
    first = next(iter(ds))
    assert isinstance(first, tuple) and first[0].shape == (1,) and first[0].dtype == torch.float32
    batched = ds.batch(4)
    assert len(batched) == 3
    assert labels_of(batched) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(ds.batch(4, drop_remainder=True)) == 2
    assert labels_of(ds.batch(4, drop_remainder=True)) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_from_tensor_slices_dict_and_single_array():
    ds = Dataset.from_tensor_slices({"a": np.arange(6), "b": np.ones((6, 2))}).batch(4)
    out = list(ds.as_numpy_iterator())
    assert out[0]["a"].tolist() == [0, 1, 2, 3] and out[1]["b"].shape == (2, 2)
    single = list(Dataset.from_tensor_slices(np.arange(5)).as_numpy_iterator())
    assert [int(v) for v in single] == [0, 1, 2, 3, 4]
    stacked = list(Dataset.from_tensor_slices([np.zeros(3), np.ones(3)]).as_numpy_iterator())
    assert len(stacked) == 2 and stacked[1].tolist() == [1, 1, 1]  # a list is one tensor, as in tf.data
    with pytest.raises(ValueError, match="first dimension"):
        Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))


def test_shuffle_is_a_permutation_reshuffled_each_epoch_and_seeded():
    x, y = pairs(20)
    ds = Dataset.from_tensor_slices((x, y)).shuffle(100, seed=3).batch(5)
    epoch1 = sum(labels_of(ds), [])
    epoch2 = sum(labels_of(ds), [])
    assert sorted(epoch1) == list(range(20)) and sorted(epoch2) == list(range(20))
    assert epoch1 != epoch2 and epoch1 != list(range(20))
    again = sum(labels_of(Dataset.from_tensor_slices((x, y)).shuffle(100, seed=3).batch(5)), [])
    assert again == epoch1
    # A shuffle of batches (a stream) keeps every batch whole.
    batches = labels_of(Dataset.from_tensor_slices((x, y)).batch(5).shuffle(2, seed=0))
    assert sorted(map(tuple, batches)) == [tuple(range(i, i + 5)) for i in range(0, 20, 5)]


def test_take_skip_repeat_unbatch_cardinality():
    x, y = pairs(10)
    ds = Dataset.from_tensor_slices((x, y))
    assert labels_of(ds.take(3).batch(10)) == [[0, 1, 2]]
    assert labels_of(ds.skip(7).batch(10)) == [[7, 8, 9]]
    b = ds.batch(3)
    assert labels_of(b.take(2)) == [[0, 1, 2], [3, 4, 5]] and len(b.take(2)) == 2
    assert labels_of(b.skip(3)) == [[9]] and len(b.skip(3)) == 1
    assert len(b.repeat(2)) == 8 and len(list(b.repeat(2))) == 8
    assert b.repeat().cardinality() == Dataset.INFINITE_CARDINALITY == -1
    with pytest.raises(TypeError, match="infinite"):
        len(b.repeat())
    assert len(list(b.repeat().take(11))) == 11
    assert [int(v) for _, v in b.unbatch().as_numpy_iterator()] == list(range(10))
    assert b.unbatch().cardinality() == Dataset.UNKNOWN_CARDINALITY == -2
    f = ds.filter(lambda a, c: c % 2 == 0)
    assert f.cardinality() == -2 and [int(v) for _, v in f.as_numpy_iterator()] == [0, 2, 4, 6, 8]
    with pytest.raises(TypeError, match="unknown"):
        len(f)


def test_map_unpacks_tuples_and_runs_on_the_batch():
    x, y = pairs(8)
    calls = []

    def fn(a, b):
        calls.append(a.shape[0])
        return a * 2.0, b + 1

    ds = Dataset.from_tensor_slices((x, y)).batch(4).map(fn, num_parallel_calls=-1)
    out = list(ds.as_numpy_iterator())
    assert calls == [4, 4] and len(ds) == 2
    assert_close(out[0][0], x[:4] * 2.0)
    assert out[1][1].tolist() == [5, 6, 7, 8]
    with pytest.raises(TypeError, match="callable"):
        ds.map(3)


def test_map_with_an_augmentation_layer_keeps_shapes():
    x = random_array((6, 8, 8, 3), seed=1)
    flip = keras.layers.RandomFlip("horizontal", seed=0)
    ds = Dataset.from_tensor_slices((x, np.zeros(6))).batch(3).map(lambda a, b: (flip(a, training=True), b))
    shapes = [tuple(a.shape) for a, _ in ds]
    assert shapes == [(3, 8, 8, 3), (3, 8, 8, 3)]


def test_cache_replays_and_prefetch_keeps_order():
    x, y = pairs(6)
    seen = []

    def spy(a, b):
        seen.append(1)
        return a, b

    ds = Dataset.from_tensor_slices((x, y)).batch(2).map(spy).cache()
    assert labels_of(ds) == labels_of(ds) == [[0, 1], [2, 3], [4, 5]]
    assert len(seen) == 3  # the second pass came from the cache
    pre = Dataset.from_tensor_slices((x, y)).batch(2).map(lambda a, b: (a, b)).prefetch(2)
    assert labels_of(pre) == [[0, 1], [2, 3], [4, 5]] and len(pre) == 3
    assert labels_of(pre.take(1)) == [[0, 1]]


def test_prefetch_hands_errors_to_the_consumer():
    def boom(a, b):
        raise RuntimeError("bad element")

    ds = Dataset.from_tensor_slices(pairs(4)).batch(2).map(boom).prefetch(1)
    with pytest.raises(RuntimeError, match="bad element"):
        list(ds)


def test_workers_give_the_same_batches():
    x, y = pairs(12)
    base = Dataset.from_tensor_slices((x, y))
    serial = labels_of(base.batch(5))
    parallel_ds = Dataset.from_tensor_slices((x, y)).batch(5)
    parallel_ds.num_workers = 2
    assert labels_of(parallel_ds) == serial and labels_of(parallel_ds) == serial  # persistent workers, twice


def test_zip_and_concatenate():
    a = Dataset.from_tensor_slices(np.arange(5))
    b = Dataset.from_tensor_slices(np.arange(3) * 10)
    zipped = Dataset.zip(a, b)
    assert len(zipped) == 3 and [(int(x), int(y)) for x, y in zipped] == [(0, 0), (1, 10), (2, 20)]
    assert len(Dataset.zip((a, b.repeat()))) == 5
    both = a.concatenate(b)
    assert len(both) == 8 and [int(v) for v in both] == [0, 1, 2, 3, 4, 0, 10, 20]
    assert a.concatenate(b.repeat()).cardinality() == Dataset.INFINITE_CARDINALITY
    with pytest.raises(TypeError, match="datasets"):
        Dataset.zip(np.arange(3))


def test_batch_rejects_bad_sizes():
    ds = Dataset.from_tensor_slices(np.arange(4))
    with pytest.raises(ValueError, match="batch_size"):
        ds.batch(0)
    with pytest.raises(ValueError, match="buffer_size"):
        ds.shuffle(0)


def test_fit_evaluate_predict_take_a_dataset():
    keras.utils.set_random_seed(0)
    x = random_array((40, 4), seed=2)
    y = (x.sum(axis=1) > 0).astype("float32").reshape(-1, 1)
    ds = Dataset.from_tensor_slices((x, y)).shuffle(64, seed=0).batch(8)
    model = keras.Sequential([keras.layers.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    seen = []

    class Count(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)

    history = model.fit(ds, epochs=2, verbose=0, callbacks=[Count()], validation_data=ds.take(2))
    assert len(seen) == 2 * len(ds) == 10
    assert len(history.history["loss"]) == 2 and "val_loss" in history.history
    loss = model.evaluate(Dataset.from_tensor_slices((x, y)).batch(8), verbose=0)
    probs = np.asarray(model.predict(Dataset.from_tensor_slices(x).batch(16), verbose=0))
    assert probs.shape == (40, 1)
    eps = 1e-7
    p = np.clip(probs.astype("float64"), eps, 1 - eps)
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert_close(loss, expected, rtol=1e-4)


def test_fit_reads_a_tf_dataset_when_tensorflow_is_present():
    tf = pytest.importorskip("tensorflow")
    x = random_array((16, 3), seed=0)
    y = np.zeros((16, 1), "float32")
    model = keras.Sequential([keras.layers.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(4), epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1
