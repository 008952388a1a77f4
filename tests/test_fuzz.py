"""Fuzzing over real HTTP: no input makes the service answer 5xx or an error without words.

- schemathesis generates requests for every operation of the OpenAPI description the live
  server publishes at ``/openapi.json`` and holds each answer to it: status code, media type
  and (for JSON) body schema must be the ones described (:mod:`pactgraph.serve.openapi`).
- hypothesis throws SPARQL-ish token soup at ``/sparql`` (GET and both POST forms) and
  RDF-ish bytes at ``/validate`` under each input media type.

Example counts are bounded (a few hundred requests in all) so the module runs in well under
two minutes. The only 5xx accepted is 504 with its time-limit message: a generated query
may legitimately be expensive, and stopping it is the defined answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pactgraph.serve.validate_api import INPUT_FORMATS

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: a failure reproduces
)
TIME_LIMIT = "longer than this endpoint's"


def _defined(response: httpx.Response | Any) -> None:
    """The invariant: below 500 (or a time-limit 504), and every error says something."""
    status = response.status_code
    text = response.text
    if status == 504:
        assert TIME_LIMIT in text, text[:300]
        return
    assert status < 500, f"{status}: {text[:500]}"
    if status >= 400 and status != 405 and response.request.method != "HEAD":
        assert text.strip(), f"{status} without a message"


@pytest.fixture(scope="module")
def fuzz_url(mini_release, start_service) -> Iterator[str]:
    with start_service(mini_release, timeout_s=2, max_concurrent=2, row_cap=1000) as url:
        yield url


# ------------------------------------------------------------------------ schemathesis


# Bodies of the RDF and SPARQL media types the description names are text to schemathesis.
for _media_type in ("application/sparql-query", "application/n-triples", "text/turtle"):
    schemathesis.serializer.alias(_media_type, "text/plain")
# _defined() is the server-error check (a time-limit 504 is a defined answer).
CONFORMANCE = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def api_schema(fuzz_url: str) -> Any:
    """The OpenAPI description as the live server publishes it."""
    return schemathesis.openapi.from_url(fuzz_url + "/openapi.json")


def test_openapi_is_published_and_describes_the_protocol(fuzz_url: str) -> None:
    response = httpx.get(fuzz_url + "/openapi.json", timeout=60)
    assert response.status_code == 200
    paths = response.json()["paths"]
    get = paths["/sparql"]["get"]
    assert {p["name"] for p in get["parameters"]} >= {"query", "default-graph-uri", "format"}
    assert "text/csv" in get["responses"]["200"]["content"]
    assert {"400", "406", "413", "504"} <= set(get["responses"])
    assert set(paths["/sparql"]["post"]["requestBody"]["content"]) == {
        "application/x-www-form-urlencoded",
        "application/sparql-query",
    }
    assert (
        "application/json" not in paths["/id/{kind}/{slug}"]["get"]["responses"]["200"]["content"]
    )
    assert "HTTPValidationError" not in response.text  # no route can answer FastAPI's 422
    ids = [op["operationId"] for path in paths.values() for op in path.values()]
    assert len(ids) == len(set(ids)), "every operation has its own operationId"
    assert httpx.post(fuzz_url + "/openapi.json", timeout=60).status_code == 405  # read-only


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_openapi_operations_conform(case, fuzz_url: str) -> None:
    response = case.call(base_url=fuzz_url, timeout=60)
    _defined(response)
    case.validate_response(response, checks=CONFORMANCE)


# ------------------------------------------------------------------------ SPARQL soup

TOKENS = [
    "SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "{", "}", "(", ")", "[", "]", ".", ";",
    ",", "*", "/", "|", "^", "+", "?", "!", "=", "<", ">", "&&", "||", "?s", "?p", "?o", "?x",
    "$y", "<urn:a>", "<http://127.0.0.1:1/>", "<file:///etc/passwd>", "rdf:type", "a",
    '"lit"', "'x'", '"""long"""', "42", "-1.5e9", "true", "FILTER", "OPTIONAL", "UNION",
    "MINUS", "GRAPH", "SERVICE", "SILENT", "FROM", "NAMED", "VALUES", "BIND", "AS", "LIMIT",
    "OFFSET", "ORDER BY", "GROUP BY", "HAVING", "COUNT", "GROUP_CONCAT", "REGEX", "STR",
    "EXISTS", "NOT", "PREFIX", "BASE", "LOAD", "INSERT", "DELETE", "DATA", "CLEAR", "#", "\n",
    "\\u0053ERVICE", "\x00", "\ufeff", "é", "\U0001d518", "@en", "^^xsd:int", "_:b", "UNDEF",
]  # fmt: skip
soup = st.lists(st.sampled_from(TOKENS), min_size=0, max_size=40).map(" ".join)
noisy = st.one_of(soup, st.text(max_size=300))


@FUZZ
@given(query=noisy, how=st.sampled_from(["get", "form", "direct"]))
def test_sparql_token_soup(fuzz_url: str, query: str, how: str) -> None:
    sparql = fuzz_url + "/sparql"
    if how == "get":
        response = httpx.get(sparql, params={"query": query}, timeout=60)
    elif how == "form":
        response = httpx.post(sparql, data={"query": query}, timeout=60)
    else:
        response = httpx.post(
            sparql,
            content=query.encode("utf-8", errors="surrogatepass"),
            headers={"content-type": "application/sparql-query"},
            timeout=60,
        )
    _defined(response)


@FUZZ
@given(body=st.binary(max_size=400), media=st.sampled_from(["application/sparql-query", "x/y"]))
def test_sparql_random_bytes(fuzz_url: str, body: bytes, media: str) -> None:
    response = httpx.post(
        fuzz_url + "/sparql", content=body, headers={"content-type": media}, timeout=60
    )
    _defined(response)


# ------------------------------------------------------------------------ RDF soup

RDF_TOKENS = [
    "@prefix", "ex:", "<urn:a>", "<urn:b>", "<http://127.0.0.1:1/ctx>", ".", ";", ",", "[",
    "]", "(", ")", "a", '"x"', '"x"@en', '"1"^^<http://www.w3.org/2001/XMLSchema#integer>',
    "_:b", "true", "42", "{", "}", '"@context"', '"@id"', '"@graph"', ":", '"urn:p"',
    "<!DOCTYPE", "<!ENTITY", "&x;", "\n", "\x00", "\\u0000", "é",
]  # fmt: skip
rdf_soup = st.lists(st.sampled_from(RDF_TOKENS), max_size=40).map(" ".join).map(str.encode)


@FUZZ
@given(
    body=st.one_of(rdf_soup, st.binary(max_size=400)),
    media=st.sampled_from([*INPUT_FORMATS, "application/rdf+xml", "text/plain"]),
)
def test_validate_rdf_soup(fuzz_url: str, body: bytes, media: str) -> None:
    response = httpx.post(
        fuzz_url + "/validate", content=body, headers={"content-type": media}, timeout=60
    )
    _defined(response)
