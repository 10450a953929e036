"""Sequence models: cornu ``fit`` vs hand-written PyTorch loops, same run, same device.

Two workloads on synthetic token data (ids in [1, 20000), random 0/1 labels),
binary crossentropy, Adam (lr 1e-3, Keras's eps 1e-7):

- ``lstm``: the bidirectional-LSTM text classifier, 200 tokens: Embedding 64,
  Bidirectional(LSTM 64, return_sequences), Bidirectional(LSTM 64), Dense 1
  sigmoid. The torch loop: ``nn.Embedding``, two ``nn.LSTM(bidirectional=True)``
  (the second's final states), ``nn.Linear``.
- ``transformer``: a 2-block encoder, 128 tokens: token + positional Embedding
  64, each block MultiHeadAttention (4 heads x key_dim 16) + residual +
  LayerNormalization, feed-forward Dense 64 relu, Dense 64 + residual +
  LayerNormalization; GlobalAveragePooling1D, Dense 1 sigmoid. The torch loop
  writes the same with ``nn.Linear`` projections and
  ``F.scaled_dot_product_attention``.

Contenders per workload: ``cornu`` (``model.fit`` with ``metrics=["accuracy"]``)
and ``torch`` (a hand-written loop: fused Adam, ``binary_cross_entropy_with_logits``,
running loss and accuracy sums kept on the device, nothing read back per step).
Both take whole batches from the same data kept on the device, shuffled each
epoch. They train in interleaved rounds, one epoch each per round; round 0 is
the warm-up, ``steady_epoch_s`` the median of the ``--epochs`` rounds after it
(``steady_cpu_epoch_s`` the same in this process's CPU seconds, which other
processes on a shared machine sway far less). One JSON line per contender, then
the cornu/torch ratio per workload (of steady epochs, and the median of the
per-round ratios), then the same two in CPU seconds.

    python bench/seq_models.py [--workload lstm|transformer|both] [--epochs 3] [--steps 20] [--threads 1]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import cornu as keras
from tutorial_cnn import Contender, report, sync

VOCAB = 20000
WORKLOADS = {"lstm": {"maxlen": 200}, "transformer": {"maxlen": 128}}
EMBED, UNITS, HEADS, KEY_DIM, FF = 64, 64, 4, 16, 64


def synthetic_tokens(n: int, maxlen: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(1, VOCAB, (n, maxlen)).astype("int32"), rng.integers(0, 2, n).astype("float32")


class TokenAndPosition(keras.layers.Layer):
    """Token embedding plus a learned embedding of each position."""

    def __init__(self, maxlen: int, **kwargs):
        super().__init__(**kwargs)
        self.tokens = keras.layers.Embedding(VOCAB, EMBED)
        self.positions = keras.layers.Embedding(maxlen, EMBED)

    def call(self, x):
        return self.tokens(x) + self.positions(keras.ops.arange(x.shape[-1]))


class EncoderBlock(keras.layers.Layer):
    """Self-attention and a feed-forward net, each with a residual and LayerNormalization (post-norm)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.attention = keras.layers.MultiHeadAttention(num_heads=HEADS, key_dim=KEY_DIM)
        self.ff1 = keras.layers.Dense(FF, activation="relu")
        self.ff2 = keras.layers.Dense(EMBED)
        self.norm1 = keras.layers.LayerNormalization()
        self.norm2 = keras.layers.LayerNormalization()

    def call(self, x):
        x = self.norm1(x + self.attention(x, x))
        return self.norm2(x + self.ff2(self.ff1(x)))


