"""TextVectorization: standardize, split, n-grams, every output mode against Python references, adapt, config."""
from __future__ import annotations

import json
import re
import string
from collections import Counter

import numpy as np
import pytest
import torch

import cornu as keras
from tests.helpers import assert_close, seeded

DOCS = ["The cat sat. On the mat!", "the Dog; ate the CAT's food", "a b\tc\nd  e", "Héllo—World ÄÖ!"]


def standardize(text: str, mode: str | None = "lower_and_strip_punctuation") -> str:
    """Reference: ASCII-only lowercasing and removal of ASCII punctuation (Keras's TensorFlow string ops)."""
    if mode in ("lower", "lower_and_strip_punctuation"):
        text = "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)
    if mode in ("strip_punctuation", "lower_and_strip_punctuation"):
        text = "".join(c for c in text if c not in string.punctuation)
    return text


def tokens(text: str, ngrams=None, mode="lower_and_strip_punctuation") -> list:
    words = [w for w in re.split(r"[ \t\n\v\f\r]+", standardize(text, mode)) if w]
    widths = range(1, ngrams + 1) if isinstance(ngrams, int) else (ngrams or (1,))
    return [" ".join(words[i:i + n]) for n in widths for i in range(len(words) - n + 1)]


def ranked(seqs) -> list:
    counts = Counter(t for s in seqs for t in s)
    return [t for t, _ in sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)]


def test_standardize_modes():
    for mode in ("lower_and_strip_punctuation", "lower", "strip_punctuation", None):
        layer = keras.layers.TextVectorization(standardize=mode, split=None)
        layer.adapt(DOCS)
        assert layer.get_vocabulary(include_special_tokens=False) == ranked([[standardize(d, mode)] for d in DOCS])
    assert standardize("ÄÖ É", "lower") == "ÄÖ É"


def test_adapt_vocabulary_and_int_output():
    layer = keras.layers.TextVectorization()
    layer.adapt(DOCS)
    vocab = ranked([tokens(d) for d in DOCS])
    assert layer.get_vocabulary() == ["", "[UNK]"] + vocab
    x = ["the cat zz", "a", ""]
    out = layer(np.array(x))
    width = max(len(tokens(d)) for d in x)
    expected = np.zeros((len(x), width), dtype=np.int64)
    for r, d in enumerate(x):
        for c, t in enumerate(tokens(d)):
            expected[r, c] = vocab.index(t) + 2 if t in vocab else 1
    assert out.dtype == torch.int64
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(layer(np.array([[d] for d in x])).numpy(), expected)
    np.testing.assert_array_equal(layer("the cat zz").numpy(), expected[0])


def test_output_sequence_length_pads_and_truncates():
    layer = keras.layers.TextVectorization(vocabulary=["a", "b", "c"], output_sequence_length=4)
    out = layer(["a b", "a b c a b c", "zz"])
    np.testing.assert_array_equal(out.numpy(), [[2, 3, 0, 0], [2, 3, 4, 2], [1, 0, 0, 0]])


@pytest.mark.parametrize("ngrams", [2, (2, 3), (1, 3)])
def test_ngrams(ngrams):
    docs = ["a b c d", "b c d", "c a"]
    layer = keras.layers.TextVectorization(ngrams=ngrams)
    layer.adapt(docs)
    seqs = [tokens(d, ngrams) for d in docs]
    vocab = ranked(seqs)
    assert layer.get_vocabulary(include_special_tokens=False) == vocab
    out = layer(["a b c d"]).numpy()[0]
    np.testing.assert_array_equal(out, [vocab.index(t) + 2 for t in tokens("a b c d", ngrams)])


def test_character_none_and_callable_split():
    chars = keras.layers.TextVectorization(split="character")
    chars.adapt(["ab a", "héé"])
    assert chars.get_vocabulary(include_special_tokens=False) == ranked([list("ab a"), list("héé")])
    whole = keras.layers.TextVectorization(split=None, vocabulary=["ab a"])
    np.testing.assert_array_equal(whole(np.array(["ab a", "zz"])).numpy(), [2, 1])
    np.testing.assert_array_equal(whole(np.array([["ab a"], ["x"]])).numpy(), [[2], [1]])
    custom = keras.layers.TextVectorization(standardize=lambda x: np.char.upper(x),
                                            split=lambda docs: [d.split("-") for d in docs])
    custom.adapt(["a-b-b"])
    assert custom.get_vocabulary() == ["", "[UNK]", "B", "A"]


