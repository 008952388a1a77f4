"""Latency of a cheap query while the service is under attack (hardening round two).

The tests check that the service stays up and answers through every attack, with a generous
bound; this measures how fast it answers meanwhile. One ``pactgraph serve`` of the release
(default limits) takes ``wrk`` load of one cheap query (``ASK {}``, a result-cache hit) in
each of these situations, one after the other:

- ``quiet``: nothing else going on (the baseline);
- ``slow readers``: clients that ask for a ~5 MB answer and never read it, more of them
  than there are query workers;
- ``trickled heads``: connections that send a request head a few bytes at a time;
- ``huge headers``: clients sending 8 MB ``Accept`` headers in a loop (refused with 431);
- ``deep JSON-LD uploads``: clients posting JSON-LD with scoped contexts nested 20,000 deep
  to ``/validate`` in a loop (each crashes its validation worker's parser).

Each attack runs in threads of this process, bounded in count and time, against loopback
only, and stops by itself. The table gives the cheap query's throughput and p50/p99
latency in each situation, and the ratio of its p99 to the quiet p99.

Usage (``apt-get install wrk`` first)::

    python bench/attack_latency_bench.py --dist dist --duration 5 \\
        --out bench/results/attack-latency.md
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import shlex
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "service"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import service_bench as sb  # noqa: E402

from pactgraph.settings import DEFAULT_DIST  # noqa: E402

CHEAP = "ASK {}"
_VALUES = "{ " + " ".join(str(i) for i in range(40)) + " }"
LARGE = f"SELECT ?a ?b ?c {{ VALUES ?a {_VALUES} VALUES ?b {_VALUES} VALUES ?c {_VALUES} }}"
ATTACKERS = 6


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return sock


def slow_readers(port: int, stop: threading.Event) -> None:
    """Ask for a large answer and never read it; open a new one every few seconds."""
    held: list[socket.socket] = []
    try:
        while not stop.is_set():
            sock = _connect(port)
            query = urlencode({"query": f"{LARGE} # {time.monotonic_ns()}"})
            sock.sendall(f"GET /sparql?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode("ascii"))
            held.append(sock)
            stop.wait(2.0)
    finally:
        for sock in held:
            sock.close()


def trickled_heads(port: int, stop: threading.Event) -> None:
    """Send a request head one byte a second (the header timeout cuts it off)."""
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 64
    while not stop.is_set():
        with contextlib.suppress(OSError), _connect(port) as sock:
            for byte in head:
                if stop.is_set():
                    break
                sock.sendall(bytes([byte]))
                stop.wait(1.0)


def huge_headers(port: int, stop: threading.Event) -> None:
    """8 MB Accept headers, one request after another."""
    request = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\nAccept: " + b"x/y, " * 1_600_000
    request += b"\r\n\r\n"
    while not stop.is_set():
        with contextlib.suppress(OSError), _connect(port) as sock:
            sock.sendall(request)
            sock.recv(4096)


def deep_jsonld(port: int, stop: threading.Event) -> None:
    """JSON-LD with scoped contexts nested 20,000 deep, posted to /validate in a loop."""
    depth = 20_000
    body = (
        '{"@context":{"p":{"@id":"urn:p","@context":'
        + '{"q":{"@id":"urn:q","@context":' * depth
        + "{}"
        + "}}" * depth
        + '}},"@id":"urn:a","p":"x"}'
    ).encode("ascii")
    head = (
        "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/ld+json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode("ascii")
    while not stop.is_set():
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 60) as s:
            s.sendall(head + body)
            while s.recv(65536):
                pass


ATTACKS: dict[str, Callable[[int, threading.Event], None] | None] = {
    "quiet": None,
    "slow readers": slow_readers,
    "trickled heads": trickled_heads,
    "huge headers": huge_headers,
    "deep JSON-LD uploads": deep_jsonld,
}


@contextlib.contextmanager
def attacking(attack: Callable[[int, threading.Event], None] | None, port: int) -> Iterator[None]:
    """Run ``attack`` in :data:`ATTACKERS` threads while the block runs; stop them after."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=attack, args=(port, stop), daemon=True)
        for _ in range(ATTACKERS if attack else 0)
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2.0 if attack else 0.0)  # let the attack take hold before measuring
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=DEFAULT_DIST, help="folder of releases")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per case")
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="write the Markdown table here")
    args = parser.parse_args(argv)
    release = sb._release(args.dist)
    port = sb.free_port()
    python = sys.executable
    command = [python, "-m", "pactgraph.cli.main", "serve", "--dist", str(args.dist),
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    server = sb.Server("pactgraph", tuple(command))
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        with sb.process(command, port, "/sparql", work / "serve.log"):
            sb.drive_wrk(server, port, [CHEAP], args.connections, 1.0, work)  # warm-up
            for name, attack in ATTACKS.items():
                with attacking(attack, port):
                    rows.append((name, sb.drive_wrk(
                        server, port, [CHEAP], args.connections, args.duration, work
                    )))  # fmt: skip
    quiet_p99 = rows[0][1].percentile(99)
    given = sys.argv[1:] if argv is None else argv
    invocation = shlex.join(["python", "bench/attack_latency_bench.py", *given])
    lines = [
        "# A cheap query's latency under attack",
        "",
        f"Command: `{invocation}`",
        "",
        f"Release {release.version} ({release.triple_count} triples), `pactgraph serve` with "
        f"its default limits; wrk {sb._wrk_version()}, {args.connections} keep-alive "
        f"connections asking `{CHEAP}` for {args.duration:g} s per case; {ATTACKERS} attacker "
        f"threads per case; {platform.machine()}, Python {platform.python_version()}.",
        "",
        "| situation | req/s | p50 ms | p99 ms | p99 / quiet p99 | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, stats in rows:
        ratio = stats.percentile(99) / quiet_p99 if quiet_p99 else float("nan")
        lines.append(
            f"| {name} | {stats.throughput:,.0f} | {stats.percentile(50):.2f} | "
            f"{stats.percentile(99):.2f} | {ratio:.1f} | {stats.errors} |"
        )
    sb.emit_report("\n".join(lines) + "\n", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
