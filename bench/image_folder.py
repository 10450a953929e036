"""Image folders: cornu's ``image_dataset_from_directory`` vs a hand-written DataLoader; augmentation's cost in fit.

Two modes, one JSON line per contender and one per ratio (``tutorial_cnn.report``):

- ``pipeline``: writes ``--images`` JPEGs (``--source-size`` square, two classes) to a
  temporary folder, then reads them as batches of 32 at ``--image-size``, decoded and
  resized in ``--workers`` processes, shuffled each epoch:
  ``cornu`` is ``image_dataset_from_directory``; ``torch_loader`` is the hand-written
  ``torch.utils.data.DataLoader`` + Pillow pipeline (open, RGB, bilinear resize, float32
  array, default collate) with the same workers, batch size and persistent workers.
  One epoch is one pass over every image; ``samples_per_s`` is images per second.
  Target: ``cornu/torch_loader`` at most 1/0.9 (cornu at least 0.9x the images/s).
- ``augment``: the tutorial CNN (``tutorial_cnn.tutorial_model``) trained by ``fit`` on
  MNIST-shaped data, ``plain``: arrays as the tutorial passes them; ``dataset``: the
  same through ``Dataset.from_tensor_slices(...).batch()``; ``augmented``: that dataset
  with ``.map`` of ``RandomFlip + RandomRotation + RandomZoom`` in front; ``augmented_prefetch``:
  that with ``.prefetch(2)`` after the map (keras.io's pattern: the augmentation of the
  next batches runs in a background thread while the model trains on this one); ``in_model``:
  the same three layers as the model's first layers, on the plain arrays (keras.io's other
  pattern). Target: augmentation adds at most 15 % (``in_model/plain``, ``augmented/dataset``).

Contenders run in interleaved rounds, round 0 being the warm-up (worker start-up,
first decode); ``steady_epoch_s`` is the median of the ``--epochs`` rounds after it.
Pipeline times are wall time (the work happens in worker processes).

    OMP_NUM_THREADS=1 python bench/image_folder.py --mode pipeline --images 5000 --workers 2
    OMP_NUM_THREADS=1 python bench/image_folder.py --mode augment --samples 4096
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np
import torch
from PIL import Image
from tutorial_cnn import Clock, load, report, tutorial_model

import cornu as keras


def write_images(root: str, n: int, size: int) -> None:
    """``n`` JPEGs in two class folders: smooth gradients plus noise (photo-like decode cost)."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 200, size)
    for i in range(n):
        cls = "a" if i % 2 else "b"
        os.makedirs(os.path.join(root, cls), exist_ok=True)
        base = ramp[:, None, None] if cls == "a" else ramp[None, :, None]
        img = base + rng.normal(0, 20, (size, size, 3))
        Image.fromarray(img.clip(0, 255).astype("uint8")).save(os.path.join(root, cls, f"{i}.jpg"), quality=90)


class FolderDataset(torch.utils.data.Dataset):
    """The hand-written pipeline: Pillow decode, RGB, bilinear resize, float32 HWC, integer label."""

    def __init__(self, root: str, size: int):
        classes = sorted(os.listdir(root))
        self.items = [(os.path.join(root, c, f), i) for i, c in enumerate(classes)
                      for f in sorted(os.listdir(os.path.join(root, c)))]
        self.size = size

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        path, label = self.items[i]
        with Image.open(path) as img:
            img = img.convert("RGB").resize((self.size, self.size), Image.Resampling.BILINEAR)
            return np.asarray(img, dtype=np.float32), label


def epoch_of(iterable) -> tuple[float, float]:
    clock = Clock()
    n = 0
    for x, _ in iterable:
        n += len(x)
    return clock.read()