def cornu_model(workload: str, maxlen: int):
    layers = keras.layers
    inputs = keras.Input(shape=(maxlen,), dtype="int32")
    if workload == "lstm":
        x = layers.Embedding(VOCAB, EMBED)(inputs)
        x = layers.Bidirectional(layers.LSTM(UNITS, return_sequences=True))(x)
        x = layers.Bidirectional(layers.LSTM(UNITS))(x)
    else:
        x = TokenAndPosition(maxlen)(inputs)
        x = EncoderBlock()(x)
        x = EncoderBlock()(x)
        x = layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))
    model.compile(optimizer=keras.optimizers.Adam(), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def cpu_info(cpu_times: list[float]) -> dict:
    """This process's CPU seconds per epoch: with one thread, far less swayed than wall time by other processes."""
    return {"steady_cpu_epoch_s": round(statistics.median(cpu_times[1:]), 4),
            "cpu_epochs_s": [round(v, 4) for v in cpu_times]}


def cpu_ratios(infos: dict[str, dict], a: str, b: str) -> dict:
    """``a/b`` in CPU seconds: of the steady medians, and the median of the per-round ratios."""
    cpu = [x / y for x, y in zip(infos[a]["cpu_epochs_s"][1:], infos[b]["cpu_epochs_s"][1:])]
    return {"cpu_ratio": f"{a}/{b}", "value": round(infos[a]["steady_cpu_epoch_s"] / infos[b]["steady_cpu_epoch_s"], 3),
            "median_of_round_ratios": round(statistics.median(cpu), 3)}


def cornu_trainer(workload: str, x: np.ndarray, y: np.ndarray, batch_size: int, device: torch.device) -> Contender:
    """``model.fit`` one more epoch per call, timed from ``on_epoch_begin`` to ``on_epoch_end``."""

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            sync(device)
            self.t0, self.cpu0 = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            sync(device)
            self.seconds = time.perf_counter() - self.t0
            cpu_times.append(time.process_time() - self.cpu0)

    keras.utils.set_random_seed(0)
    model = cornu_model(workload, x.shape[1])
    timer = EpochTimer()
    state = {"epoch": 0}
    cpu_times: list[float] = []

    def epoch() -> float:
        model.fit(x, y, batch_size=batch_size, epochs=state["epoch"] + 1, initial_epoch=state["epoch"], verbose=0,
                  callbacks=[timer])
        state["epoch"] += 1
        return timer.seconds

    return Contender(epoch, lambda: cpu_info(cpu_times))


@torch.no_grad()
def keras_init(model: nn.Module) -> None:
    """Keras's initializers on a torch model: the same starting point, and so the same numerics.

    It matters for speed, not only fidelity: from torch's default LSTM initialization the gradients
    reaching early time steps decay into denormal floats, which made the LSTM backward ~15x slower on CPU.
    """
    for module in model.modules():
        if isinstance(module, nn.Embedding):
            nn.init.uniform_(module.weight, -0.05, 0.05)
        elif isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LSTM):
            for name, weight in module.named_parameters():
                if name.startswith("weight_ih"):
                    nn.init.xavier_uniform_(weight)  # glorot_uniform over (in, 4*units), as Keras's kernel
                elif name.startswith("weight_hh"):
                    nn.init.orthogonal_(weight)
                else:
                    nn.init.zeros_(weight)
                    if name.startswith("bias_ih"):  # unit_forget_bias; gate order i, f, g, o in both
                        weight[module.hidden_size:2 * module.hidden_size] = 1.0


class TorchBiLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, EMBED)
        self.lstm1 = nn.LSTM(EMBED, UNITS, batch_first=True, bidirectional=True)
        self.lstm2 = nn.LSTM(2 * UNITS, UNITS, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * UNITS, 1)
        keras_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq, _ = self.lstm1(self.embedding(x))
        _, (h, _) = self.lstm2(seq)  # h: (2, batch, units), forward then backward final states
        return self.head(torch.cat([h[0], h[1]], dim=-1)).squeeze(-1)


class TorchEncoderBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v = (nn.Linear(EMBED, HEADS * KEY_DIM) for _ in range(3))
        self.out = nn.Linear(HEADS * KEY_DIM, EMBED)
        self.ff1, self.ff2 = nn.Linear(EMBED, FF), nn.Linear(FF, EMBED)
        self.norm1, self.norm2 = nn.LayerNorm(EMBED, eps=1e-3), nn.LayerNorm(EMBED, eps=1e-3)  # Keras's epsilon

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q, k, v = (proj(x).view(b, t, HEADS, KEY_DIM).transpose(1, 2) for proj in (self.q, self.k, self.v))
        attended = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, t, HEADS * KEY_DIM)
        x = self.norm1(x + self.out(attended))
        return self.norm2(x + self.ff2(F.relu(self.ff1(x))))


