"""How cost grows with the data: build stages and serving, 10k → 100k → 1M synthetic triples.

One command runs it all and writes a Markdown table::

    python bench/scale_bench.py --out bench/results/scale.md

For each size, :mod:`synthetic` writes a data root (deterministic for ``--seed``). Then:

1. **Build stages**, in a child process per size, in a real build's order: load (parse
   every file into one in-memory pyoxigraph store), validate (the SHACL gate: pySHACL below
   its threshold, SHACL compiled to SPARQL above), reason (blank-node and version gates, the
   reasoning gate, quality checks, the inferred graph), dump (``release_content`` +
   ``publish``: every dump, its gzip, VoID, docs and the release's store). A size has
   ``--budget`` seconds; stages not finished by then are reported as such (the child is killed).
2. **Serving**, for each size with a release: five servers over the same data, taking turns
   per query, each driven by wrk with ``--clients`` keep-alive connections for
   ``--duration`` seconds (``service_bench.drive_wrk``): pactgraph embedded (``pactgraph
   serve``, as shipped, and again with ``--result-cache 0``), the
   Oxigraph server queried directly (``oxigraph serve --union-default-graph``, loaded from
   the release's N-Quads), pactgraph over that Oxigraph server (``serve --backend``), and
   rdflib-endpoint (sizes up to ``--rdflib-max``: it holds the data in rdflib's memory).
   Queries: ``bench/queries/scale/`` (a lookup, a bounded two-hop join, a full aggregate).
3. **Profile** of the slowest stage at the largest size that finished every stage
   (cProfile, top functions by cumulative time), in a separate child run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO / "service"))
sys.path.insert(0, str(BENCH))

import service_bench as sb  # noqa: E402
import synthetic  # noqa: E402

QUERIES = BENCH / "queries" / "scale"


def _portable(profile: str) -> str:
    """A profile's text with this machine's folders cut: paths relative to the repository,
    the standard library as ``<stdlib>/``, so committed results name no machine's folders."""
    stdlib = sysconfig.get_paths()["stdlib"]
    return profile.replace(f"{REPO}/", "").replace(f"{stdlib}/", "<stdlib>/")


STAGES = ("load", "validate", "reason", "dump")  # the order of a real build
SHAPES = ("lookup", "two-hop", "aggregate")
TARGET_BUILD_S = 120.0
TARGET_PEAK_MB = 4096.0
TARGET_SERVING_RATIO = 1.5


# --------------------------------------------------------------------------- build (child)


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_children_mb() -> float:
    """The largest peak RSS of the build's side processes (JSON-LD dump, store writer)."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def stage_child(root: Path, dist: Path, profile: str | None) -> None:
    """Run the stages on ``root`` in this process, one JSON line per finished stage."""
    import cProfile
    import io
    import pstats

    from pactgraph.rdf.dataset import load_store
    from pactgraph.release.build import (
        gate_inferred_graph,
        gate_no_blank_nodes,
        gate_quality,
        gate_reasoning,
        gate_shacl,
        gate_versioned,
        publish,
        release_content,
    )
    from pactgraph.settings import Settings

    settings = Settings(root=root)
    state: dict[str, object] = {}

    def load() -> int:
        state["store"] = load_store(settings=settings)
        state["triples"] = len(state["store"])  # type: ignore[arg-type]
        return state["triples"]  # type: ignore[return-value]

    def validate() -> int:
        return len(gate_shacl(state["store"], settings))  # type: ignore[arg-type]

    def reason() -> int:
        gates = (gate_versioned, gate_no_blank_nodes, gate_reasoning, gate_quality)
        gates += (gate_inferred_graph,)
        return sum(len(gate(state["store"], settings)) for gate in gates)  # type: ignore[arg-type]

    def dump() -> int:
        dist.mkdir(parents=True, exist_ok=True)
        content = release_content(state["store"], settings, scratch=dist)  # type: ignore[arg-type]
        return publish(content, dist).triple_count

    work = {"load": load, "dump": dump, "validate": validate, "reason": reason}
    for name in STAGES:
        if profile and name == profile:
            profiler = cProfile.Profile()
            started = time.perf_counter()
            result = profiler.runcall(work[name])
            seconds = time.perf_counter() - started
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(18)
            print(json.dumps({"stage": name, "profile": _portable(text.getvalue())}), flush=True)
            return
        started = time.perf_counter()
        result = work[name]()
        seconds = time.perf_counter() - started
        line = {"stage": name, "seconds": seconds, "peak_mb": _peak_mb(), "result": result}
        line["side_peak_mb"] = _peak_children_mb()
        if name == "validate":  # which SHACL engine the size called for
            from pactgraph.gates.shacl_engines import engine_for

            line["engine"] = engine_for(int(state["triples"]))  # type: ignore[arg-type]
        print(json.dumps(line), flush=True)


def run_stages(root: Path, dist: Path, budget: float, profile: str | None = None) -> list[dict]:
    """The child's JSON lines; a ``{"stage": …, "over_budget": True}`` line if it was killed."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "service")}
    command = [sys.executable, __file__, "--stage-child", str(root), str(dist)]
    if profile:
        command += ["--profile", profile]
    lines: list[dict] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, env=env, text=True) as child:
        deadline = time.monotonic() + budget
        try:
            out, _ = child.communicate(timeout=budget)
        except subprocess.TimeoutExpired:
            child.kill()
            out, _ = child.communicate()
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        if time.monotonic() >= deadline or child.returncode not in (0, None):
            done = {line["stage"] for line in lines}
            lines += [{"stage": s, "over_budget": True} for s in STAGES if s not in done]
    return lines


