"""``examples/imdb_lstm.py`` runs end to end on synthetic reviews and learns them.

The script runs in a subprocess, as a user runs it, at a small size (600 reviews of
60 words from a 2,000-word vocabulary, seeded) so it takes seconds; its last line
reports the validation accuracy, which must be well above chance (0.5).
"""
import os
import re
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "imdb_lstm.py")
ARGS = ["--synthetic", "--epochs", "2", "--samples", "600", "--maxlen", "60", "--max-features", "2000", "--seed", "0"]


def test_imdb_lstm_synthetic_learns():
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    done = subprocess.run([sys.executable, SCRIPT, *ARGS], capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    match = re.search(r"validation loss ([0-9.]+), accuracy ([0-9.]+)\s*$", done.stdout)
    assert match, done.stdout[-3000:]
    assert "600 training and 150 validation reviews" in done.stdout
    loss, accuracy = float(match.group(1)), float(match.group(2))
    assert accuracy > 0.75, done.stdout[-3000:]
    assert loss < 0.6931, done.stdout[-3000:]  # below ln 2, the loss of a constant 0.5 guess
