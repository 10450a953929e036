"""Shared fixtures: an isolated, offline Keras cache."""
import os
import tempfile
import urllib.request

import pytest


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty KERAS_HOME; the /tmp fallback cache is redirected into tmp_path too."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    os.makedirs(tmp_path / "tmp")
    return tmp_path / "home"


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if a loader tries to download."""
    def refuse(*args, **kwargs):
        raise AssertionError("a dataset loader tried to download")
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
