"""Service benchmark: pactgraph vs rdflib-endpoint on loopback, same release, same bounded load.

Both servers answer from the same release: ``pactgraph serve`` opens its pyoxigraph store,
``rdflib-endpoint serve`` parses its ``pactgraph.nq`` into an rdflib Dataset whose default
graph is the union of the named graphs (as pactgraph's is). For each query shape in
``bench/queries/`` (entity lookup, two-hop join, aggregate) both servers get the same load:
``--clients`` client processes, each with one keep-alive connection sending the query
back-to-back for ``--duration`` seconds. Throughput counts 200 answers only; anything else is
an error and reported.

pactgraph runs twice side by side: with its result cache (the default; after the warm-up
round every repeated query is a cache hit) and with ``--result-cache 0`` (every request runs
the query on a worker), so both the cached and the uncached figure come from the same run.

A second phase measures what HTTP adds: pactgraph (each mode) with one client against the
same query run in this process on the release store opened read-only (query plus SPARQL-JSON
serialisation, the same work the service does for a request).

Usage (``pip install -e '.[bench]'`` first)::

    python bench/service_bench.py --dist dist --duration 10 --clients 4 \\
        --out bench/results/service.md
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from importlib.metadata import version as dist_version
from multiprocessing.pool import Pool
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "service"))

from pyoxigraph import QueryResultsFormat, Store  # noqa: E402

from pactgraph.api.config import ServiceConfig  # noqa: E402
from pactgraph.release import Release, build_release, latest_release  # noqa: E402
from pactgraph.settings import DEFAULT_DIST  # noqa: E402

QUERIES_DIR = Path(__file__).resolve().parent / "queries"
LOOKUP = "entity lookup"
# Shape label -> query file, in the order the table shows them.
SHAPES: dict[str, str] = {
    LOOKUP: "lookup.rq",
    "two-hop join": "two-hop.rq",
    "aggregate": "aggregate.rq",
}
ACCEPT = "application/sparql-results+json"
STARTUP_TIMEOUT_S = 120.0
REQUEST_TIMEOUT_S = 120.0
WARM_UP_S = 2.0
# pactgraph's two modes under test: server name -> extra `serve` arguments.
PACTGRAPH_MODES: dict[str, tuple[str, ...]] = {
    "pactgraph (cache)": (),
    "pactgraph (no cache)": ("--result-cache", "0"),
}
RDFLIB = "rdflib-endpoint"
# The service issue's performance targets, checked (never asserted) in the report.
TARGET_RATIO = 10.0
TARGET_ADDED_MS = 2.0


@dataclass(frozen=True)
class Server:
    """A server under test: its name, the command that starts it on a port, its path."""

    name: str
    command: tuple[str, ...]
    path: str = "/sparql"


@dataclass(frozen=True)
class Stats:
    """What one (server, query) run measured."""

    ok: int
    errors: int
    seconds: float
    latencies_ms: tuple[float, ...]
    rows: int | None

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """The p-th percentile latency in ms (nearest rank); NaN when nothing succeeded."""
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str, query: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    try:
        conn.request("GET", f"{path}?{urlencode({'query': query})}", headers={"Accept": ACCEPT})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@contextmanager
def process(
    command: list[str], port: int, path: str, log: Path, startup_timeout: float = STARTUP_TIMEOUT_S
) -> Iterator[None]:
    """Start a server command (its port already in it) and wait until it answers ``ASK {}``.

    Shared with ``scale_bench.py``, so both benchmarks start and stop servers the same way.
    """
    env = {**os.environ, "PYTHONPATH": str(REPO / "service")}
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + startup_timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{command[0]} exited on start-up; see {log}")
                try:
                    if _get(port, path, "ASK {}")[0] == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command} did not start; see {log}")
                time.sleep(0.2)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def running(server: Server, port: int, log: Path) -> Iterator[None]:
    """Start ``server`` on ``port`` and wait until it answers an ASK."""
    command = [*server.command, "--host", "127.0.0.1", "--port", str(port)]
    with process(command, port, server.path, log):
        yield


def _client(port: int, path: str, query: str, start: float, stop: float) -> tuple[list[float], int]:
    """One client process: keep-alive GETs from ``start`` to ``stop`` (wall clock)."""
    target = f"{path}?{urlencode({'query': query})}"
    headers = {"Accept": ACCEPT}
    latencies: list[float] = []
    errors = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    time.sleep(max(0.0, start - time.time()))  # every client starts together
    while time.time() < stop:
        began = time.perf_counter()
        try:
            conn.request("GET", target, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
        elapsed_ms = (time.perf_counter() - began) * 1000
        if status == 200:
            latencies.append(elapsed_ms)
        else:
            errors += 1
    conn.close()
    return latencies, errors


def drive(
    pool: Pool, server: Server, port: int, query: str, clients: int, duration: float
) -> Stats:
    """``clients`` of the pool's processes send ``query`` for ``duration`` seconds."""
    status, body = _get(port, server.path, query)  # also warms caches up
    rows = _count_rows(body) if status == 200 else None
    # The pool's processes are already running, so a short lead lets them all start together.
    start = time.time() + 0.3
    stop = start + duration
    results = pool.starmap(
        _client, [(port, server.path, query, start, stop)] * clients, chunksize=1
    )
    # A request in flight at ``stop`` still finished: the run lasted until the last one did.
    seconds = max(duration, time.time() - start)
    latencies = tuple(ms for lat, _ in results for ms in lat)
    return Stats(len(latencies), sum(e for _, e in results), seconds, latencies, rows)


