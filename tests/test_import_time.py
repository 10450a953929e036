"""``import cornu`` stays light: optional heavy dependencies load only when the feature that needs them runs.

A structural check in a fresh interpreter (a timing assertion would be flaky);
``bench/import_time.py`` measures the time itself.
"""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Loaded only by the feature that needs them: h5py by saving/loading, matplotlib by plotting,
# tensorboard by the TensorBoard callback; Keras never (it is the tests' oracle only).
OPTIONAL = ("h5py", "matplotlib", "tensorboard", "keras")
# torch.compile's machinery (over a second to import): only for jit_compile=True.
COMPILER = ("torch._dynamo", "torch._inductor")

CHILD = f"""
import json, sys
import cornu
loaded = [m for m in {OPTIONAL + COMPILER!r} if m in sys.modules]
reachable = [callable(cornu.saving.save_model), callable(cornu.saving.load_model),
             isinstance(cornu.callbacks.TensorBoard, type), callable(cornu.datasets.mnist.load_data),
             isinstance(cornu.callbacks.ModelCheckpoint, type)]
print(json.dumps({{"loaded": loaded, "reachable": reachable}}))
"""


@pytest.fixture(scope="module")
def fresh_import():
    """What a fresh ``import cornu`` loaded, and whether the lazily served names resolve."""
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_cornu_loads_no_optional_dependency(fresh_import):
    assert [m for m in fresh_import["loaded"] if m in OPTIONAL] == []


def test_names_served_by_optional_dependencies_stay_reachable(fresh_import):
    assert fresh_import["reachable"] == [True] * 5


def test_import_cornu_does_not_load_the_compiler(fresh_import):
    assert [m for m in fresh_import["loaded"] if m in COMPILER] == []
