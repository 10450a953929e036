"""RemoteMonitor against a real HTTP server on 127.0.0.1, run in a thread for the test only."""
from __future__ import annotations

import json
import socket
import threading
import urllib.parse
import warnings
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

import cornu as keras
from tests.helpers import random_array


class _Recorder(BaseHTTPRequestHandler):
    """Stores each POST (path, headers, body) on the server and answers with ``server.status``."""

    def do_POST(self):  # noqa: N802 - the http.server hook name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append((self.path, dict(self.headers), body))
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """A local server that lives for one test: ``serve_forever`` in a daemon thread, shut down after."""
    httpd = HTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.requests = []
    httpd.status = 200
    httpd.timeout = 5
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _root(httpd) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}"


def _fit(callback, epochs: int = 2) -> keras.callbacks.History:
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x, y = random_array((4, 4), seed=3), random_array((4, 1), seed=4)
    return model.fit(x, y, epochs=epochs, batch_size=2, validation_data=(x, y), verbose=0, callbacks=[callback])


def test_posts_epoch_logs_as_a_form_field(server):
    history = _fit(keras.callbacks.RemoteMonitor(root=_root(server)))
    assert len(server.requests) == 2
    for epoch, (path, headers, body) in enumerate(server.requests):
        assert path == "/publish/epoch/end/"
        assert headers["Content-Type"] == "application/x-www-form-urlencoded"
        form = urllib.parse.parse_qs(body.decode())
        assert list(form) == ["data"]
        payload = json.loads(form["data"][0])
        assert list(payload) == ["epoch", "loss", "mae", "val_loss", "val_mae"]
        assert payload["epoch"] == epoch
        for key, values in history.history.items():
            assert payload[key] == values[epoch]


def test_posts_json_body_with_headers(server):
    callback = keras.callbacks.RemoteMonitor(root=_root(server), path="/metrics", field="ignored",
                                             headers={"X-Run": "abc"}, send_as_json=True)
    history = _fit(callback, epochs=1)
    ((path, headers, body),) = server.requests
    assert path == "/metrics"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Run"] == "abc"
    assert json.loads(body) == {"epoch": 0, **{k: v[0] for k, v in history.history.items()}}


def test_numpy_values_are_sent_as_numbers(server):
    callback = keras.callbacks.RemoteMonitor(root=_root(server), send_as_json=True)
    callback.on_epoch_end(3, {"loss": np.float32(0.5), "acc": np.array(0.25), "lr": np.array([1.0, 2.0])})
    assert json.loads(server.requests[0][2]) == {"epoch": 3, "loss": 0.5, "acc": 0.25, "lr": [1.0, 2.0]}


def test_unreachable_server_warns_and_training_goes_on():
    with socket.socket() as sock:  # a port nobody listens on once this closes
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = f"http://127.0.0.1:{port}"
    with pytest.warns(UserWarning, match=f"Could not reach RemoteMonitor root server at {root}"):
        history = _fit(keras.callbacks.RemoteMonitor(root=root))
    assert history.epoch == [0, 1]


def test_server_error_reply_is_ignored(server):
    server.status = 500
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _fit(keras.callbacks.RemoteMonitor(root=_root(server)), epochs=1)
    assert len(server.requests) == 1


def test_get_config_round_trip():
    callback = keras.callbacks.RemoteMonitor(root="http://h:1", path="/p", field="f", headers={"a": "b"},
                                             send_as_json=True)
    config = callback.get_config()
    assert config == {"root": "http://h:1", "path": "/p", "field": "f", "headers": {"a": "b"}, "send_as_json": True}
    assert keras.callbacks.RemoteMonitor.from_config(config).get_config() == config
