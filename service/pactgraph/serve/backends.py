"""Where queries run: "run this query, give me bytes in format F", two ways.

:class:`QueryBackend` is the interface the SPARQL endpoint uses (``run(task) -> Answer`` plus
``start``/``close`` and the counters ``/healthz`` shows). Two implementations:

- the embedded store: :class:`pactgraph.serve.workers.WorkerPool`, worker processes over the
  release's own pyoxigraph store (the default);
- :class:`RemoteBackend`, any SPARQL 1.1 endpoint (the Oxigraph server, Virtuoso, …) asked
  through SPARQLWrapper (``pactgraph serve --backend URL``).

The remote backend keeps every rule of the embedded one on our side: the same vetting
(:mod:`pactgraph.serve.guard`: SERVICE allow-list, unknown graphs), syntax errors found
locally (the query is parsed by pyoxigraph before it leaves), the time limit (504), the row
cap (the answer is counted before a byte goes to the client: 422 past it), the concurrency
limit and queue (503), and every output format (the remote answer is re-serialised). A store
that is down or answers garbage gives 502 with a message, never a hang.

Engine differences are handled here, not hidden:

- Default graph. pactgraph's default graph is the union of the release's named graphs.
  Virtuoso's default graph is *every* graph it holds (including its own system graphs) and
  the Oxigraph server's is an empty graph unless started with ``--union-default-graph``. So
  unless the request or the query names a dataset, the backend sends the release's graphs
  as both ``default-graph-uri`` and ``named-graph-uri``: the same dataset on every engine,
  and ``GRAPH ?g`` ranges over the release's graphs only. A query's own ``FROM`` / ``FROM
  NAMED`` travel as those parameters too (the Oxigraph server's ``--union-default-graph``
  would otherwise override ``FROM``).
- Result formats. Engines differ in what they write (Virtuoso's JSON uses the pre-standard
  ``typed-literal``; not every engine writes TSV). The backend asks for the two formats
  every SPARQL 1.1 engine writes — SPARQL XML results and N-Triples — and converts.
- Blank nodes. Virtuoso labels them ``nodeID://…`` in XML results, which no reader
  accepts: the prefix is dropped (labels are local to a result anyway).
- Relative IRIs resolve against pactgraph's endpoint IRI (a ``BASE`` is prepended), not the
  remote store's.
"""

from __future__ import annotations

import asyncio
import urllib.error
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

from pyoxigraph import QueryResultsFormat, RdfFormat, Store, parse, parse_query_results

from pactgraph.rdf.formats import FORMATS_BY_KIND, ResultKind, result_kind
from pactgraph.serve.config import ServiceConfig
from pactgraph.serve.guard import QueryRefused, QueryScope, check_scope, scope_of
from pactgraph.serve.workers import (
    Answer,
    PoolBusy,
    QueryTask,
    Reply,
    RowCapExceeded,
    WorkerPool,
    serialize_capped,
    syntax_message,
    task_format,
    unacceptable,
)

if TYPE_CHECKING:
    from pactgraph.release.published import Release

# What the backend asks a remote store for, per result kind, and how it reads the answer.
REMOTE_ACCEPT: dict[ResultKind, str] = {
    "results": "application/sparql-results+xml",
    "graph": "application/n-triples",
}
REMOTE_READERS: dict[str, Any] = {
    "application/sparql-results+xml": QueryResultsFormat.XML,
    "application/xml": QueryResultsFormat.XML,
    "application/sparql-results+json": QueryResultsFormat.JSON,
    "application/n-triples": RdfFormat.N_TRIPLES,
    "text/plain": RdfFormat.N_TRIPLES,  # N-Triples' media type before RDF 1.1
    "text/turtle": RdfFormat.TURTLE,
}
# Seconds to wait for a remote store's HTTP port to accept a connection.
CONNECT_TIMEOUT_S = 5.0


class QueryBackend(Protocol):
    """What the endpoint needs from a query engine (the worker pool is the reference)."""

    alive: int
    busy: int
    restarts: int
    sandboxed: bool

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def run(self, task: QueryTask) -> Answer: ...


class RemoteStoreError(Exception):
    """The remote store could not be reached or gave an answer we cannot read (HTTP 502)."""


def _answer(reply: Reply) -> Answer:
    return Answer(reply.status, reply.content_type, len(reply.body), body=reply.body)


