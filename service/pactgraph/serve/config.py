"""Service limits and settings, in one frozen object.

Every limit the endpoint enforces lives here, with the default the issue asks for, so the
CLI, the app and the tests read the same numbers.

>>> ServiceConfig().timeout_s
30.0
>>> ServiceConfig(timeout_s=2).endpoint_iri("http://127.0.0.1:8000/")
'http://127.0.0.1:8000/sparql'
>>> ServiceConfig(public_base_iri="https://w3id.org/pactgraph/").endpoint_iri("http://x/")
'https://w3id.org/pactgraph/sparql'
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

ENDPOINT_PATH = "sparql"


def _default_workers() -> int:
    # One worker per core keeps queries CPU-bound without oversubscribing; at least two, so
    # one runaway query cannot take the whole service while it waits for its timeout.
    return max(2, min(8, os.cpu_count() or 2))


@dataclass(frozen=True)
class ServiceConfig:
    """What the SPARQL endpoint allows. All sizes are in bytes or characters, times in seconds.

    >>> ServiceConfig(service_allow_list=("https://query.wikidata.org/",)).allows_service(
    ...     "https://query.wikidata.org/sparql")
    True
    >>> ServiceConfig().allows_service("http://127.0.0.1:9999/sparql")
    False
    """

    timeout_s: float = 30.0
    # Worker processes, i.e. queries that run at the same time.
    max_concurrent: int = field(default_factory=_default_workers)
    # Requests allowed to wait for a free worker; beyond that the client gets 503.
    queue_size: int = 16
    # How long a request may wait for a free worker before it gets 503 (with Retry-After).
    queue_timeout_s: float = 10.0
    retry_after_s: int = 2
    # SELECT rows or CONSTRUCT/DESCRIBE triples; more is an error, never a truncated 200.
    row_cap: int = 100_000
    max_query_length: int = 100_000
    max_body_size: int = 1_000_000
    # A request head's header fields: their bytes together (names and values), their number,
    # and the time from the head's first byte to its end (pactgraph.serve.server); the request
    # target is bounded by max_query_length. Past a bound: 431 (408 for the time).
    max_header_bytes: int = 16 * 1024
    max_header_count: int = 100
    header_timeout_s: float = 10.0
    # IRI prefixes SERVICE may call; empty means no federation at all.
    service_allow_list: tuple[str, ...] = ()
    # Where the service is published (e.g. behind the w3id redirect); None: the request's URL.
    public_base_iri: str | None = None
    # Bytes per message when a worker streams a serialised result back.
    chunk_size: int = 256 * 1024
    # The largest answer, in bytes, a query may produce; more is a 422 (never a cut 200).
    # The worker holds the answer while it writes it, and its serialiser's buffers, inside
    # worker_memory_bytes: keep this well under a third of that cap.
    max_answer_bytes: int = 64 * 1024**2
    # Finished answers the app holds, in bytes, for clients still reading them (a worker is
    # freed as soon as its answer is read off the pipe, so a slow reader never holds one).
    # A query whose answer would go over this waits for none: it gets 503 with Retry-After.
    answer_memory_bytes: int = 256 * 1024**2
    # A client that takes no bytes of an answer for this long loses its connection.
    send_stall_timeout_s: float = 30.0
    # Address space one query worker may use (RLIMIT_AS, set in the worker once the store is
    # open). A query that needs more aborts its own worker — the client gets 500 and a fresh
    # worker takes its place — instead of pushing the whole machine into swap or the OOM
    # killer. 0 means no cap.
    worker_memory_bytes: int = 2 * 1024**3
    # A remote SPARQL 1.1 query endpoint answering the queries instead of the embedded store
    # (pactgraph.serve.backends.RemoteBackend); None: the release's own store.
    backend: str | None = None
    # Bytes of finished SPARQL answers kept in memory (LRU). A release never changes, so a
    # cached answer is exactly what the query would give again; 0 turns the cache off.
    result_cache_bytes: int = 64 * 1024**2
    # Cache-Control max-age on GET query answers (releases are immutable; a new one is served
    # under a new ETag, so a modest age only bounds how long a client skips revalidation).
    cache_max_age_s: int = 300
    # HTTP server processes sharing the listening socket (``pactgraph serve``), each with its
    # own query workers (max_concurrent of them), result cache and held-answer budget: every
    # per-process limit below holds in each. One Python process uses one core for HTTP.
    http_processes: int = 1
    # Queries bounded by construction (one triple pattern scanned from a constant subject or
    # object; pactgraph.serve.inline) are answered in the HTTP process when their answer stays
    # within these many rows and bytes; over either, or of any other shape, a worker answers.
    # 0 rows: every query goes to a worker.
    inline_rows: int = 500
    inline_bytes: int = 64 * 1024
    # Answer GET/HEAD /sparql queries before FastAPI (pactgraph.serve.fastpath): the same
    # bytes, a fraction of the work. False sends every request through FastAPI.
    fast_path: bool = True
    # ``POST /validate`` (pactgraph.serve.validation): uploads are parsed, validated and their
    # report written in worker processes of their own, never in the server process (a parser
    # crash or a runaway validation costs that one request). Its own limits, because a SHACL
    # run costs far more per byte than a query and must not take the query workers' places.
    # Seconds one validation (parse, validate, write the report) may take; then 504.
    validate_timeout_s: float = 30.0
    # Validations running at once. One: validation is a convenience next to the endpoint,
    # and one CPU-bound worker leaves the other cores to queries.
    validate_workers: int = 1
    # Uploads allowed to wait for a validation worker; beyond that 503 with Retry-After.
    validate_queue_size: int = 4
    # Address space of one validation worker (RLIMIT_AS; 0: no cap). Measured: a clean
    # 740 KB upload peaks near 115 MB, but pyshacl's results for an upload full of violations
    # grow to gigabytes (25 000 bare typed nodes took 2.1 GB); past the cap the client gets 413.
    validate_memory_bytes: int = 1024**3
    # Results a report lists; past it the report is cut and says so (how many there were).
    validate_result_cap: int = 1000

    @property
    def worker_stack_bytes(self) -> int:
        """Stack of a worker's query thread: enough for the deepest query the length allows.

        Measured: pyoxigraph's parser needs under 2.6 KB of stack per nesting level and a level
        costs at least one character, so 4 KB per character of ``max_query_length`` (64 MB at
        least) can never overflow. It is address space, touched only as deep as a query goes.

        >>> ServiceConfig(max_query_length=100_000).worker_stack_bytes // 1024**2
        390
        """
        return max(64 * 1024**2, 4096 * self.max_query_length)

    def service_base(self, scope: dict[str, Any]) -> str:
        """The service's base URL: the configured public base, else the address the server
        listens on. Never the request's ``Host`` header: a client chooses that, and what is
        built from it (the service description, a query's base IRI) is cached and shared.

        >>> scope = {"scheme": "http", "server": ("127.0.0.1", 8000), "root_path": ""}
        >>> ServiceConfig().service_base(scope)
        'http://127.0.0.1:8000/'
        >>> ServiceConfig(public_base_iri="https://w3id.org/pactgraph").service_base(scope)
        'https://w3id.org/pactgraph/'
        """
        if self.public_base_iri:
            return self.public_base_iri.rstrip("/") + "/"
        server = scope.get("server")
        host, port = server if server else ("127.0.0.1", 80)
        if ":" in host:  # an IPv6 address
            host = f"[{host}]"
        return f"{scope.get('scheme', 'http')}://{host}:{port}{scope.get('root_path', '')}/"

    def endpoint_iri(self, request_base: str) -> str:
        """The endpoint's IRI, for the service description."""
        base = self.public_base_iri or request_base
        return base.rstrip("/") + "/" + ENDPOINT_PATH

    def allows_service(self, iri: str) -> bool:
        """Whether ``SERVICE <iri>`` may run (an allow-list entry is an IRI prefix)."""
        return any(iri.startswith(prefix) for prefix in self.service_allow_list)
