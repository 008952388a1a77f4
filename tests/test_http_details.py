"""HTTP details integrators rely on, checked against real servers over HTTP.

- The same resource of the same release gives the same bytes and ETag in any process, in
  every format (two servers with different hash seeds are compared).
- Cross-origin scripts can read the validators and links (``Access-Control-Expose-Headers``).
- ``format=`` that names nothing this service writes, with an Accept header that names
  something it does, is served by the Accept header (SPARQLWrapper's N3 mode).
- ``/context.jsonld`` negotiates (406 for a type it cannot give).
- gzip: compressed answers for clients that ask, with their own ETag; ranges stay on the
  identity body.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from contextlib import ExitStack
from unittest import mock

import httpx
import pytest
from service_fixtures import serve
from SPARQLWrapper import N3, SPARQLWrapper

from pactgraph.release.published import Release

IDENTITY = {"Accept-Encoding": "identity"}
RESOURCES = [
    "/id/actor/israel",
    "/id/instrument/mou-fy2019-fy2028",
    "/shapes",
    "/ontology",
    "/ontology/alignments",
    "/graph/instruments/mous",
    "/.well-known/void",
]
FORMATS = ["ttl", "jsonld", "nt", "rdf", "html"]


@pytest.fixture(scope="module")
def two_processes(release: Release) -> Iterator[tuple[str, str]]:
    """The shipped release served twice, by processes with different hash seeds."""
    with ExitStack() as stack:
        urls = []
        for seed in ("1", "2"):
            with mock.patch.dict(os.environ, {"PYTHONHASHSEED": seed}):
                urls.append(stack.enter_context(serve(release)))
        yield urls[0], urls[1]


@pytest.mark.parametrize("path", RESOURCES)
def test_a_resource_has_the_same_bytes_and_etag_in_every_process(
    two_processes: tuple[str, str], path: str
) -> None:
    first, second = two_processes
    for fmt in FORMATS:
        answers = [
            httpx.get(base + path, params={"format": fmt}, headers=IDENTITY, timeout=60)
            for base in (first, second, first)  # again from the first: no per-request labels
        ]
        assert {a.status_code for a in answers} == {200}, (path, fmt)
        assert len({a.content for a in answers}) == 1, (path, fmt)
        assert len({a.headers["etag"] for a in answers}) == 1, (path, fmt)
        again = httpx.get(
            second + path,
            params={"format": fmt},
            headers={**IDENTITY, "If-None-Match": answers[0].headers["etag"]},
            timeout=60,
        )
        assert again.status_code == 304, (path, fmt)


def test_cross_origin_scripts_can_read_validators_and_links(live_service) -> None:
    response = httpx.get(
        live_service.url + "/id/actor/alpha",
        headers={"Origin": "https://reader.example", "Accept": "text/turtle"},
        timeout=30,
    )
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "link", "content-location", "content-range", "retry-after"} <= exposed


def test_sparqlwrapper_n3_mode_gets_turtle(live_service) -> None:
    """SPARQLWrapper's N3 mode sends ``format=n3`` with an Accept naming ``text/turtle``."""
    client = SPARQLWrapper(live_service.url + "/sparql")
    client.setQuery("CONSTRUCT WHERE { ?s a ?c } LIMIT 3")
    client.setReturnFormat(N3)
    result = client.query()
    assert result.response.status == 200
    assert result.response.headers["content-type"].startswith("text/turtle")
    assert result.convert()  # the Turtle bytes


def test_format_naming_nothing_with_a_wildcard_accept_is_still_406(live_service) -> None:
    response = httpx.get(
        live_service.url + "/sparql",
        params={"query": "ASK {}", "format": "banana"},
        headers={"Accept": "*/*"},
        timeout=30,
    )
    assert response.status_code == 406


@pytest.mark.parametrize(
    ("accept", "status"),
    [("application/ld+json", 200), ("application/json", 200), ("*/*", 200), (None, 200),
     ("text/html", 406), ("text/turtle", 406)],
)  # fmt: skip
def test_the_context_negotiates(live_service, accept: str | None, status: int) -> None:
    headers = {"Accept": accept} if accept else {}
    response = httpx.get(live_service.url + "/context.jsonld", headers=headers, timeout=30)
    assert response.status_code == status
    if status == 200:
        assert "@context" in response.json()
        assert "Accept" in response.headers["vary"].split(", ")


def test_large_answers_are_gzipped_with_their_own_validator(live_service) -> None:
    query = "SELECT ?s ?p ?o { ?s ?p ?o }"
    url = live_service.url + "/sparql"
    with httpx.Client(timeout=60) as client:
        plain = client.get(url, params={"query": query}, headers=IDENTITY)
        raw = client.build_request(
            "GET", url, params={"query": query}, headers={"Accept-Encoding": "gzip"}
        )
        packed = client.send(raw, stream=True)
        body = b"".join(packed.iter_raw())
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == plain.content
    assert len(body) < len(plain.content)
    assert packed.headers["etag"] != plain.headers["etag"]
    assert "Accept-Encoding" in packed.headers["vary"]
    assert "content-length" in plain.headers


def test_rdf_answers_are_gzipped_too(live_service) -> None:
    response = httpx.get(
        live_service.url + "/id/actor/alpha",
        headers={"Accept": "text/turtle", "Accept-Encoding": "gzip"},
        timeout=30,
    )
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["etag"].endswith('-gzip"')
    assert b"actor:alpha" in response.content or b"/actor/alpha" in response.content


def test_a_range_request_gets_the_identity_body(live_service) -> None:
    listing = httpx.get(
        live_service.url + "/dumps/", headers={"Accept": "application/json"}, timeout=30
    )
    assert listing.status_code == 200
    version = live_service.release.version
    url = f"{live_service.url}/dumps/{version}/pactgraph.nt"
    response = httpx.get(url, headers={"Range": "bytes=0-9", "Accept-Encoding": "gzip"}, timeout=30)
    assert response.status_code == 206
    assert "content-encoding" not in response.headers
    assert len(response.content) == 10


@pytest.mark.parametrize("path", ["/id/actor/alpha?format=html", "/id/actor/nowhere", "/dumps/"])
def test_the_host_header_is_not_reflected_into_links(live_service, path: str) -> None:
    """Pages are cacheable: a link built from a client's Host header would poison caches."""
    response = httpx.get(
        live_service.url + path,
        headers={"Host": "attacker.example", "Accept": "text/html"},
        timeout=30,
    )
    assert response.status_code in (200, 404)
    assert "attacker.example" not in response.text
    json_listing = httpx.get(
        live_service.url + "/dumps/",
        headers={"Host": "attacker.example", "Accept": "application/json"},
        timeout=30,
    )
    assert "attacker.example" not in json_listing.text
