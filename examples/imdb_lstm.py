"""Sentiment of IMDB reviews with a two-layer bidirectional LSTM (Keras's classic recipe) on cornu.

Embedding -> Bidirectional(LSTM, return_sequences) -> Bidirectional(LSTM) ->
Dense(sigmoid) on the 20,000 most frequent words, reviews padded or cut to
200 words. ``--synthetic`` trains on generated reviews instead (no download):
each holds a few "positive" and "negative" words among neutral ones, and its
label is which kind is in the majority, so the model has something to learn.
``--mask-zero`` lets the LSTMs skip the padding (``Embedding(mask_zero=True)``).

    python examples/imdb_lstm.py --synthetic --epochs 2
    python examples/imdb_lstm.py --epochs 2          # downloads imdb.npz (17 MB) once
"""
import argparse

import numpy as np

import cornu as keras
from cornu import layers

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=2, help="training epochs")
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--max-features", type=int, default=20000, help="vocabulary: the most frequent words kept")
parser.add_argument("--maxlen", type=int, default=200, help="words per review after padding/truncation")
parser.add_argument("--synthetic", action="store_true", help="generated reviews instead of the IMDB download")
parser.add_argument("--samples", type=int, default=2000, help="generated reviews per split (with --synthetic)")
parser.add_argument("--mask-zero", action="store_true", help="mask the padding (index 0) in the LSTMs")
parser.add_argument("--seed", type=int, default=None, help="seed Python, NumPy and torch for a repeatable run")
args = parser.parse_args()
if args.seed is not None:
    keras.utils.set_random_seed(args.seed)


def synthetic_reviews(n: int, seed: int) -> tuple[list[list[int]], np.ndarray]:
    """Reviews of neutral words plus a few sentiment words; the label is the majority sentiment."""
    rng = np.random.default_rng(seed)
    positive = np.arange(4, 54)  # index 1 starts a review, 2 is out-of-vocabulary, 3 is unused (as in imdb)
    negative = np.arange(54, 104)
    labels = rng.integers(0, 2, n)
    reviews = []
    for label in labels:
        words = rng.integers(104, args.max_features, rng.integers(args.maxlen // 4, args.maxlen)).tolist()
        n_sentiment = int(rng.integers(6, 13))
        n_majority = n_sentiment - int(rng.integers(0, n_sentiment // 4 + 1))  # at least three in four
        major, minor = (positive, negative) if label else (negative, positive)
        picked = list(rng.choice(major, n_majority)) + list(rng.choice(minor, n_sentiment - n_majority))
        for word in picked:
            words.insert(int(rng.integers(0, len(words) + 1)), int(word))
        reviews.append([1] + words)
    return reviews, labels


if args.synthetic:
    (x_train, y_train), (x_val, y_val) = synthetic_reviews(args.samples, 0), synthetic_reviews(args.samples // 4, 1)
else:
    (x_train, y_train), (x_val, y_val) = keras.datasets.imdb.load_data(num_words=args.max_features)
print(f"{len(x_train)} training and {len(x_val)} validation reviews")
x_train = keras.utils.pad_sequences(x_train, maxlen=args.maxlen)
x_val = keras.utils.pad_sequences(x_val, maxlen=args.maxlen)

inputs = keras.Input(shape=(None,), dtype="int32")
x = layers.Embedding(args.max_features, 128, mask_zero=args.mask_zero)(inputs)
x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
x = layers.Bidirectional(layers.LSTM(64))(x)
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)
model.summary()

model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, validation_data=(x_val, y_val))
loss, accuracy = model.evaluate(x_val, y_val, verbose=0)
print(f"validation loss {loss:.4f}, accuracy {accuracy:.4f}")
