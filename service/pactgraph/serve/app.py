"""The FastAPI app factory: one release, one worker pool, the routers, CORS and access logs.

``create_app(release, config)`` reads the release's named graphs once; the worker processes
start with the app (its lifespan) and stop with it; the ``/validate`` workers
(:mod:`pactgraph.serve.validation`) start with the first upload. Routers:
:mod:`pactgraph.serve.sparql`, :mod:`pactgraph.serve.dumps` and :mod:`pactgraph.serve.ui`; they find
the release, the config and the pools on ``app.state``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.requests import ClientDisconnect

from pactgraph import __version__
from pactgraph.release.published import Release, verify_release
from pactgraph.serve import (
    compare,
    compression,
    dumps,
    linked_data,
    openapi,
    sparql,
    ui,
    validate_api,
)
from pactgraph.serve.access import AccessLog
from pactgraph.serve.backends import make_backend
from pactgraph.serve.cache import ResultCache
from pactgraph.serve.config import ServiceConfig
from pactgraph.serve.fastpath import FastPath
from pactgraph.serve.inline import InlineRunner
from pactgraph.serve.security_headers import SecureSend
from pactgraph.serve.validation import ValidationPool
from pactgraph.serve.workers import WorkerPool

# Read-only endpoints: any origin may read, and no credentials are ever honoured (an echoed
# Origin with credentials is what lets other sites act as the user). One policy for the
# middleware and the fast path.
CORS_POLICY: dict[str, Any] = {
    "allow_origins": ["*"],
    "allow_credentials": False,
    "allow_methods": ["GET", "POST", "HEAD", "OPTIONS"],
    "allow_headers": ["*"],
    "max_age": 86400,
    # Response headers a cross-origin script may read beyond the CORS-safelisted ones:
    # validators, links to alternates and dumps, ranges, and our own diagnostics.
    "expose_headers": [
        "ETag",
        "Link",
        "Content-Location",
        "Content-Range",
        "Accept-Ranges",
        "Content-Disposition",
        "Retry-After",
        "Vary",
        "Location",
        "X-Cache",
        "X-SHACL-Conforms",
    ],
}


class Service(FastAPI):
    """The FastAPI app, with :mod:`pactgraph.serve.fastpath` in front of it.

    ``fast_path`` is set by :func:`create_app` (``None``: every request goes through
    FastAPI, as with ``ServiceConfig(fast_path=False)``).
    """

    fast_path: FastPath | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            send = SecureSend(send)
        if scope["type"] == "http" and compression.wants_gzip(scope):
            # Outermost, so the fast path's answers are compressed like FastAPI's.
            named_gzip = compression.map_validators(scope)
            send = compression.GzipSend(send, scope["method"], named_gzip)
        if (
            scope["type"] == "http"
            and self.fast_path is not None
            and await self.fast_path.answer(scope, receive, send)
        ):
            return
        await super().__call__(scope, receive, send)


def graph_sizes(release: Release) -> dict[str, int]:
    """Triples per named graph of the release store (read once, in the parent process)."""
    from pyoxigraph import NamedNode, Store

    store = Store.read_only(str(release.store_path))
    try:
        sizes = {g.value: 0 for g in store.named_graphs() if isinstance(g, NamedNode)}
        for graph in list(sizes):
            sizes[graph] = sum(
                1 for _ in store.quads_for_pattern(None, None, None, NamedNode(graph))
            )
    finally:
        del store
    return sizes


def create_app(
    release: Release, config: ServiceConfig | None = None, verify: bool = True
) -> Service:
    """The service over ``release``: ``/sparql``, ``/healthz``, the dumps and the UI routers.

    Raises :class:`pactgraph.release.published.ReleaseCorrupt` when a file of the release
    does not match its ``SHA256SUMS``: a corrupted release is refused, never served.
    ``verify=False`` skips that check (a process of ``serve --http-processes`` whose parent
    made it).
    """
    if verify:
        verify_release(release)
    config = config or ServiceConfig()
    sizes = graph_sizes(release)
    # The embedded worker pool, or a remote store with `serve --backend` (pactgraph.serve.backends).
    pool = make_backend(release, config, set(sizes))
    validation_pool = ValidationPool(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await pool.start()
        try:
            yield
        finally:
            await validation_pool.close()
            await pool.close()

    app = Service(
        title="pactgraph",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # The machine-readable description of every route (GET only; no docs UI, which would
        # load scripts from a CDN). pactgraph.serve.openapi keeps it true to what is answered.
        openapi_url="/openapi.json",
    )
    app.state.release = release
    app.state.dist = release.path.parent
    app.state.config = config
    app.state.pool = pool
    app.state.validation_pool = validation_pool
    app.state.graph_sizes = sizes
    app.state.known_graphs = set(sizes)
    app.state.description_cache = {}
    app.state.result_cache = ResultCache(config.result_cache_bytes)
    # The embedded store, read-only, for queries bounded by construction (None: off).
    app.state.inline = (
        InlineRunner(release.store_path, config, set(sizes))
        if config.inline_rows > 0 and isinstance(pool, WorkerPool)
        else None
    )

    @app.exception_handler(ClientDisconnect)
    async def client_gone(request: Request, error: ClientDisconnect) -> PlainTextResponse:
        # A client that hangs up mid-body (POST /sparql, /validate) is no server error: no
        # 500 and traceback, just its access-log line. Nobody is left to read this answer.
        return PlainTextResponse("The client closed the connection mid-body.\n", 400)

    app.add_middleware(CORSMiddleware, **CORS_POLICY)
    app.add_middleware(AccessLog)
    if config.fast_path:
        app.fast_path = FastPath(app.state, CORSMiddleware(app, **CORS_POLICY))

    @app.get("/healthz", include_in_schema=False)
    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok" if pool.alive else "starting",
                "version": release.version,
                "triple_count": release.triple_count,
                "workers": pool.alive,
                "busy": pool.busy,
                "worker_restarts": pool.restarts,
                # Finished answers held for clients still reading them (embedded pool).
                "held_answer_bytes": getattr(pool, "buffered", 0),
                "network_sandbox": pool.sandboxed,
                # Which HTTP process answered (serve --http-processes: each has its own
                # workers, caches and counters, all shown here for that process).
                "pid": os.getpid(),
                "result_cache": app.state.result_cache.stats(),
                # Queries answered in this process (pactgraph.serve.inline; None: off).
                "inline": app.state.inline.stats() if app.state.inline else None,
                # Requests answered by the fast path (None: it is switched off).
                "fast_path_answers": app.fast_path.answered if app.fast_path else None,
                # POST /validate's own workers (none until the first upload).
                "validation": {
                    "workers": validation_pool.alive,
                    "busy": validation_pool.busy,
                    "worker_restarts": validation_pool.restarts,
                },
            }
        )

    app.include_router(sparql.router)
    app.include_router(dumps.router)
    app.include_router(ui.router)
    app.include_router(linked_data.router)
    app.include_router(compare.router)
    app.include_router(validate_api.router)
    openapi.install(app)
    return app
