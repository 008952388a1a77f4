"""The SPARQL 1.1 Protocol endpoint over real HTTP (uvicorn on loopback, worker processes).

Answers are checked against the same query run in-process on the release's own store, so the
tests do not depend on what the mini data happens to contain.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import time
from collections.abc import Iterator

import httpx
import pyoxigraph
import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.compare import isomorphic
from service_fixtures import LiveService
from SPARQLWrapper import CSV, JSON, JSONLD, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
SELECT_ALL = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
CONSTRUCT_ALL = "CONSTRUCT WHERE { ?s ?p ?o }"
ASK_ANY = "ASK { ?s ?p ?o }"


@pytest.fixture(scope="module")
def store(live_service: LiveService) -> Iterator[pyoxigraph.Store]:
    """The served release's store, opened read-only in this process."""
    store = pyoxigraph.Store.read_only(str(live_service.release.store_path))
    yield store
    del store


@pytest.fixture(scope="module")
def http(live_service: LiveService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_service.url, timeout=60) as client:
        yield client


def local_rows(store: pyoxigraph.Store, query: str) -> set[tuple[str, ...]]:
    """SELECT rows computed in-process over the union default graph, as N-Triples terms."""
    return {
        tuple(str(value) for value in row)
        for row in store.query(query, use_default_graph_as_union=True)
    }


def local_triples(store: pyoxigraph.Store, query: str) -> set[str]:
    return {str(t) for t in store.query(query, use_default_graph_as_union=True)}


def as_term(binding: dict[str, str]) -> str:
    """A SPARQL JSON binding as an N-Triples term (pyoxigraph's ``str`` form)."""
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return str(pyoxigraph.NamedNode(value))
    if kind == "bnode":
        return str(pyoxigraph.BlankNode(value))
    if "xml:lang" in binding:
        return str(pyoxigraph.Literal(value, language=binding["xml:lang"]))
    datatype = binding.get("datatype")
    return str(
        pyoxigraph.Literal(value, datatype=pyoxigraph.NamedNode(datatype) if datatype else None)
    )


def rows_from_results(data: bytes, fmt: pyoxigraph.QueryResultsFormat) -> set[tuple[str, ...]]:
    """Parse SELECT results with pyoxigraph's reader (JSON, XML or TSV)."""
    return {tuple(str(v) for v in row) for row in pyoxigraph.parse_query_results(data, format=fmt)}


def triples_from(data: bytes, fmt: pyoxigraph.RdfFormat) -> set[str]:
    return {str(q.triple) for q in pyoxigraph.parse(data, format=fmt)}


def sparql_wrapper(live_service: LiveService, query: str) -> SPARQLWrapper:
    client = SPARQLWrapper(live_service.sparql)
    client.setQuery(query)
    return client


# --------------------------------------------------------------------- SPARQLWrapper


@pytest.mark.parametrize(
    ("return_format", "media_type", "reader"),
    [
        (JSON, "application/sparql-results+json", pyoxigraph.QueryResultsFormat.JSON),
        (XML, "application/sparql-results+xml", pyoxigraph.QueryResultsFormat.XML),
        (TSV, "text/tab-separated-values", pyoxigraph.QueryResultsFormat.TSV),
    ],
)
def test_select_formats_with_sparqlwrapper(live_service, store, return_format, media_type, reader):
    client = sparql_wrapper(live_service, SELECT_ALL)
    client.setReturnFormat(return_format)
    response = client.query()
    assert response.info()["content-type"].split(";")[0] == media_type
    body = response.response.read()
    assert rows_from_results(body, reader) == local_rows(store, SELECT_ALL)


def test_select_csv_with_sparqlwrapper(live_service, store):
    client = sparql_wrapper(live_service, "SELECT ?s ?o WHERE { ?s ?p ?o }")
    client.setReturnFormat(CSV)
    response = client.query()
    assert response.info()["content-type"] == "text/csv; charset=utf-8"
    table = list(csv.reader(io.StringIO(response.convert().decode("utf-8"))))
    assert table[0] == ["s", "o"]

    # CSV drops datatypes and languages: compare lexical forms (blank nodes keep "_:").
    def lexical(term):
        return f"_:{term.value}" if isinstance(term, pyoxigraph.BlankNode) else term.value

    expected = {
        (lexical(row[0]), lexical(row[1]))
        for row in store.query("SELECT ?s ?o WHERE { ?s ?p ?o }", use_default_graph_as_union=True)
    }
    assert {tuple(row) for row in table[1:]} == expected


