"""``DataParallel`` across 2 gloo processes (spawned): the same weights, History, evaluation and predictions as one
process with the same global batch; files written once; clear errors for unsized data and a dead rank."""
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import cornu as keras
from tests.distribution import workers
from tests.helpers import assert_close

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_RENDEZVOUS_TROUBLE = ("Address already in use", "EADDRINUSE", "Connection reset", "Connection refused",
                       # gloo's threads torn down at interpreter exit under load: an abort after the work is done
                       "terminate called without an active exception")


def run_scenario(name: str, out, timeout: float = 180, attempts: int = 2) -> None:
    """Run ``name`` on 2 spawned ranks; a rendezvous that fails on its port (a race for a free port with other
    processes on the machine), or a rank aborting in gloo's teardown at exit, is tried once more on another
    port; any other failure is the test's."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CORNU_DEVICE": "cpu", "PYTHONPATH": ROOT}
    for attempt in range(attempts):
        proc = subprocess.run([sys.executable, "-m", "tests.distribution.workers", name, str(out),
                               str(_free_port())], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        errors = [p for p in os.listdir(out) if p.endswith(".error")]
        report = proc.stderr[-3000:] + "".join(open(os.path.join(out, p)).read() for p in errors)
        if proc.returncode == 0 and not errors:
            return
        if attempt + 1 < attempts and any(s in report for s in _RENDEZVOUS_TROUBLE):
            for p in errors:
                os.remove(os.path.join(out, p))
            continue
        raise AssertionError(report)


@pytest.fixture(scope="module")
def single_process():
    """The reference: the same scenario in this process, no distribution."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return workers.train(keras, None, "single")
    finally:
        torch.set_num_threads(threads)


def test_data_parallel_matches_one_process(tmp_path, single_process):
    run_scenario("data_parallel", tmp_path)
    ranks = [dict(np.load(tmp_path / f"data_parallel-r{r}.npz")) for r in range(2)]
    for got in ranks:
        assert sorted(got) == sorted(single_process)
        for key, want in single_process.items():
            assert_close(got[key], want, rtol=1e-5, atol=1e-5)
    # Checkpoints and logs are written once (rank 0), and load in a single process with the same weights.
    assert sorted(p for p in os.listdir(tmp_path) if not p.endswith(".npz")) == ["ckpt.keras", "log.csv"]
    restored = keras.saving.load_model(tmp_path / "ckpt.keras")
    for w, want in zip(restored.get_weights(), [single_process[f"w{i}"] for i in range(4)]):
        assert_close(w, want, rtol=1e-5, atol=1e-6)
    lines = open(tmp_path / "log.csv").read().splitlines()
    assert lines[0].split(",")[0] == "epoch" and len(lines) == 3


def test_checkpoint_of_a_distributed_fit_loads_in_keras(tmp_path, keras_ref, single_process):
    run_scenario("data_parallel", tmp_path)
    model = keras_ref.saving.load_model(str(tmp_path / "ckpt.keras"))
    x, _ = workers.data()
    assert_close(np.asarray(model.predict(x, verbose=0)), single_process["predicted"], rtol=1e-4, atol=1e-5)


def test_unsized_data_is_refused_on_every_rank(tmp_path):
    run_scenario("unsized", tmp_path)
    for r in range(2):
        message = open(tmp_path / f"unsized-r{r}.txt").read()
        assert message.startswith("ValueError") and "steps_per_epoch" in message


def test_a_dead_rank_stops_the_others_with_an_error(tmp_path):
    run_scenario("dead_rank", tmp_path)
    seconds, message = open(tmp_path / "dead_rank-r0.txt").read().split("\n", 1)
    assert message != "no error" and float(seconds) < 60, message


def test_model_parallel_shards_dense_kernels_and_matches_one_process(tmp_path, single_process):
    run_scenario("model_parallel", tmp_path)
    for r in range(2):
        got = dict(np.load(tmp_path / f"model_parallel-r{r}.npz"))
        for key, want in single_process.items():
            assert_close(got[key], want, rtol=1e-5, atol=1e-5)
        shards = dict(eval(open(tmp_path / f"shards-r{r}.txt").read()))
        # Storage layout: Dense kernels are (out, in); dense_a's units and dense_b's inputs are split in two.
        assert shards["dense_a/kernel"] == (8, 8) and shards["dense_a/bias"] == (8,)
        assert shards["dense_b/kernel"] == (1, 8) and shards["dense_b/bias"] == (1,)
    restored = keras.saving.load_model(tmp_path / "ckpt.keras")
    for w, want in zip(restored.get_weights(), [single_process[f"w{i}"] for i in range(4)]):
        assert_close(w, want, rtol=1e-5, atol=1e-6)


def test_shuffling_data_loader_is_split_like_one_process(tmp_path):
    """A torch DataLoader that shuffles: every rank walks rank 0's order (random state shared at fit start)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        want = workers.train(keras, None, "single", use_loader=True)
    finally:
        torch.set_num_threads(threads)
    run_scenario("data_loader", tmp_path)
    for r in range(2):
        got = dict(np.load(tmp_path / f"data_loader-r{r}.npz"))
        for key in want:
            assert_close(got[key], want[key], rtol=1e-5, atol=1e-5)


def test_backup_and_restore_resumes_every_rank(tmp_path):
    """Rank 0 writes the backup; after the interruption every rank resumes from it, as one process does."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        want = workers.interrupted_then_resumed(keras, str(tmp_path / "single_backup"))
    finally:
        torch.set_num_threads(threads)
    assert want["epochs"].tolist() == [2]
    run_scenario("backup_restore", tmp_path)
    for r in range(2):
        got = dict(np.load(tmp_path / f"backup_restore-r{r}.npz"))
        assert got["epochs"].tolist() == [2]
        for key in want:
            assert_close(got[key], want[key], rtol=1e-5, atol=1e-5)


def test_kernels_sharded_on_the_batch_axis_match_one_process(tmp_path, single_process):
    """ModelParallel with every kernel split along the batch axis (ZeRO-3 style): each rank keeps half of each
    kernel and computes half of each batch; the numbers are one process's."""
    run_scenario("sharded_on_batch_axis", tmp_path)
    for r in range(2):
        got = dict(np.load(tmp_path / f"sharded_on_batch_axis-r{r}.npz"))
        for key, want in single_process.items():
            assert_close(got[key], want, rtol=1e-5, atol=1e-5)
        shards = dict(eval(open(tmp_path / f"shards-r{r}.txt").read()))
        # Keras layout (in, out) split on "in": storage (out, in) keeps all rows, half the columns.
        assert shards["dense_a/kernel"] == (16, 4) and shards["dense_b/kernel"] == (1, 8)
        assert shards["dense_a/bias"] == (16,)
