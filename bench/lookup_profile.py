"""Where a first-time entity lookup's time goes, stage by stage, before and after (issue 18).

Runs the service's own functions in this process, on a release built from the synthetic
data (``first_time_bench.prepare``), for ``--count`` distinct lookups (every instrument and
obligation IRI in turn, each asked once, so no memo or cache helps) and reports the median
microseconds of each stage, for the service with every query on a worker (``before``:
``--inline-rows 0``) and with its defaults (``after``: a lookup is bounded by construction
and answered in the HTTP process, :mod:`pactgraph.serve.inline`):

- **query string**: percent-decoding the URL's query string into the protocol parameters
  (``url_pairs`` + ``from_pairs``);
- **plan**: the endpoint's planner (``plan_query``: limits, negotiation, task, cache key and
  ETag, the determinism check); after, also the bounded-shape check;
- **execute**: the guard, pyoxigraph's evaluation on the release store opened read-only,
  the capped TSV and the requested format (``workers.execute``: what a worker does; after,
  ``InlineRunner.run`` does it in the HTTP process);
- **hop to a worker and back**: ``WorkerPool.run`` for the same task (pickling the task,
  the pipe both ways, waking the worker and the event loop) minus ``execute``;
- **respond**: building the response and passing it through CORS to the ASGI ``send``;
- **whole app call**: the app as uvicorn calls it (security headers, the fast path, the
  access-log line), with an ASGI ``send`` that keeps the messages; its CPU time in this
  process too;

then the **HTTP round trip** measured by wrk with one connection over the same lookups
against ``pactgraph serve --result-cache 0`` both ways (``--no-http`` skips it); what the
app call does not explain is uvicorn's protocol, the event loop, the sockets and wrk.

Usage::

    python bench/lookup_profile.py --size 100k --work /tmp/pactgraph-first-time \\
        --out bench/results/lookup-profile.md
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO / "service"))
sys.path.insert(0, str(BENCH))

import first_time_bench as ft  # noqa: E402
import service_bench as sb  # noqa: E402

ACCEPT = "application/sparql-results+json"


def _median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def _scope(query: str, port: int) -> dict[str, Any]:
    query_string = urlencode({"query": query}).encode("ascii")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/sparql",
        "raw_path": b"/sparql",
        "root_path": "",
        "query_string": query_string,
        "headers": [(b"host", b"127.0.0.1"), (b"accept", ACCEPT.encode())],
        "server": ("127.0.0.1", port),
        "client": ("127.0.0.1", 50000),
        "state": {},
    }


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def stages(dist: Path, queries: list[str], config_overrides: dict[str, Any]) -> dict:
    """Median seconds per stage over ``queries`` (each asked once per stage), for the service
    with every query on a worker (``before``) and with the bounded in-process path
    (``after``)."""
    from pyoxigraph import NamedNode, Store
    from starlette.datastructures import Headers

    from pactgraph.release.published import latest_release
    from pactgraph.serve.app import create_app
    from pactgraph.serve.config import ServiceConfig
    from pactgraph.serve.inline import InlineRunner, bounded_by_construction
    from pactgraph.serve.sparql import from_pairs, plan_query, run_query, url_pairs
    from pactgraph.serve.workers import execute

    release = latest_release(dist)
    assert release is not None
    config = ServiceConfig(result_cache_bytes=0, **config_overrides)
    apps = {
        "before": create_app(release, ServiceConfig(**{**config.__dict__, "inline_rows": 0})),
        "after": create_app(release, config),
    }
    port = 8000
    base = config.service_base(_scope("", port))
    store = Store.read_only(str(release.store_path))
    known = {g.value for g in store.named_graphs() if isinstance(g, NamedNode)}
    inline = InlineRunner(release.store_path, config, known)
    times: dict[str, list[float]] = {}

    def note(name: str, seconds: float) -> None:
        times.setdefault(name, []).append(seconds)

    state = apps["before"].state
    await state.pool.start()
    try:
        for query in queries:
            scope = _scope(query, port)
            t0 = time.perf_counter()
            parsed = from_pairs(url_pairs(scope["query_string"]))
            t1 = time.perf_counter()
            plan = plan_query(parsed, ACCEPT, base, state)
            t2 = time.perf_counter()
            bounded_by_construction.__wrapped__(plan.task.query)  # the check, unremembered
            t3 = time.perf_counter()
            note("query string", t1 - t0)
            note("plan", t2 - t1)
            note("bounded check", t3 - t2)
            # The worker's share, measured here on the same store and code.
            t0 = time.perf_counter()
            execute(store, plan.task, known, config.allows_service, config.row_cap)
            note("execute", time.perf_counter() - t0)
            t0 = time.perf_counter()
            await state.pool.run(plan.task)
            note("pool.run", time.perf_counter() - t0)
            t0 = time.perf_counter()
            assert inline.run(plan.task) is not None
            note("inline.run", time.perf_counter() - t0)
            sent: list[dict[str, Any]] = []

            async def keep(message: dict[str, Any], sent: list = sent) -> None:
                sent.append(message)

            cors = apps["before"].fast_path.cors if apps["before"].fast_path else None
            response = await run_query(plan, "GET", state)
            t_run = time.perf_counter()
            if cors is not None:

                async def cors_send(
                    message: dict[str, Any], scope: dict = scope, cors: Any = cors
                ) -> None:
                    await cors.send(message, send=keep, request_headers=Headers(scope=scope))

                await response(scope, _receive, cors_send)
            note("respond", time.perf_counter() - t_run)
        for label, app in apps.items():  # the app as uvicorn calls it, each lookup once more
            if label == "after":
                await app.state.pool.start()
            for query in queries:
                scope = _scope(query, port)
                sent = []

                async def keep_all(message: dict[str, Any], sent: list = sent) -> None:
                    sent.append(message)

                t0, c0 = time.perf_counter(), time.process_time()
                await app(scope, _receive, keep_all)
                note(f"app {label}", time.perf_counter() - t0)
                note(f"app cpu {label}", time.process_time() - c0)
                assert sent[0]["status"] == 200, sent[0]
            if label == "after":
                await app.state.pool.close()
        assert apps["after"].state.inline.answered == len(queries)
    finally:
        await state.pool.close()
    return {name: _median_us(samples) for name, samples in times.items()}


async def _with_lifespan(run: Callable[[], Awaitable[dict]]) -> dict:
    return await run()


def http_round_trip(dist: Path, queries: list[str], work: Path, extra: list[str]) -> sb.Stats:
    """wrk with one connection over the lookups against ``pactgraph serve --result-cache 0``."""
    port = sb.free_port()
    command = [sys.executable, "-m", "pactgraph.cli.main", "serve", "--dist", str(dist)]
    command += ["--port", str(port), "--result-cache", "0", *extra]
    with sb.process(command, port, "/sparql", work / f"profile-{port}.log"):
        server = sb.Server("pactgraph", (), "/sparql")
        sb.drive_wrk(server, port, queries, 1, 1, work, False)
        return sb.drive_wrk(server, port, queries, 1, 5, work, False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="100k")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=2000, help="distinct lookups timed")
    parser.add_argument("--work", type=Path, required=True, help="scratch folder, reused")
    parser.add_argument("--no-http", action="store_true", help="skip the wrk round trip")
    parser.add_argument(
        "--serve-args", default="", help="extra `pactgraph serve` arguments for the round trip"
    )
    parser.add_argument("--config", default="", help="ServiceConfig overrides, name=value,...")
    parser.add_argument("--label", default="", help="what this run measures (the report title)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.getLogger("pactgraph.access").setLevel(logging.WARNING)
    dist = ft.prepare(args.size, args.work, args.seed, 900.0)
    from pactgraph.release.published import latest_release

    release = latest_release(dist)
    assert release is not None
    lookup = (ft.QUERIES / "lookup.rq").read_text(encoding="utf-8")
    iris = ft.entity_iris(release.store_path)[: args.count]
    queries = [lookup.replace(ft.LOOKUP_IRI, iri) for iri in iris]
    overrides: dict[str, Any] = {}
    for pair in filter(None, args.config.split(",")):
        name, _, value = pair.partition("=")
        overrides[name] = {"true": True, "false": False}.get(value, value)
    load_before = os.getloadavg()[0]
    m = asyncio.run(stages(dist, queries, overrides))
    http: dict[str, sb.Stats] = {}
    if not args.no_http:
        extra = shlex.split(args.serve_args)
        http["before"] = http_round_trip(dist, queries, args.work, [*extra, "--inline-rows", "0"])
        http["after"] = http_round_trip(dist, queries, args.work, extra)
    hop = m["pool.run"] - m["execute"]
    rows = [
        ("query string (url_pairs + from_pairs)", m["query string"], m["query string"]),
        ("plan (plan_query)", m["plan"], m["plan"]),
        ("the bounded-shape check (inline.bounded_by_construction)", None, m["bounded check"]),
        ("execute: guard, store.query, capped TSV, JSON (before: in a worker)", m["execute"],
         m["inline.run"]),
        ("hop to a worker and back (pool.run minus execute)", hop, None),
        ("respond (Response + CORS + send)", m["respond"], m["respond"]),
        ("**whole app call** (security headers, fast path, access log, all of the above)",
         m["app before"], m["app after"]),
        ("CPU of the whole app call, this process only", m["app cpu before"],
         m["app cpu after"]),
    ]  # fmt: skip
    for label in http:
        p50 = http[label].percentile(50) * 1000
        m[f"http {label}"] = p50
        m[f"outside {label}"] = p50 - m[f"app {label}"]
    if http:
        rows += [
            ("HTTP round trip, wrk, 1 connection (p50)", m["http before"], m["http after"]),
            ("of which outside the app (uvicorn's protocol, event loop, sockets, wrk)",
             m["outside before"], m["outside after"]),
        ]  # fmt: skip

    def cell(value: float | None) -> str:
        return "—" if value is None else f"{value:,.0f}"

    words = sys.argv[1:] if argv is None else argv
    command = "python bench/lookup_profile.py " + shlex.join(
        w.replace(f"{REPO}/", "") for w in words
    )
    out = [
        f"# Where a first-time lookup's time goes{': ' + args.label if args.label else ''}",
        "",
        f"Command: `{command}`",
        "",
        f"{args.size} synthetic triples, {len(queries):,} distinct lookups (each once per "
        f"stage), one at a time; median microseconds (wall clock, but the CPU row). "
        f"Before: `--inline-rows 0` (every query on a worker, as the service was); after: "
        f"the defaults (a lookup is bounded by construction and answered in the HTTP "
        f"process). Machine: {os.cpu_count()} CPUs shared with other work, Python "
        f"{platform.python_version()}; load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after.",
        "",
        "| stage | before µs | after µs |",
        "|---|---:|---:|",
        *(f"| {name} | {cell(before)} | {cell(after)} |" for name, before, after in rows),
    ]
    if http:
        out += [
            "",
            "wrk, 1 connection, 5 s: "
            + "; ".join(
                f"{label} {stats.throughput:,.0f} req/s, p99 {stats.percentile(99) * 1000:,.0f} µs"
                for label, stats in http.items()
            )
            + ".",
        ]
    sb.emit_report("\n".join(out) + "\n", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
