"""imdb.load_data / get_word_index on small files in Keras's format: preprocessing, caching, download, safety."""
import hashlib
import json
import os
import pickle
import urllib.error
import urllib.request

import numpy as np
import pytest

from cornu.datasets import imdb

RNG = np.random.default_rng(0)


def sequences(n, max_len=12, vocab=40):
    out = np.empty(n, dtype=object)
    for i in range(n):
        out[i] = RNG.integers(1, vocab, RNG.integers(1, max_len)).tolist()
    return out


ARRAYS = {"x_train": sequences(30), "y_train": RNG.integers(0, 2, 30), "x_test": sequences(20),
          "y_test": RNG.integers(0, 2, 20)}


def write(path, **arrays):
    np.savez(path, **arrays)
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def cached(home):
    os.makedirs(home / "datasets")
    write(home / "datasets" / "imdb.npz", **ARRAYS)
    return home / "datasets" / "imdb.npz"


def reference(num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2, index_from=3):
    """Keras's documented preprocessing, written out plainly."""
    rng = np.random.RandomState(seed)
    splits = []
    for xk, yk in (("x_train", "y_train"), ("x_test", "y_test")):
        order = np.arange(len(ARRAYS[xk]))
        rng.shuffle(order)
        xs = [[w + index_from for w in ARRAYS[xk][i]] for i in order]
        if start_char is not None:
            xs = [[start_char] + s for s in xs]
        ys = list(ARRAYS[yk][order])
        if maxlen:
            kept = [(s, y) for s, y in zip(xs, ys) if len(s) < maxlen]
            xs, ys = [s for s, _ in kept], [y for _, y in kept]
        splits.append((xs, ys))
    limit = num_words or max(max(s) for split in splits for s in split[0])
    out = []
    for xs, ys in splits:
        if oov_char is None:
            xs = [[w for w in s if skip_top <= w < limit] for s in xs]
        else:
            xs = [[w if skip_top <= w < limit else oov_char for w in s] for s in xs]
        out.append((xs, ys))
    return out


def check(got, want):
    for (x, y), (wx, wy) in zip(got, want):
        assert x.dtype == object and x.ndim == 1 and len(x) == len(wx)
        assert [list(s) for s in x] == wx
        assert all(type(w) is int for s in x for w in s)
        np.testing.assert_array_equal(y, wy)


@pytest.mark.parametrize("kwargs", [{}, dict(num_words=20), dict(num_words=20, skip_top=5), dict(maxlen=8),
                                    dict(oov_char=None, num_words=15, skip_top=4), dict(start_char=None),
                                    dict(start_char=None, index_from=0), dict(seed=3, index_from=5, start_char=7)])
def test_preprocessing_matches_the_documented_rules(cached, no_network, kwargs):
    check(imdb.load_data(**kwargs), reference(**kwargs))


def test_defaults_and_limits(cached, no_network):
    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=10)
    assert len(x_train) == 30 and len(x_test) == 20
    assert all(s[0] == 1 and max(s) < 10 for s in np.concatenate([x_train, x_test]))
    (x_train, _), _ = imdb.load_data(maxlen=6)
    assert all(len(s) < 6 for s in x_train)
    with pytest.raises(ValueError, match="maxlen=2"):
        imdb.load_data(maxlen=2)
    with pytest.warns(UserWarning, match="nb_words"):
        imdb.load_data(nb_words=5)


def test_matches_keras(cached, keras_ref, monkeypatch, no_network):
    from keras.src.datasets import imdb as keras_imdb

    monkeypatch.setattr(keras_imdb, "get_file", lambda *a, **k: str(cached))
    for kwargs in ({}, dict(num_words=20, skip_top=3), dict(maxlen=9, oov_char=None, num_words=25),
                   dict(start_char=None, index_from=0, seed=7)):
        got, want = imdb.load_data(**kwargs), keras_imdb.load_data(**kwargs)
        for (x, y), (wx, wy) in zip(got, want):
            assert x.dtype == wx.dtype and x.shape == wx.shape and y.dtype == wy.dtype
            assert [list(s) for s in x] == [list(s) for s in wx]
            np.testing.assert_array_equal(y, wy)


def test_download_is_verified_then_cached(home, tmp_path, monkeypatch):
    served = tmp_path / "served.npz"
    digest = write(served, **ARRAYS)
    monkeypatch.setattr(imdb, "ORIGIN", served.as_uri())
    monkeypatch.setattr(imdb, "FILE_HASH", "0" * 64)
    with pytest.raises(ValueError, match=digest):
        imdb.load_data()
    assert not (home / "datasets" / "imdb.npz").exists()
    monkeypatch.setattr(imdb, "FILE_HASH", digest)
    first = imdb.load_data()
    served.unlink()
    check(imdb.load_data(), reference())
    check(first, reference())


def test_offline_with_empty_cache_names_path(home, monkeypatch):
    def unreachable(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", unreachable)
    with pytest.raises(Exception, match="URL fetch failure") as err:
        imdb.load_data()
    assert str(home / "datasets" / "imdb.npz") in str(err.value)


class _Payload:
    """Unpickling this would create a directory: the loader must refuse it without running it."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return os.makedirs, (self.target,)


def test_arbitrary_pickled_objects_are_refused_without_running(home, tmp_path, no_network):
    target = tmp_path / "pwned"
    evil = np.empty(2, dtype=object)
    evil[0], evil[1] = [1, 2], _Payload(str(target))
    os.makedirs(home / "datasets")
    write(home / "datasets" / "imdb.npz", **{**ARRAYS, "x_train": evil})
    with pytest.raises(ValueError, match="imdb.npz"):
        imdb.load_data()
    assert not target.exists()
    assert pickle.loads(pickle.dumps(_Payload(str(target)))) is None and target.exists()  # the payload is live


@pytest.mark.parametrize("change, match", [
    (dict(x_train=np.array(["a", "b"], dtype=object)), "list of ints"),
    (dict(x_train=np.array([[1.5, 2.0]], dtype=object)), "object array"),
    (dict(y_train=np.array([0.5] * 30)), "integer"),
    (dict(y_test=np.arange(3)), "inconsistent"),
])
def test_malformed_files_raise_naming_them(home, no_network, change, match):
    os.makedirs(home / "datasets")
    write(home / "datasets" / "imdb.npz", **{**ARRAYS, **change})
    with pytest.raises(ValueError, match=match):
        imdb.load_data()


def test_missing_keys_and_corrupt_files(home, tmp_path, no_network):
    os.makedirs(home / "datasets")
    partial = {k: v for k, v in ARRAYS.items() if k != "y_test"}
    write(home / "datasets" / "imdb.npz", **partial)
    with pytest.raises(ValueError, match="y_test"):
        imdb.load_data()
    (home / "datasets" / "imdb.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match="imdb.npz"):
        imdb.load_data()


def test_word_index(home, no_network):
    os.makedirs(home / "datasets")
    (home / "datasets" / "imdb_word_index.json").write_text(json.dumps({"the": 1, "and": 2, "film": 19}))
    assert imdb.get_word_index() == {"the": 1, "and": 2, "film": 19}
    (home / "datasets" / "imdb_word_index.json").write_text(json.dumps(["not", "a", "dict"]))
    with pytest.raises(ValueError, match="imdb_word_index.json"):
        imdb.get_word_index()
