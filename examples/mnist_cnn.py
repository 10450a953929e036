"""The Keras MNIST CNN tutorial (../shared/seed/keras-mnist-tutorial.md) on cornu.

The tutorial's code, unchanged except for its import line (``import cornu as
keras`` instead of ``from tensorflow import keras``; the unused ``import
tensorflow as tf`` is gone with it). Two additions around it: ``--epochs`` (the
tutorial's 100 would take hours on a laptop CPU) and the training curves saved
to a PNG, as the tutorial's ``plt`` import intends. Steps 4-6 add layers after
the softmax output; like real Keras, cornu refuses the first of them with a
ValueError, which is printed here.

    python examples/mnist_cnn.py --epochs 3
    torchrun --nproc_per_node=2 examples/mnist_cnn.py --distributed   # data parallel over 2 processes / GPUs
"""
import argparse
import os

import cornu as keras
import numpy as np  # noqa: F401  (the tutorial imports it)
import matplotlib.pyplot as plt
from sklearn.preprocessing import MinMaxScaler

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=3, help="training epochs (the tutorial uses 100)")
parser.add_argument("--plot", default="mnist_cnn_history.png", help="where to save the training curves")
parser.add_argument("--distributed", action="store_true",
                    help="data parallel across the processes torchrun starts (batch_size stays the global batch)")
parser.add_argument("--samples", type=int, default=None, help="train on the first N training images only")
args = parser.parse_args()
if args.distributed:
    keras.distribution.initialize()
    keras.distribution.set_distribution(keras.distribution.DataParallel())
chief = int(os.environ.get("RANK", "0")) == 0

# ---- 1. parameters
batch_size = 32
img_rows, img_cols = 28, 28  # 图片尺寸
num_classes = 10  # 分类数目
epochs = args.epochs  # 训练轮数 (the tutorial: 100)

# ---- 2. data
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
scaler = MinMaxScaler(feature_range=(0, 1))
x_train = scaler.fit_transform(x_train.reshape(-1, 784)).reshape((-1, img_rows, img_cols, 1))
x_test = scaler.fit_transform(x_test.reshape(-1, 784)).reshape((-1, img_rows, img_cols, 1))
if args.samples:
    x_train, y_train = x_train[:args.samples], y_train[:args.samples]

# ---- 3. the Sequential model
model = keras.models.Sequential([
    keras.layers.Conv2D(filters=32, kernel_size=(3, 3), activation='relu', input_shape=(img_rows, img_cols, 1)),
    keras.layers.MaxPooling2D((2, 2)),
    keras.layers.Flatten(),
    keras.layers.Dense(units=128, activation='relu'),
    keras.layers.Dropout(rate=0.5),
    keras.layers.Dense(units=num_classes, activation='softmax')
])

# ---- 4.-6. more layers after the softmax output: Keras (and cornu) refuse the Conv2D
try:
    model.add(keras.layers.Conv2D(filters=32, kernel_size=(3, 3), activation='relu'))
    model.add(keras.layers.MaxPooling2D((2, 2)))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(units=128, activation='relu'))
    model.add(keras.layers.Dropout(rate=0.5))
except ValueError as error:
    print(f"Steps 4-6 rejected, as in Keras: {error}")
model.summary()

# ---- 7.-8. loss, optimizer, compile
model.compile(loss=keras.losses.categorical_crossentropy, optimizer=keras.optimizers.Adam(), metrics=['accuracy'])

# ---- 9. train
history = model.fit(x_train, keras.utils.to_categorical(y_train, num_classes), batch_size=batch_size, epochs=epochs,
                    verbose=1, validation_data=(x_test, keras.utils.to_categorical(y_test, num_classes)))

# ---- 10. test
score = model.evaluate(x_test, keras.utils.to_categorical(y_test, num_classes), verbose=0)
print('Test loss:', score[0])
print('Test accuracy:', score[1])

# ---- the curves the tutorial's matplotlib import is for (one process writes them)
if not chief:
    raise SystemExit(0)
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
epoch_numbers = [e + 1 for e in history.epoch]
for key in ("loss", "val_loss"):
    ax_loss.plot(epoch_numbers, history.history[key], marker="o", label=key)
for key in ("accuracy", "val_accuracy"):
    ax_acc.plot(epoch_numbers, history.history[key], marker="o", label=key)
for ax, title in ((ax_loss, "loss"), (ax_acc, "accuracy")):
    ax.set_xticks(epoch_numbers)
    ax.set_xlabel("epoch")
    ax.set_title(title)
    ax.legend()
fig.tight_layout()
fig.savefig(args.plot)
print(f"Training curves saved to {args.plot}")
