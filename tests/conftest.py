"""Test-wide setup: tests run on the CPU unless CORNU_TEST_DEVICE names another device.

GPU tests choose CUDA explicitly (and skip without it), so the suite means the
same thing on a laptop, in CI and on a GPU machine.
"""
import os

os.environ.setdefault("CORNU_DEVICE", os.environ.get("CORNU_TEST_DEVICE", "cpu"))

import pytest  # noqa: E402


@pytest.fixture
def keras_ref():
    """Real Keras 3 (torch backend) as the differential-test oracle; skips when absent."""
    from tests.helpers import keras_oracle

    return keras_oracle()


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty KERAS_HOME for dataset/download tests; the /tmp fallback cache is redirected into tmp_path too."""
    import tempfile

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    os.makedirs(tmp_path / "tmp")
    return tmp_path / "home"