# --------------------------------------------------------------------------- serving


@contextmanager
def process(
    command: list[str], port: int, path: str, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server command and wait (up to 10 minutes: 1M-triple loads) for ``ASK {}``."""
    with sb.process(command, port, path, log, startup_timeout=600) as proc:
        yield proc


def serve_all(
    dist: Path, size: str, clients: int, duration: float, with_rdflib: bool, work: Path
) -> dict[str, dict[str, sb.Stats]]:
    """Throughput and latency per (query shape, server) for the release in ``dist``."""
    from pactgraph.release.published import latest_release

    release = latest_release(dist)
    assert release is not None
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    location = work / f"oxigraph-{size}"
    shutil.rmtree(location, ignore_errors=True)
    subprocess.run(
        [oxigraph, "load", "--location", str(location), "--file", str(release.nquads)],
        check=True,
        capture_output=True,
    )
    ports = {
        name: sb.free_port() for name in ("embedded", "uncached", "oxigraph", "backend", "rdflib")
    }
    python = sys.executable
    # `pactgraph serve` of this release; each server below adds its port (and a backend).
    pactgraph_serve = [python, "-m", "pactgraph.cli.main", "serve", "--dist", str(dist)]
    servers: dict[str, tuple[list[str], int, str]] = {
        "pactgraph embedded": (
            [*pactgraph_serve, "--port", str(ports["embedded"])],
            ports["embedded"],
            "/sparql",
        ),
        # The engine path: every request runs its query on a worker, as the Oxigraph server's do.
        "pactgraph embedded, no cache": (
            [*pactgraph_serve, "--port", str(ports["uncached"]), "--result-cache", "0"],
            ports["uncached"],
            "/sparql",
        ),
        "Oxigraph server": (
            [
                oxigraph,
                "serve-read-only",
                "--location",
                str(location),
                "--bind",
                f"127.0.0.1:{ports['oxigraph']}",
                "--union-default-graph",
            ],
            ports["oxigraph"],
            "/query",
        ),
        "pactgraph → Oxigraph server": (
            [
                *pactgraph_serve,
                "--port",
                str(ports["backend"]),
                "--backend",
                f"http://127.0.0.1:{ports['oxigraph']}/query",
            ],
            ports["backend"],
            "/sparql",
        ),
    }
    if with_rdflib:
        servers["rdflib-endpoint"] = (
            sb.rdflib_endpoint_command(release.nquads, ports["rdflib"], python),
            ports["rdflib"],
            "/",
        )
    queries = {shape: (QUERIES / f"{shape}.rq").read_text(encoding="utf-8") for shape in SHAPES}
    results: dict[str, dict[str, sb.Stats]] = {shape: {} for shape in SHAPES}
    with ExitStack() as stack:
        for name, (command, port, path) in servers.items():
            log = work / f"scale-{size}-{name.split()[0]}-{port}.log"
            stack.enter_context(process(command, port, path, log))
        for shape, query in queries.items():
            for name, (_, port, path) in servers.items():
                server = sb.Server(name, (), path)
                sb.drive_wrk(server, port, [query], clients, 1.0, work)  # warm-up
                stats = sb.drive_wrk(server, port, [query], clients, duration, work)
                results[shape][name] = stats
                print(f"{size} {shape} {name}: {stats.throughput:.1f}/s", file=sys.stderr)
    return results


# --------------------------------------------------------------------------- report


def _cell(line: dict | None, key: str, digits: int = 1) -> str:
    if line is None:
        return "-"
    if line.get("over_budget"):
        return "over budget"
    return f"{line[key]:,.{digits}f}"


def _build_peak(lines: list[dict]) -> float:
    """Build process peak + largest side-process peak (they overlap in time)."""
    own = max((line["peak_mb"] for line in lines), default=0.0)
    return own + max((line.get("side_peak_mb", 0.0) for line in lines), default=0.0)


def render(
    command: str,
    sizes: dict[str, int],
    build: dict[str, list[dict]],
    serving: dict[str, dict[str, dict[str, sb.Stats]]],
    profile: tuple[str, str, str] | None,
    budget: float,
    clients: int,
    duration: float,
) -> str:
    """The Markdown report."""
    load = os.getloadavg()
    out = [
        "# Scale benchmark: build and serving from 10k to 1M triples",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; load average {load[0]:.2f} at the end of the run. "
        f"Synthetic data from `bench/synthetic.py` (deterministic for the seed). Budget per "
        f"size: {budget:g} s of build.",
        "",
        "## Build stages (seconds; peak RSS, MB)",
        "",
        "Peak MB is the build process's peak RSS plus the largest peak RSS of its side "
        "processes (the JSON-LD dump and the store writer of large builds, which run at the "
        "same time as the build process): an upper bound on the build's memory.",
        "",
        "| size | triples | " + " | ".join(f"{s} s" for s in STAGES) + " | total s | peak MB |",
        "|---|---:|" + "---:|" * (len(STAGES) + 2),
    ]
    for size, lines in build.items():
        by_stage = {line["stage"]: line for line in lines}
        done = [line for line in lines if not line.get("over_budget")]
        total = sum(line["seconds"] for line in done)
        peak = _build_peak(done) if done else float("nan")
        over = any(line.get("over_budget") for line in lines)
        out.append(
            f"| {size} | {sizes[size]:,} | "
            + " | ".join(
                _cell(by_stage.get(s), "seconds")
                + (f" ({by_stage[s]['engine']})" if "engine" in by_stage.get(s, {}) else "")
                for s in STAGES
            )
            + f" | {'> ' if over else ''}{total:,.1f} | {peak:,.0f} |"
        )
    out += ["", "## Serving at fixed bounded load", ""]
    out.append(
        f"wrk, {clients} keep-alive connections, {duration:g} s per (server, query) after a "
        "1 s warm-up; "
        "throughput counts 200 answers per second; latency in ms (p50 / p99); servers take "
        "turns query by query. `rows` is the answer size (the same for every server)."
    )
    out.append("")
    for size, by_shape in serving.items():
        out += [f"### {size}", ""]
        names = list(next(iter(by_shape.values())))
        out.append("| query | rows | " + " | ".join(names) + " |")
        out.append("|---|---:|" + "---:|" * len(names))
        for shape, by_server in by_shape.items():
            rows = next((s.rows for s in by_server.values() if s.rows is not None), None)
            cells = [
                f"{s.throughput:,.1f}/s ({sb._fmt(s.percentile(50))} / "
                f"{sb._fmt(s.percentile(99))})" + (f", {s.errors} errors" if s.errors else "")
                for s in by_server.values()
            ]
            out.append(f"| {shape} | {rows} | " + " | ".join(cells) + " |")
        out.append("")
    out += ["## Targets", ""]
    largest = list(build)[-1]
    lines = build[largest]
    over = any(line.get("over_budget") for line in lines)
    total = sum(line.get("seconds", 0.0) for line in lines)
    peak = _build_peak([line for line in lines if "peak_mb" in line])
    verdict = "NOT met" if over or total > TARGET_BUILD_S else "met"
    out.append(
        f"- {largest} build under {TARGET_BUILD_S:g} s: {verdict} "
        f"({'over the budget' if over else f'{total:,.1f} s'})."
    )
    verdict = "met" if peak and peak < TARGET_PEAK_MB else "NOT met"
    out.append(f"- {largest} build under {TARGET_PEAK_MB:g} MB: {verdict} ({peak:,.0f} MB so far).")
    for size, by_shape in serving.items():
        for shape, by_server in by_shape.items():
            direct = by_server["Oxigraph server"].throughput
            for name in ("pactgraph embedded", "pactgraph embedded, no cache"):
                embedded = by_server[name].throughput
                ratio = direct / embedded if embedded else float("nan")
                verdict = "met" if ratio <= TARGET_SERVING_RATIO else "NOT met"
                out.append(
                    f"- {size} {shape}: {name} within {TARGET_SERVING_RATIO:g}x of the Oxigraph "
                    f"server's throughput: {verdict} (Oxigraph/pactgraph = {sb._fmt(ratio, 2)})."
                )
    if profile:
        size, stage, text = profile
        out += [
            "",
            f"## Profile: {stage} at {size} (the slowest stage)",
            "",
            "```text",
            text.strip(),
            "```",
        ]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10k,100k,1m", help="comma-separated: 10k,100k,1m")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget", type=float, default=900.0, help="build seconds per size")
    parser.add_argument("--serve-max", default="1m", help="largest size to serve")
    parser.add_argument("--rdflib-max", default="100k", help="largest size for rdflib-endpoint")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default tmp)")
    parser.add_argument("--out", type=Path, default=None, help="write the Markdown here")
    parser.add_argument("--stage-child", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage_child:
        stage_child(*args.stage_child, args.profile)
        return 0
    order = list(synthetic.SIZES)
    sizes = {name: synthetic.SIZES[name] for name in args.sizes.split(",")}
    work = args.work or Path(tempfile.mkdtemp(prefix="pactgraph-scale-"))
    build: dict[str, list[dict]] = {}
    serving: dict[str, dict[str, dict[str, sb.Stats]]] = {}
    for size, triples in sizes.items():
        root, dist = work / f"data-{size}", work / f"dist-{size}"
        shutil.rmtree(dist, ignore_errors=True)
        synthetic.write_root(root, triples, args.seed)
        build[size] = run_stages(root, dist, args.budget)
        print(f"{size} build: {build[size]}", file=sys.stderr)
        sizes[size] = next(
            (line["result"] for line in build[size] if line["stage"] == "load"), triples
        )
        dumped = any(line["stage"] == "dump" and "seconds" in line for line in build[size])
        if dumped and order.index(size) <= order.index(args.serve_max):
            with_rdflib = order.index(size) <= order.index(args.rdflib_max)
            serving[size] = serve_all(dist, size, args.clients, args.duration, with_rdflib, work)
    # The slowest stage at the largest size that finished every stage, profiled on its own.
    profile = None
    for size in reversed(list(build)):
        finished = [line for line in build[size] if "seconds" in line]
        if len(finished) == len(STAGES):
            slowest = max(finished, key=lambda line: line["seconds"])["stage"]
            root, dist = work / f"data-{size}", work / f"dist-profile-{size}"
            lines = run_stages(root, dist, args.budget, profile=slowest)
            text = next((line["profile"] for line in lines if "profile" in line), "")
            profile = (size, slowest, text)
            break
    command = "python bench/scale_bench.py " + " ".join(argv or sys.argv[1:])
    report = render(
        command, sizes, build, serving, profile, args.budget, args.clients, args.duration
    )
    if args.out:
        args.out.write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
