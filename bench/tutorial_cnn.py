"""Tutorial CNN: cornu ``fit`` (eager and ``jit_compile=True``) vs hand-written PyTorch loops, same run, same device.

Every contender trains the tutorial's model (Conv2D 32 3x3 relu, MaxPool 2,
Flatten, Dense 128 relu, Dropout 0.5, Dense 10 softmax; Adam with Keras's
defaults, lr 1e-3, eps 1e-7) on the same data kept on the device, shuffled by
index on the device each epoch. The contenders:

- ``cornu_eager``: ``model.fit`` as the tutorial writes it.
- ``cornu_jit``: the same with ``compile(jit_compile=True)``: the whole step
  captured by ``torch.compile`` (``CORNU_COMPILE_BACKEND``/``CORNU_COMPILE_MODE``
  choose backend and mode, e.g. ``reduce-overhead`` for CUDA graphs).
- ``torch_eager`` / ``torch_eager_cl``: a hand-written loop (torch's fused Adam,
  its fastest eager kernel) in torch's default NCHW layout / in channels_last
  (cornu's layout), flattening in (H, W, C) order as Keras does, which on
  channels_last memory is a view where NCHW order would copy.
- ``torch_eager_cl_ftz``: ``torch_eager_cl`` with subnormal floats flushed to
  zero during its epochs (``torch.set_flush_denormal``), as cornu's loops and
  TensorFlow's kernels run: on a CPU, Adam slots decaying through the subnormal
  range otherwise slow the optimizer step several times over after a few epochs.
- ``torch_compile``: the hand-written step (forward, loss, backward,
  ``torch.optim.Adam`` foreach step, running sums) under ``torch.compile`` with
  the same backend, mode and backward tracing as ``cornu_jit``; torch.optim
  breaks the graph around its step by design, so it is three graphs.
- ``torch_cuda_graph`` (CUDA only; skipped elsewhere): the hand-written step
  captured whole in one ``torch.cuda.CUDAGraph`` (forward, backward, fused
  capturable Adam, running sums) replayed on static input buffers.

The hand-written loops keep running loss and accuracy sums on the device, as
any loop that reports them must, and read nothing back per step; every epoch
has whole batches only (samples rounded down to a multiple of the batch size).
The contenders train in interleaved rounds, one epoch each per round, so
machine noise hits all alike. Round 0 is the warm-up (it holds compilation and
capture, reported apart as ``compile_s``: the wall time of the steps that
compiled a graph, or of the CUDA-graph capture; the compiler's one-time start-up
is paid before the rounds and reported once); ``steady_epoch_s`` is the median
of the ``--epochs`` rounds after it; ``steady_epoch_cpu_s`` is the same median of the process's CPU time
(on a shared machine the other processes' load stretches wall time far more
than CPU time; on CUDA wall time is the figure). One JSON line per contender and
batch size, then the ratios: of the steady medians (``value``), the median of
the per-round ratios (robust when the load drifts between rounds), and of the
CPU medians (``cpu_value``).

    python bench/tutorial_cnn.py [--epochs 3] [--steps 200] [--batch-size 32 128] [--threads 1]
                                 [--contenders cornu_eager,torch_eager] [--data ../shared/data/mnist.npz]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import cornu as keras

CONTENDERS = ("cornu_eager", "cornu_jit", "torch_eager", "torch_eager_cl", "torch_eager_cl_ftz", "torch_compile",
              "torch_cuda_graph")
RATIOS = (("cornu_eager", "torch_eager"), ("cornu_eager", "torch_eager_cl"), ("cornu_eager", "torch_eager_cl_ftz"),
          ("cornu_jit", "torch_compile"),
          ("cornu_jit", "torch_cuda_graph"), ("cornu_jit", "cornu_eager"), ("torch_compile", "torch_eager"))
DEFAULT_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "mnist.npz")


def load(path: str | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` MNIST training images, scaled to [0, 1], NHWC; random data of that shape without the file."""
    if path and os.path.exists(path):
        with np.load(path, allow_pickle=False) as f:
            x, y = f["x_train"][:n], f["y_train"][:n]
        return (x.astype("float32") / 255.0).reshape(-1, 28, 28, 1), y.astype("int64")
    rng = np.random.default_rng(0)
    return rng.random((n, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, n)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def compile_settings() -> dict:
    """Backend and mode for every compiled contender: the knobs ``cornu_jit`` reads, so all compile alike."""
    return {"backend": os.environ.get("CORNU_COMPILE_BACKEND", "inductor"),
            "mode": os.environ.get("CORNU_COMPILE_MODE") or None}


def warm_compiler(device: torch.device) -> float:
    """Compile and run a one-op function: seconds of the compiler's one-time start-up (imports, workers).

    Paid once per process, so it is charged to no contender's ``compile_s``.
    """
    t0 = time.perf_counter()
    torch.compile(lambda t: t * 2 + 1, dynamic=False, **compile_settings())(torch.ones(8, device=device))
    sync(device)
    return time.perf_counter() - t0


class Clock:
    """Wall and process CPU time since it was made; CPU time is what a busy shared machine distorts least."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def graph_count() -> int:
    from torch._dynamo.utils import counters

    return int(counters["stats"]["unique_graphs"])


class Contender:
    """One trainer: ``epoch()`` trains one epoch and returns its (wall, CPU) seconds; ``info()`` adds to its line.

    ``info()`` of a compiled contender holds ``compile_s``: the wall time of the steps that compiled a graph
    (or of the CUDA-graph capture), measured around those steps.
    """

    def __init__(self, epoch: Callable[[], tuple[float, float]], info: Callable[[], dict] | None = None):
        self.epoch = epoch
        self.info = info or dict


class FlattenHWC(nn.Module):
    """Flatten in (H, W, C) order: a view, no copy, of a channels_last tensor (NCHW order would copy it)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 2, 3, 1).flatten(1)


