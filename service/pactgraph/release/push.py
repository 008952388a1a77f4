"""``pactgraph push``: load a release into any SPARQL 1.1 store over the Graph Store Protocol.

Each named graph of the release becomes the same named graph in the store
(``{graph-store}?graph=<iri>``), with *replace* semantics: the first request for a graph is
a ``PUT`` (the store drops what the graph held), the following ones ``POST`` (append), each
carrying at most ``chunk_triples`` triples as N-Triples, so neither side holds a large
graph in one request. A re-push therefore leaves no stale triple in the graphs it pushes.

Failure and retries. A transient failure (HTTP 5xx, 408, 429, a connection error or time-out)
retries the *whole graph* from its first ``PUT`` after a backoff (0.5 s, 1 s, 2 s, …): a graph
is never appended to twice, and an interrupted graph is made whole by the re-``PUT``. Any
other error stops the push with a :class:`PushError` naming the graph; the graphs pushed
before it are complete, that graph may hold a prefix of its triples until the next push
(which replaces it). Stores that must never expose a partly loaded graph can be pushed to
a staging name and switched with SPARQL Update ``MOVE``; this command does not need it.

Blank nodes. A blank-node label is scoped to one request body, so a graph holding blank
nodes is sent in one request whatever its size (pactgraph's own releases hold none).

Verification. With a query endpoint, the triples of each graph are counted there
(``push-graph-counts.rq``) and compared with ``release.json``; a graph whose count differs
fails the push by name.

Authentication: ``--user`` with the password in an environment variable (never on the
command line), HTTP Basic or Digest (Virtuoso's ``/sparql-graph-crud-auth`` uses Digest).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import click
import httpx

from pactgraph import progress
from pactgraph.release.published import Release, latest_release
from pactgraph.settings import DEFAULT_DIST

COUNT_QUERY = Path(__file__).with_name("push-graph-counts.rq")
N_TRIPLES = "application/n-triples"
RESULTS_XML = "application/sparql-results+xml"
# HTTP statuses worth another try: the store is busy, restarting or timed out.
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
AUTH_SCHEMES: dict[str, Callable[[str, str], httpx.Auth]] = {
    "basic": httpx.BasicAuth,
    "digest": httpx.DigestAuth,
}


class PushError(OSError):
    """A push that failed, naming the graph at fault.

    >>> str(PushError("https://w3id.org/pactgraph/graph/x", "HTTP 403"))
    'graph https://w3id.org/pactgraph/graph/x: HTTP 403'
    """

    def __init__(self, graph: str, message: str) -> None:
        super().__init__(f"graph {graph}: {message}")
        self.graph = graph


class TransientError(Exception):
    """A failure that another try may not meet (5xx, connection lost)."""


@dataclass(frozen=True)
class PushOptions:
    """How to push: chunk size, retries, backoff, and request time-out (seconds).

    >>> PushOptions().delays()[:3]
    [0.5, 1.0, 2.0]
    """

    chunk_triples: int = 50_000
    retries: int = 4
    backoff_s: float = 0.5
    timeout_s: float = 120.0

    def delays(self) -> list[float]:
        """Seconds to wait before each retry."""
        return [self.backoff_s * 2**attempt for attempt in range(self.retries)]


def graph_chunks(triples: list[Any], chunk_triples: int) -> Iterator[bytes]:
    """N-Triples bodies of at most ``chunk_triples`` triples (one body if any blank node).

    >>> from pyoxigraph import NamedNode, Triple
    >>> t = [Triple(NamedNode("http://e/s"), NamedNode("http://e/p"), NamedNode(f"http://e/{i}"))
    ...      for i in range(5)]
    >>> [body.count(b"\\n") for body in graph_chunks(t, 2)]
    [2, 2, 1]
    >>> list(graph_chunks([], 2))
    [b'']
    """
    from pyoxigraph import BlankNode, RdfFormat, serialize

    if any(isinstance(t.subject, BlankNode) or isinstance(t.object, BlankNode) for t in triples):
        chunk_triples = max(1, len(triples))
    if not triples:
        yield b""  # an empty graph is still PUT: it must end up empty
        return
    iterator = iter(triples)
    while chunk := list(islice(iterator, chunk_triples)):
        yield serialize(chunk, format=RdfFormat.N_TRIPLES) or b""


def release_graphs(release: Release) -> Iterator[tuple[str, list[Any]]]:
    """(graph IRI, its triples) for each named graph of the release, from its store."""
    from pyoxigraph import NamedNode

    store = release.open_store()
    for graph in sorted(release.metadata["graphs"]):
        quads = store.quads_for_pattern(None, None, None, NamedNode(graph))
        yield graph, [quad.triple for quad in quads]


def _send(client: httpx.Client, method: str, url: str, graph: str, body: bytes) -> None:
    try:
        response = client.request(
            method, url, params={"graph": graph}, content=body, headers={"Content-Type": N_TRIPLES}
        )
    except httpx.TransportError as error:
        raise TransientError(f"{type(error).__name__}: {error}") from error
    if response.status_code in TRANSIENT_STATUSES:
        raise TransientError(f"HTTP {response.status_code}")
    if response.status_code >= 300:
        detail = response.text.strip().splitlines()[:1]
        raise PushError(graph, f"{method} refused: HTTP {response.status_code} {' '.join(detail)}")


def push_graph(
    client: httpx.Client,
    graph_store: str,
    graph: str,
    triples: list[Any],
    options: PushOptions,
    sleep: Callable[[float], None] = time.sleep,
    on_sent: Callable[[int], None] | None = None,
) -> int:
    """Replace ``graph`` in the store with ``triples``; the number of requests of the last try.

    ``on_sent`` hears how many of the graph's triples the current try has sent (it starts
    again from 0 when a try is retried).
    """
    delays = options.delays()
    for attempt in range(options.retries + 1):
        requests = sent = 0
        try:
            for body in graph_chunks(triples, options.chunk_triples):
                _send(client, "PUT" if requests == 0 else "POST", graph_store, graph, body)
                requests += 1
                sent += body.count(b"\n")  # N-Triples: one triple a line, newlines escaped
                if on_sent is not None:
                    on_sent(sent)
            return requests
        except TransientError as error:
            if attempt == options.retries:
                raise PushError(
                    graph, f"failed after {options.retries + 1} tries, last: {error}"
                ) from error
            sleep(delays[attempt])
    raise AssertionError("unreachable")


def count_graphs(client: httpx.Client, query_endpoint: str) -> dict[str, int]:
    """Triples per named graph, counted by the store's query endpoint."""
    from pyoxigraph import QueryResultsFormat, parse_query_results

    response = client.post(
        query_endpoint,
        data={"query": COUNT_QUERY.read_text(encoding="utf-8")},
        headers={"Accept": RESULTS_XML},
    )
    response.raise_for_status()
    solutions = parse_query_results(response.content, format=QueryResultsFormat.XML)
    return {row["graph"].value: int(row["triples"].value) for row in solutions}


