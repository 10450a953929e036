"""The learning-rate range test on the tutorial's MNIST CNN (a cornu extra).

Sweeps Adam's learning rate from 1e-7 to 10 over 200 batches of 32 (one
pass over a 6400-image training subset), saves the loss curve with the
suggested rate marked, and prints the suggestion. The model and optimizer are
left exactly as they were, so with ``--verify`` the same model, still at its
initial weights, then trains one epoch at the suggested rate and reports its
test accuracy.

    python examples/lr_finder.py --verify
"""
import argparse

import matplotlib
import numpy as np

import cornu as keras
from cornu.callbacks.learning_rate_finder import find_learning_rate

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--samples", type=int, default=6400, help="training images used by the sweep")
parser.add_argument("--steps", type=int, default=200,
                    help="batches in the sweep; with 100 over these 8 decades the smoothed loss lags behind "
                         "and the suggestion (about 0.04) is too high for Adam on this model")
parser.add_argument("--plot", default="docs/lr_finder.png", help="where to save the loss curve")
parser.add_argument("--verify", action="store_true", help="train one epoch at the suggested rate")
parser.add_argument("--train-samples", type=int, default=12800, help="training images for --verify")
parser.add_argument("--test-samples", type=int, default=2000, help="test images for --verify")
args = parser.parse_args()
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

num_classes = 10
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = (x_train.reshape(-1, 28, 28, 1) / 255.0).astype("float32")
x_test = (x_test.reshape(-1, 28, 28, 1) / 255.0).astype("float32")
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)


def tutorial_cnn():
    """The tutorial's model (examples/mnist_cnn.py), compiled with Adam."""
    model = keras.models.Sequential([
        keras.layers.Conv2D(filters=32, kernel_size=(3, 3), activation="relu", input_shape=(28, 28, 1)),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(units=128, activation="relu"),
        keras.layers.Dropout(rate=0.5),
        keras.layers.Dense(units=num_classes, activation="softmax"),
    ])
    model.compile(loss=keras.losses.categorical_crossentropy, optimizer=keras.optimizers.Adam(),
                  metrics=["accuracy"])
    return model


keras.utils.set_random_seed(0)
model = tutorial_cnn()
initial_weights = model.get_weights()
result = find_learning_rate(model, x_train[:args.samples], y_train[:args.samples], batch_size=32,
                            start_lr=1e-7, end_lr=10.0, num_steps=args.steps)

fig, ax = plt.subplots(figsize=(6, 4))
result.plot(ax=ax)
ax.set_title(f"LR range test, tutorial CNN + Adam ({len(result.losses)} batches of 32)")
fig.tight_layout()
fig.savefig(args.plot, dpi=100)
print(f"Loss curve saved to {args.plot}")
print(f"Suggested learning rate: {result.suggestion:.3g}")
assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), initial_weights))

if args.verify:
    model.optimizer.learning_rate = result.suggestion
    model.fit(x_train[:args.train_samples], y_train[:args.train_samples], batch_size=32, epochs=1, verbose=2)
    loss, accuracy = model.evaluate(x_test[:args.test_samples], y_test[:args.test_samples], verbose=0)
    print(f"One epoch on {args.train_samples} images at {result.suggestion:.3g}: "
          f"test accuracy {accuracy:.4f} on {args.test_samples} images")