def test_select_json_converts(live_service, store):
    client = sparql_wrapper(live_service, SELECT_ALL)
    client.setReturnFormat(JSON)
    data = client.queryAndConvert()
    got = {tuple(as_term(b[v]) for v in data["head"]["vars"]) for b in data["results"]["bindings"]}
    assert got == local_rows(store, SELECT_ALL)


@pytest.mark.parametrize("return_format", [JSON, XML])
def test_ask_with_sparqlwrapper(live_service, return_format):
    for query, expected in ((ASK_ANY, True), ("ASK { <urn:x:none> ?p ?o }", False)):
        client = sparql_wrapper(live_service, query)
        client.setReturnFormat(return_format)
        result = client.queryAndConvert()
        if return_format == JSON:
            assert result["boolean"] is expected
        else:
            text = result.getElementsByTagName("boolean")[0].firstChild.data
            assert text == str(expected).lower()


@pytest.mark.parametrize(
    ("return_format", "media_type", "rdflib_format"),
    [
        (TURTLE, "text/turtle", "turtle"),
        (RDFXML, "application/rdf+xml", "xml"),
        (JSONLD, "application/ld+json", "json-ld"),
    ],
)
@pytest.mark.parametrize("query", [CONSTRUCT_ALL, "DESCRIBE ?s WHERE { ?s a ?c }"])
def test_graph_formats_with_sparqlwrapper(
    live_service, store, query, return_format, media_type, rdflib_format
):
    client = sparql_wrapper(live_service, query)
    client.setReturnFormat(return_format)
    response = client.query()
    assert response.info()["content-type"].split(";")[0] == media_type
    graph = Graph().parse(data=response.response.read(), format=rdflib_format)
    expected = Graph().parse(
        data=pyoxigraph.serialize(
            list(store.query(query, use_default_graph_as_union=True)),
            format=pyoxigraph.RdfFormat.N_TRIPLES,
        ),
        format="nt",
    )
    assert len(graph) == len(expected) > 0
    assert isomorphic(graph, expected)  # the data has blank nodes (OWL lists)


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("application/n-triples", pyoxigraph.RdfFormat.N_TRIPLES),
        ("application/trig", pyoxigraph.RdfFormat.TRIG),
        ("application/n-quads", pyoxigraph.RdfFormat.N_QUADS),
    ],
)
def test_quad_and_line_formats_with_sparqlwrapper(live_service, store, accept, fmt):
    # SPARQLWrapper has no names for these three; it sends our Accept header instead.
    client = sparql_wrapper(live_service, CONSTRUCT_ALL)
    client.setOnlyConneg(True)
    client.addCustomHttpHeader("Accept", accept)
    response = client.query()
    assert response.info()["content-type"].split(";")[0] == accept
    assert triples_from(response.response.read(), fmt) == local_triples(store, CONSTRUCT_ALL)


# --------------------------------------------------------------------- operations


def test_get_form_post_and_direct_post_agree(http, store):
    query = SELECT_ALL
    expected = local_rows(store, query)
    responses = [
        http.get("/sparql", params={"query": query}),
        http.post("/sparql", data={"query": query}),
        http.post(
            "/sparql", content=query.encode(), headers={"content-type": "application/sparql-query"}
        ),
    ]
    for response in responses:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/sparql-results+json"
        assert rows_from_results(response.content, pyoxigraph.QueryResultsFormat.JSON) == expected


def test_default_graph_is_union_and_graphs_are_addressable(http, store):
    graphs = {
        g.value: len(list(store.quads_for_pattern(None, None, None, g)))
        for g in store.named_graphs()
    }
    assert len(graphs) > 1
    count = http.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"})
    n = int(count.json()["results"]["bindings"][0]["n"]["value"])
    assert n == len(set(local_triples(store, CONSTRUCT_ALL)))
    per_graph = http.get(
        "/sparql",
        params={"query": "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"},
    ).json()["results"]["bindings"]
    assert {b["g"]["value"]: int(b["n"]["value"]) for b in per_graph} == graphs


