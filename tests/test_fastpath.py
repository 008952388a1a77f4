"""The fast path (pactgraph.serve.fastpath) answers exactly what FastAPI would, over real HTTP.

Two servers of the mini release run side by side: one with the fast path (the default), one
with ``fast_path=False`` (every request through FastAPI). Both are given the same public base
IRI, so the same request has the same cache key and tag on both. Each request is sent twice
to each server (the first fills the result cache, the second is a hit) and the answers are
compared pair by pair: status, every header but ``date`` in the order sent, and the body,
byte for byte. The fast server's ``/healthz`` counter shows which requests it answered
itself, so a test cannot pass by falling through to FastAPI everywhere.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pactgraph.rdf.formats import FORMATS_BY_KIND
from pactgraph.release.published import Release
from pactgraph.serve.sparql import query_hash

SELECT = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 7"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 7"
_VALUES = " ".join(str(i) for i in range(150))
OVER_THE_ROW_CAP = (
    f"SELECT ?a ?b {{ VALUES ?a {{ {_VALUES} }} VALUES ?b {{ {_VALUES} }} }}"  # 22 500
)
BASE = "https://pactgraph.test/"  # one endpoint IRI for both servers: same keys, same tags


IDENTITY = {"Accept-Encoding": "identity"}


@dataclass(frozen=True)
class Pair:
    """The two servers: ``fast`` (fast path on) and ``full`` (every request via FastAPI)."""

    fast: httpx.Client
    full: httpx.Client
    log: Path

    def fast_answers(self) -> int:
        return self.fast.get("/healthz").json()["fast_path_answers"]


@pytest.fixture(scope="module")
def pair(mini_release: Release, start_service, tmp_path_factory) -> Iterator[Pair]:
    log = tmp_path_factory.mktemp("fastpath") / "fast.log"
    # Small chunks and row cap, so streaming and the row-cap error are cheap to reach.
    limits = {
        "public_base_iri": BASE,
        "max_concurrent": 1,
        "max_query_length": 2000,
        "chunk_size": 16384,
        "row_cap": 20000,
    }
    with (
        start_service(mini_release, log_path=log, **limits) as fast_url,
        start_service(mini_release, fast_path=False, **limits) as full_url,
        # Identity bodies unless a test asks for gzip (httpx asks for it by default).
        httpx.Client(base_url=fast_url, timeout=60, headers=IDENTITY) as fast,
        httpx.Client(base_url=full_url, timeout=60, headers=IDENTITY) as full,
    ):
        assert full.get("/healthz").json()["fast_path_answers"] is None
        yield Pair(fast, full, log)


def _seen(response: httpx.Response) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    headers = [(k.lower(), v) for k, v in response.headers.raw if k.lower() != b"date"]
    return response.status_code, headers, response.content


def _same_on_both(pair: Pair, method: str, *, by_fast_path: bool, **request) -> httpx.Response:
    """Send the request twice to each server; the answers must be identical, pair by pair.

    The first request fills the result cache when the answer is cacheable, so the second is
    a hit. ``by_fast_path``: whether the fast server answers both itself (else FastAPI does).
    Returns the fast server's second answer.
    """
    before = pair.fast_answers()
    fast = [pair.fast.request(method, "/sparql", **request) for _ in range(2)]
    assert pair.fast_answers() - before == (2 if by_fast_path else 0)
    full = [pair.full.request(method, "/sparql", **request) for _ in range(2)]
    for one, other in zip(fast, full, strict=True):
        assert _seen(one) == _seen(other)
    return fast[1]


def _by_format() -> list[tuple[str, str, str]]:
    return [
        (SELECT if kind == "results" else CONSTRUCT, name, fmt.media_type)
        for kind, table in FORMATS_BY_KIND.items()
        for name, fmt in table.items()
    ]


@pytest.mark.parametrize(("query", "name", "media_type"), _by_format())
def test_a_cache_hit_is_the_same_in_every_format(pair: Pair, query, name, media_type) -> None:
    by_accept = _same_on_both(
        pair, "GET", by_fast_path=True, params={"query": query}, headers={"Accept": media_type}
    )
    assert by_accept.status_code == 200
    assert by_accept.headers["x-cache"] == "hit"
    assert by_accept.headers["content-type"].split(";")[0] == media_type
    assert by_accept.content
    by_param = _same_on_both(
        pair, "GET", by_fast_path=True, params={"query": query + " # p", "format": name}
    )
    assert by_param.headers["content-type"] == by_accept.headers["content-type"]


def test_cors_and_head_are_the_same(pair: Pair) -> None:
    params = {"query": SELECT + " # cors"}
    cors = _same_on_both(
        pair, "GET", by_fast_path=True, params=params, headers={"Origin": "https://a.example"}
    )
    assert cors.headers["access-control-allow-origin"] == "*"
    assert cors.headers["vary"] == "Accept, Origin"
    plain = _same_on_both(pair, "GET", by_fast_path=True, params=params)
    assert "access-control-allow-origin" not in plain.headers
    head = _same_on_both(pair, "HEAD", by_fast_path=True, params=params)
    assert head.content == b""
    assert head.headers["content-length"] == plain.headers["content-length"]


def test_if_none_match_gives_the_same_304(pair: Pair) -> None:
    params = {"query": SELECT + " # 304"}
    etag = pair.full.get("/sparql", params=params).headers["etag"]
    assert pair.fast.get("/sparql", params=params).headers["etag"] == etag  # both cached now
    for tags in (etag, f'W/"other", {etag}', "*"):
        answer = _same_on_both(
            pair, "GET", by_fast_path=True, params=params, headers={"If-None-Match": tags}
        )
        assert answer.status_code == 304
        assert answer.content == b""
        assert answer.headers["etag"] == etag
    other = _same_on_both(
        pair, "GET", by_fast_path=True, params=params, headers={"If-None-Match": '"x"'}
    )
    assert other.status_code == 200


def test_gzip_answers_are_the_same(pair: Pair) -> None:
    """Both paths compress alike, with the gzip representation's own validator."""
    params = {"query": SELECT + " # gzip"}
    gzip = {"Accept-Encoding": "gzip"}
    plain = _same_on_both(pair, "GET", by_fast_path=True, params=params)
    packed = _same_on_both(pair, "GET", by_fast_path=True, params=params, headers=gzip)
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
    assert "Accept-Encoding" in packed.headers["vary"]
    assert packed.content == plain.content  # httpx decodes the gzip body
    revalidated = _same_on_both(
        pair,
        "GET",
        by_fast_path=True,
        params=params,
        headers={**gzip, "If-None-Match": packed.headers["etag"]},
    )
    assert revalidated.status_code == 304
    assert revalidated.headers["etag"] == packed.headers["etag"]