def _dataset(task: QueryTask, scope: QueryScope, known: set[str]) -> tuple[list, list]:
    """(default-graph-uri values, named-graph-uri values) to send with the query.

    >>> _dataset(QueryTask("ASK {}"), QueryScope(), {"http://g/b", "http://g/a"})
    (['http://g/a', 'http://g/b'], ['http://g/a', 'http://g/b'])
    >>> _dataset(QueryTask("ASK {}", default_graphs=("http://g/a",)), QueryScope(), set())
    (['http://g/a'], [])
    >>> _dataset(QueryTask("ASK {}"), QueryScope(default_graphs=("http://g/a",)), set())
    (['http://g/a'], [])
    """
    if task.default_graphs is not None or task.named_graphs is not None:
        return list(task.default_graphs or ()), list(task.named_graphs or ())
    if scope.default_graphs or scope.named_graphs:
        # The query's own FROM / FROM NAMED, sent as the protocol's dataset: the same
        # semantics, and the Oxigraph server's --union-default-graph would ignore FROM.
        return list(scope.default_graphs), list(scope.named_graphs)
    graphs = sorted(known)
    return graphs, list(graphs)


def _parse_locally(task: QueryTask) -> ResultKind:
    """The query's result kind; raises ``SyntaxError`` exactly as the embedded store would.

    Evaluating on an empty in-memory store parses the query with the same parser the
    embedded backend uses, so both backends refuse the same queries with the same message.

    >>> _parse_locally(QueryTask("CONSTRUCT WHERE { ?s ?p ?o }"))
    'graph'
    """
    result = Store().query(task.query, base_iri=task.base_iri)
    return result_kind(result)


def fetch(
    endpoint: str,
    query: str,
    accept: str,
    dataset: tuple[list, list],
    timeout_s: float,
) -> tuple[str, bytes]:
    """POST ``query`` to ``endpoint`` with SPARQLWrapper; (media type, body) of a 200.

    Raises :class:`QueryRefused` for the store's own 4xx and 5xx answers,
    :class:`RemoteStoreError` when it cannot be reached, ``TimeoutError`` past ``timeout_s``.
    """
    from SPARQLWrapper import POST, URLENCODED, SPARQLWrapper
    from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

    client = SPARQLWrapper(endpoint)
    client.setMethod(POST)
    client.setRequestMethod(URLENCODED)
    # Only the Accept header: with format= parameters too, Virtuoso answers 406 to CONSTRUCT.
    client.setOnlyConneg(True)
    client.setQuery(query)
    client.setTimeout(max(1, round(timeout_s)))
    client.addCustomHttpHeader("Accept", accept)
    default_graphs, named_graphs = dataset
    for graph in default_graphs:
        client.addDefaultGraph(graph)
    for graph in named_graphs:
        client.addNamedGraph(graph)
    try:
        response = client.query().response
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        return media_type, response.read()
    except SPARQLWrapperException as error:  # the store answered with an HTTP error
        message = str(error).split("Response:", 1)[-1].strip()
        status = 400 if "QueryBadFormed" in type(error).__name__ else 502
        raise QueryRefused(status, f"The SPARQL store refused the query: {message}") from error
    except urllib.error.HTTPError as error:
        raise RemoteStoreError(f"the store answered HTTP {error.code} {error.reason}") from error
    except TimeoutError:  # socket.timeout is an alias
        raise
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            raise TimeoutError from None
        raise RemoteStoreError(f"cannot reach {endpoint}: {reason}") from error


