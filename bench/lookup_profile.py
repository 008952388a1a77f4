"""Where a first-time entity lookup's time goes, stage by stage (issue 18).

Runs the service's own functions in this process, on a release built from the synthetic
data (``first_time_bench.prepare``), for ``--count`` distinct lookups (every instrument and
obligation IRI in turn, each asked once, so no memo or cache helps) and reports the median
microseconds of each stage:

- **query string**: percent-decoding the URL's query string into the protocol parameters
  (``url_pairs`` + ``from_pairs``);
- **plan**: the endpoint's planner (``plan_query``: limits, negotiation, task, cache key and
  ETag, the determinism check);
- **query**: the guard and pyoxigraph's evaluation (``store.query`` on the release store,
  opened read-only, as a worker does);
- **serialize**: writing the answer (``serialize_capped``: capped TSV, then the requested
  format, as a worker does);
- **hop to a worker and back**: ``WorkerPool.run`` for the same task (pickling the task,
  the pipe both ways, the event loop's wake-up, the worker's thread) minus the worker's own
  query and serialize time;
- **respond**: building the response and passing it through CORS to the ASGI ``send``;
- **whole app call**: the app as uvicorn calls it (security headers, the fast path, the
  access-log line), with an ASGI ``send`` that keeps the messages;

then the **HTTP round trip** measured by wrk with one connection over the same lookups
(``--no-http`` skips it); what the app call does not explain is uvicorn's protocol, the
event loop and the sockets. ``--inline`` also times the app with the bounded in-process
path on (``ServiceConfig.inline_bounded``), when it exists.

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
    """Median seconds per stage over ``queries`` (each asked once per stage)."""
    from pyoxigraph import NamedNode, Store
    from starlette.datastructures import Headers

    from pactgraph.api.app import create_app
    from pactgraph.api.config import ServiceConfig
    from pactgraph.api.sparql import from_pairs, plan_query, run_query, url_pairs
    from pactgraph.api.workers import execute, serialize_capped
    from pactgraph.formats import FORMATS_BY_KIND
    from pactgraph.release import latest_release

    release = latest_release(dist)
    assert release is not None
    config = ServiceConfig(result_cache_bytes=0, **config_overrides)
    app = create_app(release, config)
    state = app.state
    port = 8000
    base = config.service_base(_scope("", port))
    store = Store.read_only(str(release.store_path))
    known = {g.value for g in store.named_graphs() if isinstance(g, NamedNode)}
    fmt = FORMATS_BY_KIND["results"]["json"]
    times: dict[str, list[float]] = {
        k: []
        for k in (
            "query string",
            "plan",
            "query",
            "serialize",
            "pool.run",
            "respond",
            "whole app call",
        )
    }
    await state.pool.start()
    try:
        for query in queries:
            scope = _scope(query, port)
            t0 = time.perf_counter()
            parsed = from_pairs(url_pairs(scope["query_string"]))
            t1 = time.perf_counter()
            plan = plan_query(parsed, ACCEPT, base, state)
            t2 = time.perf_counter()
            times["query string"].append(t1 - t0)
            times["plan"].append(t2 - t1)
            # The worker's share, measured here on the same store and code.
            t0 = time.perf_counter()
            result = store.query(plan.task.query, use_default_graph_as_union=True)
            t1 = time.perf_counter()
            serialize_capped(result, fmt, config.row_cap, config.max_answer_bytes)
            t2 = time.perf_counter()
            times["query"].append(t1 - t0)
            times["serialize"].append(t2 - t1)
            execute(store, plan.task, known, config.allows_service, config.row_cap)
            t0 = time.perf_counter()
            await state.pool.run(plan.task)
            times["pool.run"].append(time.perf_counter() - t0)
            sent: list[dict[str, Any]] = []

            async def keep(message: dict[str, Any], sent: list = sent) -> None:
                sent.append(message)

            cors = app.fast_path.cors if app.fast_path else None
            t0 = time.perf_counter()
            response = await run_query(plan, "GET", state)
            t_run = time.perf_counter()
            if cors is not None:

                async def cors_send(
                    message: dict[str, Any], scope: dict = scope, cors: Any = cors
                ) -> None:
                    await cors.send(message, send=keep, request_headers=Headers(scope=scope))

                await response(scope, _receive, cors_send)
            t1 = time.perf_counter()
            times["respond"].append(t1 - t_run)
        for query in queries:  # the app as uvicorn calls it, each lookup once more
            scope = _scope(query, port)
            sent = []

            async def keep_all(message: dict[str, Any], sent: list = sent) -> None:
                sent.append(message)

            t0 = time.perf_counter()
            await app(scope, _receive, keep_all)
            times["whole app call"].append(time.perf_counter() - t0)
            assert sent[0]["status"] == 200, sent[0]
    finally:
        await state.pool.close()
    return {name: _median_us(samples) for name, samples in times.items()}


async def _with_lifespan(run: Callable[[], Awaitable[dict]]) -> dict:
    return await run()


def http_round_trip(dist: Path, queries: list[str], work: Path, extra: list[str]) -> sb.Stats:
    """wrk with one connection over the lookups against ``pactgraph serve --result-cache 0``."""
    port = sb.free_port()
    command = [
        sys.executable, "-m", "pactgraph.cli", "serve", "--dist", str(dist), "--port", str(port),
        "--result-cache", "0", *extra,
    ]  # fmt: skip
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
    from pactgraph.release import latest_release

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
    medians = asyncio.run(stages(dist, queries, overrides))
    worker = medians["query"] + medians["serialize"]
    hop = medians["pool.run"] - worker
    http = None
    if not args.no_http:
        extra = shlex.split(args.serve_args)
        http = http_round_trip(dist, queries, args.work, extra)
    rows = [
        ("query string (url_pairs + from_pairs)", medians["query string"]),
        ("plan (plan_query)", medians["plan"]),
        ("query (store.query, in a worker)", medians["query"]),
        ("serialize (serialize_capped, in a worker)", medians["serialize"]),
        ("hop to a worker and back (pool.run minus query and serialize)", hop),
        ("respond (Response + CORS + send)", medians["respond"]),
    ]
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
        f"stage), one at a time; median microseconds. Machine: {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after.",
        "",
        "| stage | median µs |",
        "|---|---:|",
        *(f"| {name} | {value:,.0f} |" for name, value in rows),
        f"| **whole app call** (security headers, fast path, access log, all of the above) "
        f"| **{medians['whole app call']:,.0f}** |",
    ]
    if http is not None:
        p50 = http.percentile(50) * 1000
        out += [
            f"| HTTP round trip, wrk, 1 connection (p50) | {p50:,.0f} |",
            f"| of which outside the app (uvicorn's protocol, event loop, sockets, wrk) "
            f"| {p50 - medians['whole app call']:,.0f} |",
            "",
            f"wrk, 1 connection, 5 s: {http.throughput:,.0f} req/s, p99 "
            f"{http.percentile(99) * 1000:,.0f} µs.",
        ]
    sb.emit_report("\n".join(out) + "\n", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
