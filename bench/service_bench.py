"""Service benchmark: pactgraph vs rdflib-endpoint on loopback, same release, same bounded load.

Both servers answer from the same release: ``pactgraph serve`` opens its pyoxigraph store,
``rdflib-endpoint serve`` parses its ``pactgraph.nq`` into an rdflib Dataset whose default
graph is the union of the named graphs (as pactgraph's is). The load generator is ``wrk``
(C, one thread; Debian's ``apt-get install wrk``), so the clients take little of the CPU
the servers need; ``bench/wrk/requests.lua`` sends GETs cycling through a list of request
targets and reports counts and latency percentiles. Each (workload, server) pair gets the
same ``--connections`` keep-alive connections for ``--duration`` seconds, after an
unmeasured warm-up round. Throughput counts 2xx answers only; a non-2xx status or a socket
error is an error and reported.

Workloads (query texts in ``bench/queries/``, the same texts to both servers): the entity
lookup as one query repeated, the same lookup rotating over ``--entities`` instruments of
the release (so the result cache holds many entries, not one), the two-hop join and the
aggregate.

pactgraph runs four ways side by side: with and without its result cache
(``--result-cache 0``: every request runs on a query worker), each with its fast path (the
default) and with ``--no-fast-path`` (every request through FastAPI, as before the fast path
existed), so the table shows the before and after of one run.

A second phase measures what HTTP adds: pactgraph with one connection against the same query
run in this process on the release store opened read-only (query plus SPARQL-JSON
serialisation, the same work the service does for a request).

``drive`` and ``Stats`` (Python client processes) are kept for ``scale_bench.py``.

Usage (``pip install -e '.[bench]'`` and ``apt-get install wrk`` first)::

    python bench/service_bench.py --dist dist --duration 10 --connections 4 \\
        --out bench/results/service.md
"""

from __future__ import annotations

import argparse
import http.client
import json
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

from pactgraph.release.build import build as build_release  # noqa: E402
from pactgraph.release.published import Release, latest_release  # noqa: E402
from pactgraph.serve.config import ServiceConfig  # noqa: E402
from pactgraph.settings import DEFAULT_DIST  # noqa: E402

QUERIES_DIR = Path(__file__).resolve().parent / "queries"
WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "requests.lua"
LOOKUP = "entity lookup"
# Shape label -> query file (scale_bench.py and the overhead phase use these).
SHAPES: dict[str, str] = {
    LOOKUP: "lookup.rq",
    "two-hop join": "two-hop.rq",
    "aggregate": "aggregate.rq",
}
# The instrument lookup.rq asks about; the rotating workload swaps in others.
LOOKUP_ENTITY = "https://w3id.org/pactgraph/id/instrument/mou-fy2019-fy2028"
INSTRUMENTS = "https://w3id.org/pactgraph/id/instrument/"
ONE = "entity lookup, one query repeated"
ROTATING = "entity lookup, rotating over {n} entities"
ACCEPT = "application/sparql-results+json"
STARTUP_TIMEOUT_S = 120.0
REQUEST_TIMEOUT_S = 120.0
WARM_UP_S = 2.0
# pactgraph's ways under test: server name -> extra `serve` arguments. The first two are the
# service as shipped (fast path on); the "FastAPI only" two are the same without it.
PACTGRAPH_MODES: dict[str, tuple[str, ...]] = {
    "pactgraph (cache)": (),
    "pactgraph (no cache)": ("--result-cache", "0"),
    "pactgraph (cache, FastAPI only)": ("--no-fast-path",),
    "pactgraph (no cache, FastAPI only)": ("--result-cache", "0", "--no-fast-path"),
}
SHIPPED_MODES = ("pactgraph (cache)", "pactgraph (no cache)")
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
    """What one (server, workload) run measured: successes, errors, time, latencies, rows.

    ``latencies_ms`` holds every request's latency (Python clients); a wrk run gives its
    percentiles instead, in ``percentiles_ms``.
    """

    ok: int
    errors: int
    seconds: float
    latencies_ms: tuple[float, ...]
    rows: int | None
    percentiles_ms: tuple[tuple[float, float], ...] = ()

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """The p-th percentile latency in ms (nearest rank); NaN when nothing succeeded."""
        known = dict(self.percentiles_ms)
        if p in known:
            return known[p]
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
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server command (its port already in it) and wait until it answers ``ASK {}``;
    yields the process.

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
            yield proc
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


