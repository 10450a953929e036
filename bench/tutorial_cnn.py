"""Tutorial CNN: cornu ``fit`` vs a hand-written PyTorch loop, same run, same device.

Both train the tutorial's model (Conv2D 32 3x3 relu, MaxPool 2, Flatten,
Dense 128 relu, Dropout 0.5, Dense 10 softmax) on the same data kept on the
device, batch 32, Adam (Keras defaults: lr 1e-3, eps 1e-7; torch's fused kernel in the
hand-written loop, its fastest), shuffling by
index on the device each epoch. The hand-written loop runs twice: in torch's
default NCHW layout and in channels_last (cornu's layout). The hand-written loop also keeps running loss
and accuracy sums on the device, as any loop that reports them must; it reads
nothing back per step. The contenders train in interleaved rounds (one epoch each per round), so
machine noise hits all of them alike. Reported: seconds per steady epoch
(median of the rounds after the first) for each, and cornu / torch.

    python bench/tutorial_cnn.py --epochs 3 [--steps 600] [--data ../shared/data/mnist.npz]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import cornu as keras


def load(path: str | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    if path and os.path.exists(path):
        with np.load(path, allow_pickle=False) as f:
            x, y = f["x_train"][:n], f["y_train"][:n]
        return (x.astype("float32") / 255.0).reshape(-1, 28, 28, 1), y.astype("int64")
    rng = np.random.default_rng(0)
    return rng.random((n, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, n)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def torch_trainer(x: np.ndarray, y: np.ndarray, device: torch.device, channels_last: bool = False):
    """A hand-written loop; returns a function that trains one epoch and returns its seconds."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(32 * 13 * 13, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10),
    ).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7, fused=True)
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        xt = xt.contiguous(memory_format=torch.channels_last)
    yt = torch.from_numpy(y).to(device)
    n, bs = len(xt), 32

    def epoch() -> float:
        sync(device)
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n, device=device)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            xb, yb = xt.index_select(0, idx), yt.index_select(0, idx)
            opt.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            loss.backward()
            opt.step()
            loss_sum += loss.detach() * len(idx)
            correct += (logits.detach().argmax(-1) == yb).sum()
        float(loss_sum), int(correct)
        sync(device)
        return time.perf_counter() - t0

    return epoch


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch, measured from the host around fit's epoch loop."""

    def __init__(self, device: torch.device):
        super().__init__()
        self.device, self.times = device, []

    def on_epoch_begin(self, epoch, logs=None):
        sync(self.device)
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        sync(self.device)
        self.times.append(time.perf_counter() - self.t0)


def cornu_trainer(x: np.ndarray, y: np.ndarray, device: torch.device):
    """The tutorial's model through ``fit``; one call trains one more epoch and returns its seconds."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss=keras.losses.categorical_crossentropy, optimizer=keras.optimizers.Adam(),
                  metrics=["accuracy"])
    timer = EpochTimer(device)
    y_onehot = keras.utils.to_categorical(y, 10)
    state = {"epoch": 0}

    def epoch() -> float:
        model.fit(x, y_onehot, batch_size=32, epochs=state["epoch"] + 1, initial_epoch=state["epoch"], verbose=0,
                  callbacks=[timer])
        state["epoch"] += 1
        return timer.times[-1]

    return epoch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=60000, help="training samples per epoch")
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data",
                                                       "mnist.npz"))
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is warm-up)")
    device = keras.config.device()
    x, y = load(args.data, args.samples)
    print(f"device={device} torch={torch.__version__} threads={torch.get_num_threads()} samples={len(x)} "
          f"epochs={args.epochs}")
    trainers = {"torch": torch_trainer(x, y, device), "torch_cl": torch_trainer(x, y, device, channels_last=True),
                "cornu": cornu_trainer(x, y, device)}
    times: dict[str, list[float]] = {name: [] for name in trainers}
    for _ in range(args.epochs):  # interleaved rounds: drift and noise hit every contender alike
        for name, epoch in trainers.items():
            times[name].append(epoch())
    steady = {name: statistics.median(t[1:]) for name, t in times.items()}
    for name, t in times.items():
        print(f"{name:8s} epochs: " + " ".join(f"{v:.2f}s" for v in t) + f"  steady: {steady[name]:.3f}s")
    print(f"ratio cornu/torch (steady epoch, torch loop in NCHW): {steady['cornu'] / steady['torch']:.3f}")
    print(f"ratio cornu/torch_cl (torch loop in channels_last):   {steady['cornu'] / steady['torch_cl']:.3f}")

if __name__ == "__main__":
    main()
