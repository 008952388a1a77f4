"""Pytest plugin and helpers for watching the service from outside: a counting listener, a
file no answer may show, and the ``/healthz`` state.

``Listener`` is an HTTP server on loopback that counts the connections it accepts, so a test
can tell whether a query reached the network; the ``listener`` fixture runs one per module.
``secret_file`` is a file whose content (``secret-marker``) no answer may ever show.
``get_health`` and ``wait_for_health`` read the service's ``/healthz`` JSON.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

# How long the listener waits to see its own probe, and ``wait_for_health`` polls by default.
SETTLE_TIMEOUT_S = 30.0
LISTENER_RESULT = {
    "head": {"vars": ["x"]},
    "results": {"bindings": [{"x": {"type": "literal", "value": "from-the-listener"}}]},
}


class Listener(ThreadingHTTPServer):
    """An HTTP server on loopback that counts the connections it accepts."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.paths: list[str] = []
        self.probes = 0
        # Client addresses in accept order. A list, not a set: ephemeral ports come round
        # again, so a probe must look only at what was accepted after it connected.
        self._accepted: list[tuple[str, int]] = []
        self._seen = threading.Condition()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def process_request(self, request, client_address):  # accept order, main thread
        with self._seen:
            self.connections += 1
            self._accepted.append(client_address)
            self._seen.notify_all()
        super().process_request(request, client_address)

    def foreign_connections(self) -> int:
        """Connections other than this method's own probes, once all earlier ones arrived."""
        self.probes += 1
        with self._seen:
            start = len(self._accepted)
        with socket.create_connection(self.server_address, timeout=5) as probe:
            me = probe.getsockname()
            with self._seen:
                ok = self._seen.wait_for(lambda: me in self._accepted[start:], SETTLE_TIMEOUT_S)
        assert ok, "the listener did not see the probe connection"
        return self.connections - self.probes


class _Handler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        self.server.paths.append(self.path)
        body = json.dumps(LISTENER_RESULT).encode()
        self.send_response(200)
        self.send_header("content-type", "application/sparql-results+json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    """A running ``Listener`` for the module's tests."""
    server = Listener()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Turtle file outside every release: no query or request may read it."""
    path = tmp_path_factory.mktemp("secret") / "secret.ttl"
    path.write_text("<urn:secret:s> <urn:secret:p> 'secret-marker' .\n", encoding="utf-8")
    return path


def get_health(url: str) -> dict:
    """The ``/healthz`` JSON of the service at base URL ``url``."""
    return httpx.get(url + "/healthz", timeout=30).json()


def wait_for_health(
    url: str, predicate: Callable[[dict], bool], timeout_s: float = SETTLE_TIMEOUT_S
) -> dict:
    """Poll ``/healthz`` until ``predicate`` holds for it; that state, or AssertionError."""
    deadline = time.monotonic() + timeout_s
    state: dict = {}
    while time.monotonic() < deadline:
        state = get_health(url)
        if predicate(state):
            return state
        time.sleep(0.05)
    raise AssertionError(f"the service never reached the expected state: {state}")
