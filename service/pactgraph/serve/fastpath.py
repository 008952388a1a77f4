"""The fast path: ``GET``/``HEAD /sparql`` queries answered before FastAPI is entered.

Profiling a cached entity lookup showed the answer itself (cache look-up and response) at
about a quarter of the request's time in the app; the rest went to FastAPI's routing,
dependency solving, its middleware layers and parsing the same query string twice. So the
app (:class:`pactgraph.serve.app.Service`) first offers every HTTP request to
:meth:`FastPath.answer`, which takes a ``GET``/``HEAD /sparql`` once the endpoint's planner
accepts it and declines everything else. It does not re-implement the endpoint:

- the request is resolved by the endpoint's own :func:`pactgraph.serve.sparql.plan_query`,
  remembered per query string, ``Accept`` header and base URL (it is a pure function of
  them); whatever the planner refuses (an update, a duplicate ``query``, an unknown format
  or graph, an over-long query) and a request without a query go to FastAPI untouched;
- the answer is the endpoint's own: :func:`~pactgraph.serve.sparql.not_modified` (304),
  :func:`~pactgraph.serve.sparql.cache_hit`, else :func:`~pactgraph.serve.sparql.run_query`
  on the worker pool (errors from the worker, 503 and streaming included);
- CORS headers come from the app's own ``CORSMiddleware`` policy object, and the
  access-log line from :func:`pactgraph.serve.access.log_request`.

A 304 or cache hit is a pure function of the plan, the method, the cached body's type and
size and the ``Origin`` header, so its ``http.response.start`` message is built once that way
and then reused. POSTs and every other path go through FastAPI. Tests compare the two paths
byte for byte (``tests/test_fastpath.py``); ``serve --no-fast-path`` turns this off.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import lru_cache, partial
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware

from pactgraph.serve.access import log_request
from pactgraph.serve.cache import CachedAnswer, ResultCache
from pactgraph.serve.sparql import (
    CACHEABLE_METHODS,
    MEMO_HEADER_BYTES,
    ProtocolError,
    QueryPlan,
    cache_hit,
    etag_matches,
    from_pairs,
    names_any_tag,
    not_modified,
    plan_query,
    run_query,
    url_pairs,
)

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]
PATH = "/sparql"
# Plans are small, but their key holds the query string: long ones are planned every time.
_MEMO_QUERY_STRING_BYTES = 4096
# The request headers the fast path reads (the first of each, as Starlette's Headers does).
_WANTED = frozenset({b"accept", b"if-none-match", b"origin"})
# Response heads kept (each a few hundred bytes).
_HEADS = 4096


class FastPath:
    """Answers planned ``GET``/``HEAD /sparql`` queries with the app's state and pool."""

    def __init__(self, state: Any, cors: CORSMiddleware) -> None:
        self.state = state
        self.cors = cors
        self.cache: ResultCache = state.result_cache
        self._plan_memo = lru_cache(maxsize=1024)(self._plan)
        self.answered = 0  # requests taken by the fast path (shown by /healthz)
        # (tag, method, Origin, body type and size or None for 304) -> start message; _head.
        self._heads: dict[tuple[Any, ...], dict[str, Any]] = {}

    def _plan(self, query_string: bytes, accept: str | None, base: str) -> QueryPlan | None:
        """The endpoint's plan for a GET query string; ``None`` when it is not a plain query."""
        try:
            parsed = from_pairs(url_pairs(query_string))
            if parsed.query is None:  # the service description, or an error: FastAPI's
                return None
            return plan_query(parsed, accept, base, self.state)
        except ProtocolError:
            return None

    def plan(self, query_string: bytes, accept: str | None, base: str) -> QueryPlan | None:
        """:meth:`_plan`, remembered for query strings up to 4 KB and short Accept values."""
        if len(query_string) > _MEMO_QUERY_STRING_BYTES or (
            accept is not None and len(accept) > MEMO_HEADER_BYTES
        ):
            return self._plan(query_string, accept, base)
        return self._plan_memo(query_string, accept, base)

    async def answer(self, scope: dict[str, Any], receive: Receive, send: Send) -> bool:
        """Answer ``scope`` if it is a planned ``GET``/``HEAD /sparql``; whether it did."""
        method = scope["method"]
        if method not in CACHEABLE_METHODS or scope["path"] != PATH:
            return False
        query_string = scope.get("query_string", b"")
        if not query_string:
            return False
        started = time.perf_counter()
        found: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in _WANTED and name not in found:
                found[name] = value
        accept = found.get(b"accept")
        base = self.state.config.service_base(scope)
        accept_text = accept.decode("latin-1") if accept is not None else None
        plan = self.plan(query_string, accept_text, base)
        if plan is None:
            return False
        self.answered += 1  # counted when taken: a streamed answer finishes after it is read
        status = 500  # what the access log says if answering fails before a response starts
        try:
            status = await self._respond(scope, receive, send, plan, found)
        finally:
            log_request(method, scope["path"], status, started, plan.query_sha256)
        return True

    async def _respond(
        self,
        scope: dict[str, Any],
        receive: Receive,
        send: Send,
        plan: QueryPlan,
        found: dict[bytes, bytes],
    ) -> int:
        """Send the answer for ``plan``; its status."""
        method = scope["method"]
        raw = found.get(b"if-none-match")
        if_none_match = raw.decode("latin-1") if raw is not None and plan.deterministic else None
        if etag_matches(if_none_match, plan.etag):
            cached = None
        elif (
            plan.deterministic
            and self.cache.enabled
            and (cached := self.cache.get(plan.key)) is not None
        ):
            if names_any_tag(if_none_match):  # `*`: an answer exists, so 304
                cached = None
            elif len(cached.body) > self.state.config.chunk_size:  # streamed, as on FastAPI
                response = cache_hit(plan, cached, method, self.state.config)
                cors_send = partial(self.cors.send, send=send, request_headers=Headers(scope=scope))
                await response(scope, receive, cors_send)
                return response.status_code
        else:
            try:
                response = await run_query(plan, method, self.state)
            except ProtocolError as error:
                response = error.response()
            if names_any_tag(if_none_match) and response.status_code == 200:
                response = not_modified(plan, self.state.config)
            # What CORSMiddleware.simple_response does around the endpoint on the full path.
            cors_send = partial(self.cors.send, send=send, request_headers=Headers(scope=scope))
            await response(scope, receive, cors_send)
            return response.status_code
        # The tag stands for the whole cache key; the body's type and size pin the answer.
        body = (cached.content_type, len(cached.body)) if cached is not None else None
        origin = found.get(b"origin")
        head_key = (plan.etag, method, origin, body)
        head = self._heads.get(head_key)
        if head is None:
            head = await self._head(scope, plan, method, cached)
            # A long Origin (the client's choice) is answered, never kept as a key.
            if origin is None or len(origin) <= MEMO_HEADER_BYTES:
                if len(self._heads) >= _HEADS:
                    self._heads.pop(next(iter(self._heads)))  # the oldest entry goes first
                self._heads[head_key] = head
        await send(head)
        await send({"type": "http.response.body", "body": b"" if cached is None else cached.body})
        return head["status"]

    async def _head(
        self,
        scope: dict[str, Any],
        plan: QueryPlan,
        method: str,
        cached: CachedAnswer | None,
    ) -> dict[str, Any]:
        """The ``http.response.start`` of a 304 (``cached`` is None) or a cache hit.

        Built by the endpoint's own response functions and the app's CORS policy, from the
        plan, the method, the cached answer and the request's ``Origin`` (the only request
        header the CORS policy reads), so :meth:`_respond` keeps it per combination.
        """
        config = self.state.config
        if cached is None:
            response = not_modified(plan, config)
        else:
            response = cache_hit(plan, cached, method, config)
        messages: list[dict[str, Any]] = []

        async def keep(message: dict[str, Any]) -> None:
            messages.append(message)

        start = {"type": "http.response.start", "status": response.status_code}
        start["headers"] = response.raw_headers
        await self.cors.send(start, send=keep, request_headers=Headers(scope=scope))
        return messages[0]
