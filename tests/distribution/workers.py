"""Scenarios run in 2 spawned gloo processes by the distribution tests: ``python -m tests.distribution.workers``.

Each process writes what it saw to ``<out>/<scenario>-r<rank>.npz`` (or ``.txt`` for errors); the test compares
those files with a single-process run of the same scenario.
"""
from __future__ import annotations

import os
import sys
import time
import traceback

import numpy as np
import torch
import torch.multiprocessing as mp


def data():
    rng = np.random.RandomState(0)
    x = rng.rand(256, 8).astype("float32")
    y = (x.sum(1, keepdims=True) > 4).astype("float32")
    return x, y


def make_model(keras):
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu", name="dense_a"),
                             keras.layers.Dense(1, activation="sigmoid", name="dense_b")], name="mlp")


TRAINED: list = []


def loader(x, y):
    """A shuffling torch DataLoader of global batches of 64."""
    dataset = torch.utils.data.TensorDataset(torch.as_tensor(x), torch.as_tensor(y))
    return torch.utils.data.DataLoader(dataset, batch_size=64, shuffle=True)


def train(keras, out: str | None, tag: str, callbacks: bool = False, seed: int = 0, use_loader: bool = False) -> dict:
    """Fit 2 epochs (global batch 64, shuffled), evaluate, predict; the numbers every scenario compares."""
    keras.utils.set_random_seed(seed)
    x, y = data()
    model = make_model(keras)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    extra = []
    if callbacks:
        extra = [keras.callbacks.ModelCheckpoint(os.path.join(out, "ckpt.keras")),
                 keras.callbacks.CSVLogger(os.path.join(out, "log.csv"))]
    TRAINED[:] = [model]
    inputs = dict(x=loader(x, y)) if use_loader else dict(x=x, y=y, batch_size=64, shuffle=True)
    history = model.fit(**inputs, epochs=2, verbose=0, validation_data=(x[:96], y[:96]), callbacks=extra)
    evaluated = model.evaluate(x, y, batch_size=64, verbose=0)
    predicted = model.predict(x, batch_size=48, verbose=0)
    result = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    result.update({f"h_{k}": np.array(v) for k, v in history.history.items()})
    result.update(evaluated=np.array(evaluated), predicted=predicted)
    return result


def _setup(rank: int, world: int, port: int):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    import cornu as keras

    keras.distribution.initialize()
    return keras


def data_parallel(rank: int, world: int, port: int, out: str) -> None:
    keras = _setup(rank, world, port)
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    # Rank 1 draws other initial weights and shuffles: every replica must start from rank 0's and follow its order.
    result = train(keras, out, "dp", callbacks=True, seed=0 if rank == 0 else 123)
    np.savez(os.path.join(out, f"data_parallel-r{rank}.npz"), **result)


def data_loader(rank: int, world: int, port: int, out: str) -> None:
    keras = _setup(rank, world, port)
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    result = train(keras, out, "loader", seed=0 if rank == 0 else 7, use_loader=True)
    np.savez(os.path.join(out, f"data_loader-r{rank}.npz"), **result)


def model_parallel(rank: int, world: int, port: int, out: str) -> None:
    keras = _setup(rank, world, port)
    mesh = keras.distribution.DeviceMesh((1, world), ["batch", "model"])
    layout_map = keras.distribution.LayoutMap(mesh)
    layout_map[".*dense_a/kernel"] = (None, "model")  # paths are "mlp/dense_a/kernel", as in Keras
    layout_map[".*dense_a/bias"] = ("model",)
    layout_map[".*dense_b/kernel"] = ("model", None)
    keras.distribution.set_distribution(keras.distribution.ModelParallel(layout_map=layout_map))
    result = train(keras, out, "mp", callbacks=True)
    np.savez(os.path.join(out, f"model_parallel-r{rank}.npz"), **result)
    shard_shapes = {}
    for layer in TRAINED[0].layers:
        for v in layer.weights:
            shard_shapes[f"{layer.name}/{v.name}"] = tuple(v.value.to_local().shape)
    with open(os.path.join(out, f"shards-r{rank}.txt"), "w") as f:
        f.write(repr(sorted(shard_shapes.items())))


