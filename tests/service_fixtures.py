"""Pytest plugin for the SPARQL endpoint tests: the real app under uvicorn on a loopback port.

The server runs in its own process (``python -c``), on a socket bound here and inherited
(``--fd``), so there is no race for the port, the app's worker processes are spawned from a
clean process and not from pytest's threads, and stopping it is a plain process exit.
``ServiceConfig`` overrides (short timeouts, small caps) travel as JSON on the command line.

Fixtures: ``live_service`` (the mini release with default limits, per session) and
``start_service`` (a context-manager factory for other releases or limits), plus
``make_release`` for building a release directory from an RDF dataset file.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from pactgraph.release.published import Release

SERVICE_DIR = Path(__file__).resolve().parents[1] / "service"
STARTUP_TIMEOUT_S = 120.0

_CHILD = """
import json, logging, socket, sys
from pathlib import Path
import uvicorn
from pactgraph.serve.app import create_app
from pactgraph.serve.config import ServiceConfig
from pactgraph.serve.server import uvicorn_config
from pactgraph.release.published import Release
logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
path, version, count, fd, overrides = sys.argv[1:6]
overrides = json.loads(overrides)
if "service_allow_list" in overrides:
    overrides["service_allow_list"] = tuple(overrides["service_allow_list"])
release = Release(Path(path), version, int(count))
config = ServiceConfig(**overrides)
app = create_app(release, config)
# socket(fileno=...) keeps the real address family; uvicorn's own fd= option labels the
# socket AF_UNIX, so asyncio skips TCP_NODELAY and every response waits ~40 ms for an ACK.
sock = socket.socket(fileno=int(fd))
# The same server settings as `pactgraph serve` (bounded request heads, pactgraph.serve.server).
server = uvicorn.Server(uvicorn_config(app, config, log_level="warning"))
server.run(sockets=[sock])
"""


@contextmanager
def serve(release: Release, log_path: Path | None = None, **overrides: Any) -> Iterator[str]:
    """Serve ``release`` with ``ServiceConfig(**overrides)``; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    python_path = [str(SERVICE_DIR), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in python_path if p)}
    stderr = log_path.open("wb") if log_path else None
    args = [release.path, release.version, release.triple_count, sock.fileno()]
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, *map(str, args), json.dumps(overrides)],
        pass_fds=[sock.fileno()],
        env=env,
        stderr=stderr,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        sock.close()
        if stderr:
            stderr.close()


def wait_until_serving(
    url: str, proc: subprocess.Popen[bytes], timeout_s: float = STARTUP_TIMEOUT_S
) -> None:
    """Return once ``url``'s ``/healthz`` answers 200; raise if ``proc`` exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with status {proc.returncode} on start-up")
        try:
            if httpx.get(url + "/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the app did not start in time")


def build_store_release(directory: Path, data: Path, version: str) -> Release:
    """A release directory holding just a pyoxigraph store loaded from ``data`` (TriG/N-Quads)."""
    import pyoxigraph

    directory.mkdir(parents=True, exist_ok=True)
    store = pyoxigraph.Store(str(directory / "store"))
    store.bulk_load(path=str(data))
    count = len(store)
    store.flush()
    del store
    return Release(directory, version, count)


@dataclass(frozen=True)
class LiveService:
    """A running server: its base URL, the release it serves and its log file."""

    url: str
    release: Release
    log: Path

    @property
    def sparql(self) -> str:
        return self.url + "/sparql"


@pytest.fixture(scope="session")
def live_service(
    mini_release: Release, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveService]:
    """The mini release served with the default limits, for the whole session."""
    log = tmp_path_factory.mktemp("service-log") / "server.log"
    with serve(mini_release, log_path=log) as url:
        yield LiveService(url, mini_release, log)


@pytest.fixture(scope="session")
def start_service() -> Callable[..., AbstractContextManager[str]]:
    """``with start_service(release, timeout_s=1) as url:`` — a server with other limits."""
    return serve


@pytest.fixture(scope="session")
def make_release() -> Callable[[Path, Path, str], Release]:
    """``make_release(directory, data_file, version)`` builds a store-only release."""
    return build_store_release
