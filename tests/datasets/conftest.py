"""Shared fixtures: an isolated, offline Keras cache."""
import urllib.request

import pytest


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if a loader tries to download."""
    def refuse(*args, **kwargs):
        raise AssertionError("a dataset loader tried to download")
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