def sharded_on_batch_axis(rank: int, world: int, port: int, out: str) -> None:
    """ZeRO-3 style: every kernel split along the batch axis, which also splits the batches."""
    keras = _setup(rank, world, port)
    mesh = keras.distribution.DeviceMesh((world,), ["batch"])
    layout_map = keras.distribution.LayoutMap(mesh)
    layout_map[".*kernel"] = ("batch", None)
    keras.distribution.set_distribution(keras.distribution.ModelParallel(layout_map=layout_map))
    result = train(keras, out, "zero")
    np.savez(os.path.join(out, f"sharded_on_batch_axis-r{rank}.npz"), **result)
    local = {f"{layer.name}/{v.name}": tuple(v.value.to_local().shape) for layer in TRAINED[0].layers
             for v in layer.weights}
    with open(os.path.join(out, f"shards-r{rank}.txt"), "w") as f:
        f.write(repr(sorted(local.items())))


def unsized(rank: int, world: int, port: int, out: str) -> None:
    keras = _setup(rank, world, port)
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    model = make_model(keras)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x, y = data()

    def forever():
        while True:
            yield x[:64], y[:64]

    try:
        model.fit(forever(), epochs=1, verbose=0)
        message = "no error"
    except ValueError as e:
        message = f"ValueError: {e}"
    with open(os.path.join(out, f"unsized-r{rank}.txt"), "w") as f:
        f.write(message)


def dead_rank(rank: int, world: int, port: int, out: str) -> None:
    os.environ["CORNU_DISTRIBUTED_TIMEOUT"] = "20"
    keras = _setup(rank, world, port)
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    if rank == 1:
        os._exit(0)  # dies without a word before training
    model = make_model(keras)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x, y = data()
    start = time.monotonic()
    try:
        model.fit(x, y, batch_size=64, epochs=1, verbose=0)
        message = "no error"
    except Exception as e:  # noqa: BLE001 - the test reads the class and message
        message = f"{type(e).__name__}: {e}"
    with open(os.path.join(out, "dead_rank-r0.txt"), "w") as f:
        f.write(f"{time.monotonic() - start:.1f}\n{message}")


class _Interrupt(Exception):
    pass


def interrupted_then_resumed(keras, backup_dir: str) -> dict:
    """Fit 3 epochs with BackupAndRestore, killed at the start of epoch 2, then fit again: it resumes there."""
    keras.utils.set_random_seed(0)
    x, y = data()
    model = make_model(keras)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])

    class Kill(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise _Interrupt()

    backup = keras.callbacks.BackupAndRestore(backup_dir)
    try:
        model.fit(x, y, batch_size=64, epochs=3, verbose=0, callbacks=[backup, Kill()])
    except _Interrupt:
        pass
    history = model.fit(x, y, batch_size=64, epochs=3, verbose=0, callbacks=[backup])
    result = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    result.update(epochs=np.array(history.epoch), loss=np.array(history.history["loss"]))
    return result


def backup_restore(rank: int, world: int, port: int, out: str) -> None:
    keras = _setup(rank, world, port)
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    result = interrupted_then_resumed(keras, os.path.join(out, "backup"))
    np.savez(os.path.join(out, f"backup_restore-r{rank}.npz"), **result)


SCENARIOS = {"backup_restore": backup_restore, "data_parallel": data_parallel, "data_loader": data_loader,
             "model_parallel": model_parallel, "sharded_on_batch_axis": sharded_on_batch_axis, "unsized": unsized,
             "dead_rank": dead_rank}


def _run(rank: int, name: str, world: int, port: int, out: str) -> None:
    try:
        SCENARIOS[name](rank, world, port, out)
    except BaseException:
        with open(os.path.join(out, f"{name}-r{rank}.error"), "w") as f:
            f.write(traceback.format_exc())
        raise


if __name__ == "__main__":
    scenario, out, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mp.start_processes(_run, args=(scenario, 2, port, out), nprocs=2, start_method="spawn")
