"""Several HTTP server processes on one listening socket (``pactgraph serve --http-processes``).

One Python process handles HTTP on one core at a time: its event loop parses requests,
plans queries, answers the bounded ones (:mod:`pactgraph.serve.inline`) and writes responses.
The Oxigraph server uses every core. So ``serve`` can bind the socket once and start N
processes that accept on it. The kernel hands each new connection to whichever process is
waiting in ``accept``.

Each process is the whole service: :func:`pactgraph.serve.app.create_app` with its own query
workers, result cache, held-answer budget and ``/validate`` workers. So every limit holds in
each process as before, and a runaway query in one process leaves the other processes'
workers free. The parent verifies the release once, starts the processes (``spawn``), and
starts a new one if one dies. On SIGINT or SIGTERM it stops them all. Each process stops its
own workers.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from pactgraph.release.published import Release
from pactgraph.serve.config import ServiceConfig

log = logging.getLogger("pactgraph.serve")
# A process that dies this soon after it started is not restarted again (a start-up error).
_QUICK_DEATH_S = 5.0


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` and listening, shared by the processes.

    >>> sock = listening_socket("127.0.0.1", 0)
    >>> sock.getsockname()[0]
    '127.0.0.1'
    >>> sock.close()
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _serve_one(path: str, version: str, count: int, config: ServiceConfig, sock: Any) -> None:
    """One HTTP process: the app over the release, served by uvicorn on the shared socket."""
    import uvicorn

    from pactgraph.serve.app import create_app
    from pactgraph.serve.server import uvicorn_config

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us with SIGTERM
    app = create_app(Release(Path(path), version, count), config, verify=False)
    uvicorn.Server(uvicorn_config(app, config)).run(sockets=[sock])


def serve_processes(release: Release, config: ServiceConfig, host: str, port: int) -> None:
    """Serve ``release`` on ``host``:``port`` with ``config.http_processes`` processes
    until SIGINT or SIGTERM."""
    sock = listening_socket(host, port)
    context = multiprocessing.get_context("spawn")
    args = (str(release.path), release.version, release.triple_count, config, sock)
    stopping = False

    def start() -> Any:
        process = context.Process(target=_serve_one, args=args, name="pactgraph-http")
        process.start()
        process.started_at = time.monotonic()  # type: ignore[attr-defined]
        return process

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    processes = [start() for _ in range(config.http_processes)]
    try:
        while not stopping:
            wait([p.sentinel for p in processes], timeout=0.5)
            for index, process in enumerate(processes):
                if process.is_alive() or stopping:
                    continue
                lived = time.monotonic() - process.started_at
                log.error("HTTP process %s exited (%s)", process.pid, process.exitcode)
                if lived < _QUICK_DEATH_S:
                    raise SystemExit("an HTTP process failed at start-up; see the log above")
                processes[index] = start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(30)
            if process.is_alive():
                process.kill()
                process.join()
        sock.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
