"""The SPARQL 1.1 Protocol endpoint ``/sparql``: request parsing, content negotiation, errors.

Read-only by design: ``update=`` and ``application/sparql-update`` are refused with 403,
whatever their content (so ``LOAD``, ``CLEAR`` and every other update never run). Queries go
to the worker pool (:mod:`pactgraph.serve.workers`); nothing here evaluates SPARQL.

Status codes: 400 malformed request or query (syntax errors carry the parser's line and
column), 403 updates, 405 other methods, 406 no acceptable format, 413 request or query too
large, 415 unsupported POST media type, 422 result over the row cap, 502 the remote store
(``serve --backend``) failed, 503 (with ``Retry-After``) when every worker is busy and the
queue is full, 504 query over the time limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from pactgraph.rdf.formats import (
    FORMATS_BY_KIND,
    GRAPH_BY_MEDIA_TYPE,
    RESULT_BY_MEDIA_TYPE,
    Format,
    ResultKind,
)
from pactgraph.serve import openapi
from pactgraph.serve.cache import CachedAnswer, CacheKey, ResultCache
from pactgraph.serve.config import ServiceConfig
from pactgraph.serve.guard import is_deterministic, unknown_graph_message
from pactgraph.serve.workers import PoolBusy, QueryTask, Reply

router = APIRouter()
log = logging.getLogger("pactgraph.sparql")

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"
# Methods whose answers carry ETag and Cache-Control (a POST is not cacheable by HTTP caches;
# it still shares the server's own result cache).
CACHEABLE_METHODS = frozenset({"GET", "HEAD"})
HTML = "text/html"

# Spellings of ``format=`` other than the format tables' own names and media types, as sent
# by common clients (SPARQLWrapper sends ``turtle``, ``json-ld``, ``rdf+xml`` and ``xml``).
FORMAT_PARAM_ALIASES: dict[ResultKind, dict[str, str]] = {
    "results": {"sparql-json": "json", "srj": "json", "srx": "xml"},
    "graph": {
        "turtle": "ttl",
        "ntriples": "nt",
        "n-triples": "nt",
        "json-ld": "jsonld",
        "json": "jsonld",
        "rdf+xml": "rdf",
        "rdfxml": "rdf",
        "xml": "rdf",
        "nquads": "nq",
        "n-quads": "nq",
    },
}
BY_MEDIA_TYPE: dict[ResultKind, dict[str, Format]] = {
    "results": RESULT_BY_MEDIA_TYPE,
    "graph": GRAPH_BY_MEDIA_TYPE,
}
UPDATE_REFUSED = (
    "This endpoint is read-only: SPARQL Update (including LOAD, CLEAR, INSERT and DROP) is "
    "not accepted. Send queries with GET ?query=, a form POST with query=, or a POST of "
    "application/sparql-query."
)


class ProtocolError(Exception):
    """A request the protocol layer refuses, with its status and a message for the client.

    >>> ProtocolError(415, "no").status
    415
    """

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def response(self) -> Response:
        """The plain-text error response."""
        reply = Reply.error(self.status, self.message)
        return Response(reply.body, reply.status, self.headers, media_type=reply.content_type)


# ------------------------------------------------------------------------ negotiation


@dataclass(frozen=True)
class MediaRange:
    """One entry of an ``Accept`` header."""

    type: str
    subtype: str
    q: float

    def matches(self, media_type: str) -> int:
        """How specifically this range matches ``media_type``: 3 exact, 2 type/*, 1 */*, 0 no.

        >>> MediaRange("text", "*", 1.0).matches("text/csv")
        2
        """
        kind, _, sub = media_type.partition("/")
        if self.type == "*":
            return 1
        if self.type != kind:
            return 0
        if self.subtype == "*":
            return 2
        return 3 if self.subtype == sub else 0


def parse_accept(header: str) -> list[MediaRange]:
    """Parse an ``Accept`` header (q-values default to 1; malformed q counts as 0).

    >>> [(r.subtype, r.q) for r in parse_accept("text/turtle;q=0.5, application/*")]
    [('turtle', 0.5), ('*', 1.0)]
    """
    ranges = []
    for item in header.split(",", MAX_ACCEPT_RANGES)[:MAX_ACCEPT_RANGES]:
        media, *params = (part.strip() for part in item.split(";"))
        if "/" not in media:
            if media == "*":
                media = "*/*"
            else:
                continue
        kind, _, sub = media.lower().partition("/")
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append(MediaRange(kind, sub, q))
    return ranges


def quality(media_type: str, aliases: tuple[str, ...], ranges: list[MediaRange]) -> float:
    """The q-value a client gives a format (the most specific matching range wins).

    Aliases (``text/xml`` for SPARQL XML results, say) count only when named exactly: a
    wildcard such as ``text/*`` must not select a format whose ``Content-Type`` would then
    be outside it.

    >>> quality("text/csv", (), parse_accept("text/*;q=0.3, text/csv;q=0.9"))
    0.9
    >>> quality("text/csv", (), parse_accept("text/csv;q=0, */*"))
    0.0
    >>> quality("application/sparql-results+xml", ("text/xml",), parse_accept("text/*"))
    0.0
    """
    best = 0.0
    for candidate in (media_type, *aliases):
        specificity, q = 0, 0.0
        for media_range in ranges:
            match = media_range.matches(candidate)
            if candidate != media_type and match < 3:
                continue
            if match > specificity or (match == specificity and match and media_range.q > q):
                specificity, q = match, media_range.q
        best = max(best, q)
    return best


# Clients send the same few Accept headers over and over; parsing and ranking one costs more
# than the rest of a cached answer, so the (pure) outcome is remembered per header value, for
# values up to MEMO_HEADER_BYTES: a longer one is ranked afresh, never kept as a key.
MEMO_HEADER_BYTES = 512
# The most media ranges of an Accept header that are read (no client sends more).
MAX_ACCEPT_RANGES = 64


def negotiate(accept: str | None, kind: ResultKind) -> tuple[str | None, float]:
    """:func:`rank`, remembered for Accept values up to :data:`MEMO_HEADER_BYTES`. Only the
    first :data:`MAX_ACCEPT_RANGES` ranges of a header count.

    >>> negotiate("x/y, " * 10 + "text/csv", "results")
    ('csv', 1.0)
    >>> negotiate("x/y, " * 1000 + "text/csv", "results")
    (None, 0.0)
    """
    if accept is not None and len(accept) > MEMO_HEADER_BYTES:
        return rank(accept, kind)
    return _rank_memo(accept, kind)


def rank(accept: str | None, kind: ResultKind) -> tuple[str | None, float]:
    """The format name to use for ``kind`` under ``accept`` and its q; ``None`` if none fit.

    No header (or an empty one) means the default: the first format of the table. Ties go to
    the table's order, so ``*/*`` gives JSON results and Turtle graphs.

    >>> negotiate("text/csv;q=0.5, application/sparql-results+xml", "results")
    ('xml', 1.0)
    >>> negotiate("application/n-triples", "results")
    (None, 0.0)
    >>> negotiate(None, "graph")
    ('ttl', 1.0)
    """
    table = FORMATS_BY_KIND[kind]
    if not accept or not accept.strip():
        return next(iter(table)), 1.0
    ranges = parse_accept(accept)
    best, best_q = None, 0.0
    for name, fmt in table.items():
        q = quality(fmt.media_type, fmt.aliases, ranges)
        if q > best_q:
            best, best_q = name, q
    return best, best_q


_rank_memo = lru_cache(maxsize=512)(rank)


def format_from_param(values: list[str], kind: ResultKind) -> str | None:
    """The first ``format=`` value naming a format of this kind (name, alias or media type).

    >>> format_from_param(["rdf+xml", "application/rdf+xml"], "graph")
    'rdf'
    >>> format_from_param(["csv"], "graph") is None
    True
    """
    table = FORMATS_BY_KIND[kind]
    for raw in values:
        value = raw.strip().lower()
        media_type = value.split(";")[0].strip()
        if value in table:
            return value
        if value in FORMAT_PARAM_ALIASES[kind]:
            return FORMAT_PARAM_ALIASES[kind][value]
        if media_type in BY_MEDIA_TYPE[kind]:
            return BY_MEDIA_TYPE[kind][media_type].name
    return None


def _explicit_ranges(accept: str | None) -> str | None:
    """The ranges of an Accept header that name a media type, wildcards dropped (of the first
    64 ranges: no client library sends more).

    >>> _explicit_ranges("text/turtle;q=0.9, */*, application/*")
    'text/turtle;q=0.9'
    """
    if not accept:
        return None
    kept = [r for r in accept.split(",")[:64] if "*" not in r.split(";")[0]]
    return ",".join(kept) or None


def _negotiated(accept: str | None, kind: ResultKind) -> str | None:
    return negotiate(accept, kind)[0] if accept else None


def choose_formats(accept: str | None, format_values: list[str]) -> tuple[str | None, str | None]:
    """(SELECT/ASK format, CONSTRUCT/DESCRIBE format); raises 406 when neither can be made.

    >>> choose_formats("text/csv", [])
    ('csv', None)
    >>> choose_formats("text/csv", ["ttl"])
    ('csv', 'ttl')
    >>> choose_formats("text/turtle, */*;q=0.1", ["n3"])
    (None, 'ttl')
    """
    # ``format=`` wins for each kind it names a format of. For a kind it names none of (a
    # format this service does not write, such as SPARQLWrapper's ``format=n3``), a media
    # type the Accept header names explicitly decides; a wildcard does not (``format=banana``
    # with ``*/*`` stays a 406: the parameter asked for something specific).
    if format_values:
        explicit = _explicit_ranges(accept)
        chosen = (
            format_from_param(format_values, "results") or _negotiated(explicit, "results"),
            format_from_param(format_values, "graph") or _negotiated(explicit, "graph"),
        )
    else:
        chosen = negotiate(accept, "results")[0], negotiate(accept, "graph")[0]
    wanted = " and ".join(
        part
        for part in (
            "format=" + ",".join(format_values) if format_values else "",
            f"Accept: {accept}" if accept is not None or not format_values else "",
        )
        if part
    )
    if chosen == (None, None):
        if len(wanted) > 200:  # echo enough to recognise, not a 60 KB header back
            wanted = wanted[:200] + "…"
        raise ProtocolError(406, f"Cannot produce {wanted}. {offered_types()}")
    return chosen


def offered_types() -> str:
    """The media types the endpoint writes, for 406 messages."""
    parts = []
    for kind, label in (("results", "SELECT/ASK"), ("graph", "CONSTRUCT/DESCRIBE")):
        types = ", ".join(f.media_type for f in FORMATS_BY_KIND[kind].values())
        parts.append(f"{label}: {types}")
    return "Available: " + "; ".join(parts) + "."


# ------------------------------------------------------------------------ request parsing


@dataclass
class ProtocolRequest:
    """The protocol parameters of one request."""

    query: str | None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    dataset_given: bool = False


def _media_type(content_type: str) -> tuple[str, dict[str, str]]:
    media, *params = (part.strip() for part in content_type.split(";"))
    parsed = {}
    for param in params:
        name, _, value = param.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"').lower()
    return media.lower(), parsed


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) more than ``limit`` bytes without reading them all.

    A compressed body (``Content-Encoding: gzip`` and the like) is refused with 415 before a
    byte is read: it is never inflated, so a small bomb cannot become gigabytes here.
    """
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise ProtocolError(
            415, f"Content-Encoding {encoding} is not accepted: send the body uncompressed."
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ProtocolError(413, f"Request body over this endpoint's limit of {limit} bytes.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ProtocolError(413, f"Request body over this endpoint's limit of {limit} bytes.")
    return bytes(body)


def _utf8(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProtocolError(400, f"The {what} is not valid UTF-8: {error}") from error


def from_pairs(pairs: Sequence[tuple[str, str]]) -> ProtocolRequest:
    """The protocol parameters of decoded ``name=value`` pairs; 403 for an update, 400 for
    more than one ``query``.

    >>> from_pairs([("query", "ASK {}"), ("format", "csv")]).formats
    ['csv']
    """
    names = [name for name, _ in pairs]
    if "update" in names or "using-graph-uri" in names or "using-named-graph-uri" in names:
        raise ProtocolError(403, UPDATE_REFUSED)
    queries = [value for name, value in pairs if name == "query"]
    if len(queries) > 1:
        raise ProtocolError(400, "More than one query parameter: send exactly one query.")
    return ProtocolRequest(
        query=queries[0] if queries else None,
        default_graphs=[v for n, v in pairs if n == "default-graph-uri"],
        named_graphs=[v for n, v in pairs if n == "named-graph-uri"],
        formats=[v for n, v in pairs if n == "format"],
        dataset_given="default-graph-uri" in names or "named-graph-uri" in names,
    )


def _parse_query_string(raw: bytes | str) -> tuple[tuple[str, str], ...]:
    text = _utf8(raw, "query string") if isinstance(raw, bytes) else raw
    try:
        return tuple(parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict"))
    except UnicodeDecodeError as error:
        raise ProtocolError(400, f"The query string is not valid UTF-8: {error}") from error


# Percent-decoding a query string costs more than answering from the result cache, and
# clients repeat the same few; short ones are remembered (long ones would crowd memory).
_MEMO_QUERY_STRING_BYTES = 4096
_parse_query_string_memo = lru_cache(maxsize=1024)(_parse_query_string)


def url_pairs(raw: bytes | str) -> tuple[tuple[str, str], ...]:
    """The decoded ``name=value`` pairs of a URL query string; 400 if it is not UTF-8.

    >>> url_pairs(b"query=ASK%20%7B%7D&format=json")
    (('query', 'ASK {}'), ('format', 'json'))
    """
    if len(raw) <= _MEMO_QUERY_STRING_BYTES:
        return _parse_query_string_memo(raw)
    return _parse_query_string(raw)


def _url_pairs(request: Request) -> list[tuple[str, str]]:
    return list(url_pairs(request.scope.get("query_string", b"")))


async def parse_request(request: Request, config: ServiceConfig) -> ProtocolRequest:
    """Read a GET or POST into :class:`ProtocolRequest`, or raise :class:`ProtocolError`."""
    url_pairs = _url_pairs(request)
    if request.method in ("GET", "HEAD"):
        return from_pairs(url_pairs)
    content_type = request.headers.get("content-type")
    if not content_type:
        raise ProtocolError(
            415, f"A POST needs a Content-Type: {FORM} (query=...) or {SPARQL_QUERY}."
        )
    media, params = _media_type(content_type)
    charset = params.get("charset", "utf-8")
    if media == SPARQL_UPDATE:
        raise ProtocolError(403, UPDATE_REFUSED)
    if media not in (FORM, SPARQL_QUERY):
        raise ProtocolError(
            415, f"Unsupported Content-Type {media}: use {FORM} (query=...) or {SPARQL_QUERY}."
        )
    if charset not in ("utf-8", "utf8"):
        raise ProtocolError(400, f"Only UTF-8 request bodies are accepted, not {charset}.")
    body = await read_body(request, config.max_body_size)
    if media == FORM:
        try:
            body_pairs = parse_qsl(
                _utf8(body, "form body"), keep_blank_values=True, encoding="utf-8", errors="strict"
            )
        except UnicodeDecodeError as error:
            raise ProtocolError(400, f"The form body is not valid UTF-8: {error}") from error
        # Dataset parameters may come in the URL or the body (the W3C tests do both).
        return from_pairs(url_pairs + body_pairs)
    parsed = from_pairs(url_pairs)
    if parsed.query is not None:
        raise ProtocolError(400, "A query in both the URL and the request body: send one.")
    parsed.query = _utf8(body, "request body")
    return parsed


# ------------------------------------------------------------------------ the endpoint


def _check_graphs(parsed: ProtocolRequest, known: set[str]) -> None:
    for where, graphs in (
        ("default-graph-uri", parsed.default_graphs),
        ("named-graph-uri", parsed.named_graphs),
    ):
        for graph in graphs:
            if graph not in known:
                raise ProtocolError(400, unknown_graph_message(where, graph))


def _service_description(request: Request, parsed: ProtocolRequest) -> Response:
    from pactgraph.serve.description import describe

    accept = request.headers.get("accept")
    if parsed.formats:
        name = format_from_param(parsed.formats, "graph")
        q = 1.0
    else:
        name, q = negotiate(accept, "graph")
    if accept and not parsed.formats and quality(HTML, (), parse_accept(accept)) > q:
        return RedirectResponse("/", status_code=303)
    if name is None:
        types = ", ".join(f.media_type for f in FORMATS_BY_KIND["graph"].values())
        raise ProtocolError(406, f"The service description is available as: {types}.")
    fmt = FORMATS_BY_KIND["graph"][name]
    body = describe(request, fmt)
    return Response(body, 200, {"Vary": "Accept"}, media_type=fmt.content_type)


@dataclass(frozen=True)
class QueryPlan:
    """What a query request resolves to before anything runs: the task, its cache key, tag.

    A pure function of the request's parameters, its ``Accept`` header, the endpoint's IRI
    and the served release (see :func:`plan_query`), so it can be remembered per request.
    """

    task: QueryTask
    key: CacheKey
    etag: str
    query_sha256: str
    # False for NOW(), RAND(), UUID(), STRUUID(), BNODE() and CONSTRUCT blank nodes: such
    # answers are never cached, tagged or answered with 304 (pactgraph.serve.guard).
    deterministic: bool = True


def query_hash(query: str) -> str:
    """The SHA-256 of a query's text, as the access log shows it.

    >>> query_hash("ASK {}")[:12]
    '819ea91ed5f1'
    """
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


def plan_query(
    parsed: ProtocolRequest, accept: str | None, request_base: str, state: Any
) -> QueryPlan:
    """Check a parsed request with a query and resolve it to a :class:`QueryPlan`.

    ``state`` is the app's state (config, release, known graphs); ``request_base`` the
    request's base URL. Raises :class:`ProtocolError` (413, 400, 406) for what the endpoint
    refuses before a worker sees the query.
    """
    config: ServiceConfig = state.config
    query = parsed.query
    assert query is not None
    if len(query) > config.max_query_length:
        raise ProtocolError(
            413, f"Query over this endpoint's limit of {config.max_query_length} characters."
        )
    if not query.strip():
        raise ProtocolError(400, "The query is empty.")
    _check_graphs(parsed, state.known_graphs)
    result_format, graph_format = choose_formats(accept, parsed.formats)
    task = QueryTask(
        query=query,
        result_format=result_format,
        graph_format=graph_format,
        default_graphs=tuple(parsed.default_graphs) if parsed.dataset_given else None,
        named_graphs=tuple(parsed.named_graphs) if parsed.dataset_given else None,
        base_iri=config.endpoint_iri(request_base),
    )
    key = CacheKey(
        state.release.version,
        task.query,
        task.default_graphs,
        task.named_graphs,
        f"{result_format}|{graph_format}",
        task.base_iri,
    )
    # The answer is a function of the key alone, so its tag is known before it is run.
    return QueryPlan(task, key, key.etag(), query_hash(query), is_deterministic(query))


def tagged_headers(plan: QueryPlan, config: ServiceConfig) -> dict[str, str]:
    """The headers of a GET/HEAD answer: ``Vary``, ``ETag`` and max-age when the answer is
    the same every time, else ``no-store`` and no validator."""
    if not plan.deterministic:
        return {"Vary": "Accept", "Cache-Control": "no-store"}
    return {
        "Vary": "Accept",
        "ETag": plan.etag,
        "Cache-Control": f"public, max-age={config.cache_max_age_s}",
    }


def not_modified(plan: QueryPlan, config: ServiceConfig) -> Response:
    """304 for a GET/HEAD whose ``If-None-Match`` names the answer's tag."""
    return Response(status_code=304, headers=tagged_headers(plan, config))


def cache_hit(
    plan: QueryPlan, cached: CachedAnswer, method: str, config: ServiceConfig
) -> Response:
    """The response for an answer found in the result cache."""
    headers = tagged_headers(plan, config) if method in CACHEABLE_METHODS else {"Vary": "Accept"}
    headers["X-Cache"] = "hit"
    if len(cached.body) > config.chunk_size:  # sent as a worker's large answer is
        headers["Content-Length"] = str(len(cached.body))
        return GuardedStream(
            _chunks(cached.body, config.chunk_size),
            200,
            headers,
            media_type=cached.content_type,
            stall_timeout_s=config.send_stall_timeout_s,
        )
    return Response(cached.body, 200, headers, media_type=cached.content_type)


async def run_query(plan: QueryPlan, method: str, state: Any) -> Response:
    """Run a planned query on the pool and wrap its answer (kept in the result cache if it
    is a small success); raises :class:`ProtocolError` (503) when the queue is full."""
    config: ServiceConfig = state.config
    cache: ResultCache = state.result_cache
    headers = tagged_headers(plan, config) if method in CACHEABLE_METHODS else {"Vary": "Accept"}
    if cache.enabled and plan.deterministic:
        headers["X-Cache"] = "miss"
    cache_it = cache.enabled and plan.deterministic
    inline = getattr(state, "inline", None)
    # Bounded by construction (pactgraph.serve.inline): answered here unless over its caps.
    answer = inline.run(plan.task) if inline is not None and inline.eligible(plan.task) else None
    try:
        if answer is None:
            answer = await state.pool.run(plan.task)
    except PoolBusy:
        raise ProtocolError(
            503,
            "Every query worker is busy and the queue is full; retry shortly.",
            {"Retry-After": str(config.retry_after_s)},
        ) from None
    if answer.status != 200:  # only successful answers are tagged, cacheable or cached
        headers = {"Vary": "Accept"}
    headers["Content-Length"] = str(answer.length)
    if answer.body is not None:
        if answer.status == 200 and cache_it:
            cache.put(plan.key, CachedAnswer(answer.content_type, answer.body))
        return Response(answer.body, answer.status, headers, media_type=answer.content_type)
    # An answer over one chunk was read off the worker whole (pactgraph.serve.workers): it is
    # kept like a small one, so a repeated large page (a LIMIT 1000 join) is a cache hit too.
    held = getattr(answer.stream, "body", None)
    if answer.status == 200 and cache_it and held is not None:
        cache.put(plan.key, CachedAnswer(answer.content_type, held))
    return GuardedStream(
        answer.stream,
        answer.status,
        headers,
        media_type=answer.content_type,
        stall_timeout_s=config.send_stall_timeout_s,
    )


async def _chunks(body: bytes, size: int) -> AsyncIterator[bytes]:
    view = memoryview(body)
    for start in range(0, len(view), size):
        yield bytes(view[start : start + size])


class GuardedStream(StreamingResponse):
    """A streamed answer whose client must keep taking bytes: a send that waits more than
    ``stall_timeout_s`` (the client reads nothing) ends the response, so the connection is
    closed and the answer's held bytes are given back; a stalled reader costs only itself."""

    def __init__(self, *args: Any, stall_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stall_timeout_s = stall_timeout_s

    async def stream_response(self, send: Any) -> None:
        async def guarded(message: Any) -> None:
            await asyncio.wait_for(send(message), self.stall_timeout_s)

        try:
            await super().stream_response(guarded)
        except TimeoutError:
            log.warning("closed a connection that took no bytes for %gs", self.stall_timeout_s)
        finally:
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                await close()


async def _answer(request: Request) -> Response:
    state = request.app.state
    config: ServiceConfig = state.config
    parsed = await parse_request(request, config)
    if parsed.query is None:
        if parsed.dataset_given:
            raise ProtocolError(400, "default-graph-uri/named-graph-uri given without a query.")
        if request.method == "POST":
            raise ProtocolError(400, "The POST has no query parameter.")
        return _service_description(request, parsed)
    request.state.query_sha256 = query_hash(parsed.query)
    base = config.service_base(request.scope)
    plan = plan_query(parsed, request.headers.get("accept"), base, state)
    if_none_match = request.headers.get("if-none-match")
    conditional = request.method in CACHEABLE_METHODS and plan.deterministic
    if conditional and etag_matches(if_none_match, plan.etag):
        return not_modified(plan, config)
    cache: ResultCache = state.result_cache
    if cache.enabled and plan.deterministic:
        cached = cache.get(plan.key)
        if cached is not None:
            if conditional and names_any_tag(if_none_match):
                return not_modified(plan, config)
            return cache_hit(plan, cached, request.method, config)
    response = await run_query(plan, request.method, state)
    if conditional and names_any_tag(if_none_match) and response.status_code == 200:
        return not_modified(plan, config)
    return response


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` itself.

    ``*`` is not a match here: it matches only an answer that exists, and whether a query
    has one (rather than a 400 or a 422) is known only once it has run
    (:func:`names_any_tag`).

    >>> etag_matches('W/"a", "b"', '"b"'), etag_matches("*", '"x"'), etag_matches(None, '"x"')
    (True, False, False)
    """
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags


def names_any_tag(if_none_match: str | None) -> bool:
    """Whether ``If-None-Match`` is ``*``: any current answer makes the request a 304.

    >>> names_any_tag(" * "), names_any_tag('"a"'), names_any_tag(None)
    (True, False, False)
    """
    return bool(if_none_match) and "*" in {t.strip() for t in if_none_match.split(",")}


# One route per method: GET/HEAD take URL parameters, POST a body (see pactgraph.serve.openapi).
SPARQL_ROUTE = {
    "response_class": Response,
    "responses": openapi.sparql_responses(),
    "name": "sparql",
}


@router.api_route(
    "/sparql", methods=["GET", "HEAD"], openapi_extra=openapi.sparql_get(), **SPARQL_ROUTE
)
@router.post("/sparql", openapi_extra=openapi.sparql_post(FORM, SPARQL_QUERY), **SPARQL_ROUTE)
async def sparql_endpoint(request: Request) -> Response:
    """SPARQL 1.1 Protocol query operation; the service description when there is no query."""
    try:
        return await _answer(request)
    except ProtocolError as error:
        return error.response()


@router.api_route("/sparql", methods=["PUT", "DELETE", "PATCH"], include_in_schema=False)
async def sparql_wrong_method(request: Request) -> Response:
    """405: the protocol's query operation is GET or POST."""
    return ProtocolError(
        405,
        f"{request.method} is not a SPARQL Protocol operation here; use GET or POST.",
        {"Allow": ALLOWED_METHODS},
    ).response()


@router.options("/sparql", include_in_schema=False)
async def sparql_options() -> Response:
    """Plain OPTIONS (CORS preflights are answered by the middleware before this)."""
    return Response(status_code=204, headers={"Allow": ALLOWED_METHODS})