def _count_rows(body: bytes) -> int:
    data = json.loads(body)
    return len(data["results"]["bindings"]) if "results" in data else 1


def in_process(release: Release, query: str, duration: float) -> Stats:
    """The same query on the release store in this process: query + SPARQL JSON, repeated."""
    store = Store.read_only(str(release.store_path))
    latencies: list[float] = []
    rows = None
    stop = time.perf_counter() + duration
    while time.perf_counter() < stop:
        began = time.perf_counter()
        result = store.query(query, use_default_graph_as_union=True)
        body = result.serialize(format=QueryResultsFormat.JSON)
        latencies.append((time.perf_counter() - began) * 1000)
        rows = _count_rows(body)
    return Stats(len(latencies), 0, duration, tuple(latencies), rows)


def _release(dist: Path) -> Release:
    release = latest_release(dist)
    if release is None:
        print(f"no release in {dist}; building one", file=sys.stderr)
        release = build_release(dist)
    return release


def _fmt(value: float, digits: int = 1) -> str:
    return "n/a" if value != value else f"{value:,.{digits}f}"  # NaN-safe


def _versions() -> str:
    names = ("pyoxigraph", "rdflib", "rdflib-endpoint", "fastapi", "uvicorn")
    return ", ".join(f"{n} {dist_version(n)}" for n in names)