def pipeline(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as root:
        t0 = time.perf_counter()
        write_images(root, args.images, args.source_size)
        size = (args.image_size, args.image_size)
        cornu_ds = keras.utils.image_dataset_from_directory(root, image_size=size, batch_size=32, seed=0,
                                                            num_workers=args.workers, verbose=False)
        loader = torch.utils.data.DataLoader(FolderDataset(root, args.image_size), batch_size=32, shuffle=True,
                                             num_workers=args.workers, persistent_workers=args.workers > 0)
        print(json.dumps({"bench": "image_folder", "mode": "pipeline", "images": args.images,
                          "source_size": args.source_size, "image_size": args.image_size, "workers": args.workers,
                          "threads": torch.get_num_threads(), "write_s": round(time.perf_counter() - t0, 2)}),
              flush=True)
        contenders = {"cornu": cornu_ds, "torch_loader": loader}
        times: dict[str, list] = {name: [] for name in contenders}
        for _ in range(args.epochs + 1):
            for name, data in contenders.items():
                times[name].append(epoch_of(data)[0])
        common = {"device": "cpu", "batch_size": 32, "threads": torch.get_num_threads(), "workers": args.workers}
        report(times, {name: {} for name in contenders}, common, args.images,
               ratios=(("cornu", "torch_loader"),))


def augment(args: argparse.Namespace) -> None:
    device = keras.config.device()
    n = args.samples // args.batch_size * args.batch_size
    x, y = load(args.data, n)
    y_onehot = keras.utils.to_categorical(y, 10)
    augmentation = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1),
                                     keras.layers.RandomZoom(0.1)])
    plain_ds = keras.utils.Dataset.from_tensor_slices((x, y_onehot)).batch(args.batch_size)
    augmented_ds = plain_ds.map(lambda a, b: (augmentation(a, training=True), b))
    print(json.dumps({"bench": "image_folder", "mode": "augment", "device": str(device), "samples": n,
                      "batch_size": args.batch_size, "threads": torch.get_num_threads()}), flush=True)

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            self.clock = Clock()

        def on_epoch_end(self, epoch, logs=None):
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            self.seconds = self.clock.read()

    def augmented_model():
        """keras.io's usual form: the augmentation layers first in the model, active only in training."""
        base = tutorial_model(keras)
        model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.RandomFlip("horizontal"),
                                  keras.layers.RandomRotation(0.1), keras.layers.RandomZoom(0.1), *base.layers])
        model.compile(loss=keras.losses.categorical_crossentropy, optimizer=keras.optimizers.Adam(),
                      metrics=["accuracy"])
        return model

    def trainer(data, make_model=lambda: tutorial_model(keras)):
        keras.utils.set_random_seed(0)
        model = make_model()
        timer = EpochTimer()
        state = {"epoch": 0}

        def epoch():
            kwargs = {"batch_size": args.batch_size} if isinstance(data, tuple) else {}
            inputs = data if not isinstance(data, tuple) else data[0]
            targets = data[1] if isinstance(data, tuple) else None
            model.fit(inputs, targets, epochs=state["epoch"] + 1, initial_epoch=state["epoch"], verbose=0,
                      callbacks=[timer], shuffle=False, **kwargs)
            state["epoch"] += 1
            return timer.seconds

        return epoch

    contenders = {"plain": trainer((x, y_onehot)), "dataset": trainer(plain_ds), "augmented": trainer(augmented_ds),
                  "augmented_prefetch": trainer(augmented_ds.prefetch(2)),
                  "in_model": trainer((x, y_onehot), augmented_model)}
    times: dict[str, list] = {name: [] for name in contenders}
    for _ in range(args.epochs + 1):
        for name, epoch in contenders.items():
            times[name].append(epoch())
    common = {"device": str(device), "batch_size": args.batch_size, "threads": torch.get_num_threads(),
              "steps_per_epoch": n // args.batch_size}
    report(times, {name: {} for name in contenders}, common, n,
           ratios=(("in_model", "plain"), ("augmented", "plain"), ("augmented_prefetch", "plain"),
                   ("augmented", "dataset"), ("dataset", "plain")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("pipeline", "augment", "both"), default="both")
    parser.add_argument("--epochs", type=int, default=3, help="timed rounds after the warm-up round")
    parser.add_argument("--images", type=int, default=5000, help="JPEGs written (pipeline)")
    parser.add_argument("--source-size", type=int, default=96, help="side of the written JPEGs (pipeline)")
    parser.add_argument("--image-size", type=int, default=64, help="side they are resized to (pipeline)")
    parser.add_argument("--workers", type=int, default=2, help="decoding processes, both contenders (pipeline)")
    parser.add_argument("--samples", type=int, default=8192, help="training samples per epoch (augment)")
    parser.add_argument("--batch-size", type=int, default=128, help="batch size (augment)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                       "shared", "data", "mnist.npz"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.mode in ("pipeline", "both"):
        pipeline(args)
    if args.mode in ("augment", "both"):
        augment(args)


if __name__ == "__main__":
    main()