@pytest.mark.parametrize(
    ("request_args", "status"),
    [
        ({"params": {"update": "CLEAR ALL"}}, 403),
        ({"params": {"query": "ASK {}", "update": "CLEAR ALL"}}, 403),
        ({"params": [("query", "ASK {}"), ("query", "ASK {}")]}, 400),
        ({"params": {"query": SELECT}, "headers": {"Accept": "image/png"}}, 406),
        ({"params": {"query": SELECT, "format": "png"}}, 406),
        ({"params": {"query": SELECT, "default-graph-uri": "http://elsewhere.example/g"}}, 400),
        ({"params": {"query": "ASK {} #" + "x" * 2000}}, 413),
        ({"params": {"query": "   "}}, 400),
        ({"params": {"default-graph-uri": "http://elsewhere.example/g"}}, 400),
    ],
)
def test_what_the_planner_refuses_goes_to_fastapi(pair: Pair, request_args, status) -> None:
    answer = _same_on_both(pair, "GET", by_fast_path=False, **request_args)
    assert answer.status_code == status
    assert "etag" not in answer.headers
    assert answer.text.strip()


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("SELECT * {", 400),  # pyoxigraph's parser runs in the worker
        ("SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", 400),
        ("SELECT * FROM <http://elsewhere.example/g> { ?s ?p ?o }", 400),
        (OVER_THE_ROW_CAP, 422),
    ],
)
def test_worker_errors_are_the_same(pair: Pair, query: str, status: int) -> None:
    answer = _same_on_both(pair, "GET", by_fast_path=True, params={"query": query})
    assert answer.status_code == status
    assert "etag" not in answer.headers and "x-cache" not in answer.headers
    assert answer.text.strip()


