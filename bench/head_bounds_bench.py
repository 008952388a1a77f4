"""What bounding request heads costs: pactgraph with uvicorn's stock httptools protocol against
pactgraph with :class:`pactgraph.serve.server.BoundedHttpToolsProtocol`, same release, same load.

The hardening work bounds every request head (target, header bytes and count, the time it
takes to arrive) in a subclass of uvicorn's httptools protocol, checked while the head
arrives. The check runs on every request, so this measures it where it weighs most: a
result-cache hit answered by the fast path (the cheapest request the service has), and the
same lookup rotating over many entities. Both servers take turns for ``--rounds`` rounds of
``wrk`` load; each cell is the median round. The ratio is bounded / stock throughput.

Usage (``apt-get install wrk`` first)::

    python bench/head_bounds_bench.py --dist dist --duration 5 --rounds 3 \\
        --out bench/results/head-bounds.md
"""

from __future__ import annotations

import argparse
import platform
import shlex
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "service"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import service_bench as sb  # noqa: E402

from pactgraph.settings import DEFAULT_DIST  # noqa: E402

# The child that serves: argv = release path, port, "bounded" or "stock".
_CHILD = """
import sys
from pathlib import Path
import uvicorn
from pactgraph.serve.app import create_app
from pactgraph.serve.config import ServiceConfig
from pactgraph.serve.server import uvicorn_config
from pactgraph.release.published import Release
release = Release.open(Path(sys.argv[1]))
config = ServiceConfig()
app = create_app(release, config)
options = {"host": "127.0.0.1", "port": int(sys.argv[2]), "log_level": "warning"}
if sys.argv[3] == "bounded":
    settings = uvicorn_config(app, config, **options)
else:
    settings = uvicorn.Config(app, http="httptools", access_log=False, **options)
uvicorn.Server(settings).run()
"""
VARIANTS = ("stock", "bounded")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=DEFAULT_DIST, help="folder of releases")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (odd: the median is one)")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--entities", type=int, default=32, help="lookups to rotate over")
    parser.add_argument("--out", type=Path, default=None, help="write the Markdown table here")
    args = parser.parse_args(argv)
    release = sb._release(args.dist)
    lookup = (sb.QUERIES_DIR / sb.SHAPES[sb.LOOKUP]).read_text(encoding="utf-8")
    workloads = {
        "lookup, one query repeated (cache hit)": [lookup],
        f"lookup rotating over {args.entities} entities (cache hits)": sb.rotating_lookups(
            release, lookup, args.entities
        ),
    }
    results: dict[tuple[str, str], list[sb.Stats]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        for _ in range(args.rounds):
            for variant in VARIANTS:
                port = sb.free_port()
                command = [sys.executable, "-c", _CHILD, str(release.path), str(port), variant]
                server = sb.Server(variant, tuple(command))
                with sb.process(command, port, "/sparql", work / f"{variant}.log"):
                    for name, queries in workloads.items():
                        sb.drive_wrk(server, port, queries, args.connections, 1.0, work)
                        stats = sb.drive_wrk(
                            server, port, queries, args.connections, args.duration, work
                        )
                        results.setdefault((name, variant), []).append(stats)
    given = sys.argv[1:] if argv is None else argv
    invocation = shlex.join(["python", "bench/head_bounds_bench.py", *given])
    lines = [
        "# Bounding request heads: the cost per request",
        "",
        f"Command: `{invocation}`",
        "",
        f"Release {release.version} ({release.triple_count} triples); wrk "
        f"{sb._wrk_version()}, {args.connections} keep-alive connections, {args.duration:g} s "
        f"per run, {args.rounds} rounds taking turns, median round; {platform.machine()}, "
        f"Python {platform.python_version()}.",
        "",
        "| workload | stock req/s | bounded req/s | ratio | stock p99 ms | bounded p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in workloads:
        stock = sb.median_round(results[(name, "stock")])
        bounded = sb.median_round(results[(name, "bounded")])
        ratio = bounded.throughput / stock.throughput if stock.throughput else float("nan")
        lines.append(
            f"| {name} | {stock.throughput:,.0f} | {bounded.throughput:,.0f} | {ratio:.2f} | "
            f"{stock.percentile(99):.2f} | {bounded.percentile(99):.2f} |"
        )
    sb.emit_report("\n".join(lines) + "\n", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
