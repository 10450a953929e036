"""The tutorial example runs as the README says, on one process and under ``torchrun --nproc_per_node=2``."""
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def small_mnist(tmp_path):
    """A KERAS_HOME whose cached mnist.npz is a small stand-in in Keras's format (no download)."""
    rng = np.random.RandomState(0)
    folder = tmp_path / "keras_home" / "datasets"
    folder.mkdir(parents=True)
    np.savez(folder / "mnist.npz", x_train=rng.randint(0, 256, (256, 28, 28)).astype("uint8"),
             y_train=rng.randint(0, 10, 256).astype("uint8"),
             x_test=rng.randint(0, 256, (64, 28, 28)).astype("uint8"), y_test=rng.randint(0, 10, 64).astype("uint8"))
    return tmp_path


def _run(command, home, timeout=240):
    env = {**os.environ, "KERAS_HOME": str(home / "keras_home"), "OMP_NUM_THREADS": "1", "CORNU_DEVICE": "cpu",
           "MPLBACKEND": "Agg"}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_tutorial_example_runs(small_mnist):
    plot = small_mnist / "curves.png"
    proc = _run([sys.executable, "examples/mnist_cnn.py", "--epochs", "1", "--plot", str(plot)], small_mnist)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Steps 4-6 rejected, as in Keras" in proc.stdout and "Test accuracy:" in proc.stdout
    assert plot.stat().st_size > 0


def test_tutorial_example_runs_under_torchrun(small_mnist):
    torchrun = os.path.join(os.path.dirname(sys.executable), "torchrun")
    if not os.path.exists(torchrun):
        pytest.skip("torchrun is not installed beside this Python")
    plot = small_mnist / "curves.png"
    logs = small_mnist / "ranks"  # each rank's output in its own file: on one pipe their lines interleave
    proc = _run([torchrun, "--standalone", "--nproc_per_node=2", "--log-dir", str(logs), "--redirects", "3",
                 "examples/mnist_cnn.py", "--distributed", "--epochs", "1", "--plot", str(plot)], small_mnist)
    outputs = [path.read_text() for path in sorted(logs.rglob("stdout.log"))]
    assert proc.returncode == 0, proc.stderr[-3000:] + "".join(path.read_text()[-2000:]
                                                             for path in logs.rglob("stderr.log"))
    assert len(outputs) == 2
    # Both processes evaluate and agree on the global figures.
    accuracies = [[line for line in out.splitlines() if line.startswith("Test accuracy:")] for out in outputs]
    assert all(len(found) == 1 for found in accuracies)
    assert accuracies[0] == accuracies[1]
    assert plot.stat().st_size > 0
