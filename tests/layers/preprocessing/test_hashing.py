"""Hashing: the hash functions against independent references, the layer against Keras's documented outputs.

Keras's Hashing needs TensorFlow even on its torch backend, so the oracle cannot
run it here; Keras's documented examples (FarmHash, mask, two salts) stand in.
"""
import random

import numpy as np
import pytest
import torch

import cornu
from cornu.layers.preprocessing._hash_functions import fingerprint64, siphash24
from tests.helpers import assert_close

LETTERS = [["A"], ["B"], ["C"], ["D"], ["E"]]


@pytest.mark.parametrize("n", [0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200, 1000])
def test_fingerprint64_matches_farmhash(n):
    farmhash = pytest.importorskip("farmhash")
    data = bytes(random.Random(n).getrandbits(8) for _ in range(n))
    assert fingerprint64(data) == farmhash.fingerprint64(data)


def test_siphash24_matches_reference_vectors():
    # The SipHash paper's key 00..0f; messages 00..(n-1).
    k0, k1 = int.from_bytes(bytes(range(8)), "little"), int.from_bytes(bytes(range(8, 16)), "little")
    assert siphash24(k0, k1, b"") == 0x726FDB47DD0E0E31
    assert siphash24(k0, k1, bytes(range(15))) == 0xA129CA6149BE45E5


@pytest.mark.parametrize("kwargs,inputs,expected", [
    (dict(num_bins=3), LETTERS, [[1], [0], [1], [1], [2]]),
    (dict(num_bins=3, mask_value=""), [["A"], ["B"], [""], ["C"], ["D"]], [[1], [1], [0], [2], [2]]),
    (dict(num_bins=3, salt=[133, 137]), LETTERS, [[1], [2], [1], [0], [2]]),
    (dict(num_bins=3, salt=133), LETTERS, [[0], [0], [2], [1], [0]]),
])
def test_keras_documented_examples(kwargs, inputs, expected):
    out = cornu.layers.Hashing(**kwargs)(inputs)
    assert out.dtype == torch.int64
    assert out.tolist() == expected
    assert cornu.layers.Hashing(**kwargs)(np.array(inputs)).tolist() == expected


def test_integers_hash_as_their_decimal_text():
    ints = np.array([[1, 22], [-3, 22]])
    expected = [[fingerprint64(str(v).encode()) % 7 for v in row] for row in ints]
    assert cornu.layers.Hashing(7)(ints).tolist() == expected
    assert cornu.layers.Hashing(7)(torch.tensor(ints)).tolist() == expected
    masked = cornu.layers.Hashing(7, mask_value=22)(ints)
    assert masked[:, 1].tolist() == [0, 0]
    assert masked[0, 0].item() == fingerprint64(b"1") % 6 + 1


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_encoded_outputs(mode):
    x = np.array([["a", "b", "a"], ["c", "d", "e"]])
    ids = np.array([[fingerprint64(v.encode()) % 4 for v in row] for row in x])
    hits = (ids[..., None] == np.arange(4)).astype("float64")
    expected = {"one_hot": hits, "multi_hot": hits.max(axis=1), "count": hits.sum(axis=1)}[mode]
    assert_close(cornu.layers.Hashing(4, output_mode=mode)(x), expected)


def test_errors_and_config():
    with pytest.raises(ValueError, match="num_bins"):
        cornu.layers.Hashing(0)
    with pytest.raises(ValueError, match="salt"):
        cornu.layers.Hashing(3, salt="x")
    with pytest.raises(ValueError, match="output_mode"):
        cornu.layers.Hashing(3, output_mode="tf_idf")
    with pytest.raises(ValueError, match="dtype"):
        cornu.layers.Hashing(3)(np.array([1.5]))
    cfg = cornu.layers.Hashing(5, mask_value="", salt=[1, 2], output_mode="count", name="h").get_config()
    assert {k: cfg[k] for k in ("num_bins", "salt", "mask_value", "output_mode", "sparse")} == \
        {"num_bins": 5, "salt": [1, 2], "mask_value": "", "output_mode": "count", "sparse": False}
    assert cornu.layers.Hashing.from_config(cfg).get_config() == cfg


def test_symbolic_shapes_and_dtypes():
    inp = cornu.Input((3,), dtype="int32")
    out = cornu.layers.Hashing(4)(inp)
    assert tuple(out.shape) == (None, 3) and out.dtype == "int64"
    assert tuple(cornu.layers.Hashing(4, output_mode="multi_hot")(inp).shape) == (None, 4)