@pytest.mark.parametrize("mode", ["multi_hot", "count", "tf_idf", "one_hot"])
def test_encoded_modes(mode):
    layer = keras.layers.TextVectorization(output_mode=mode)
    layer.adapt(DOCS)
    vocab = ranked([tokens(d) for d in DOCS])
    x = ["the cat the zz", "mat"]
    seqs = [tokens(d) for d in x]
    ids = [[vocab.index(t) + 1 if t in vocab else 0 for t in s] for s in seqs]
    counts = np.zeros((len(x), len(vocab) + 1))
    for r, row in enumerate(ids):
        for i in row:
            counts[r, i] += 1
    out = layer(np.array(x))
    if mode == "one_hot":
        assert tuple(out.shape) == (2, 4, len(vocab) + 1)
        assert_close(out[0], np.eye(len(vocab) + 1)[ids[0]])
        return
    if mode == "multi_hot":
        expected = (counts > 0).astype(float)
    elif mode == "count":
        expected = counts
    else:
        docs = [set(tokens(d)) for d in DOCS]
        idf = np.array([np.log1p(len(docs) / (1 + sum(t in d for d in docs))) for t in vocab])
        expected = counts * np.concatenate([[idf.mean()], idf])
    assert out.dtype == (torch.float32 if mode == "tf_idf" else torch.int64)
    assert_close(out, expected)
    assert_close(layer("the cat the zz"), expected[0])


def test_pad_to_max_tokens_and_max_tokens():
    layer = keras.layers.TextVectorization(max_tokens=5, output_mode="multi_hot", pad_to_max_tokens=True)
    layer.adapt(["a b c d e f", "a b"])
    assert len(layer.get_vocabulary()) == 5
    assert tuple(layer(["a"]).shape) == (1, 5)
    ints = keras.layers.TextVectorization(max_tokens=4)
    ints.adapt(["a b c d e f", "a b"])
    assert ints.get_vocabulary() == ["", "[UNK]", "b", "a"]


def test_streaming_adapt_from_generator():
    rng = seeded(4)
    words = np.array(["w%d" % i for i in range(12)])
    batches = [np.array([" ".join(rng.choice(words, 6)) for _ in range(8)]) for _ in range(10)]
    streamed = keras.layers.TextVectorization(output_mode="tf_idf")
    streamed.adapt(iter(batches))
    whole = keras.layers.TextVectorization(output_mode="tf_idf")
    whole.adapt(np.concatenate(batches), batch_size=7)
    assert streamed.get_vocabulary() == whole.get_vocabulary()
    assert_close(streamed(batches[0]), whole(batches[0]))


def test_errors():
    with pytest.raises(ValueError, match="output_mode=bogus"):
        keras.layers.TextVectorization(output_mode="bogus")
    with pytest.raises(ValueError, match="standardize=bogus"):
        keras.layers.TextVectorization(standardize="bogus")
    with pytest.raises(ValueError, match="split=bogus"):
        keras.layers.TextVectorization(split="bogus")
    with pytest.raises(ValueError, match="output_sequence_length"):
        keras.layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="ragged"):
        keras.layers.TextVectorization(ragged=True)
    with pytest.raises(RuntimeError, match="vocabulary"):
        keras.layers.TextVectorization()(["a"])
    with pytest.raises(ValueError, match="rank must be 1"):
        keras.layers.TextVectorization(vocabulary=["a"])(np.array([["a", "b"], ["a", "a"]]))


def test_config_round_trip():
    layer = keras.layers.TextVectorization(name="t", ngrams=(2, 3), vocabulary=["a b", "b c d"])
    config = json.loads(json.dumps(layer.get_config()))
    assert config["vocabulary"] == ["a b", "b c d"] and config["vocabulary_size"] == 4
    clone = keras.layers.TextVectorization.from_config(config)
    assert clone.ngrams == (2, 3)
    assert torch.equal(clone(["a b c d"]), layer(["a b c d"]))
    adapted = keras.layers.TextVectorization(name="u")
    adapted.adapt(DOCS)
    assert adapted.get_config()["vocabulary"] is None


def test_assets_round_trip(tmp_path):
    layer = keras.layers.TextVectorization(output_mode="tf_idf", ngrams=2)
    layer.adapt(DOCS)
    layer.save_assets(str(tmp_path))
    store: dict = {}
    layer.save_own_variables(store)
    clone = keras.layers.TextVectorization.from_config(layer.get_config())
    clone.load_own_variables(store)
    clone.load_assets(str(tmp_path))
    assert clone.get_vocabulary() == layer.get_vocabulary()
    assert_close(clone(DOCS), layer(DOCS))


def test_vectorized_text_trains_a_model():
    """The keras.io pattern: vectorize text up front, then fit a model on the integer sequences."""
    rng = seeded(5)
    good, bad = ["great", "fine", "good"], ["awful", "bad", "poor"]
    texts = [" ".join(rng.choice(good if i % 2 else bad, 4)) + "!" for i in range(64)]
    y = np.array([i % 2 for i in range(64)], dtype="float32")
    vectorize = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=6)
    vectorize.adapt(texts)
    x = vectorize(np.array(texts))
    assert tuple(x.shape) == (64, 6)
    model = keras.Sequential([keras.Input(shape=(6,), dtype="int64"),
                              keras.layers.Embedding(vectorize.vocabulary_size(), 8),
                              keras.layers.GlobalAveragePooling1D(),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
