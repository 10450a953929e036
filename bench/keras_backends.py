"""Tutorial CNN: real Keras 3 on each importable backend vs cornu (eager and ``jit_compile=True``), same run.

The model, data, optimizer, batch size and timing are those of
``bench/tutorial_cnn.py`` (``fit`` one epoch at a time, timed from
``on_epoch_begin`` to ``on_epoch_end``). Keras fixes its backend per process
(``KERAS_BACKEND``), so every contender trains in its own worker process:
``keras_torch`` (always, Keras being installed), ``keras_jax`` and
``keras_tensorflow`` when those libraries import, ``cornu_eager`` and
``cornu_jit``. Keras runs as its users run it: ``jit_compile="auto"`` (eager on
torch, XLA on JAX and TensorFlow). The workers sit idle while another trains,
and train in interleaved rounds, one epoch each per round; round 0 is the
warm-up. Absent backends are skipped, each with a line saying why. One JSON
line per contender and batch size (wall and CPU seconds, as in
``tutorial_cnn.py``), then the ratios.

    python bench/keras_backends.py [--epochs 3] [--steps 200] [--batch-size 32] [--threads 1]
                                   [--contenders keras_torch,cornu_eager]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

from tutorial_cnn import (add_common_arguments, epoch_samples, fit_trainer, load, parse_contenders, report,
                          warm_compiler)

BACKENDS = {"keras_torch": "torch", "keras_jax": "jax", "keras_tensorflow": "tensorflow"}
CONTENDERS = (*BACKENDS, "cornu_eager", "cornu_jit")
RATIOS = (("cornu_eager", "keras_torch"), ("cornu_jit", "keras_torch"), ("cornu_eager", "keras_jax"),
          ("cornu_jit", "keras_jax"), ("cornu_eager", "keras_tensorflow"), ("cornu_jit", "keras_tensorflow"))


def missing(name: str) -> str | None:
    """Why contender ``name`` cannot run here, or None."""
    needs = ["keras", BACKENDS[name]] if name in BACKENDS else ["cornu"]
    absent = [m for m in needs if importlib.util.find_spec(m) is None]
    return f"{', '.join(absent)} not installed" if absent else None


def limit_threads(threads: int | None) -> None:
    """The worker's compute threads, before its framework starts (JAX and TensorFlow read them at start-up)."""
    if threads:
        os.environ["OMP_NUM_THREADS"] = str(threads)
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false "
                                   f"intra_op_parallelism_threads={threads}").strip()
        os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["TF_NUM_INTEROP_THREADS"] = str(threads)


def worker(name: str, args: argparse.Namespace) -> None:
    """Build contender ``name``; then train one epoch per ``epoch`` line on stdin, answering with its seconds."""
    limit_threads(args.threads)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if name in BACKENDS:
        import keras as k

        device = backend_device(k)
    else:
        import cornu as k

        device = str(k.config.device())
    synchronize = torch.cuda.synchronize if torch.cuda.is_available() and "cuda" in device else (lambda: None)
    samples = epoch_samples(args, args.batch_size[0])
    x, y = load(args.data, samples)
    startup = {}
    if name == "cornu_jit":  # the compiler's one-time start-up, kept out of the contender's compile_s
        startup = {"compiler_startup_s": round(warm_compiler(torch.device(device)), 3)}
    trainer = fit_trainer(k, x, y, args.batch_size[0], jit_compile=name == "cornu_jit", synchronize=synchronize)
    print(json.dumps({"ready": name, "device": device, "version": k.__version__,
                      "threads": torch.get_num_threads() if k.backend.backend() == "torch" else args.threads,
                      **startup}), flush=True)
    for line in sys.stdin:
        if line.strip() == "epoch":
            wall, cpu = trainer.epoch()
            print(json.dumps({"seconds": wall, "cpu_seconds": cpu}), flush=True)
        elif line.strip() == "info":
            print(json.dumps(trainer.info()), flush=True)
        else:
            return


def backend_device(k) -> str:
    """Where Keras puts the model, as the backend names it."""
    backend = k.backend.backend()
    if backend == "torch":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    if backend == "jax":
        import jax

        return jax.devices()[0].platform
    import tensorflow as tf

    return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"


class Worker:
    """A contender's process, driven line by line."""

    def __init__(self, name: str, args: argparse.Namespace, batch_size: int):
        env = dict(os.environ, KERAS_BACKEND=BACKENDS.get(name, "torch"), PYTHONUNBUFFERED="1")
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", name, "--batch-size", str(batch_size),
               "--samples", str(args.samples), "--data", args.data]
        cmd += ["--steps", str(args.steps)] if args.steps else []
        cmd += ["--threads", str(args.threads)] if args.threads else []
        self.name = name
        self.stderr = tempfile.TemporaryFile("w+")  # a file, not a pipe: a chatty worker cannot block on it
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     text=True, env=env)
        self.ready = self.ask(None)

    def ask(self, command: str | None) -> dict:
        if command is not None:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                self.proc.wait(timeout=60)
                self.stderr.seek(0)
                err = self.stderr.read().strip().splitlines()
                raise RuntimeError(f"{self.name} worker exited: {' | '.join(err[-3:])}")
            if line.startswith("{"):
                return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        self.proc.wait(timeout=60)
        self.stderr.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, [32])
    parser.add_argument("--contenders", default=",".join(CONTENDERS), help="comma-separated subset")
    parser.add_argument("--worker", choices=CONTENDERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args)
        return
    if args.epochs < 1:
        parser.error("--epochs must be at least 1 (timed rounds after the warm-up round)")
    names = parse_contenders(parser, args.contenders, CONTENDERS)
    print(json.dumps({"bench": "keras_backends", "epochs": args.epochs, "threads": args.threads,
                      "contenders": names}), flush=True)
    skipped = {name: missing(name) for name in names if missing(name)}
    for name, reason in skipped.items():
        print(json.dumps({"skipped": name, "reason": reason}), flush=True)
    names = [n for n in names if n not in skipped]
    for batch_size in args.batch_size:
        workers = {}
        for name in names:
            t0 = time.perf_counter()
            try:
                workers[name] = Worker(name, args, batch_size)
            except RuntimeError as e:
                print(json.dumps({"skipped": name, "reason": str(e)[:300]}), flush=True)
                continue
            print(json.dumps({**workers[name].ready, "setup_s": round(time.perf_counter() - t0, 2)}), flush=True)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in workers}
        try:
            for _ in range(args.epochs + 1):  # interleaved rounds
                for name, w in workers.items():
                    answer = w.ask("epoch")
                    times[name].append((answer["seconds"], answer["cpu_seconds"]))
            infos = {name: {"device": w.ready["device"], "version": w.ready["version"], **w.ask("info")}
                     for name, w in workers.items()}
        finally:
            for w in workers.values():
                w.close()
        samples = epoch_samples(args, batch_size)
        common = {"batch_size": batch_size, "threads": args.threads, "steps_per_epoch": samples // batch_size,
                  "device": ",".join(sorted({i["device"] for i in infos.values()}))}
        report(times, infos, common, samples, RATIOS)


if __name__ == "__main__":
    main()
