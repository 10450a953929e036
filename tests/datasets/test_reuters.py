"""reuters.load_data / get_word_index / get_label_names on small files in Keras's format."""
import hashlib
import json
import os

import numpy as np
import pytest

from cornu.datasets import reuters

RNG = np.random.default_rng(1)


def sequences(n, max_len=12, vocab=40):
    out = np.empty(n, dtype=object)
    for i in range(n):
        out[i] = RNG.integers(1, vocab, RNG.integers(1, max_len)).tolist()
    return out


ARRAYS = {"x": sequences(40), "y": RNG.integers(0, 46, 40)}


@pytest.fixture
def cached(home):
    os.makedirs(home / "datasets")
    np.savez(home / "datasets" / "reuters.npz", **ARRAYS)
    return home / "datasets" / "reuters.npz"


def reference(num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113, start_char=1, oov_char=2,
              index_from=3):
    """Keras's documented preprocessing, written out plainly."""
    order = np.arange(len(ARRAYS["x"]))
    np.random.RandomState(seed).shuffle(order)
    xs = [[w + index_from for w in ARRAYS["x"][i]] for i in order]
    if start_char is not None:
        xs = [[start_char] + s for s in xs]
    ys = list(ARRAYS["y"][order])
    if maxlen:
        kept = [(s, y) for s, y in zip(xs, ys) if len(s) < maxlen]
        xs, ys = [s for s, _ in kept], [y for _, y in kept]
    limit = num_words or max(max(s) for s in xs)
    if oov_char is None:
        xs = [[w for w in s if skip_top <= w < limit] for s in xs]
    else:
        xs = [[w if skip_top <= w < limit else oov_char for w in s] for s in xs]
    n = int(len(xs) * (1 - test_split))
    return (xs[:n], ys[:n]), (xs[n:], ys[n:])


@pytest.mark.parametrize("kwargs", [{}, dict(num_words=20, skip_top=5), dict(maxlen=8, test_split=0.5),
                                    dict(oov_char=None, num_words=15), dict(start_char=None, index_from=0, seed=4)])
def test_preprocessing_matches_the_documented_rules(cached, no_network, kwargs):
    for (x, y), (wx, wy) in zip(reuters.load_data(**kwargs), reference(**kwargs)):
        assert x.dtype == object and x.ndim == 1
        assert [list(s) for s in x] == wx
        np.testing.assert_array_equal(y, wy)


def test_matches_keras(cached, keras_ref, monkeypatch, no_network):
    from keras.src.datasets import reuters as keras_reuters

    monkeypatch.setattr(keras_reuters, "get_file", lambda *a, **k: str(cached))
    for kwargs in ({}, dict(num_words=20, skip_top=3, test_split=0.3), dict(maxlen=9, oov_char=None),
                   dict(start_char=None, index_from=0, seed=7)):
        for (x, y), (wx, wy) in zip(reuters.load_data(**kwargs), keras_reuters.load_data(**kwargs)):
            assert x.dtype == wx.dtype and x.shape == wx.shape and y.dtype == wy.dtype
            assert [list(s) for s in x] == [list(s) for s in wx]
            np.testing.assert_array_equal(y, wy)
    assert reuters.get_label_names() == tuple(keras_reuters.get_label_names())
    with pytest.raises(ValueError):
        keras_reuters.load_data(maxlen=2)
    with pytest.raises(ValueError):
        reuters.load_data(maxlen=2)


def test_download_verified_and_label_names(home, tmp_path, monkeypatch):
    served = tmp_path / "served.npz"
    np.savez(served, **ARRAYS)
    monkeypatch.setattr(reuters, "ORIGIN", served.as_uri())
    monkeypatch.setattr(reuters, "FILE_HASH", "f" * 64)
    with pytest.raises(ValueError, match="Incomplete or corrupted"):
        reuters.load_data()
    assert not (home / "datasets" / "reuters.npz").exists()
    monkeypatch.setattr(reuters, "FILE_HASH", hashlib.sha256(served.read_bytes()).hexdigest())
    (x_train, _), (x_test, _) = reuters.load_data()
    assert (len(x_train), len(x_test)) == (32, 8)
    names = reuters.get_label_names()
    assert len(names) == 46 and names[3] == "earn" and len(set(names)) == 46


def test_malformed_file_and_word_index(home, no_network):
    os.makedirs(home / "datasets")
    np.savez(home / "datasets" / "reuters.npz", x=ARRAYS["x"], y=np.arange(5))
    with pytest.raises(ValueError, match="reuters.npz"):
        reuters.load_data()
    (home / "datasets" / "reuters_word_index.json").write_text(json.dumps({"mln": 3, "dlrs": 4}))
    assert reuters.get_word_index() == {"mln": 3, "dlrs": 4}
