"""Queries bounded by construction answered in the HTTP process (issue 18).

The shortcut must not loosen any guarantee, so these tests hold it to them over HTTP with
the real app:

- the recognizer refuses every shape whose cost is not bounded by its text (paths, filters,
  joins, repeated variables, no constant to scan from, dataset clauses, escapes...);
- a runaway query still runs in a worker and is stopped at its timeout, and a lookup
  answers while it runs;
- answers given inline are byte for byte what a worker gives (status, headers, body) in
  every result format, and one over the inline caps is handed to a worker whole.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from pyoxigraph import Store

from pactgraph.rdf.formats import FORMATS_BY_KIND
from pactgraph.serve.inline import MAX_INLINE_QUERY, bounded_by_construction

LIVENESS_S = 60.0
E = "PREFIX e: <http://e/> "
# Runs for minutes unless stopped: 200^4 rows counted (as in tests/test_hardening.py).
_WIDE = "{ " + " ".join(str(i) for i in range(200)) + " }"
RUNAWAY = (
    f"SELECT (COUNT(*) AS ?n) {{ VALUES ?a {_WIDE} VALUES ?b {_WIDE} VALUES ?c {_WIDE} "
    f"VALUES ?d {_WIDE} }}"
)
IDENTITY = {"Accept-Encoding": "identity"}

BOUNDED = [
    "SELECT ?p ?o WHERE { <http://e/s> ?p ?o }",
    "SELECT * { <http://e/s> ?p ?o . }",
    "select ?p ?o where { <http://e/s> ?p ?o } limit 10",
    E + "SELECT ?s ?p { ?s ?p e:o }",
    E + "SELECT ?s { ?s a e:C }",
    E + 'ASK { ?s e:p "text"@en-GB }',
    E + 'SELECT ?s { ?s e:p "1"^^<http://www.w3.org/2001/XMLSchema#integer> }',
    "# a comment { ?x ?y ?z . ?a ?b ?c }\nSELECT ?o { <http://e/s#frag> ?p ?o } # end",
    E + "SELECT ?o { e:s e:p ?o }",
]

NOT_BOUNDED = [
    "SELECT * { ?s ?p ?o }",  # no constant: a scan of everything
    "SELECT ?s { ?s ?p ?s }",  # repeated variable: entries filtered, not all solutions
    "SELECT ?o { <http://e/s> ?o ?o }",
    "SELECT ?o { <http://e/s> ?p ?o . ?o ?q ?r }",  # a join
    "SELECT ?o { <http://e/s> <http://e/p>+ ?o }",  # property paths
    "SELECT ?o { <http://e/s> <http://e/p>* ?o }",
    "SELECT ?o { <http://e/s> <http://e/p>/<http://e/q> ?o }",
    "SELECT ?o { <http://e/s> ^<http://e/p> ?o }",
    "SELECT ?o { <http://e/s> <http://e/p>|<http://e/q> ?o }",
    "SELECT ?o { <http://e/s> <http://e/p>? ?o }",
    "SELECT ?o { <http://e/s> <http://e/p>?o }",  # unspaced: path or variable?
    "SELECT ?o { <http://e/s> ?p ?o FILTER(?o > 1) }",
    "SELECT ?o { <http://e/s> ?p ?o OPTIONAL { ?o ?q ?r } }",
    "SELECT ?o { { <http://e/s> ?p ?o } UNION { ?o ?p ?q } }",
    "SELECT ?o { { SELECT ?o { ?s ?p ?o } } }",
    "SELECT ?o { <http://e/s> ?p ?o BIND(1 AS ?x) }",
    "SELECT ?o { <http://e/s> ?p ?o VALUES ?o { 1 } }",
    "SELECT ?o { GRAPH ?g { <http://e/s> ?p ?o } }",
    "SELECT ?o FROM <http://e/g> { <http://e/s> ?p ?o }",
    "SELECT ?o { SERVICE <http://127.0.0.1:1/> { <http://e/s> ?p ?o } }",
    "SELECT DISTINCT ?o { <http://e/s> ?p ?o }",
    "SELECT ?o { <http://e/s> ?p ?o } ORDER BY ?o",
    "SELECT ?o { <http://e/s> ?p ?o } OFFSET 100000",
    "SELECT ?o { <http://e/s> ?p ?o } GROUP BY ?o",
    "SELECT (COUNT(*) AS ?n) { <http://e/s> ?p ?o }",
    "CONSTRUCT { ?s ?p ?o } WHERE { <http://e/s> ?p ?o }",
    "DESCRIBE <http://e/s>",
    "ASK {}",
    "SELECT ?o { <http://e/\\u0073> ?p ?o }",  # an escape
    'SELECT ?s { ?s ?p "a\\"b" }',
    'SELECT ?s { ?s ?p """long""" }',
    "SELECT ?s { ?s ?p 'single' }",
    "SELECT ?s { ?s ?p 42 }",
    "SELECT ?s { ?s ?p true }",
    "BASE <http://e/> SELECT ?o { <s> ?p ?o }",
    "SELECT ?o { <http://e/s> ?p ?o",  # not even a query
    "SELECT ?o { [] ?p ?o }",
    "SELECT ?o { <http://e/s> ?p ?o, ?q }",
    "SELECT ?o { <http://e/s> ?p ?o ; ?q ?r }",
    "SELECT ?o { <http://e/s> ?p ?o } LIMIT 1 OFFSET 5",
    "SELECT ?o { <http://e/s> ?p ?o } LIMIT",
    "SELECT ?o { ?s ?p <http://e/o> } " + "#" * MAX_INLINE_QUERY,  # too long to consider
]


@pytest.mark.parametrize("query", BOUNDED)
def test_one_pattern_from_a_constant_is_bounded(query: str) -> None:
    assert bounded_by_construction(query)
    Store().query(query)  # and pyoxigraph reads it as a query


@pytest.mark.parametrize("query", NOT_BOUNDED)
def test_every_other_shape_goes_to_a_worker(query: str) -> None:
    assert not bounded_by_construction(query)


def _inline_stats(url: str) -> dict[str, int]:
    return httpx.get(url + "/healthz", timeout=LIVENESS_S).json()["inline"]


@pytest.fixture(scope="module")
def one_worker(mini_release, start_service) -> Iterator[str]:
    with start_service(
        mini_release, max_concurrent=1, result_cache_bytes=0, timeout_s=10, queue_timeout_s=30
    ) as url:
        yield url


def _some_subjects(url: str, count: int) -> list[str]:
    query = f"SELECT DISTINCT ?s {{ ?s a ?c FILTER(isIRI(?s)) }} ORDER BY ?s LIMIT {count}"
    response = httpx.get(url + "/sparql", params={"query": query}, timeout=LIVENESS_S)
    return [row["s"]["value"] for row in response.json()["results"]["bindings"]]


def test_a_runaway_query_is_stopped_and_lookups_answer_while_it_runs(one_worker: str) -> None:
    subjects = _some_subjects(one_worker, 5)
    outcome: dict[str, object] = {}

    def run_away() -> None:
        began = time.monotonic()
        response = httpx.get(one_worker + "/sparql", params={"query": RUNAWAY}, timeout=60)
        outcome["status"], outcome["seconds"] = response.status_code, time.monotonic() - began

    runaway = threading.Thread(target=run_away)
    runaway.start()
    try:
        deadline = time.monotonic() + LIVENESS_S
        while httpx.get(one_worker + "/healthz").json()["busy"] == 0:
            assert time.monotonic() < deadline, "the runaway query never reached a worker"
            time.sleep(0.05)
        before = _inline_stats(one_worker)["answered"]
        for subject in subjects:  # the only worker is taken: these are answered inline
            query = f"SELECT ?p ?o WHERE {{ <{subject}> ?p ?o }}"
            response = httpx.get(one_worker + "/sparql", params={"query": query}, timeout=2.0)
            assert response.status_code == 200, response.text
            assert response.json()["results"]["bindings"]
        assert httpx.get(one_worker + "/healthz").json()["busy"] == 1  # still running
        assert _inline_stats(one_worker)["answered"] == before + len(subjects)
    finally:
        runaway.join(LIVENESS_S)
    assert outcome["status"] == 504
    assert 10 <= outcome["seconds"] < 10 + 30  # stopped at its timeout, not run to its end
    # The worker was replaced: a query that needs one answers again.
    alive = httpx.get(one_worker + "/sparql", params={"query": "ASK {} # alive"}, timeout=60)
    assert alive.status_code == 200


def test_a_query_not_bounded_by_construction_never_runs_inline(one_worker: str) -> None:
    before = _inline_stats(one_worker)
    for query in ("SELECT * { ?s ?p ?o } LIMIT 3", "ASK { ?s ?p ?o . ?o ?q ?r }"):
        response = httpx.get(one_worker + "/sparql", params={"query": query}, timeout=60)
        assert response.status_code == 200
    assert _inline_stats(one_worker) == before


@pytest.fixture(scope="module")
def inline_and_workers(mini_release, start_service) -> Iterator[tuple[str, str]]:
    """The same release twice: inline answers up to 3 rows, and none at all."""
    limits = {"result_cache_bytes": 0, "public_base_iri": "https://example.org/pg/"}
    with (
        start_service(mini_release, inline_rows=3, **limits) as inline,
        start_service(mini_release, inline_rows=0, **limits) as workers,
    ):
        assert _inline_stats(workers) is None
        yield inline, workers


def _seen(response: httpx.Response) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    headers = [(k.lower(), v) for k, v in response.headers.raw if k.lower() != b"date"]
    return response.status_code, headers, response.content


@pytest.mark.parametrize("media_type", [f.media_type for f in FORMATS_BY_KIND["results"].values()])
def test_inline_answers_are_the_workers_bytes(inline_and_workers, media_type: str) -> None:
    inline, workers = inline_and_workers
    subjects = _some_subjects(workers, 12)
    queries = [f"SELECT ?p ?o WHERE {{ <{s}> ?p ?o }}" for s in subjects]
    queries += [f"ASK {{ <{s}> a ?c }}" for s in subjects[:3]]
    queries += [f"SELECT * {{ ?s a <{s}> }} LIMIT 2" for s in subjects[:3]]
    queries += ["SELECT ?s { ?s <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> ?c }"]
    top = "SELECT ?c { ?s a ?c } GROUP BY ?c ORDER BY DESC(COUNT(*)) ?c LIMIT 1"
    common = httpx.get(workers + "/sparql", params={"query": top}, timeout=LIVENESS_S).json()
    queries += [f"SELECT ?s {{ ?s a <{common['results']['bindings'][0]['c']['value']}> }}"]
    queries += ["PREFIX e: <http://e/> SELECT ?o { e:nothing ?p ?o }"]  # no rows
    queries += ["SELECT ?o { undeclared:s ?p ?o }"]  # a syntax error: the same 400
    before = _inline_stats(inline)
    headers = {"Accept": media_type, **IDENTITY}
    for query in queries:
        ours = httpx.get(inline + "/sparql", params={"query": query}, headers=headers)
        theirs = httpx.get(workers + "/sparql", params={"query": query}, headers=headers)
        assert _seen(ours) == _seen(theirs), query
    after = _inline_stats(inline)
    # Both ways were taken: answers within 3 rows inline, longer ones handed to a worker.
    assert after["answered"] > before["answered"]
    assert after["handed_to_workers"] > before["handed_to_workers"]


def test_several_http_processes_share_the_port_and_stop_together(mini_release, tmp_path) -> None:
    """``serve --http-processes 2``: two processes answer on one port (each the whole
    service, with its own inline path and workers), and SIGTERM stops every one of them."""
    import os
    import signal
    import socket
    import subprocess
    import sys

    from pactgraph.serve.processes import listening_socket

    probe = listening_socket("127.0.0.1", 0)
    port = probe.getsockname()[1]
    probe.close()
    dist = mini_release.path.parent
    command = [sys.executable, "-m", "pactgraph.cli.main", "serve", "--dist", str(dist)]
    command += ["--port", str(port), "--http-processes", "2", "--workers", "1"]
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + LIVENESS_S
        pids: set[int] = set()
        while len(pids) < 2:
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:  # a new connection each time: the kernel hands it to either process
                with httpx.Client(timeout=5) as client:
                    pids.add(client.get(url + "/healthz").json()["pid"])
            except httpx.TransportError:
                time.sleep(0.2)
        query = "SELECT ?s { ?s a <http://www.w3.org/2002/07/owl#Class> } LIMIT 1"
        for _ in range(4):
            with httpx.Client(timeout=LIVENESS_S) as client:
                assert client.get(url + "/sparql", params={"query": query}).status_code == 200
        children = {pid for pid in pids if os.path.exists(f"/proc/{pid}")}
        assert children == pids
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    assert server.returncode == 0
    for pid in pids:  # every HTTP process (and so its workers) is gone
        assert not os.path.exists(f"/proc/{pid}")
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0  # nothing listens any more