def test_protocol_dataset_parameters(http, store):
    graph, other = sorted(g.value for g in store.named_graphs())[:2]
    size = len(list(store.quads_for_pattern(None, None, None, pyoxigraph.NamedNode(graph))))
    count = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    response = http.get("/sparql", params={"query": count, "default-graph-uri": graph})
    assert response.status_code == 200
    assert int(response.json()["results"]["bindings"][0]["n"]["value"]) == size
    named = http.post(
        "/sparql",
        data={"query": "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": other},
    ).json()["results"]["bindings"]
    assert [b["g"]["value"] for b in named] == [other]
    # Naming only named graphs leaves the default graph empty (SPARQL 1.1 Protocol §2.1.4).
    empty = http.get("/sparql", params={"query": count, "named-graph-uri": other}).json()
    assert empty["results"]["bindings"][0]["n"]["value"] == "0"


def test_from_names_a_graph_of_the_dataset(http, store):
    graph = sorted(g.value for g in store.named_graphs())[0]
    size = len(list(store.quads_for_pattern(None, None, None, pyoxigraph.NamedNode(graph))))
    query = f"SELECT (COUNT(*) AS ?n) FROM <{graph}> {{ ?s ?p ?o }}"
    response = http.get("/sparql", params={"query": query})
    assert response.status_code == 200
    assert int(response.json()["results"]["bindings"][0]["n"]["value"]) == size


# --------------------------------------------------------------------- negotiation


