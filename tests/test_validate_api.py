"""``POST /validate`` over real HTTP, on the shape fixtures of ``tests/data/{valid,invalid}``.

Every valid fixture conforms; every invalid one fails for exactly the reasons its
``# expect: <shape> <constraint>`` lines name (the contract ``test_shapes.py`` holds the
shapes to), whatever syntax it is posted in. The report is checked in each format, and the
refusals: malformed input (400 with the parser's position), RDF/XML and unknown types (415),
oversized bodies (413), and a JSON-LD remote context, which must never be fetched (a
loopback listener proves no connection is made).
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal
from rdflib.namespace import SH

from pactgraph.release.published import Release

DATA = Path(__file__).parent / "data"
VALID = sorted((DATA / "valid").glob("*.ttl"))
INVALID = sorted((DATA / "invalid").glob("*.ttl"))
EXPECT = re.compile(r"^# expect: (\S+) (\S+)\s*$", re.MULTILINE)
JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def url(mini_release: Release, start_service) -> Iterator[str]:
    # The shapes are the data root's, whatever release is served: the small one starts fast.
    with start_service(mini_release) as base:
        yield base


def post(url: str, body: bytes, content_type: str, accept: str = "application/json", **kw):
    return httpx.post(
        url + "/validate",
        content=body,
        headers={"Content-Type": content_type, "Accept": accept},
        timeout=120,
        **kw,
    )


def as_ntriples(path: Path) -> bytes:
    quads = ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)
    return ox.serialize((q.triple for q in quads), format=ox.RdfFormat.N_TRIPLES) or b""


def as_jsonld(path: Path) -> bytes:
    # Compact JSON-LD with an inline context, as an integrator would post it.
    graph = Graph().parse(path, format="turtle")
    context = {p: str(ns) for p, ns in graph.namespaces() if p}
    return graph.serialize(format="json-ld", context=context, auto_compact=True).encode()


SYNTAXES = {
    "text/turtle": lambda p: p.read_bytes(),
    "application/n-triples": as_ntriples,
    "application/ld+json": as_jsonld,
}


def found(summary: dict) -> set[tuple[str, str]]:
    return {(v["shape"].split(":", 1)[1], v["constraint"]) for v in summary["violations"]}


@pytest.mark.parametrize("fixture", VALID, ids=lambda p: p.stem)
def test_valid_fixtures_conform(url: str, fixture: Path) -> None:
    response = post(url, fixture.read_bytes(), "text/turtle")
    assert response.status_code == 200
    assert response.json() == {"conforms": True, "violations": []}
    assert response.headers["x-shacl-conforms"] == "true"


@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_invalid_fixtures_fail_for_their_expected_reasons(url: str, fixture: Path) -> None:
    expected = set(EXPECT.findall(fixture.read_text(encoding="utf-8")))
    assert expected, f"{fixture.name} names no '# expect:' line"
    response = post(url, fixture.read_bytes(), "text/turtle")
    assert response.status_code == 200
    summary = response.json()
    assert summary["conforms"] is False
    assert response.headers["x-shacl-conforms"] == "false"
    assert found(summary) == expected
    for violation in summary["violations"]:
        assert violation["focus_node"] and violation["message"]


@pytest.mark.parametrize("content_type", list(SYNTAXES))
def test_every_input_syntax_gives_the_same_report(url: str, content_type: str) -> None:
    fixture = DATA / "invalid" / "obligation-two-bearers.ttl"
    reference = post(url, fixture.read_bytes(), "text/turtle").json()
    response = post(url, SYNTAXES[content_type](fixture), content_type)
    assert response.status_code == 200, response.text
    assert response.json() == reference
    valid = post(url, SYNTAXES[content_type](VALID[0]), content_type)
    assert valid.json()["conforms"] is True


def test_report_formats(url: str) -> None:
    fixture = DATA / "invalid" / "obligation-two-bearers.ttl"
    summary = post(url, fixture.read_bytes(), "text/turtle").json()
    focus = {v["focus_node"] for v in summary["violations"]}

    turtle = post(url, fixture.read_bytes(), "text/turtle", "text/turtle")
    assert turtle.headers["content-type"].startswith("text/turtle")
    report = Graph().parse(data=turtle.text, format="turtle")
    assert Literal(False) in set(report.objects(None, SH.conforms))
    assert len(set(report.objects(None, SH.result))) == len(summary["violations"])

    jsonld = post(url, fixture.read_bytes(), "text/turtle", "application/ld+json")
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    again = Graph().parse(data=jsonld.text, format="json-ld")
    assert len(set(again.objects(None, SH.result))) == len(summary["violations"])

    html = post(url, fixture.read_bytes(), "text/turtle", "text/html")
    assert html.headers["content-type"].startswith("text/html")
    assert 'data-conforms="false"' in html.text
    for node in focus:
        assert node in html.text
    for violation in summary["violations"]:
        assert violation["path"] in html.text

    text = post(url, fixture.read_bytes(), "text/turtle", "text/plain")
    assert text.text.startswith(f"Does not conform: {len(summary['violations'])} result(s).")
    by_param = post(url, fixture.read_bytes(), "text/turtle", "text/html", params={"format": "txt"})
    assert by_param.text == text.text
    assert post(url, fixture.read_bytes(), "text/turtle", "image/png").status_code == 406


def test_malformed_input_is_400_with_the_parsers_message(url: str) -> None:
    broken = b'@prefix ex: <http://example.org/> .\nex:a ex:b "unterminated .\n'
    response = post(url, broken, "text/turtle")
    assert response.status_code == 400
    assert "line" in response.json()["error"].lower()
    assert post(url, b"{not json", "application/ld+json").status_code == 400
    assert post(url, b"<a> <b> <c> .", "application/n-triples").status_code == 400


def test_rdfxml_and_unknown_types_are_refused(url: str) -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">&x;</rdf:RDF>'
    )
    response = post(url, xxe, "application/rdf+xml")
    assert response.status_code == 415
    assert "root:" not in response.text
    assert post(url, b"x", "application/pdf").status_code == 415


def test_remote_jsonld_context_is_never_fetched(url: str) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    try:
        body = json.dumps(
            {
                "@context": f"http://127.0.0.1:{port}/context.jsonld",
                "@id": "https://w3id.org/pactgraph/id/actor/x",
                "label": "X",
            }
        ).encode()
        response = post(url, body, "application/ld+json")
        assert response.status_code == 400
        assert "remote" in response.json()["error"].lower()
        with pytest.raises(TimeoutError):
            listener.accept()  # nobody called
    finally:
        listener.close()


def test_oversized_body_is_413(mini_release: Release, start_service) -> None:
    fixture = VALID[0].read_bytes()
    with start_service(mini_release, max_body_size=len(fixture) - 1) as small:
        assert post(small, fixture, "text/turtle").status_code == 413
        assert post(small, fixture[: len(fixture) // 2], "text/turtle").status_code in (200, 400)
