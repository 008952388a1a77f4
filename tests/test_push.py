"""``pactgraph push`` into real SPARQL stores (the Oxigraph server and Virtuoso).

Replace semantics, chunking, retries and verification are checked on the stores themselves;
failures are injected by a small forwarding proxy on loopback in front of the real Oxigraph
server, which answers some requests itself (503, 500) and passes the rest through.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyoxigraph
import pytest
from stores import STORES, Store

from pactgraph.cli.main import main
from pactgraph.release.published import Release
from pactgraph.release.push import PushError, PushOptions, count_graphs, push_release, verify

FAST = PushOptions(chunk_triples=5, retries=2, backoff_s=0.01)


@pytest.fixture(params=sorted(STORES))
def remote(request: pytest.FixtureRequest) -> Store:
    return STORES[request.param]


def _ask(store: Store, query: str) -> bool:
    response = httpx.post(
        store.query_endpoint,
        data={"query": query},
        headers={"accept": "application/sparql-results+json"},
        timeout=60,
    )
    response.raise_for_status()
    return response.json()["boolean"]


def test_push_replaces_each_graph_and_verifies(mini_release: Release, remote: Store):
    graph = sorted(mini_release.metadata["graphs"])[0]
    stale = "<urn:pactgraph:test:stale> <urn:pactgraph:test:p> <urn:pactgraph:test:o> .\n"
    push_release(mini_release, remote.graph_store, remote.query_endpoint, remote.auth, FAST)
    appended = httpx.post(
        remote.graph_store,
        params={"graph": graph},
        content=stale.encode(),
        headers={"content-type": "application/n-triples"},
        auth=remote.auth,
        timeout=60,
    )
    assert appended.status_code < 300, appended.text
    probe = f"ASK {{ GRAPH <{graph}> {{ <urn:pactgraph:test:stale> ?p ?o }} }}"
    assert _ask(remote, probe)
    pushed = push_release(
        mini_release, remote.graph_store, remote.query_endpoint, remote.auth, FAST
    )
    assert not _ask(remote, probe)  # the re-push replaced the graph
    counted = count_graphs(httpx.Client(timeout=60), remote.query_endpoint)
    assert {g: counted[g] for g in pushed} == mini_release.metadata["graphs"]


# --------------------------------------------------------------------- injected failures


@contextmanager
def proxy(target: str, decide: Callable[[str, str, int], int | None]) -> Iterator[tuple[str, list]]:
    """A Graph Store proxy to ``target``; ``decide(method, graph, n)`` may answer a status.

    Yields the proxy's URL and the log of (method, graph, status) it saw.
    """
    seen: list[tuple[str, str, int]] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            graph = parse_qs(urlsplit(self.path).query)["graph"][0]
            with lock:
                status = decide(self.command, graph, len(seen))
                if status is None:
                    answer = httpx.request(
                        self.command,
                        target,
                        params={"graph": graph},
                        content=body,
                        headers={"content-type": self.headers["content-type"]},
                        timeout=60,
                    )
                    status = answer.status_code
                seen.append((self.command, graph, status))
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        do_PUT = do_POST = _forward

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/store", seen
    finally:
        server.shutdown()
        server.server_close()


def _largest_graph_without_blank_nodes(release: Release) -> str:
    # A graph with blank nodes goes in one request (labels are scoped to one body).
    store = release.open_store()
    graphs = {
        graph: count
        for graph, count in release.metadata["graphs"].items()
        if not any(
            isinstance(term, pyoxigraph.BlankNode)
            for quad in store.quads_for_pattern(None, None, None, pyoxigraph.NamedNode(graph))
            for term in (quad.subject, quad.object)
        )
    }
    return max(sorted(graphs), key=graphs.__getitem__)


def test_transient_failure_mid_graph_re_puts_the_whole_graph(mini_release: Release):
    oxigraph = STORES["oxigraph"]
    victim = _largest_graph_without_blank_nodes(mini_release)
    small = PushOptions(chunk_triples=2, retries=2, backoff_s=0.01)
    assert mini_release.metadata["graphs"][victim] > 2 * small.chunk_triples  # several chunks
    failed: list[int] = []

    def decide(method: str, graph: str, n: int) -> int | None:
        if graph == victim and method == "POST" and not failed:
            failed.append(n)
            return 503  # once, on the graph's second chunk
        return None

    with proxy(oxigraph.graph_store, decide) as (url, seen):
        push_release(mini_release, url, oxigraph.query_endpoint, None, small)
    requests = [(method, status) for method, graph, status in seen if graph == victim]
    # First try: PUT, then the POST that failed; the retry starts over with a PUT.
    assert requests[0][0] == "PUT" and requests[1] == ("POST", 503)
    assert [m for m, _ in requests[2:]] == ["PUT"] + ["POST"] * (len(requests) - 3)
    assert all(status < 300 for _, status in requests[2:])
    # Verified by push_release itself: every graph's count equals release.json.


def test_a_failing_graph_is_named_and_earlier_graphs_are_complete(mini_release: Release):
    oxigraph = STORES["oxigraph"]
    graphs = sorted(mini_release.metadata["graphs"])
    victim = graphs[len(graphs) // 2]

    def decide(method: str, graph: str, n: int) -> int | None:
        return 500 if graph == victim else None

    with proxy(oxigraph.graph_store, decide) as (url, seen), pytest.raises(PushError) as error:
        push_release(mini_release, url, oxigraph.query_endpoint, None, FAST)
    assert error.value.graph == victim
    assert victim in str(error.value) and "3 tries" in str(error.value)
    assert [m for m, g, _ in seen if g == victim] == ["PUT"] * 3  # retried from the start
    assert not any(g > victim for _, g, _ in seen)  # stopped at the failing graph
    counted = count_graphs(httpx.Client(timeout=60), oxigraph.query_endpoint)
    for graph in graphs[: graphs.index(victim)]:
        assert counted[graph] == mini_release.metadata["graphs"][graph]


def test_a_refused_write_is_not_retried(mini_release: Release):
    virtuoso = STORES["virtuoso"]
    with pytest.raises(PushError) as error:  # no credentials: 401, a final answer
        push_release(mini_release, virtuoso.graph_store, None, None, FAST)
    assert error.value.graph == sorted(mini_release.metadata["graphs"])[0]
    assert "401" in str(error.value)


def test_verify_names_a_graph_whose_count_differs(mini_release: Release, remote: Store):
    push_release(mini_release, remote.graph_store, None, remote.auth, FAST)
    expected = dict(mini_release.metadata["graphs"])
    graph = sorted(expected)[-1]
    expected[graph] += 1
    with pytest.raises(PushError) as error, httpx.Client(timeout=60) as client:
        verify(client, remote.query_endpoint, expected)
    assert error.value.graph == graph


# --------------------------------------------------------------------- the command


def test_push_command(mini_release: Release, cli_runner, monkeypatch):
    virtuoso = STORES["virtuoso"]
    monkeypatch.setenv("PACTGRAPH_TEST_PASSWORD", "dba")
    dist = Path(mini_release.path).parent
    args = ["push", "--dist", str(dist), "--graph-store", virtuoso.graph_store]
    args += ["--query-endpoint", virtuoso.query_endpoint, "--user", "dba"]
    missing = cli_runner.invoke(main, args)
    assert missing.exit_code == 2 and "--password-env" in missing.stderr
    ok = cli_runner.invoke(
        main, [*args, "--password-env", "PACTGRAPH_TEST_PASSWORD", "--auth-scheme", "digest"]
    )
    assert ok.exit_code == 0, ok.stderr
    assert f"verified {len(mini_release.metadata['graphs'])} graphs" in ok.stderr
    refused = cli_runner.invoke(main, args[:5])  # no credentials
    assert refused.exit_code == 1
    assert refused.stderr.startswith("pactgraph: error: graph ")
