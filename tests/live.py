"""Run the real app under uvicorn, in its own process, on a free loopback port.

The listening socket is bound here and handed to the child (``--fd``), so there is no race
for the port; the child builds the app with ``create_app(release, config)`` exactly as
``pactgraph serve`` does. A separate process keeps the app's worker pool away from pytest's
threads and makes the server's shutdown a plain process exit.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from pactgraph.release import Release

SERVICE_DIR = Path(__file__).resolve().parents[1] / "service"
STARTUP_TIMEOUT_S = 60.0

# The child's whole program: open the release, build the app, serve on the inherited socket.
_CHILD = """
import sys
from pathlib import Path
import uvicorn
from pactgraph.api.app import create_app
from pactgraph.api.config import ServiceConfig
from pactgraph.release import Release
release = Release.open(Path(sys.argv[1]))
uvicorn.run(create_app(release, ServiceConfig()), fd=int(sys.argv[2]), log_level="warning")
"""


@contextmanager
def live_server(release: Release) -> Iterator[str]:
    """Serve ``release`` with the real app; yields the base URL (``http://127.0.0.1:PORT``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    python_path = [str(SERVICE_DIR), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in python_path if p)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(release.path), str(sock.fileno())],
        pass_fds=[sock.fileno()],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        sock.close()


def _wait_until_serving(url: str, proc: subprocess.Popen[bytes]) -> None:
    # The socket already listens, so a request would queue until the app is up; asking with
    # a short timeout lets us notice a child that died on start-up instead of hanging.
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with status {proc.returncode} on start-up")
        try:
            httpx.get(url + "/dumps/", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"the app did not answer within {STARTUP_TIMEOUT_S} s")