def report(
    command: str,
    release: Release,
    clients: int,
    duration: float,
    load: dict[str, dict[str, Stats]],
    overhead: dict[str, dict[str, tuple[Stats, Stats]]],
    load_average: tuple[float, float],
) -> str:
    """The results as Markdown: the side-by-side table, then HTTP overhead."""
    lines = [
        "# Service benchmark: pactgraph vs rdflib-endpoint",
        "",
        f"Produced by: `{command}`",
        "",
        f"- Release `{release.version}`: {release.triple_count:,} triples, served by both from "
        "the same files (pactgraph: its pyoxigraph store, read-only; rdflib-endpoint: "
        "`pactgraph.nq` parsed into an rdflib Dataset with a union default graph).",
        f"- pactgraph with its defaults: {ServiceConfig().max_concurrent} query worker "
        f"processes, {ServiceConfig().timeout_s:g} s timeout; rdflib-endpoint with its "
        "defaults (in-memory rdflib store; it runs each query on its event loop). pactgraph runs "
        f"twice: with its default result cache ({ServiceConfig().result_cache_bytes // 1024**2} "
        "MiB; the bench repeats one query, so after warm-up every request is a hit) and with "
        "`--result-cache 0` (every request runs the query).",
        f"- Load: {clients} client processes, one keep-alive connection each, back-to-back "
        f"GET requests for {duration:g} s per query and server; loopback only. Both servers "
        "run throughout and take turns query by query.",
        f"- Machine: {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}; {_versions()}.",
        "- Server and clients share these CPUs, so absolute numbers are a floor; the ratio is "
        "the point. Load average (1 min) when the run started / ended: "
        f"{load_average[0]:.1f} / {load_average[1]:.1f} (other work on the machine skews it).",
        "",
        "## Throughput and latency under the same load",
        "",
        "| Query | pactgraph mode | pactgraph req/s | rdflib-endpoint req/s | ratio "
        "| pactgraph p50 / p99 ms | rdflib-endpoint p50 / p99 ms | errors (pg / rdflib) "
        "| rows (pg / rdflib) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for shape, by_server in load.items():
        rl = by_server[RDFLIB]
        for mode in PACTGRAPH_MODES:
            pg = by_server[mode]
            ratio = pg.throughput / rl.throughput if rl.throughput else float("nan")
            lines.append(
                f"| {shape} | {mode.removeprefix('pactgraph ')} | {_fmt(pg.throughput)} "
                f"| {_fmt(rl.throughput)} | {_fmt(ratio)}x "
                f"| {_fmt(pg.percentile(50), 2)} / {_fmt(pg.percentile(99), 2)} "
                f"| {_fmt(rl.percentile(50), 2)} / {_fmt(rl.percentile(99), 2)} "
                f"| {pg.errors} / {rl.errors} | {pg.rows} / {rl.rows} |"
            )
    lines += [
        "",
        "## What HTTP adds: pactgraph (1 client) vs the same query in-process on pyoxigraph",
        "",
        "In-process = `Store.read_only(release/store).query(q, use_default_graph_as_union=True)` "
        "plus SPARQL-JSON serialisation, timed in the benchmark's own process.",
        "",
        "| Query | pactgraph mode | in-process p50 ms | pactgraph HTTP p50 ms | added p50 ms "
        "| HTTP p99 ms |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for shape, by_mode in overhead.items():
        for mode, (local, remote) in by_mode.items():
            added = remote.percentile(50) - local.percentile(50)
            lines.append(
                f"| {shape} | {mode.removeprefix('pactgraph ')} | {_fmt(local.percentile(50), 3)} "
                f"| {_fmt(remote.percentile(50), 3)} | {_fmt(added, 3)} "
                f"| {_fmt(remote.percentile(99), 3)} |"
            )
    lines += ["", "## Against the issue's targets", "", *_targets(load, overhead)]
    return "\n".join(lines) + "\n"


def _targets(
    load: dict[str, dict[str, Stats]], overhead: dict[str, dict[str, tuple[Stats, Stats]]]
) -> list[str]:
    """One line per target of the service issue and pactgraph mode: met in this run or not."""
    lines = []
    for mode in PACTGRAPH_MODES:
        for shape, by_server in load.items():
            pg, rl = by_server[mode], by_server[RDFLIB]
            ratio = pg.throughput / rl.throughput if rl.throughput else float("nan")
            verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
            lines.append(
                f"- {mode}, {shape}: throughput at least {TARGET_RATIO:g}x rdflib-endpoint's: "
                f"{verdict} ({_fmt(ratio)}x)."
            )
        local, remote = overhead[LOOKUP][mode]
        added = remote.percentile(50) - local.percentile(50)
        verdict = "met" if added <= TARGET_ADDED_MS else "NOT met"
        lines.append(
            f"- {mode}, {LOOKUP}: at most {TARGET_ADDED_MS:g} ms added median latency over "
            f"in-process pyoxigraph: {verdict} ({_fmt(added, 2)} ms)."
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=DEFAULT_DIST, help="folder of releases")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per query/server")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes")
    parser.add_argument(
        "--overhead-duration", type=float, default=3.0, help="seconds per single-client run"
    )
    parser.add_argument("--out", type=Path, default=None, help="write the Markdown table here")
    args = parser.parse_args(argv)

    release = _release(args.dist)
    load_before = os.getloadavg()[0]
    queries = {
        shape: (QUERIES_DIR / name).read_text(encoding="utf-8") for shape, name in SHAPES.items()
    }
    serve = (sys.executable, "-m", "pactgraph.cli", "serve", "--dist", str(args.dist))
    servers = [
        *(Server(mode, serve + extra) for mode, extra in PACTGRAPH_MODES.items()),
        Server(
            RDFLIB,
            (sys.executable, "-m", "rdflib_endpoint", "serve", str(release.nquads)),
            path="/",  # rdflib-endpoint 0.6 answers SPARQL at its root
        ),
    ]
    logs = Path(os.environ.get("TMPDIR", "/tmp"))
    load: dict[str, dict[str, Stats]] = {shape: {} for shape in SHAPES}
    overhead: dict[str, dict[str, tuple[Stats, Stats]]] = {}
    # Both servers run side by side (an idle one costs nothing) and take turns per query, so
    # background load on the machine hits both alike. One pool of client processes serves the
    # whole run (spawned once, outside every timing).
    with ExitStack() as stack:
        ports = {}
        for server in servers:
            ports[server.name] = free_port()
            log = logs / f"bench-{server.name.replace(' ', '_')}.log"
            stack.enter_context(running(server, ports[server.name], log))
        pool = stack.enter_context(multiprocessing.get_context("spawn").Pool(args.clients))
        for shape, query in queries.items():
            for server in servers:
                # A short unmeasured round first, so every worker and cache is warm.
                warm_up = min(WARM_UP_S, args.duration / 5)
                drive(pool, server, ports[server.name], query, args.clients, warm_up)
                stats = drive(pool, server, ports[server.name], query, args.clients, args.duration)
                load[shape][server.name] = stats
                print(f"{server.name:22} {shape:14} {stats.throughput:10.1f} req/s")
        for shape, query in queries.items():
            overhead[shape] = {}
            for server in servers[: len(PACTGRAPH_MODES)]:
                port = ports[server.name]
                remote = drive(pool, server, port, query, 1, args.overhead_duration)
                local = in_process(release, query, args.overhead_duration)
                overhead[shape][server.name] = (local, remote)

    command = "python bench/service_bench.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    load_average = (load_before, os.getloadavg()[0])
    text = report(command, release, args.clients, args.duration, load, overhead, load_average)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