@pytest.mark.parametrize(
    ("accept", "query", "media_type"),
    [
        (None, ASK_ANY, "application/sparql-results+json"),
        ("*/*", SELECT_ALL, "application/sparql-results+json"),
        (None, CONSTRUCT_ALL, "text/turtle"),
        ("*/*", CONSTRUCT_ALL, "text/turtle"),
        ("text/csv;q=0.5, text/tab-separated-values", SELECT_ALL, "text/tab-separated-values"),
        ("text/csv, text/tab-separated-values;q=0.4", SELECT_ALL, "text/csv"),
        ("application/*;q=0.9, text/csv;q=0.2", SELECT_ALL, "application/sparql-results+json"),
        ("text/*;q=0.5, text/csv;q=0", SELECT_ALL, "text/tab-separated-values"),
        ("application/json", CONSTRUCT_ALL, "application/ld+json"),
        ("application/json", SELECT_ALL, "application/sparql-results+json"),
        ("text/plain", CONSTRUCT_ALL, "application/n-triples"),
        ("application/rdf+xml;q=0.8, application/n-quads", CONSTRUCT_ALL, "application/n-quads"),
    ],
)
def test_accept_negotiation(http, accept, query, media_type):
    headers = {"accept": accept} if accept else {}
    response = http.get("/sparql", params={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    assert "accept" in response.headers["vary"].lower()


@pytest.mark.parametrize(
    ("fmt", "query", "media_type"),
    [
        ("csv", SELECT_ALL, "text/csv"),
        ("xml", SELECT_ALL, "application/sparql-results+xml"),
        ("xml", CONSTRUCT_ALL, "application/rdf+xml"),
        ("nt", CONSTRUCT_ALL, "application/n-triples"),
        ("text/turtle", CONSTRUCT_ALL, "text/turtle"),
    ],
)
def test_format_parameter_overrides_accept(http, fmt, query, media_type):
    response = http.get(
        "/sparql", params={"query": query, "format": fmt}, headers={"accept": "application/trig"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type


@pytest.mark.parametrize(
    ("params", "accept"),
    [
        ({"query": SELECT_ALL}, "image/png"),
        ({"query": SELECT_ALL}, "application/n-triples"),
        ({"query": CONSTRUCT_ALL}, "text/csv"),
        ({"query": SELECT_ALL, "format": "ttl"}, None),
        ({"query": SELECT_ALL, "format": "banana"}, None),
        ({"query": SELECT_ALL}, "application/sparql-results+json;q=0"),
    ],
)
def test_unproducible_types_get_406(http, params, accept):
    headers = {"accept": accept} if accept else {}
    response = http.get("/sparql", params=params, headers=headers)
    assert response.status_code == 406
    assert "application/sparql-results+json" in response.text or "text/turtle" in response.text


# --------------------------------------------------------------------- protocol errors


def test_syntax_error_reports_line_and_column(http):
    response = http.get("/sparql", params={"query": "SELECT *\nWHERE { ?s ?p }"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert re.search(r"line 2, column \d+", response.text)


def test_duplicate_query_is_400(http):
    response = http.get("/sparql?query=ASK%20%7B%7D&query=ASK%20%7B%7D")
    assert response.status_code == 400
    assert "more than one query" in response.text.lower()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("ASK {}".encode("utf-16"), "application/sparql-query; charset=UTF-16"),
        (b"ASK { ?s ?p '\xff\xfe' }", "application/sparql-query"),
        (b"query=ASK%20%7B%20%3Fs%20%3Fp%20%22%FF%22%20%7D", "application/x-www-form-urlencoded"),
    ],
)
def test_non_utf8_bodies_are_400(http, body, content_type):
    response = http.post("/sparql", content=body, headers={"content-type": content_type})
    assert response.status_code == 400
    assert "utf-8" in response.text.lower()


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", None])
def test_unsupported_post_media_types_are_415(http, content_type):
    request = http.build_request("POST", "/sparql", content=b"ASK {}")
    if content_type:
        request.headers["content-type"] = content_type
    else:
        request.headers.pop("content-type", None)
    response = http.send(request)
    assert response.status_code == 415
    assert "application/sparql-query" in response.text


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_405(http, method):
    response = http.request(method, "/sparql", params={"query": "ASK {}"})
    assert response.status_code == 405
    assert "GET" in response.headers["allow"] and "POST" in response.headers["allow"]


@pytest.mark.parametrize(
    "request_args",
    [
        {"method": "GET", "params": {"update": "CLEAR ALL"}},
        {"method": "POST", "data": {"update": "CLEAR ALL"}},
        {"method": "POST", "data": {"update": "LOAD <http://example.org/x>"}},
        {
            "method": "POST",
            "content": b"INSERT DATA { <urn:a> <urn:b> <urn:c> }",
            "headers": {"content-type": "application/sparql-update"},
        },
    ],
)
def test_updates_are_refused(http, store, request_args):
    before = len(store)
    response = http.request(url="/sparql", **request_args)
    assert response.status_code == 403
    assert "read-only" in response.text
    assert len(store) == before


def test_post_without_query_is_400(http):
    response = http.post("/sparql", data={"default-graph-uri": "urn:x"})
    assert response.status_code == 400


# --------------------------------------------------------------------- description, health


def test_service_description(http, live_service, store):
    response = http.get("/sparql")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    sd = Graph().parse(data=response.text, format="turtle")
    endpoint = URIRef(live_service.sparql)
    service = sd.value(predicate=SD.endpoint, object=endpoint)
    assert service is not None
    assert (service, SD.feature, SD.UnionDefaultGraph) in sd
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in sd
    names = {str(sd.value(node, SD.name)) for node in sd.objects(None, SD.namedGraph)}
    assert names == {g.value for g in store.named_graphs()}
    assert len(set(sd.objects(service, SD.resultFormat))) == 10
    assert sd.value(service, SD.defaultDataset) is not None


def test_service_description_in_other_formats(http, live_service):
    response = http.get("/sparql", headers={"accept": "application/ld+json"})
    assert response.headers["content-type"] == "application/ld+json"
    sd = Graph().parse(data=response.text, format="json-ld")
    assert (None, SD.endpoint, URIRef(live_service.sparql)) in sd
    assert http.get("/sparql", headers={"accept": "image/png"}).status_code == 406


def test_browsers_get_the_query_page(http):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = http.get("/sparql", headers={"accept": accept})
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_healthz(http, live_service):
    data = http.get("/healthz").json()
    assert data["version"] == live_service.release.version
    assert data["triple_count"] == live_service.release.triple_count
    assert data["workers"] >= 1


def test_cors_star_without_credentials(http):
    response = http.get(
        "/sparql", params={"query": "ASK {}"}, headers={"origin": "https://evil.example"}
    )
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    preflight = http.options(
        "/sparql",
        headers={
            "origin": "https://evil.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in preflight.headers


def test_large_results_stream_with_exact_length(http):
    # 40^3 = 64 000 rows: well over one 256 KiB chunk of SPARQL JSON, under the row cap.
    values = " ".join(str(i) for i in range(40))
    table = f"{{ {values} }}"
    query = f"SELECT ?a ?b ?c {{ VALUES ?a {table} VALUES ?b {table} VALUES ?c {table} }}"
    identity = {"accept-encoding": "identity"}  # the length is that of the identity body
    with http.stream("GET", "/sparql", params={"query": query}, headers=identity) as response:
        assert response.status_code == 200
        chunks = list(response.iter_raw())
    body = b"".join(chunks)
    assert int(response.headers["content-length"]) == len(body) > 256 * 1024
    assert len(json.loads(body)["results"]["bindings"]) == 40**3


def test_access_log_has_one_json_line_per_request(http, live_service):
    query = "ASK { ?s ?p 'access-log-probe' }"
    http.get("/sparql", params={"query": query})
    digest = hashlib.sha256(query.encode()).hexdigest()
    # The line is written once the response has gone out, so it may trail the response.
    deadline = time.monotonic() + 30
    entries: list[dict] = []
    while not entries and time.monotonic() < deadline:
        lines = [line for line in live_service.log.read_text().splitlines() if line[:1] == "{"]
        entries = [e for e in map(json.loads, lines) if e["query_sha256"] == digest]
        time.sleep(0.05)
    assert len(entries) == 1
    entry = entries[0]
    assert entry["method"] == "GET"
    assert entry["path"] == "/sparql"
    assert entry["status"] == 200
    assert entry["duration_ms"] >= 0


def test_non_utf8_query_string_is_400(http):
    response = http.get("/sparql?query=ASK%20%7B%20%3Fs%20%3Fp%20%22%FF%22%20%7D")
    assert response.status_code == 400
    assert "utf-8" in response.text.lower()


def test_head_answers_like_get_without_a_body(http):
    response = http.head("/sparql", params={"query": "ASK {}"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/sparql-results+json"
    assert response.content == b""


def test_browser_redirect_lands_on_the_query_page(http):
    response = http.get("/sparql", headers={"accept": "text/html"}, follow_redirects=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


def test_client_leaving_mid_stream_does_not_leak_a_worker(http, live_service):
    # 45^3 = 91 125 rows, about 14 MB of JSON: more than loopback buffers hold.
    values = " ".join(str(i) for i in range(45))
    table = f"{{ {values} }}"
    query = f"SELECT ?a ?b ?c {{ VALUES ?a {table} VALUES ?b {table} VALUES ?c {table} }}"
    before = http.get("/healthz").json()
    with (
        httpx.Client(base_url=live_service.url, timeout=60) as leaving,
        leaving.stream("GET", "/sparql", params={"query": query}) as response,
    ):
        assert response.status_code == 200
        next(response.iter_raw())  # one chunk, then hang up
    deadline = time.monotonic() + 60
    health = http.get("/healthz").json()
    while time.monotonic() < deadline and (health["busy"] or health["workers"] < before["workers"]):
        time.sleep(0.05)
        health = http.get("/healthz").json()
    assert health["busy"] == 0
    assert health["workers"] == before["workers"]
    # The answer was read off the pipe before it went out: the worker was free all along
    # (it used to be killed and replaced, holding the unread rest), and the held bytes are
    # given back once the response ends.
    assert health["worker_restarts"] == before["worker_restarts"]
    while time.monotonic() < deadline and health["held_answer_bytes"]:
        time.sleep(0.05)
        health = http.get("/healthz").json()
    assert health["held_answer_bytes"] == 0
    assert http.get("/sparql", params={"query": "ASK {}"}).json()["boolean"] is True
