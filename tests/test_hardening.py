"""Hardening, round two: what an attacker found that the first suites missed (query side).

Each test runs the real server (uvicorn in a subprocess) and, after the attack, checks that a
fresh cheap query still answers (liveness, with a generous bound; latency under attack is
measured in ``bench/``, never asserted here).

- Slow readers: a client that asks for a large answer and reads nothing holds neither a
  worker nor, past ``send_stall_timeout_s``, its held answer.
- A request waits for a worker at most ``queue_timeout_s``, then gets 503 with Retry-After.
- Answers are bounded in bytes (``max_answer_bytes``): past the cap a 422, never a 5xx; a
  value over pyoxigraph's 16 MiB parser buffer is a 422 in JSON, XML and CSV (TSV carries it).
- Non-deterministic queries (NOW, RAND, UUID, STRUUID, BNODE) are neither cached nor given a
  strong validator.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from probes import get_health

from pactgraph.serve import sparql
from pactgraph.serve.app import create_app
from pactgraph.serve.config import ServiceConfig

LIVENESS_S = 60.0
# 40^3 = 64,000 rows of SPARQL JSON: about 5 MB, well past the loopback socket buffers.
_VALUES = "{ " + " ".join(str(i) for i in range(40)) + " }"
LARGE = f"SELECT ?a ?b ?c {{ VALUES ?a {_VALUES} VALUES ?b {_VALUES} VALUES ?c {_VALUES} }}"
# Runs for minutes unless stopped: 200^4 rows counted.
_WIDE = "{ " + " ".join(str(i) for i in range(200)) + " }"
RUNAWAY = (
    f"SELECT (COUNT(*) AS ?n) {{ VALUES ?a {_WIDE} VALUES ?b {_WIDE} VALUES ?c {_WIDE} "
    f"VALUES ?d {_WIDE} }}"
)
# One value doubled 25 times: 32 MiB, over the 16 MiB parser buffer of the JSON/XML/CSV path.
HUGE_VALUE = (
    "SELECT ?v WHERE { BIND('x' AS ?v0) "
    + " ".join(f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1})" for i in range(25))
    + " BIND(?v25 AS ?v) }"
)


def _alive(url: str) -> None:
    """A fresh, cheap query answers while whatever the test set up is still going on."""
    nonce = time.monotonic_ns()
    response = httpx.get(
        url + "/sparql", params={"query": f"ASK {{ }} # {nonce}"}, timeout=LIVENESS_S
    )
    assert response.status_code == 200, response.text
    assert response.json()["boolean"] is True


def _ask_and_never_read(port: int, query: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    target = httpx.URL("/sparql", params={"query": query}).raw_path.decode("ascii")
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode("ascii"))
    return sock


@pytest.fixture(scope="module")
def two_workers(mini_release, start_service) -> Iterator[str]:
    with start_service(
        mini_release,
        max_concurrent=2,
        result_cache_bytes=0,
        send_stall_timeout_s=3.0,
        queue_timeout_s=5.0,
    ) as url:
        yield url


def test_slow_readers_hold_no_worker(two_workers: str) -> None:
    port = int(two_workers.rsplit(":", 1)[1])
    stalled = [_ask_and_never_read(port, LARGE + f" # {i}") for i in range(3)]  # > workers
    try:
        deadline = time.monotonic() + LIVENESS_S
        health = get_health(two_workers)
        # All three answers get made (more stalled clients than workers) and then held by
        # the app while no worker is busy: before, two workers stayed busy for good.
        while (health["busy"] or not health["held_answer_bytes"]) and time.monotonic() < deadline:
            time.sleep(0.05)
            health = get_health(two_workers)
        assert health["held_answer_bytes"] > 0
        assert health["busy"] == 0
        _alive(two_workers)
        # Past the stall timeout the stalled connections are closed and their bytes freed.
        while health["held_answer_bytes"] and time.monotonic() < deadline:
            time.sleep(0.1)
            health = get_health(two_workers)
        assert health["held_answer_bytes"] == 0
        assert health["worker_restarts"] == 0
    finally:
        for sock in stalled:
            sock.close()
    _alive(two_workers)


@pytest.fixture(scope="module")
def one_worker(mini_release, start_service) -> Iterator[str]:
    with start_service(
        mini_release, max_concurrent=1, result_cache_bytes=0, timeout_s=20, queue_timeout_s=1.0
    ) as url:
        yield url


def test_waiting_for_a_worker_is_bounded(one_worker: str) -> None:
    runaway = threading.Thread(
        target=lambda: httpx.get(one_worker + "/sparql", params={"query": RUNAWAY}, timeout=60)
    )
    runaway.start()
    try:
        deadline = time.monotonic() + LIVENESS_S
        while get_health(one_worker)["busy"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        waited = httpx.get(one_worker + "/sparql", params={"query": "ASK {}"}, timeout=60)
        assert waited.status_code == 503
        assert int(waited.headers["retry-after"]) > 0
    finally:
        runaway.join(LIVENESS_S)
    _alive(one_worker)


@pytest.fixture(scope="module")
def small_answers(mini_release, start_service) -> Iterator[str]:
    with start_service(mini_release, max_answer_bytes=100_000, result_cache_bytes=0) as url:
        yield url


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_answers_over_the_byte_cap_are_a_422(small_answers: str, fmt: str) -> None:
    response = httpx.get(
        small_answers + "/sparql", params={"query": LARGE, "format": fmt}, timeout=LIVENESS_S
    )
    assert response.status_code == 422
    assert "100000 bytes" in response.text
    _alive(small_answers)


@pytest.mark.parametrize(
    ("fmt", "status"), [("json", 422), ("xml", 422), ("csv", 422), ("tsv", 200)]
)
def test_a_value_over_16_mib_is_never_a_5xx(live_service, fmt: str, status: int) -> None:
    response = httpx.get(
        live_service.url + "/sparql",
        params={"query": HUGE_VALUE, "format": fmt},
        headers={"Accept-Encoding": "identity"},
        timeout=LIVENESS_S,
    )
    assert response.status_code == status, response.text[:300]
    if status == 422:
        assert "16 MiB" in response.text and "tsv" in response.text
    _alive(live_service.url)


VOLATILE = "SELECT (STRUUID() AS ?u) (NOW() AS ?n) (RAND() AS ?r) {}"


@pytest.mark.parametrize("fast_path", [True, False])
def test_non_deterministic_answers_are_not_cached(mini_release, start_service, fast_path) -> None:
    with start_service(mini_release, fast_path=fast_path) as url:
        answers = [
            httpx.get(url + "/sparql", params={"query": VOLATILE}, timeout=LIVENESS_S)
            for _ in range(3)
        ]
        assert {a.status_code for a in answers} == {200}
        assert len({a.json()["results"]["bindings"][0]["u"]["value"] for a in answers}) == 3
        for answer in answers:
            assert "etag" not in answer.headers
            assert answer.headers["cache-control"] == "no-store"
            assert answer.headers.get("x-cache") != "hit"
        starred = httpx.get(
            url + "/sparql",
            params={"query": VOLATILE},
            headers={"If-None-Match": "*"},
            timeout=LIVENESS_S,
        )
        assert starred.status_code == 200


@pytest.mark.parametrize("fast_path", [True, False])
@pytest.mark.parametrize(
    ("query", "status"),
    [("SELECT * {", 400), (LARGE, 422)],
)
def test_if_none_match_star_never_hides_an_error(
    mini_release, start_service, fast_path, query, status
) -> None:
    with start_service(mini_release, fast_path=fast_path, row_cap=1000) as url:
        for _ in range(2):  # the second time the planner has seen the query
            response = httpx.get(
                url + "/sparql",
                params={"query": query},
                headers={"If-None-Match": "*"},
                timeout=LIVENESS_S,
            )
            assert response.status_code == status
        ok = httpx.get(
            url + "/sparql",
            params={"query": "ASK {}"},
            headers={"If-None-Match": "*"},
            timeout=LIVENESS_S,
        )
        assert ok.status_code == 304  # an answer exists: `*` matches it


# ------------------------------------------------------------------ request heads


def _raw(url: str, request: bytes) -> bytes:
    """Send raw bytes to the server at ``url`` and read its answer until it closes."""
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=LIVENESS_S) as sock:
        # The server may refuse and close before taking everything: its answer is still read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        reply = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                reply += chunk
    return reply


@pytest.fixture(scope="module")
def heads(mini_release, start_service) -> Iterator[str]:
    with start_service(mini_release, header_timeout_s=2.0) as url:
        yield url


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        (b"Accept: " + b"text/plain;q=0.1, " * 500_000 + b"*/*\r\n", b"431"),  # 8 MB Accept
        (b"".join(b"X-H%d: v\r\n" % i for i in range(20_000)), b"431"),  # 20,000 headers
        (b"X-Big: " + b"a" * 20_000 + b"\r\n", b"431"),
    ],
    ids=["8MB-accept", "20000-headers", "one-big-header"],
)
def test_oversized_heads_are_refused_before_the_app(heads: str, extra: bytes, status: bytes):
    started = time.monotonic()
    reply = _raw(heads, b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n")
    assert reply.startswith(b"HTTP/1.1 " + status), reply[:200]
    assert time.monotonic() - started < LIVENESS_S
    _alive(heads)


def test_a_target_over_the_parsable_bound_is_414_naming_post(heads: str) -> None:
    target = b"/sparql?query=" + b"A" * 70_000
    reply = _raw(heads, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 414"), reply[:200]
    assert b"POST" in reply
    _alive(heads)


def test_the_longest_allowed_query_still_fits(heads: str) -> None:
    query = "ASK {} #" + "x" * (65_535 - 64)  # as long as a GET target can carry
    target = "/sparql?query=" + quote(query, safe="")
    assert len(target) <= 65_535
    request = f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    reply = _raw(heads, request.encode("ascii"))
    assert reply.startswith(b"HTTP/1.1 200"), reply[:200]


def test_a_trickled_head_is_cut_at_its_timeout(heads: str) -> None:
    port = int(heads.rsplit(":", 1)[1])
    slow = [socket.create_connection(("127.0.0.1", port), timeout=LIVENESS_S) for _ in range(50)]
    try:
        for sock in slow:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never the blank line
        _alive(heads)
        replies = []
        for sock in slow:
            reply = b""
            with contextlib.suppress(ConnectionResetError):
                while chunk := sock.recv(65536):
                    reply += chunk
            replies.append(reply)
        assert all(r.startswith(b"HTTP/1.1 408") for r in replies), replies[:2]
    finally:
        for sock in slow:
            sock.close()
    _alive(heads)


# ------------------------------------------------------------------ caches and keys


def test_no_long_header_value_becomes_a_cache_key(mini_release) -> None:
    """The plan and negotiation memos keep short Accept values only; a long one (an
    attacker's choice, up to the header bound) is answered and forgotten."""
    app = create_app(mini_release, ServiceConfig())
    fast_path = app.fast_path
    query_string = b"query=ASK%7B%7D"
    base = "http://127.0.0.1:8000/"
    before_plans = fast_path._plan_memo.cache_info().currsize
    before_ranks = sparql._rank_memo.cache_info().currsize
    for i in range(50):
        accept = "application/sparql-results+json, " + f"application/x-{i}, " * 200
        assert fast_path.plan(query_string, accept, base) is not None
    assert fast_path._plan_memo.cache_info().currsize == before_plans
    assert sparql._rank_memo.cache_info().currsize == before_ranks
    fast_path.plan(query_string, "application/sparql-results+json", base)
    assert fast_path._plan_memo.cache_info().currsize == before_plans + 1


def test_the_service_description_ignores_the_host_header(live_service) -> None:
    answers = [
        httpx.get(
            live_service.url + "/sparql",
            headers={"Host": f"h{i}.attacker.example", "Accept": "text/turtle"},
            timeout=LIVENESS_S,
        )
        for i in range(3)
    ]
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert b"attacker.example" not in answers[0].content


# ------------------------------------------------------------------ XML and ranges

CONTROL = 'SELECT ?x WHERE { BIND("a\\u0000b\\u0001c" AS ?x) }'
CONTROL_GRAPH = 'CONSTRUCT { <urn:a> <urn:b> ?x } WHERE { BIND("a\\u0001c" AS ?x) }'


@pytest.mark.parametrize(
    ("query", "accept", "status"),
    [
        (CONTROL, "application/sparql-results+xml", 406),
        (CONTROL_GRAPH, "application/rdf+xml", 406),
        (CONTROL, "application/sparql-results+json", 200),
    ],
)
def test_xml_is_never_served_malformed(live_service, query: str, accept: str, status: int):
    response = httpx.get(
        live_service.url + "/sparql",
        params={"query": query},
        headers={"Accept": accept},
        timeout=LIVENESS_S,
    )
    assert response.status_code == status, response.text
    if status == 406:
        assert "XML 1.0" in response.text and "json" in response.text


def test_a_range_in_an_unknown_unit_is_ignored(live_service) -> None:
    version = live_service.release.version
    url = f"{live_service.url}/dumps/{version}/pactgraph.nt"
    whole = httpx.get(url, headers={"Accept-Encoding": "identity"}, timeout=LIVENESS_S)
    for header in ("rows=0-9", "items=1-2"):
        response = httpx.get(
            url, headers={"Range": header, "Accept-Encoding": "identity"}, timeout=LIVENESS_S
        )
        assert response.status_code == 200
        assert response.content == whole.content
    malformed = httpx.get(url, headers={"Range": "bytes=9-1"}, timeout=LIVENESS_S)
    assert malformed.status_code in (200, 400, 416)  # RFC 9110 allows either for bytes
