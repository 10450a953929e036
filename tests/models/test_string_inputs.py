"""Models that take text: ``keras.Input(dtype="string")`` into TextVectorization / StringLookup, end to end."""
import numpy as np
import pytest
import torch

import cornu as keras
from cornu import layers
from cornu.config import standardize_dtype
from cornu.symbolic import KerasTensor
from cornu.trainers.data import ArrayDataAdapter
from tests.helpers import assert_close, seeded

_GOOD = ["a great movie", "great fun", "a wonderful film", "loved it", "great acting"]
_BAD = ["awful film", "boring and awful", "a terrible movie", "hated it", "terrible acting"]


def _sentiment(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A tiny synthetic sentiment set: ``(n, 1)`` strings and 0/1 labels."""
    rng = seeded(seed)
    labels = rng.integers(0, 2, n)
    texts = [(_GOOD if y else _BAD)[i] for y, i in zip(labels, rng.integers(0, 5, n))]
    return np.array(texts)[:, None], labels.astype("float32")


def _text_model(texts: np.ndarray) -> keras.Model:
    vectorize = layers.TextVectorization(max_tokens=32, output_sequence_length=4, name="vectorize")
    vectorize.adapt(texts)
    inputs = keras.Input(shape=(1,), dtype="string", name="text")
    x = vectorize(inputs)
    x = layers.Embedding(32, 8, name="embed")(x)
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="out")(x)
    return keras.Model(inputs, outputs)


def test_standardize_dtype_string():
    assert standardize_dtype("string") == "string"
    assert standardize_dtype(str) == "string"
    with pytest.raises(ValueError):
        standardize_dtype("str")


def test_string_input_is_symbolic():
    inputs = keras.Input(shape=(1,), dtype="string", name="s")
    assert isinstance(inputs, KerasTensor)
    assert inputs.shape == (None, 1) and inputs.dtype == "string"
    x = layers.TextVectorization(vocabulary=["a", "b"], output_sequence_length=3, name="tv")(inputs)
    assert x.shape == (None, 3) and x.dtype == "int64"
    assert layers.Dense(2)(inputs).shape == (None, 2)  # symbolic shapes only, as Keras (no fake run on text)


def test_fit_predict_evaluate_save_on_strings(tmp_path):
    texts, labels = _sentiment()
    model = _text_model(texts)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(texts, labels, epochs=2, batch_size=8, shuffle=True, verbose=0)
    assert len(history.history["loss"]) == 2
    assert history.history["loss"][1] < history.history["loss"][0]
    preds = model.predict(np.array([["a great movie"], ["awful"]]), verbose=0)
    assert preds.shape == (2, 1)
    assert model.predict(np.array(["a great movie", "awful"]), verbose=0).shape == (2, 1)  # rank fitted as Keras
    loss, acc = model.evaluate(texts, labels, verbose=0)
    p = np.clip(model.predict(texts, verbose=0)[:, 0].astype(np.float64), 1e-7, 1 - 1e-7)
    expected = -np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p))
    assert_close(loss, expected, rtol=1e-4)
    path = tmp_path / "text.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    assert restored.get_layer("vectorize").get_vocabulary() == model.get_layer("vectorize").get_vocabulary()
    assert_close(restored.predict(texts, verbose=0), model.predict(texts, verbose=0))


def test_string_lookup_model_object_and_bytes_arrays(tmp_path):
    inputs = keras.Input(shape=(2,), dtype="string", name="pair")
    x = layers.StringLookup(vocabulary=["cat", "dog", "bird"], name="lookup")(inputs)
    x = layers.Embedding(4, 3, name="embed")(x)
    x = layers.Flatten(name="flat")(x)
    model = keras.Model(inputs, layers.Dense(1, name="out")(x))
    x_str = np.array([["cat", "dog"], ["bird", "fish"], ["dog", "dog"]])
    out = model.predict(x_str, verbose=0)
    assert out.shape == (3, 1)
    assert_close(model.predict(x_str.astype(object), verbose=0), out)
    assert_close(model.predict(np.char.encode(x_str), verbose=0), out)
    # The numbers: ids (OOV 0, then the vocabulary) into the embedding, flattened, through the dense layer.
    ids = np.array([[1, 2], [3, 0], [2, 2]])
    table, kernel, bias = (w.astype(np.float64) for w in model.get_weights())
    assert_close(out, table[ids].reshape(3, -1) @ kernel + bias, rtol=1e-5)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x_str, np.zeros((3, 1), "float32"), epochs=1, batch_size=2, verbose=0)
    model.save(tmp_path / "lookup.keras")
    assert_close(keras.models.load_model(tmp_path / "lookup.keras").predict(x_str, verbose=0),
                 model.predict(x_str, verbose=0))


def test_layer_call_passes_text_through():
    seen = []

    class Echo(keras.layers.Layer):
        def call(self, inputs):
            seen.append(inputs)
            return torch.zeros(len(inputs))

    arr = np.array(["x", "y"])
    Echo(name="echo_a")(arr)
    Echo(name="echo_b")(["x", "y"])
    assert seen[0] is arr and seen[1] == ["x", "y"]


def test_adapter_batches_strings_with_their_labels():
    x = np.array([f"row {i}" for i in range(10)])[:, None]
    y = np.arange(10)
    adapter = ArrayDataAdapter(x, y, batch_size=3, shuffle=True)
    rows = []
    for bx, by, _ in adapter:
        assert isinstance(bx, np.ndarray) and isinstance(by, torch.Tensor)
        assert [int(s.split()[1]) for s in bx[:, 0]] == by.tolist()
        rows.extend(by.tolist())
    assert sorted(rows) == list(range(10))
    unshuffled = [bx[:, 0].tolist() for bx, _, _ in ArrayDataAdapter(x, y, batch_size=4)]
    assert unshuffled == [["row 0", "row 1", "row 2", "row 3"], ["row 4", "row 5", "row 6", "row 7"],
                          ["row 8", "row 9"]]
    for bx, by, _ in ArrayDataAdapter(x, y, batch_size=4, shuffle="batch"):
        assert [int(s.split()[1]) for s in bx[:, 0]] == by.tolist()
    empty = np.zeros((0, 1), dtype="U1")
    assert keras.layers.Identity(name="same")(empty) is empty  # empty text still passes unconverted


def test_string_input_matches_keras(keras_ref):
    """Keras's text layers need TensorFlow (absent here): compared is the symbolic string input and its layer."""
    ours = keras.Input(shape=(1,), dtype="string", name="text")
    theirs = keras_ref.Input(shape=(1,), dtype="string", name="text")
    assert (ours.shape, ours.dtype) == (theirs.shape, theirs.dtype)
    assert keras.layers.InputLayer(shape=(3,), dtype="string", name="t").get_config() == \
        keras_ref.layers.InputLayer(shape=(3,), dtype="string", name="t").get_config()
    assert keras_ref.backend.standardize_dtype(str) == standardize_dtype(str)
    for bad in ("str", np.dtype("U3")):
        with pytest.raises(ValueError):
            keras_ref.backend.standardize_dtype(bad)
        with pytest.raises(ValueError):
            standardize_dtype(bad)


def test_text_into_a_numeric_model_is_keras_value_error(keras_ref):
    text = np.array([["a"] * 4] * 3)
    for ns in (keras, keras_ref):
        numeric = ns.Sequential([ns.Input((4,)), ns.layers.Dense(2, name="d")])
        with pytest.raises(ValueError, match="Invalid dtype: str32"):
            numeric.predict(text, verbose=0)
    inputs = keras.Input((4,), name="nums")
    functional = keras.Model(inputs, layers.Dense(2, name="d2")(inputs))
    with pytest.raises(ValueError, match="numeric"):
        functional(text)


def test_predict_takes_a_plain_list_of_texts():
    import cornu as keras

    lookup = keras.layers.StringLookup(vocabulary=["a", "b"])
    inputs = keras.Input(shape=(), dtype="string")
    model = keras.Model(inputs, lookup(inputs))
    assert model.predict(["a", "b", "zz"], verbose=0).tolist() == [1, 2, 0]
