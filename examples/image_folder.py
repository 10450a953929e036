"""Image classification from a folder of images (keras.io's recipe) on cornu.

``image_dataset_from_directory`` reads one subfolder per class into a training and a
validation ``Dataset``; the training batches go through ``RandomFlip``,
``RandomRotation`` and ``RandomZoom`` with ``Dataset.map`` (on the device), then a
small convnet learns them. Without ``--data`` the script first writes a small
synthetic folder of two classes (bright top half vs bright bottom half, with noise)
to a temporary directory.

    python examples/image_folder.py --epochs 3
    python examples/image_folder.py --data path/to/folder_of_class_folders --image-size 128
"""
import argparse
import os
import tempfile

import numpy as np

import cornu as keras
from cornu import layers

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", default=None, help="folder of class subfolders (default: a synthetic one)")
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--image-size", type=int, default=48, help="images are resized to this square size")
parser.add_argument("--samples", type=int, default=200, help="synthetic images per class (without --data)")
parser.add_argument("--workers", type=int, default=None, help="decoding processes (default: cornu's)")
parser.add_argument("--seed", type=int, default=1337)
args = parser.parse_args()
keras.utils.set_random_seed(args.seed)


def write_synthetic_folder(root: str, per_class: int, size: int = 64) -> None:
    """Two classes of noisy JPEGs: 'top' has its upper half bright, 'bottom' its lower half."""
    from PIL import Image

    rng = np.random.default_rng(args.seed)
    for name in ("bottom", "top"):
        os.makedirs(os.path.join(root, name), exist_ok=True)
        for i in range(per_class):
            img = rng.normal(70, 30, (size, size, 3))
            rows = slice(0, size // 2) if name == "top" else slice(size // 2, size)
            img[rows] += 110
            Image.fromarray(img.clip(0, 255).astype("uint8")).save(os.path.join(root, name, f"{i}.jpg"))


workdir = None
if args.data is None:
    workdir = tempfile.TemporaryDirectory()
    args.data = workdir.name
    write_synthetic_folder(args.data, args.samples)

image_size = (args.image_size, args.image_size)
train_ds, val_ds = keras.utils.image_dataset_from_directory(
    args.data, validation_split=0.2, subset="both", seed=args.seed, image_size=image_size,
    batch_size=args.batch_size, num_workers=args.workers)
num_classes = len(train_ds.class_names)

data_augmentation = keras.Sequential([
    layers.RandomFlip("horizontal"),
    layers.RandomRotation(0.1),
    layers.RandomZoom(0.1),
], name="data_augmentation")
train_ds = train_ds.map(lambda x, y: (data_augmentation(x, training=True), y),
                        num_parallel_calls=-1).prefetch(2)

model = keras.Sequential([
    keras.Input(shape=(*image_size, 3)),
    layers.Rescaling(1.0 / 255),
    layers.Conv2D(16, 3, activation="relu"),
    layers.MaxPooling2D(),
    layers.Conv2D(32, 3, activation="relu"),
    layers.MaxPooling2D(),
    layers.GlobalAveragePooling2D(),
    layers.Dense(num_classes),
])
model.compile(optimizer=keras.optimizers.Adam(3e-3),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
model.fit(train_ds, epochs=args.epochs, validation_data=val_ds, verbose=2)
loss, accuracy = model.evaluate(val_ds, verbose=0)
print(f"classes {train_ds.class_names}; validation loss {loss:.4f}, accuracy {accuracy:.4f}")
if workdir is not None:
    workdir.cleanup()
