"""First-time queries against the native store: pactgraph and the Oxigraph server side by side.

A researcher's queries and an integrator's crawl of entity IRIs are mostly asked once, so
they pay for everything between the socket and the store. This benchmark measures that cost
against the Oxigraph server serving the same data (issue 18), at each ``--sizes`` of the
synthetic data (``synthetic.py``, deterministic for ``--seed``):

- **pactgraph as shipped** (``pactgraph serve``: result cache on) and **pactgraph
  ``--result-cache 0``** (every request runs its query: the first-time cost, the column that
  counts);
- the **Oxigraph server** (``oxigraph serve-read-only --union-default-graph`` over a store
  loaded from the release's N-Quads; the ``oxigraph`` command comes from the ``oxigraph``
  package on PyPI, installed with the ``test`` extra);
- **rdflib-endpoint** at sizes up to ``--rdflib-max`` (one round: it is 10-1000x slower, and
  is shown for scale).

Workloads: the entity lookup (``queries/scale/lookup.rq``) rotating over **every instrument
and obligation** of the data (about 4,500 IRIs at 100k, 45,000 at 1M: nearly every lookup is
a first-time query even for the cache), the bounded two-hop join (``two-hop.rq``, first
1,000 rows) and the aggregate over all types (``aggregate.rq``).

Load: wrk (one thread, ``--connections`` keep-alive connections, ``GET`` with
``Accept: application/sparql-results+json``), ``--duration`` seconds per run after an
unmeasured warm-up; all servers run throughout and take turns per workload for ``--rounds``
rounds; each cell is the round with the median throughput. Before the runs, the first
``--check`` queries of each workload are asked of every server once and their rows compared.
The machine's load average is recorded: absolute numbers move with other work, ratios within
one run are what count.

Usage::

    python bench/first_time_bench.py --sizes 100k,1m --duration 5 --rounds 3 \\
        --out bench/results/first-time.md
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO / "service"))
sys.path.insert(0, str(BENCH))

import scale_bench  # noqa: E402
import service_bench as sb  # noqa: E402
import synthetic  # noqa: E402

QUERIES = BENCH / "queries" / "scale"
LOOKUP_IRI = "https://w3id.org/pactgraph/id/instrument/synthetic-0"
ID = "https://w3id.org/pactgraph/id/"
ROTATING = "lookups rotating over every instrument and obligation ({n:,} IRIs)"
TWO_HOP = "two-hop join, first 1,000 rows"
AGGREGATE = "aggregate over all types"
SHIPPED = "pactgraph as shipped"
UNCACHED = "pactgraph `--result-cache 0`"
OXIGRAPH = "Oxigraph server"
RDFLIB = "rdflib-endpoint"
TARGET_RATIO = 0.67
TARGET_P99 = 2.0


def entity_iris(store_path: Path) -> list[str]:
    """Every typed instrument and obligation IRI of a release store, sorted."""
    from pyoxigraph import NamedNode, Store

    rdf_type = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    store = Store.read_only(str(store_path))
    prefixes = (ID + "instrument/", ID + "obligation/")
    return sorted(
        {
            quad.subject.value
            for quad in store.quads_for_pattern(None, rdf_type, None, None)
            if isinstance(quad.subject, NamedNode) and quad.subject.value.startswith(prefixes)
        }
    )


def prepare(size: str, work: Path, seed: int, budget: float) -> Path:
    """The dist folder of a release built from the synthetic data of ``size`` (kept in
    ``work`` and reused by later runs with the same work folder)."""
    from pactgraph.release.published import latest_release

    root, dist = work / f"data-{size}", work / f"dist-{size}"
    if latest_release(dist) is None:
        shutil.rmtree(dist, ignore_errors=True)
        synthetic.write_root(root, synthetic.SIZES[size], seed)
        stages = scale_bench.run_stages(root, dist, budget)
        if latest_release(dist) is None:
            raise SystemExit(f"the {size} release was not built: {stages}")
    return dist


def servers_for(
    dist: Path, size: str, work: Path, with_rdflib: bool, extra: list[str], also: list[str]
) -> dict[str, tuple[list[str], int, str]]:
    """name -> (command, port, path) of every server under test."""
    from pactgraph.release.published import latest_release

    release = latest_release(dist)
    assert release is not None
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    location = work / f"oxigraph-{size}"
    if not (location / "CURRENT").exists():
        shutil.rmtree(location, ignore_errors=True)
        subprocess.run(
            [oxigraph, "load", "--location", str(location), "--file", str(release.nquads)],
            check=True,
            capture_output=True,
        )
    serve = [sys.executable, "-m", "pactgraph.cli.main", "serve", "--dist", str(dist), *extra]
    ports = {name: sb.free_port() for name in (SHIPPED, UNCACHED, OXIGRAPH, RDFLIB)}
    servers = {
        SHIPPED: ([*serve, "--port", str(ports[SHIPPED])], ports[SHIPPED], "/sparql"),
        UNCACHED: (
            [*serve, "--port", str(ports[UNCACHED]), "--result-cache", "0"],
            ports[UNCACHED],
            "/sparql",
        ),
        OXIGRAPH: (
            [
                oxigraph,
                "serve-read-only",
                "--location",
                str(location),
                "--bind",
                f"127.0.0.1:{ports[OXIGRAPH]}",
                "--union-default-graph",
            ],
            ports[OXIGRAPH],
            "/query",
        ),
    }
    for more in also:  # more uncached pactgraph columns (e.g. the service before a change)
        port = sb.free_port()
        command = [*serve, "--port", str(port), "--result-cache", "0", *shlex.split(more)]
        servers[f"pactgraph `--result-cache 0 {more}`"] = (command, port, "/sparql")
    if with_rdflib:
        servers[RDFLIB] = (
            sb.rdflib_endpoint_command(release.nquads, ports[RDFLIB]),
            ports[RDFLIB],
            "/",
        )
    return servers


TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def _process_tree(pid: int) -> set[int]:
    """``pid`` and its descendants (the query workers), from ``/proc``."""
    found = {pid}
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as children:
                for child in children.read().split():
                    found |= _process_tree(int(child))
    except OSError:
        pass
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a server process and its children (all threads)."""
    ticks = 0
    for member in _process_tree(pid):
        try:
            with open(f"/proc/{member}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / TICKS_PER_S


def check_rows(port: int, path: str, queries: list[str]) -> int | None:
    """The rows of the first queries summed (None if one failed): the servers must agree."""
    total = 0
    for query in queries:
        status, body = sb._get(port, path, query)
        if status != 200:
            return None
        total += sb._count_rows(body)
    return total


def measure(
    dist: Path,
    size: str,
    work: Path,
    args: argparse.Namespace,
    with_rdflib: bool,
) -> tuple[
    dict[str, dict[str, sb.Stats]],
    dict[str, dict[str, int | None]],
    dict[str, dict[str, float]],
    list[float],
]:
    """Per workload and server: the median round, the rows checked, the CPU seconds per
    request in that round (the server and its worker processes); the load averages seen."""
    from pactgraph.release.published import latest_release

    release = latest_release(dist)
    assert release is not None
    lookup = (QUERIES / "lookup.rq").read_text(encoding="utf-8")
    iris = entity_iris(release.store_path)
    workloads = {
        ROTATING.format(n=len(iris)): [lookup.replace(LOOKUP_IRI, iri) for iri in iris],
        TWO_HOP: [(QUERIES / "two-hop.rq").read_text(encoding="utf-8")],
        AGGREGATE: [(QUERIES / "aggregate.rq").read_text(encoding="utf-8")],
    }
    extra = shlex.split(args.pactgraph_args) if args.pactgraph_args else []
    servers = servers_for(dist, size, work, with_rdflib, extra, args.also)
    results: dict[str, dict[str, sb.Stats]] = {w: {} for w in workloads}
    rows: dict[str, dict[str, int | None]] = {w: {} for w in workloads}
    cpu: dict[str, dict[str, float]] = {w: {} for w in workloads}
    loads = [os.getloadavg()[0]]
    warm_up = max(1, round(min(2.0, args.duration / 5)))
    with ExitStack() as stack:
        pids = {}
        for name, (command, port, path) in servers.items():
            log = work / f"first-time-{size}-{name.split()[0]}-{port}.log"
            pids[name] = stack.enter_context(scale_bench.process(command, port, path, log)).pid
        for workload, texts in workloads.items():
            for name, (_, port, path) in servers.items():
                rows[workload][name] = check_rows(port, path, texts[: args.check])
                server = sb.Server(name, (), path)
                sb.drive_wrk(server, port, texts, args.connections, warm_up, work, False)
            rounds: dict[str, list[sb.Stats]] = {name: [] for name in servers}
            cpu_per_request: dict[tuple[str, int], float] = {}
            for n in range(args.rounds):
                for name, (_, port, path) in servers.items():
                    if name == RDFLIB and n > 0:
                        continue  # one round: it is shown for scale
                    server = sb.Server(name, (), path)
                    began = cpu_seconds(pids[name])
                    stats = sb.drive_wrk(
                        server, port, texts, args.connections, args.duration, work, False
                    )
                    used = cpu_seconds(pids[name]) - began
                    cpu_per_request[(name, len(rounds[name]))] = used / max(1, stats.ok)
                    rounds[name].append(stats)
                    print(
                        f"{size} {workload[:40]:40} {name:30} {stats.throughput:9.1f}/s",
                        file=sys.stderr,
                    )
            for name, measured in rounds.items():
                results[workload][name] = median = sb.median_round(measured)
                cpu[workload][name] = cpu_per_request[(name, measured.index(median))]
            loads.append(os.getloadavg()[0])
    return results, rows, cpu, loads


def _cell(stats: sb.Stats, reference: sb.Stats | None) -> str:
    if not stats.ok:
        return f"no answer within the run{f', {stats.errors} errors' if stats.errors else ''}"
    ratio = ""
    if reference is not None and reference.throughput:
        ratio = f" ({stats.throughput / reference.throughput:.2f}x)"
    errors = f", {stats.errors} errors" if stats.errors else ""
    return (
        f"{stats.throughput:,.0f} req/s{ratio}, p99 {sb._fmt(stats.percentile(99), 2)} ms{errors}"
    )


def _cpu_cell(used: float, reference: float | None) -> str:
    ratio = f" ({reference / used:.2f}x)" if reference and used else ""
    return f"{used * 1e6:,.0f} µs{ratio}"


def render(
    command: str,
    by_size: dict[str, tuple[dict[str, dict[str, sb.Stats]], dict, dict, list[float]]],
    args: argparse.Namespace,
) -> str:
    """The Markdown report: per size the issue's table, then the targets."""
    out = [
        "# First-time queries: pactgraph and the Oxigraph server side by side",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs (shared with other work), "
        f"Python {platform.python_version()}; {sb._versions()}, oxigraph (server) "
        f"{sb.dist_version('oxigraph')}; {sb._wrk_version()}.",
        "",
        f"Load: wrk, 1 thread, {args.connections} keep-alive connections, {args.duration:g} s per "
        f"run after a warm-up; servers take turns per workload, {args.rounds} rounds, each cell "
        "the median round (rdflib-endpoint: one round). Throughput counts 2xx answers; ratios "
        "are to the Oxigraph server in the same run; p99 is wrk's latency percentile. "
        "Synthetic data from `bench/synthetic.py` (seed "
        f"{args.seed}).",
        "",
    ]
    for size, (results, rows, cpu, loads) in by_size.items():
        names = list(next(iter(results.values())))
        loads_text = ", ".join(f"{load:.2f}" for load in loads)
        out += [
            f"## {size}",
            "",
            f"Load average (1 min) at the start and after each workload: {loads_text}.",
            "",
            "| workload | rows checked | " + " | ".join(names) + " |",
            "|---|---:|" + "---:|" * len(names),
        ]
        for workload, by_server in results.items():
            reference = by_server.get(OXIGRAPH)
            counted = {rows[workload].get(name) for name in names}
            shown = (
                f"{next(iter(counted)):,}"
                if len(counted) == 1 and None not in counted
                else " / ".join(str(rows[workload].get(name)) for name in names)
            )
            cells = [
                _cell(by_server[name], None if name == OXIGRAPH else reference) for name in names
            ]
            out.append(f"| {workload} | {shown} | " + " | ".join(cells) + " |")
        out += [
            "",
            "CPU time per request (user + system, the server process and its query workers, "
            "from `/proc`, in the same median round; in brackets the Oxigraph server's CPU per "
            "request over this one's, i.e. the throughput ratio the two would have on an "
            "otherwise idle machine where both could use every core):",
            "",
            "| workload | " + " | ".join(names) + " |",
            "|---|" + "---:|" * len(names),
        ]
        for workload, by_server in cpu.items():
            reference = by_server.get(OXIGRAPH)
            cells = [
                _cpu_cell(by_server[name], None if name == OXIGRAPH else reference)
                if results[workload][name].ok
                else "—"
                for name in names
            ]
            out.append(f"| {workload} | " + " | ".join(cells) + " |")
        out += ["", "Targets (issue 18), `--result-cache 0` against the Oxigraph server:", ""]
        for workload, by_server in results.items():
            ours, theirs = by_server[UNCACHED], by_server[OXIGRAPH]
            ratio = ours.throughput / theirs.throughput if theirs.throughput else float("nan")
            p99 = ours.percentile(99) / theirs.percentile(99)
            verdict = "met" if ratio >= TARGET_RATIO and p99 <= TARGET_P99 else "NOT met"
            out.append(
                f"- {workload}: throughput {ratio:.2f}x (target >= {TARGET_RATIO}), p99 "
                f"{p99:.2f}x (target <= {TARGET_P99:g}x): {verdict}."
            )
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1m", help="comma-separated: 10k,100k,1m")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget", type=float, default=900.0, help="build seconds per size")
    parser.add_argument("--rdflib-max", default="100k", help="largest size for rdflib-endpoint")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--check", type=int, default=20, help="queries per workload checked")
    parser.add_argument(
        "--pactgraph-args", default="", help="extra `pactgraph serve` arguments (both modes)"
    )
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="ARGS",
        help="another uncached pactgraph column with these `serve` arguments (repeatable)",
    )
    parser.add_argument("--work", type=Path, default=None, help="scratch folder, reused")
    parser.add_argument("--out", type=Path, default=None, help="write the Markdown here")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="pactgraph-first-time-"))
    work.mkdir(parents=True, exist_ok=True)
    order = list(synthetic.SIZES)
    by_size = {}
    for size in args.sizes.split(","):
        dist = prepare(size, work, args.seed, args.budget)
        with_rdflib = order.index(size) <= order.index(args.rdflib_max)
        by_size[size] = measure(dist, size, work, args, with_rdflib)
    words = sys.argv[1:] if argv is None else argv
    # Paths inside the repository are shown relative to it; the scratch folder by name only.
    shown = [w.replace(f"{REPO}/", "") for w in words]
    command = "python bench/first_time_bench.py " + shlex.join(shown)
    sb.emit_report(render(command, by_size, args), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
