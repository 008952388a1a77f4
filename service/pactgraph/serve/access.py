"""The structured access log: one JSON line per request, from the full app and the fast path.

Fields: method, path, status, duration_ms and query_sha256 (the SHA-256 of the SPARQL
query, set by the endpoint; never the query itself, which may be large or private).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

access_log = logging.getLogger("pactgraph.access")


def log_request(
    method: str, path: str, status: int, started: float, query_sha256: str | None
) -> None:
    """Write the access-log line of one request that began at ``started`` (perf_counter)."""
    if not access_log.isEnabledFor(logging.INFO):  # skip the JSON when nobody reads it
        return
    line = json.dumps(
        {
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "query_sha256": query_sha256,
        }
    )
    # Logger.info would also walk the stack to find the caller's file and line, which this
    # line never shows; at thousands of requests a second that walk is a visible cost.
    access_log.handle(access_log.makeRecord(access_log.name, logging.INFO, "", 0, line, (), None))


class AccessLog:
    """ASGI middleware: :func:`log_request` once the response has been sent."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_watch(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            state = scope.get("state") or {}
            log_request(scope["method"], scope["path"], status, started, state.get("query_sha256"))