def verify(client: httpx.Client, query_endpoint: str, expected: dict[str, int]) -> None:
    """Raise :class:`PushError` for the first graph whose count differs from ``expected``."""
    counted = count_graphs(client, query_endpoint)
    for graph, count in sorted(expected.items()):
        if counted.get(graph, 0) != count:
            raise PushError(
                graph, f"the store holds {counted.get(graph, 0)} triples, the release {count}"
            )


def push_release(
    release: Release,
    graph_store: str,
    query_endpoint: str | None = None,
    auth: httpx.Auth | None = None,
    options: PushOptions | None = None,
) -> dict[str, int]:
    """Push every named graph of ``release`` (replace semantics), then verify the counts.

    Returns the triples pushed per graph; raises :class:`PushError` naming a failed graph.
    Progress (stages ``push`` and ``verify``, a line per graph) goes to the reporter in use
    (:mod:`pactgraph.progress`; by default nowhere).
    """
    options = options or PushOptions()
    expected: dict[str, int] = dict(release.metadata["graphs"])
    with httpx.Client(auth=auth, timeout=options.timeout_s) as client:
        total = sum(expected.values())
        with progress.stage("push", total=total, unit="triples") as running:
            for graph, triples in release_graphs(release):
                before = running.done
                requests = push_graph(
                    client,
                    graph_store,
                    graph,
                    triples,
                    options,
                    on_sent=lambda sent, before=before: running.update(before + sent),
                )
                running.update(before + len(triples))
                running.log(f"pushed {graph}: {len(triples)} triples in {requests} request(s)")
            running.note(f"{running.done:,} triples in {len(expected)} graphs")
        if query_endpoint:
            with progress.stage("verify") as running:
                try:
                    verify(client, query_endpoint, expected)
                except httpx.HTTPError as error:
                    raise PushError(
                        "(all)", f"cannot count triples at {query_endpoint}: {error}"
                    ) from error
                running.note(f"verified {len(expected)} graphs at {query_endpoint}")
    return expected


@click.command("push")
@click.option(
    "--graph-store",
    required=True,
    metavar="URL",
    help="The store's SPARQL 1.1 Graph Store endpoint (e.g. http://host:7878/store).",
)
@click.option(
    "--query-endpoint",
    metavar="URL",
    help="The store's SPARQL query endpoint: counts triples per graph afterwards.",
)
@click.option(
    "--dist",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DIST,
    show_default=True,
    help="Folder of releases; the latest is pushed.",
)
@click.option("--user", default=None, help="User name for the Graph Store endpoint.")
@click.option(
    "--password-env",
    default=None,
    metavar="VAR",
    help="Environment variable holding the password (never given on the command line).",
)
@click.option(
    "--auth-scheme", type=click.Choice(sorted(AUTH_SCHEMES)), default="basic", show_default=True
)
@click.option("--chunk-triples", default=PushOptions.chunk_triples, show_default=True, type=int)
@click.option("--retries", default=PushOptions.retries, show_default=True, type=int)
def push_command(
    graph_store: str,
    query_endpoint: str | None,
    dist: Path,
    user: str | None,
    password_env: str | None,
    auth_scheme: str,
    chunk_triples: int,
    retries: int,
) -> None:
    """Upload the latest release into a SPARQL 1.1 store, one named graph per release graph.

    \b
    Examples:
      pactgraph push --graph-store http://127.0.0.1:7878/store \\
                     --query-endpoint http://127.0.0.1:7878/query
      VIRTUOSO_PASSWORD=dba pactgraph push \\
          --graph-store http://127.0.0.1:8890/sparql-graph-crud-auth \\
          --query-endpoint http://127.0.0.1:8890/sparql \\
          --user dba --password-env VIRTUOSO_PASSWORD --auth-scheme digest
    """
    release = latest_release(dist)
    if release is None:
        raise FileNotFoundError(f"no release in {dist}: run `pactgraph build` first")
    auth = None
    if user is not None:
        if not password_env or password_env not in os.environ:
            raise click.UsageError("--user needs --password-env naming a set variable")
        auth = AUTH_SCHEMES[auth_scheme](user, os.environ[password_env])
    options = PushOptions(chunk_triples=chunk_triples, retries=retries)
    push_release(release, graph_store, query_endpoint, auth, options)
    click.echo(f"pushed release {release.version} ({release.triple_count} triples)", err=True)