class TorchTransformer(nn.Module):
    def __init__(self, maxlen: int):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(VOCAB, EMBED), nn.Embedding(maxlen, EMBED)
        self.blocks = nn.Sequential(TorchEncoderBlock(), TorchEncoderBlock())
        self.head = nn.Linear(EMBED, 1)
        keras_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.tokens(x) + self.positions(torch.arange(x.shape[1], device=x.device))
        return self.head(self.blocks(h).mean(dim=1)).squeeze(-1)


def torch_trainer(workload: str, x: np.ndarray, y: np.ndarray, batch_size: int, device: torch.device) -> Contender:
    """A hand-written loop with fused Adam and on-device running sums."""
    torch.manual_seed(0)
    model = (TorchBiLSTM() if workload == "lstm" else TorchTransformer(x.shape[1])).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7, fused=True)
    xt, yt = torch.from_numpy(x).long().to(device), torch.from_numpy(y).to(device)
    n = len(xt)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)

    def epoch() -> float:
        sync(device)
        t0, cpu0 = time.perf_counter(), time.process_time()
        model.train()
        perm = torch.randperm(n, device=device)
        loss_sum.zero_()
        correct.zero_()
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            xb, yb = xt.index_select(0, idx), yt.index_select(0, idx)
            opt.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = F.binary_cross_entropy_with_logits(logits, yb)
            loss.backward()
            opt.step()
            loss_sum.add_(loss.detach() * xb.shape[0])
            correct.add_(((logits.detach() > 0) == (yb > 0.5)).sum())
        float(loss_sum), int(correct)
        sync(device)
        cpu_times.append(time.process_time() - cpu0)
        return time.perf_counter() - t0

    cpu_times: list[float] = []
    return Contender(epoch, lambda: cpu_info(cpu_times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=("lstm", "transformer", "both"), default="both")
    parser.add_argument("--epochs", type=int, default=3, help="timed rounds after the warm-up round")
    parser.add_argument("--steps", type=int, default=20, help="batches per epoch")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    args = parser.parse_args()
    if args.epochs < 1 or args.steps < 1:
        parser.error("--epochs and --steps must be at least 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = keras.config.device()
    workloads = ["lstm", "transformer"] if args.workload == "both" else [args.workload]
    print(json.dumps({"bench": "seq_models", "device": str(device), "torch": torch.__version__,
                      "threads": torch.get_num_threads(), "epochs": args.epochs, "workloads": workloads}), flush=True)
    for workload in workloads:
        maxlen = WORKLOADS[workload]["maxlen"]
        samples = args.batch_size * args.steps
        x, y = synthetic_tokens(samples, maxlen)
        trainers = {name: make(workload, x, y, args.batch_size, device)
                    for name, make in (("cornu", cornu_trainer), ("torch", torch_trainer))}
        times: dict[str, list[float]] = {name: [] for name in trainers}
        for _ in range(args.epochs + 1):  # interleaved rounds: drift and noise hit both alike
            for name, trainer in trainers.items():
                times[name].append(trainer.epoch())
        common = {"workload": workload, "device": str(device), "batch_size": args.batch_size, "maxlen": maxlen,
                  "threads": torch.get_num_threads(), "steps_per_epoch": args.steps}
        times = {f"{workload}_{name}": t for name, t in times.items()}
        infos = {f"{workload}_{name}": trainer.info() for name, trainer in trainers.items()}
        pair = (f"{workload}_cornu", f"{workload}_torch")
        report(times, infos, common, samples, ratios=(pair,))
        print(json.dumps(cpu_ratios(infos, *pair)), flush=True)


if __name__ == "__main__":
    main()