def torch_model(device: torch.device, channels_last: bool) -> nn.Module:
    """The tutorial's model as torch code; in channels_last it flattens in (H, W, C) order, as Keras does."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), FlattenHWC() if channels_last else nn.Flatten(),
        nn.Linear(32 * 13 * 13, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10),
    ).to(device)
    return model.to(memory_format=torch.channels_last) if channels_last else model


def device_data(x: np.ndarray, y: np.ndarray, device: torch.device, channels_last: bool):
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().to(device)
    if channels_last:
        xt = xt.contiguous(memory_format=torch.channels_last)
    return xt, torch.from_numpy(y).to(device)


def torch_trainer(x: np.ndarray, y: np.ndarray, device: torch.device, batch_size: int, channels_last: bool = False,
                  compiled: bool = False, flush_denormal: bool = False) -> Contender:
    """A hand-written loop, eager or with its step under ``torch.compile``."""
    model = torch_model(device, channels_last)
    # The fused kernel is torch's fastest eager Adam; torch.compile traces the foreach one.
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7, **({"foreach": True} if compiled else
                                                                      {"fused": True}))
    xt, yt = device_data(x, y, device, channels_last)
    n = len(xt)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)

    def step(xb: torch.Tensor, yb: torch.Tensor) -> None:
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        loss.backward()
        opt.step()
        loss_sum.add_(loss.detach() * xb.shape[0])
        correct.add_((logits.detach().argmax(-1) == yb).sum())

    run = step
    state = {"graphs": 0, "compile_s": 0.0}
    if compiled:
        captured = torch.compile(step, dynamic=False, **compile_settings())

        def run(xb: torch.Tensor, yb: torch.Tensor) -> None:
            before, t0 = graph_count(), time.perf_counter()
            with torch._dynamo.config.patch(trace_autograd_ops=True):
                captured(xb, yb)
            if graph_count() > before:  # this step compiled: its time is compilation, not training
                sync(device)
                state["graphs"] += graph_count() - before
                state["compile_s"] += time.perf_counter() - t0

    def epoch() -> tuple[float, float]:
        sync(device)
        clock = Clock()
        model.train()
        perm = torch.randperm(n, device=device)
        loss_sum.zero_()
        correct.zero_()
        if flush_denormal:
            torch.set_flush_denormal(True)
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            opt.zero_grad(set_to_none=True)
            run(xt.index_select(0, idx), yt.index_select(0, idx))
        float(loss_sum), int(correct)
        torch.set_flush_denormal(False)
        sync(device)
        return clock.read()

    return Contender(epoch, (lambda: {"compile_s": round(state["compile_s"], 3), "graphs": state["graphs"]})
                     if compiled else None)


def cuda_graph_trainer(x: np.ndarray, y: np.ndarray, device: torch.device, batch_size: int) -> Contender:
    """The hand-written step captured whole in one CUDA graph, replayed on static input buffers."""
    model = torch_model(device, channels_last=False)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7, fused=True, capturable=True)
    xt, yt = device_data(x, y, device, channels_last=False)
    n = len(xt)
    static_x = torch.empty((batch_size, *xt.shape[1:]), device=device)
    static_y = torch.empty((batch_size,), device=device, dtype=yt.dtype)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)

    def step() -> None:
        logits = model(static_x)
        loss = F.cross_entropy(logits, static_y)
        loss.backward()
        opt.step()
        loss_sum.add_(loss.detach() * batch_size)
        correct.add_((logits.detach().argmax(-1) == static_y).sum())

    graph = torch.cuda.CUDAGraph()

    def capture() -> None:
        """Warm-up steps on a side stream (as torch's whole-network capture recipe asks), then the capture."""
        static_x.copy_(xt[:batch_size])
        static_y.copy_(yt[:batch_size])
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            for _ in range(3):
                opt.zero_grad(set_to_none=True)
                step()
        torch.cuda.current_stream(device).wait_stream(side)
        opt.zero_grad(set_to_none=True)  # backward in the capture then allocates .grad from the graph's pool
        with torch.cuda.graph(graph):
            step()

    state: dict = {}

    def epoch() -> tuple[float, float]:
        sync(device)
        clock = Clock()
        if "compile_s" not in state:
            capture()
            sync(device)
            state["compile_s"] = clock.read()[0]
        model.train()
        perm = torch.randperm(n, device=device)
        loss_sum.zero_()
        correct.zero_()
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            torch.index_select(xt, 0, idx, out=static_x)
            torch.index_select(yt, 0, idx, out=static_y)
            graph.replay()
        float(loss_sum), int(correct)
        sync(device)
        return clock.read()

    return Contender(epoch, lambda: {"compile_s": round(state["compile_s"], 3)})


def tutorial_model(k, jit_compile: bool = False):
    """The tutorial's model, compiled, from ``k``: cornu or real Keras (``bench/keras_backends.py`` passes Keras)."""
    model = k.Sequential([
        k.layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        k.layers.MaxPooling2D((2, 2)),
        k.layers.Flatten(),
        k.layers.Dense(128, activation="relu"),
        k.layers.Dropout(0.5),
        k.layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss=k.losses.categorical_crossentropy, optimizer=k.optimizers.Adam(), metrics=["accuracy"],
                  **({"jit_compile": True} if jit_compile else {}))
    return model


def fit_trainer(k, x: np.ndarray, y: np.ndarray, batch_size: int, jit_compile: bool = False,
                synchronize: Callable[[], None] = lambda: None) -> Contender:
    """The tutorial's model through ``k``'s ``fit``; one call trains one more epoch and returns its seconds.

    The epoch is timed from ``on_epoch_begin`` to ``on_epoch_end`` (data set-up before the epoch loop is left out).
    With ``jit_compile``, the first epoch also times each batch, to sum those that compiled a graph (``compile_s``);
    later epochs carry no batch hooks.
    """

    def compilations() -> int:
        core = getattr(model, "_compiled_train_core", None)
        return core.compilations if core is not None else 0

    class EpochTimer(k.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            synchronize()
            self.clock = Clock()

        def on_epoch_end(self, epoch, logs=None):
            synchronize()
            self.seconds = self.clock.read()

    class CompileTimer(k.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.before, self.t0 = compilations(), time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if compilations() > self.before:
                synchronize()
                state["compile_s"] += time.perf_counter() - self.t0

    k.utils.set_random_seed(0)
    model = tutorial_model(k, jit_compile)
    timer = EpochTimer()
    y_onehot = k.utils.to_categorical(y, 10)
    state = {"epoch": 0, "compile_s": 0.0}

    def epoch() -> tuple[float, float]:
        callbacks = [timer, CompileTimer()] if jit_compile and state["epoch"] == 0 else [timer]
        model.fit(x, y_onehot, batch_size=batch_size, epochs=state["epoch"] + 1, initial_epoch=state["epoch"],
                  verbose=0, callbacks=callbacks)
        state["epoch"] += 1
        return timer.seconds

    def info() -> dict:
        return {"compile_s": round(state["compile_s"], 3), "graphs": compilations()} if jit_compile else {}

    return Contender(epoch, info)


def make(name: str, x: np.ndarray, y: np.ndarray, device: torch.device, batch_size: int) -> Contender:
    if name in ("cornu_eager", "cornu_jit"):
        return fit_trainer(keras, x, y, batch_size, jit_compile=name == "cornu_jit",
                           synchronize=lambda: sync(device))
    if name == "torch_cuda_graph":
        return cuda_graph_trainer(x, y, device, batch_size)
    return torch_trainer(x, y, device, batch_size, channels_last=name.startswith("torch_eager_cl"),
                         compiled=name == "torch_compile", flush_denormal=name == "torch_eager_cl_ftz")


def report(times: dict[str, list], infos: dict[str, dict], common: dict, samples: int,
           ratios: tuple = RATIOS) -> None:
    """One JSON line per contender, then one per ratio of steady epochs (both contenders present).

    ``times`` holds each round's (wall, CPU) seconds, or wall seconds alone (then no CPU figures).
    """
    wall = {name: [v[0] if isinstance(v, tuple) else v for v in t] for name, t in times.items()}
    cpu = {name: [v[1] for v in t] for name, t in times.items() if all(isinstance(v, tuple) for v in t)}
    steady = {name: statistics.median(t[1:]) for name, t in wall.items()}
    steady_cpu = {name: statistics.median(t[1:]) for name, t in cpu.items()}
    for name in times:
        cpu_line = {"steady_epoch_cpu_s": round(steady_cpu[name], 4)} if name in steady_cpu else {}
        print(json.dumps({"name": name, **common, "steady_epoch_s": round(steady[name], 4),
                          "samples_per_s": round(samples / steady[name], 1), **cpu_line,
                          "first_epoch_s": round(wall[name][0], 4), "epochs_s": [round(v, 4) for v in wall[name]],
                          **infos[name]}), flush=True)
    for a, b in ratios:
        if a in steady and b in steady:
            per_round = statistics.median(ta / tb for ta, tb in zip(wall[a][1:], wall[b][1:]))
            cpu_ratio = ({"cpu_value": round(steady_cpu[a] / steady_cpu[b], 3)}
                         if a in steady_cpu and b in steady_cpu else {})
            print(json.dumps({"ratio": f"{a}/{b}", "batch_size": common["batch_size"], "device": common["device"],
                              "value": round(steady[a] / steady[b], 3),
                              "median_of_round_ratios": round(per_round, 3), **cpu_ratio}), flush=True)


def parse_contenders(parser: argparse.ArgumentParser, text: str, known: tuple[str, ...]) -> list[str]:
    names = [n for n in text.split(",") if n]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        parser.error(f"--contenders: unknown {unknown}; choose from {', '.join(known)}")
    return names


def add_common_arguments(parser: argparse.ArgumentParser, default_batch_sizes: list[int]) -> None:
    parser.add_argument("--epochs", type=int, default=3, help="timed rounds after the warm-up round")
    parser.add_argument("--steps", type=int, default=None, help="batches per epoch (default: --samples worth)")
    parser.add_argument("--samples", type=int, default=60000, help="training samples per epoch without --steps")
    parser.add_argument("--batch-size", type=int, nargs="+", default=default_batch_sizes)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--data", default=DEFAULT_DATA, help="mnist.npz (random data of its shape if missing)")


def epoch_samples(args: argparse.Namespace, batch_size: int) -> int:
    """Whole batches only: ``--steps`` of them, else as many as ``--samples`` holds."""
    return batch_size * (args.steps if args.steps else args.samples // batch_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, [32, 128])
    parser.add_argument("--contenders", default=",".join(CONTENDERS), help="comma-separated subset")
    args = parser.parse_args()
    if args.epochs < 1:
        parser.error("--epochs must be at least 1 (timed rounds after the warm-up round)")
    names = parse_contenders(parser, args.contenders, CONTENDERS)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = keras.config.device()
    skipped = []
    if "torch_cuda_graph" in names and device.type != "cuda":
        skipped.append({"skipped": "torch_cuda_graph", "reason": f"needs CUDA; the device is {device.type}"})
        names.remove("torch_cuda_graph")
    compile_info = {}
    if {"cornu_jit", "torch_compile"} & set(names):
        compile_info = {"compile": compile_settings(), "compiler_startup_s": round(warm_compiler(device), 3)}
    print(json.dumps({"bench": "tutorial_cnn", "device": str(device), "torch": torch.__version__,
                      "threads": torch.get_num_threads(), "epochs": args.epochs, "contenders": names,
                      **compile_info}), flush=True)
    for line in skipped:
        print(json.dumps(line), flush=True)
    for batch_size in args.batch_size:
        samples = epoch_samples(args, batch_size)
        x, y = load(args.data, samples)
        trainers = {name: make(name, x, y, device, batch_size) for name in names}
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in trainers}
        for _ in range(args.epochs + 1):  # interleaved rounds: drift and noise hit every contender alike
            for name, trainer in trainers.items():
                times[name].append(trainer.epoch())
        common = {"device": str(device), "batch_size": batch_size, "threads": torch.get_num_threads(),
                  "steps_per_epoch": samples // batch_size}
        report(times, {name: trainer.info() for name, trainer in trainers.items()}, common, samples)


if __name__ == "__main__":
    main()