def test_a_streamed_answer_is_the_same(pair: Pair) -> None:
    """Over one chunk, a worker's answer is streamed; it is cached all the same (issue 18: a
    repeated large page was never a hit), and the hit is streamed alike on both paths."""
    values = " ".join(str(i) for i in range(100))
    query = f"SELECT ?a ?b {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} }} # stream"
    answer = _same_on_both(
        pair, "GET", by_fast_path=True, params={"query": query}, headers={"Accept": "text/csv"}
    )
    assert answer.status_code == 200 and answer.headers["x-cache"] == "hit"
    assert int(answer.headers["content-length"]) == len(answer.content) > 16384
    head = pair.fast.head("/sparql", params={"query": query}, headers={"Accept": "text/csv"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == answer.headers["content-length"]


def test_other_methods_and_paths_go_to_fastapi(pair: Pair) -> None:
    query = SELECT + " # other methods"
    posted = _same_on_both(pair, "POST", by_fast_path=False, data={"query": query})
    assert posted.headers["x-cache"] == "hit" and "etag" not in posted.headers
    refused = _same_on_both(pair, "PUT", by_fast_path=False, params={"query": query})
    assert refused.status_code == 405
    update = _same_on_both(
        pair,
        "POST",
        by_fast_path=False,
        content=b"CLEAR ALL",
        headers={"Content-Type": "application/sparql-update"},
    )
    assert update.status_code == 403
    # The service description names its server's own URLs, so only the route is compared.
    before = pair.fast_answers()
    described = pair.fast.get("/sparql", headers={"Accept": "text/turtle"})
    assert described.status_code == 200 and b"sd:Service" in described.content
    assert described.headers["content-type"] == "text/turtle; charset=utf-8"
    assert pair.fast.get("/sparql/", params={"query": query}).status_code in (307, 404)
    assert pair.fast_answers() == before


def test_cache_counters_and_access_log(pair: Pair) -> None:
    query = SELECT + " # counters"
    stats = pair.fast.get("/healthz").json()["result_cache"]
    fast_before = pair.fast_answers()
    answers = [pair.fast.get("/sparql", params={"query": query}) for _ in range(3)]
    after = pair.fast.get("/healthz").json()["result_cache"]
    assert [a.headers["x-cache"] for a in answers] == ["miss", "hit", "hit"]
    assert (after["misses"] - stats["misses"], after["hits"] - stats["hits"]) == (1, 2)
    assert pair.fast_answers() - fast_before == 3
    digest = query_hash(query)
    deadline = time.monotonic() + 30
    entries: list[dict] = []
    while len(entries) < 3 and time.monotonic() < deadline:
        lines = [line for line in pair.log.read_text().splitlines() if line[:1] == "{"]
        entries = [e for e in map(json.loads, lines) if e["query_sha256"] == digest]
        time.sleep(0.05)
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [("GET", "/sparql", 200)] * 3
    assert all(e["duration_ms"] >= 0 for e in entries)


@pytest.mark.parametrize("fast_path", [True, False])
def test_relative_iris_resolve_against_the_service_not_the_host_header(
    mini_release: Release, start_service, fast_path: bool
) -> None:
    """A query's relative IRIs resolve against the service's own address (or its public
    base): never against the Host header, which the client chooses and which would let one
    client's answer, cached and shared, carry a name of its choosing."""
    query = "SELECT ?x WHERE { BIND(<relative> AS ?x) }"
    with (
        start_service(mini_release, max_concurrent=1, fast_path=fast_path) as url,
        httpx.Client(base_url=url, headers=IDENTITY) as http,
    ):
        answers = [
            http.get("/sparql", params={"query": query}, headers={"Host": host})
            for host in ("one.example", "two.example", "one.example")
        ]
        assert len({a.content for a in answers}) == 1
        assert len({a.headers["etag"] for a in answers}) == 1
        assert f"{url}/relative".encode() in answers[0].content
        assert b".example" not in answers[0].content
