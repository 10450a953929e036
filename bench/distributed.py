"""Data-parallel scaling: cornu ``fit`` on 1 process vs N processes (``DataParallel``, DDP underneath).

Two workloads, each at the same global batch: the tutorial CNN (``tutorial_cnn.py``'s
model, MNIST-shaped random data) and the 2-block transformer encoder of
``seq_models.py``. Contenders per workload:

- ``1proc``: the plain single-process ``fit`` (no distribution);
- ``1rank_ddp``: one process that still takes the distributed path (DDP hooks,
  batch slicing, metric reduction) -- the overhead of the machinery itself;
- ``<N>proc``: N processes spawned here (gloo on CPU, NCCL on GPUs, one GPU each),
  ``batch_size`` the global batch split N ways.

Rounds alternate the contenders (``--rounds``); each contender trains
``--epochs`` timed epochs after a warm-up epoch; figures are medians of steady
epochs, as samples per second over the whole job, with the process CPU time of
rank 0. Then the ratios: ``scaling_efficiency`` = N-process throughput / (N x
1-process throughput), and ``ddp_overhead`` = 1-process time with the DDP path /
without. On CPU every process gets ``--threads`` threads (default 1): on a
machine with C cores, N processes of 1 thread each can at best scale to min(N, C).

    python bench/distributed.py [--workload cnn|transformer|both] [--nproc 2] [--epochs 3] [--rounds 2]
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import time

import numpy as np
import torch
import torch.multiprocessing as mp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def make_data(workload: str, samples: int):
    rng = np.random.RandomState(0)
    if workload == "cnn":
        x = rng.rand(samples, 28, 28, 1).astype("float32")
        y = np.eye(10, dtype="float32")[rng.randint(0, 10, samples)]
    else:
        from seq_models import synthetic_tokens

        x, y = synthetic_tokens(samples, 128)
    return x, y


def make_model(workload: str):
    import cornu as keras

    if workload == "cnn":
        from tutorial_cnn import tutorial_model

        return tutorial_model(keras)
    from seq_models import cornu_model

    return cornu_model("transformer", 128)


class EpochClock:
    """Wall and process-CPU seconds of each epoch (a cornu callback made on first use)."""

    def __init__(self):
        import cornu as keras

        clock = self

        class _Callback(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                clock.start = (time.perf_counter(), time.process_time())

            def on_epoch_end(self, epoch, logs=None):
                wall, cpu = clock.start
                clock.walls.append(time.perf_counter() - wall)
                clock.cpus.append(time.process_time() - cpu)

        self.walls: list[float] = []
        self.cpus: list[float] = []
        self.callback = _Callback()


def train(workload: str, samples: int, batch_size: int, epochs: int) -> dict:
    import cornu as keras

    keras.utils.set_random_seed(0)
    x, y = make_data(workload, samples)
    model = make_model(workload)
    clock = EpochClock()
    model.fit(x, y, batch_size=batch_size, epochs=epochs + 1, verbose=0, callbacks=[clock.callback])
    return {"epoch_s": clock.walls, "cpu_epoch_s": clock.cpus}


def _worker(rank: int, world: int, port: int, args: dict, out: str, force_ddp: bool) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(args["threads"])
    import cornu as keras
    from cornu.trainers import distributed

    keras.distribution.initialize()
    strategy = keras.distribution.DataParallel()
    keras.distribution.set_distribution(strategy)
    if force_ddp:  # one process, but through the distributed path (DDP hooks, slicing, metric reduction)
        distributed.active = lambda: strategy
    result = train(args["workload"], args["samples"], args["batch_size"], args["epochs"])
    if rank == 0:
        with open(out, "w") as f:
            json.dump(result, f)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_processes(world: int, args: dict, force_ddp: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "rank0.json")
        mp.start_processes(_worker, args=(world, _free_port(), args, out, force_ddp), nprocs=world,
                           start_method="spawn")
        with open(out) as f:
            return json.load(f)


def summary(name: str, runs: list[dict], samples: int, common: dict) -> dict:
    walls = [t for r in runs for t in r["epoch_s"][1:]]
    cpus = [t for r in runs for t in r["cpu_epoch_s"][1:]]
    steady = statistics.median(walls)
    return {"name": name, **common, "steady_epoch_s": round(steady, 4), "samples_per_s": round(samples / steady, 1),
            "steady_cpu_epoch_s_rank0": round(statistics.median(cpus), 4),
            "epochs_s": [round(t, 4) for r in runs for t in r["epoch_s"]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=("cnn", "transformer", "both"), default="both")
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per round (after one warm-up epoch)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--samples", type=int, default=None, help="samples per epoch (default: 4096 cnn, 1024 tf)")
    parser.add_argument("--batch-size", type=int, default=64, help="the global batch")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(json.dumps({"bench": "distributed", "device": device, "torch": torch.__version__, "nproc": args.nproc,
                      "threads_per_process": args.threads, "cpu_cores": os.cpu_count(),
                      "gpus": torch.cuda.device_count()}))
    workloads = ["cnn", "transformer"] if args.workload == "both" else [args.workload]
    torch.set_num_threads(args.threads)
    for workload in workloads:
        samples = args.samples or (4096 if workload == "cnn" else 1024)
        job = {"workload": workload, "samples": samples, "batch_size": args.batch_size, "epochs": args.epochs,
               "threads": args.threads}
        runs: dict[str, list] = {"1proc": [], "1rank_ddp": [], f"{args.nproc}proc": []}
        for _ in range(args.rounds):
            runs["1proc"].append(train(workload, samples, args.batch_size, args.epochs))
            runs["1rank_ddp"].append(run_processes(1, job, force_ddp=True))
            runs[f"{args.nproc}proc"].append(run_processes(args.nproc, job))
        common = {"workload": workload, "device": device, "batch_size": args.batch_size, "samples": samples}
        rows = {name: summary(f"{workload}_{name}", r, samples, common) for name, r in runs.items()}
        for row in rows.values():
            print(json.dumps(row))
        one, many = rows["1proc"]["samples_per_s"], rows[f"{args.nproc}proc"]["samples_per_s"]
        print(json.dumps({"ratio": f"{workload}_{args.nproc}proc/(N x 1proc)", "scaling_efficiency":
                          round(many / (args.nproc * one), 3), "speedup": round(many / one, 3)}))
        print(json.dumps({"ratio": f"{workload}_1rank_ddp/1proc", "ddp_overhead":
                          round(rows["1rank_ddp"]["steady_epoch_s"] / rows["1proc"]["steady_epoch_s"], 3)}))


if __name__ == "__main__":
    main()
