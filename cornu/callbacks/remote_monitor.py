"""``RemoteMonitor``: POST each epoch's metrics to an HTTP server, using only the standard library."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Any

import numpy as np

from cornu.callbacks.callback import Callback


class RemoteMonitor(Callback):
    """Send ``{"epoch": i, **logs}`` to ``root + path`` at the end of every epoch.

    By default the JSON text travels as the form field ``field``
    (``application/x-www-form-urlencoded``); with ``send_as_json=True`` it is
    the request body (``application/json``). An unreachable server only warns,
    so monitoring never stops training; the server's reply is ignored.
    """

    _chief_only = True  # under a multi-process distribution, only rank 0 writes or prints

    TIMEOUT = 10.0

    def __init__(self, root: str = "http://localhost:9000", path: str = "/publish/epoch/end/",
                 field: str = "data", headers: dict | None = None, send_as_json: bool = False):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        payload = {"epoch": epoch}
        payload.update((key, _jsonable(value)) for key, value in (logs or {}).items())
        request_headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(payload).encode("utf-8")
            request_headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(payload)}).encode("utf-8")
            request_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=request_headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.TIMEOUT) as response:
                response.read()
        except urllib.error.HTTPError as error:
            error.close()
        except (urllib.error.URLError, OSError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2)

    def get_config(self) -> dict:
        return {"root": self.root, "path": self.path, "field": self.field, "headers": self.headers,
                "send_as_json": self.send_as_json}


def _jsonable(value: Any) -> Any:
    """Python numbers for NumPy scalars and 0-d arrays; lists for arrays."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value