def drive_wrk(
    server: Server,
    port: int,
    queries: list[str],
    connections: int,
    duration: float,
    work: Path,
    check_rows: bool = True,
) -> Stats:
    """``wrk`` with ``connections`` keep-alive connections, cycling through ``queries``.

    Before the run, each query is asked once (Python, one request each): the rows shown for
    a workload are the sum over its queries, a check that both servers answer alike
    (``check_rows=False`` skips it: ``rows`` is then ``None``).
    """
    rows: int | None = 0 if check_rows else None
    for query in queries if check_rows else ():
        status, body = _get(port, server.path, query)
        rows = rows + _count_rows(body) if status == 200 and rows is not None else None
    targets = work / f"wrk-{port}.txt"
    lines = (f"{server.path}?{urlencode({'query': q})}" for q in queries)
    targets.write_text("\n".join(lines) + "\n", encoding="utf-8")
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{max(1, round(duration))}s",  # wrk counts whole seconds
        "--timeout",
        f"{REQUEST_TIMEOUT_S:g}s",
        "--script",
        str(WRK_SCRIPT),
        f"http://127.0.0.1:{port}",
        "--",
        str(targets),
        ACCEPT,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    errors = summary["status_errors"] + summary["socket_errors"]
    return Stats(
        ok=summary["requests"] - summary["status_errors"],
        errors=errors,
        seconds=summary["duration_us"] / 1e6,
        latencies_ms=(),
        rows=rows,
        percentiles_ms=((50, summary["p50_us"] / 1000), (99, summary["p99_us"] / 1000)),
    )


def rdflib_endpoint_command(nquads: Path, port: int, python: str = sys.executable) -> list[str]:
    """The command serving a release's N-Quads with rdflib-endpoint, the baseline server.

    >>> rdflib_endpoint_command(Path("x.nq"), 8080, "python")[:4]
    ['python', '-m', 'rdflib_endpoint', 'serve']
    """
    serve = [python, "-m", "rdflib_endpoint", "serve", str(nquads)]
    return [*serve, "--host", "127.0.0.1", "--port", str(port)]


def emit_report(text: str, out: Path | None) -> None:
    """Print a benchmark's Markdown report and write it to ``out`` when given."""
    print(text)
    if out:
        out.write_text(text, encoding="utf-8")


def median_round(rounds: list[Stats]) -> Stats:
    """The round with the median throughput (its latencies with it), of an odd number.

    Taking turns round after round, then the median, keeps a burst of other work on the
    machine during one run from deciding a ratio.
    """
    ordered = sorted(rounds, key=lambda stats: stats.throughput)
    return ordered[len(ordered) // 2]


def rotating_lookups(release: Release, lookup: str, count: int) -> list[str]:
    """``lookup`` asked about the first ``count`` instruments of the release (by IRI).

    The IRIs come from the store's ``rdf:type`` triples (typed subjects in the instrument
    namespace), sorted, so every run rotates over the same entities.
    """
    from pyoxigraph import NamedNode

    rdf_type = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    store = Store.read_only(str(release.store_path))
    subjects = {
        quad.subject.value
        for quad in store.quads_for_pattern(None, rdf_type, None, None)
        if isinstance(quad.subject, NamedNode) and quad.subject.value.startswith(INSTRUMENTS)
    }
    chosen = sorted(subjects)[:count]
    if LOOKUP_ENTITY not in lookup or len(chosen) < count:
        raise SystemExit(f"cannot build {count} lookups from {len(chosen)} instruments")
    return [lookup.replace(LOOKUP_ENTITY, iri) for iri in chosen]


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
    names = ("pyoxigraph", "rdflib", "rdflib-endpoint", "fastapi", "uvicorn", "uvloop", "httptools")
    return ", ".join(f"{n} {dist_version(n)}" for n in names)


def _wrk_version() -> str:
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True)  # exits 1 by design
    return (done.stdout or done.stderr).split("Copyright")[0].strip()


