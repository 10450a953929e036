"""``examples/image_folder.py`` runs end to end on its own synthetic image folder.

The script runs in a subprocess, as a user runs it, for one epoch on 20 small images
per class, so it takes seconds; it must index the folder as Keras reports it and
end with a finite validation loss and accuracy.
"""
import math
import os
import re
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "image_folder.py")
ARGS = ["--epochs", "1", "--samples", "20", "--image-size", "24", "--batch-size", "8", "--workers", "0"]


def test_image_folder_example_runs():
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    done = subprocess.run([sys.executable, SCRIPT, *ARGS], capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Found 40 files belonging to 2 classes." in done.stdout
    assert "Using 32 files for training." in done.stdout and "Using 8 files for validation." in done.stdout
    match = re.search(r"classes \['bottom', 'top'\]; validation loss ([0-9.]+), accuracy ([0-9.]+)\s*$",
                      done.stdout)
    assert match, done.stdout[-3000:]
    loss, accuracy = float(match.group(1)), float(match.group(2))
    assert math.isfinite(loss) and 0.0 <= accuracy <= 1.0