def remote_execute(endpoint: str, task: QueryTask, known: set[str], config: ServiceConfig) -> Reply:
    """Vet ``task`` locally, run it on the remote store, and re-serialise the capped answer.

    Raises ``TimeoutError`` (the caller answers 504).
    """
    try:
        scope = scope_of(task.query, task.base_iri)
        check_scope(scope, known, config.allows_service)
        kind = _parse_locally(task)
    except QueryRefused as refusal:
        return Reply.error(refusal.status, refusal.message)
    except SyntaxError as error:
        return Reply.error(400, syntax_message(error))
    except ValueError as error:
        return Reply.error(400, f"Invalid request: {error}")
    name = task_format(task, kind)
    if name is None:
        return unacceptable(kind)
    dataset = _dataset(task, scope, known)
    query = f"BASE <{task.base_iri}>\n{task.query}" if task.base_iri else task.query
    try:
        media_type, body = fetch(endpoint, query, REMOTE_ACCEPT[kind], dataset, config.timeout_s)
        reader = REMOTE_READERS.get(media_type)
        # Virtuoso names blank nodes "nodeID://b1" in XML results, not a valid label.
        body = body.replace(b"<bnode>nodeID://", b"<bnode>")
        if reader is None:
            raise RemoteStoreError(f"the store answered in {media_type or 'no media type'}")
        result = (
            parse_query_results(body, format=reader)
            if kind == "results"
            else (quad.triple for quad in parse(body, format=reader))
        )
        fmt = FORMATS_BY_KIND[kind][name]
        return Reply(200, fmt.content_type, serialize_capped(result, fmt, config.row_cap))
    except QueryRefused as refusal:
        return Reply.error(refusal.status, refusal.message)
    except RowCapExceeded:
        unit = "triples" if kind == "graph" else "rows"
        return Reply.error(
            422,
            f"The result has more than {config.row_cap} {unit}, this endpoint's limit; nothing "
            f"was returned. Add LIMIT {config.row_cap} (and OFFSET to page through the rest) or "
            "narrow the query.",
        )
    except RemoteStoreError as error:
        return Reply.error(502, f"The SPARQL store behind this endpoint failed: {error}.")
    except (SyntaxError, ValueError) as error:  # the store's answer did not parse
        return Reply.error(502, f"The SPARQL store's answer could not be read: {error}.")


class RemoteBackend:
    """Queries answered by a remote SPARQL 1.1 endpoint, with pactgraph's limits applied.

    >>> RemoteBackend("http://127.0.0.1:1/sparql", ServiceConfig(), set()).alive
    2
    """

    def __init__(self, endpoint: str, config: ServiceConfig, known_graphs: set[str]) -> None:
        self.endpoint = endpoint
        self.config = config
        self.known_graphs = known_graphs
        # One thread per query that may run; a query past its time limit is answered 504
        # at once while its thread finishes on the socket timeout.
        self._threads = ThreadPoolExecutor(
            max_workers=config.max_concurrent * 2, thread_name_prefix="pactgraph-remote"
        )
        self._slots = asyncio.Semaphore(config.max_concurrent)
        self._waiting = 0
        self.busy = 0
        self.restarts = 0
        self.sandboxed = False

    @property
    def alive(self) -> int:
        """Queries that may run at once (the remote store's own health is seen per query)."""
        return self.config.max_concurrent

    async def start(self) -> None:
        """Nothing to start: connections are made per query."""

    async def close(self) -> None:
        """Stop the threads (a query still running ends on its socket timeout)."""
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def run(self, task: QueryTask) -> Answer:
        """Run ``task`` remotely; raises :class:`PoolBusy` when the queue is full."""
        if self._slots.locked() and self._waiting >= self.config.queue_size:
            raise PoolBusy
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        self.busy += 1
        try:
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(
                self._threads,
                remote_execute,
                self.endpoint,
                task,
                self.known_graphs,
                self.config,
            )
            reply = await asyncio.wait_for(future, self.config.timeout_s)
        except TimeoutError:
            reply = Reply.error(
                504,
                f"The query ran longer than this endpoint's {self.config.timeout_s:g} s limit "
                "and was stopped. Narrow it (fewer patterns, a LIMIT, more specific terms).",
            )
        finally:
            self.busy -= 1
            self._slots.release()
        return _answer(reply)


def make_backend(release: Release, config: ServiceConfig, known_graphs: set[str]) -> QueryBackend:
    """The backend ``config`` asks for: the remote store at ``config.backend``, else embedded.

    >>> from pathlib import Path
    >>> from pactgraph.release.published import Release
    >>> r = Release(Path("dist/x"), "x", 0)
    >>> type(make_backend(r, ServiceConfig(backend="http://127.0.0.1:1/q"), set())).__name__
    'RemoteBackend'
    >>> type(make_backend(r, ServiceConfig(), set())).__name__
    'WorkerPool'
    """
    if config.backend:
        return RemoteBackend(config.backend, config, known_graphs)
    return WorkerPool(release.store_path, config)