def _warm_up(duration: float) -> int:
    """Seconds of the unmeasured warm-up round (wrk runs whole seconds)."""
    return max(1, round(min(WARM_UP_S, duration / 5)))


def _ratio(pg: Stats, rl: Stats) -> float:
    return pg.throughput / rl.throughput if rl.throughput else float("nan")


def report(
    command: str,
    release: Release,
    connections: int,
    duration: float,
    load: dict[str, dict[str, Stats]],
    overhead: dict[str, dict[str, tuple[Stats, Stats]]],
    load_average: tuple[float, float],
    rounds: int = 1,
) -> str:
    """The results as Markdown: the side-by-side table, then HTTP overhead, then targets."""
    defaults = ServiceConfig()
    lines = [
        "# Service benchmark: pactgraph vs rdflib-endpoint",
        "",
        f"Produced by: `{command}`",
        "",
        f"- Release `{release.version}`: {release.triple_count:,} triples, served by both from "
        "the same files (pactgraph: its pyoxigraph store, read-only; rdflib-endpoint: "
        "`pactgraph.nq` parsed into an rdflib Dataset with a union default graph).",
        f"- pactgraph with its defaults ({defaults.max_concurrent} query worker processes, "
        f"{defaults.timeout_s:g} s timeout, one HTTP process), four ways: with its result cache "
        f"({defaults.result_cache_bytes // 1024**2} MiB) and with `--result-cache 0` (every "
        "request runs the query on a worker), each with the fast path (the default) and with "
        "`--no-fast-path` (every request through FastAPI, as before the fast path). "
        "rdflib-endpoint with its defaults (in-memory rdflib store; it runs each query on its "
        "event loop; it has no result cache).",
        f"- Load: {_wrk_version()}, 1 thread, {connections} keep-alive connections, back-to-back "
        f"GET requests for {duration:g} s per run, after a {_warm_up(duration)} s "
        "warm-up round; loopback only. All servers run throughout; per workload they take "
        f"turns for {rounds} rounds, and each cell is the round with the median throughput.",
        f"- Machine: {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}; {_versions()}.",
        "- Servers and wrk share these CPUs. Load average (1 min) when the run started / "
        f"ended: {load_average[0]:.1f} / {load_average[1]:.1f} (other work on the machine "
        "skews absolute numbers; the servers take turns, so ratios within a run compare).",
        "",
        "## Throughput and latency under the same load",
        "",
        "| Workload | pactgraph mode | pactgraph req/s | rdflib-endpoint req/s | ratio "
        "| pactgraph p50 / p99 ms | rdflib-endpoint p50 / p99 ms | errors (pg / rdflib) "
        "| rows (pg / rdflib) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for workload, by_server in load.items():
        rl = by_server[RDFLIB]
        for mode in PACTGRAPH_MODES:
            pg = by_server[mode]
            lines.append(
                f"| {workload} | {mode.removeprefix('pactgraph ')} | {_fmt(pg.throughput)} "
                f"| {_fmt(rl.throughput)} | {_fmt(_ratio(pg, rl))}x "
                f"| {_fmt(pg.percentile(50), 2)} / {_fmt(pg.percentile(99), 2)} "
                f"| {_fmt(rl.percentile(50), 2)} / {_fmt(rl.percentile(99), 2)} "
                f"| {pg.errors} / {rl.errors} | {pg.rows} / {rl.rows} |"
            )
    lines += [
        "",
        "## What HTTP adds: pactgraph (1 connection) vs the same query in-process on pyoxigraph",
        "",
        "In-process = `Store.read_only(release/store).query(q, use_default_graph_as_union=True)` "
        "plus SPARQL-JSON serialisation, timed in the benchmark's own process; HTTP = wrk with "
        "one connection, median of the rounds (the one-query-repeated lookup, the two-hop join "
        "and the aggregate).",
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
    lines += [
        "",
        "## Against the issue's targets",
        "",
        "For pactgraph as shipped (fast path on), with and without the result cache:",
        "",
        *_targets(load, overhead),
    ]
    return "\n".join(lines) + "\n"


def _targets(
    load: dict[str, dict[str, Stats]], overhead: dict[str, dict[str, tuple[Stats, Stats]]]
) -> list[str]:
    """One line per target of the service issue and shipped mode: met in this run or not."""
    lines = []
    for mode in SHIPPED_MODES:
        for workload, by_server in load.items():
            ratio = _ratio(by_server[mode], by_server[RDFLIB])
            verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
            lines.append(
                f"- {mode}, {workload}: throughput at least {TARGET_RATIO:g}x "
                f"rdflib-endpoint's: {verdict} ({_fmt(ratio)}x)."
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
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    parser.add_argument(
        "--connections", type=int, default=4, help="wrk's concurrent keep-alive connections"
    )
    parser.add_argument(
        "--entities", type=int, default=32, help="instruments the rotating lookup cycles over"
    )
    parser.add_argument(
        "--overhead-duration", type=float, default=3.0, help="seconds per single-connection run"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs per workload and server (median reported)"
    )
    parser.add_argument("--out", type=Path, default=None, help="write the Markdown table here")
    args = parser.parse_args(argv)

    release = _release(args.dist)
    load_before = os.getloadavg()[0]
    queries = {
        shape: (QUERIES_DIR / name).read_text(encoding="utf-8") for shape, name in SHAPES.items()
    }
    workloads = {
        ONE: [queries[LOOKUP]],
        ROTATING.format(n=args.entities): rotating_lookups(release, queries[LOOKUP], args.entities),
        **{shape: [query] for shape, query in queries.items() if shape != LOOKUP},
    }
    serve = (sys.executable, "-m", "pactgraph.cli.main", "serve", "--dist", str(args.dist))
    servers = [
        *(Server(mode, serve + extra) for mode, extra in PACTGRAPH_MODES.items()),
        Server(
            RDFLIB,
            (sys.executable, "-m", "rdflib_endpoint", "serve", str(release.nquads)),
            path="/",  # rdflib-endpoint 0.6 answers SPARQL at its root
        ),
    ]
    logs = Path(os.environ.get("TMPDIR", "/tmp"))
    load: dict[str, dict[str, Stats]] = {workload: {} for workload in workloads}
    overhead: dict[str, dict[str, tuple[Stats, Stats]]] = {}
    warm_up = _warm_up(args.duration)
    # All servers run side by side (an idle one costs nothing) and take turns per workload,
    # so background load on the machine hits them alike.
    with ExitStack() as stack:
        ports = {}
        for server in servers:
            ports[server.name] = free_port()
            log = logs / f"bench-{server.name.replace(' ', '_')}.log"
            stack.enter_context(running(server, ports[server.name], log))
        for workload, texts in workloads.items():
            for server in servers:  # a short unmeasured round first: workers and caches warm
                drive_wrk(server, ports[server.name], texts, args.connections, warm_up, logs)
            rounds: dict[str, list[Stats]] = {server.name: [] for server in servers}
            for _ in range(args.rounds):
                for server in servers:
                    port = ports[server.name]
                    stats = drive_wrk(server, port, texts, args.connections, args.duration, logs)
                    rounds[server.name].append(stats)
                    print(f"{server.name:36} {workload:42} {stats.throughput:10.1f} req/s")
            for name, measured in rounds.items():
                load[workload][name] = median_round(measured)
        for shape, query in queries.items():
            overhead[shape] = {}
            for server in servers:
                if server.name not in SHIPPED_MODES:
                    continue
                port = ports[server.name]
                remote = median_round(
                    [
                        drive_wrk(server, port, [query], 1, args.overhead_duration, logs)
                        for _ in range(args.rounds)
                    ]
                )
                local = in_process(release, query, args.overhead_duration)
                overhead[shape][server.name] = (local, remote)

    command = "python bench/service_bench.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    load_average = (load_before, os.getloadavg()[0])
    text = report(
        command,
        release,
        args.connections,
        args.duration,
        load,
        overhead,
        load_average,
        args.rounds,
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
