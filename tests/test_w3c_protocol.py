"""The W3C SPARQL 1.1 Protocol test suite, run against the live app over HTTP.

The manifest (``tests/w3c/sparql/sparql11/protocol/manifest.ttl``, vendored unchanged, read
with rdflib) describes each test as HTTP requests with expected status classes, result
formats and booleans. The harness replaces the ``/sparql/`` path prefix with ``/sparql``,
sends the requests exactly as written (method, headers, body in its declared encoding) and
checks the responses.

The test data (``ut:graphData``) is loaded into a dedicated release, each file as the named
graph of its label. The manifest also names ``…/data0.rdf`` in ``default-graph-uri`` without
giving data for it; since this endpoint refuses graph names it does not have, the release
declares that graph, empty.

Tests that need SPARQL Update (7 of 34) expect a 2xx; this endpoint is read-only by design,
so for them the harness checks the opposite: a clean refusal (403 with an explanation).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyoxigraph
import pytest
from rdflib import RDF, RDFS, Graph, Namespace
from rdflib.collection import Collection

from pactgraph.rdf.formats import GRAPH_BY_MEDIA_TYPE, RESULT_BY_MEDIA_TYPE
from pactgraph.release.published import Release

# Vendored unchanged from w3c/rdf-tests (commit and licence beside the manifests).
W3C_DIR = Path(__file__).parent / "w3c"
PROTOCOL_DIR = W3C_DIR / "sparql" / "sparql11" / "protocol"
MANIFEST = PROTOCOL_DIR / "manifest.ttl"
# Named by the manifest's requests, with no data given for it.
DECLARED_EMPTY_GRAPH = "http://kasei.us/2009/09/sparql/data/data0.rdf"

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")

STATUS_CLASSES = {HTS.StatusCode2xx: 2, HTS.StatusCode3xx: 3, HTS.StatusCode4xx: 4}
BOOLEAN_FORMATS = {"json", "xml"}



@dataclass
class W3CRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: set[int]
    expected_format: str | None
    expected_boolean: bool | None

    @property
    def is_update(self) -> bool:
        """Whether this request performs a SPARQL Update (which this endpoint refuses)."""
        content_type = self.headers.get("content-type", "")
        body = self.body or b""
        return (
            content_type.startswith("application/sparql-update")
            or body.startswith(b"update=")
            or "update=" in self.path
        )


@dataclass
class W3CTest:
    name: str
    title: str
    requests: list[W3CRequest]
    graph_data: dict[str, Path] = field(default_factory=dict)

    @property
    def needs_update(self) -> bool:
        """An update the suite expects to succeed (2xx) rather than to be rejected."""
        return any(r.is_update and 2 in r.statuses for r in self.requests)


def _list(graph: Graph, node) -> list:
    return list(Collection(graph, node)) if node is not None else []


def load_manifest(path: Path = MANIFEST) -> list[W3CTest]:
    """The manifest's tests, in its order."""
    graph = Graph().parse(path, format="turtle")
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    tests = []
    for entry in _list(graph, graph.value(manifest, MF.entries)):
        action = graph.value(entry, MF.action)
        requests = []
        for request in _list(graph, graph.value(action, HT.requests)):
            headers = {
                str(graph.value(h, HT.fieldName)).lower(): str(graph.value(h, HT.fieldValue))
                for h in _list(graph, graph.value(request, HT.headers))
            }
            body_node = graph.value(request, HT.body)
            body = None
            if body_node is not None:
                encoding = str(graph.value(body_node, CNT.characterEncoding) or "UTF-8")
                body = str(graph.value(body_node, CNT.chars)).encode(encoding)
            response = graph.value(request, HT.resp)
            expected_boolean = graph.value(response, MF.expectedBoolean)
            expected_format = graph.value(response, MF.expectedFormat)
            requests.append(
                W3CRequest(
                    method=str(graph.value(request, HT.methodName)),
                    path=str(graph.value(request, HT.absolutePath)),
                    headers=headers,
                    body=body,
                    statuses={
                        STATUS_CLASSES[s] for s in graph.objects(response, MF.expectedStatus)
                    },
                    expected_format=str(expected_format) if expected_format else None,
                    expected_boolean=expected_boolean.toPython() if expected_boolean else None,
                )
            )
        graph_data = {
            str(graph.value(data, RDFS.label)): path.parent
            / Path(str(graph.value(data, UT.graph))).name
            for data in graph.objects(entry, UT.graphData)
        }
        name = str(entry).rsplit("#", 1)[-1]
        tests.append(W3CTest(name, str(graph.value(entry, MF.name)), requests, graph_data))
    return tests


TESTS = load_manifest() if MANIFEST.exists() else []
QUERY_TESTS = [t for t in TESTS if not t.needs_update]
UPDATE_TESTS = [t for t in TESTS if t.needs_update]


@pytest.fixture(scope="module")
def w3c_release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """A release holding every data file the manifest names, in the graph of its label."""
    directory = tmp_path_factory.mktemp("w3c-release")
    store = pyoxigraph.Store(str(directory / "store"))
    graphs = {label: path for test in TESTS for label, path in test.graph_data.items()}
    for label, path in sorted(graphs.items()):
        store.load(
            path=str(path),
            format=pyoxigraph.RdfFormat.N_TRIPLES,
            to_graph=pyoxigraph.NamedNode(label),
        )
    store.add_graph(pyoxigraph.NamedNode(DECLARED_EMPTY_GRAPH))
    count = len(store)
    store.flush()
    del store
    return Release(directory, "w3c-protocol", count)


@pytest.fixture(scope="module")
def endpoint(w3c_release: Release, start_service) -> Iterator[str]:
    with start_service(w3c_release) as url:
        yield url


def send(base: str, request: W3CRequest) -> httpx.Response:
    """Send a manifest request as written, with ``/sparql/`` mapped to our endpoint."""
    assert request.path.startswith("/sparql/")
    path = "/sparql" + request.path[len("/sparql/") :]  # "/sparql/?q" -> "/sparql?q"
    return httpx.request(
        request.method,
        base + path,
        headers=request.headers,
        content=request.body,
        timeout=60,
        follow_redirects=False,
    )


def check_response(response: httpx.Response, request: W3CRequest) -> None:
    """Assert a response meets the manifest's expectations."""
    assert response.status_code // 100 in request.statuses, (
        f"status {response.status_code} not in {sorted(request.statuses)}xx: {response.text}"
    )
    if request.expected_format is None:
        return
    media_type = response.headers["content-type"].split(";")[0].strip()
    if request.expected_format == "RDF":
        fmt = GRAPH_BY_MEDIA_TYPE[media_type]
        list(pyoxigraph.parse(response.content, format=fmt.pyoxigraph))
        return
    fmt = RESULT_BY_MEDIA_TYPE[media_type]
    if request.expected_format == "boolean":
        assert fmt.name in BOOLEAN_FORMATS
    parsed = pyoxigraph.parse_query_results(response.content, format=fmt.pyoxigraph)
    if request.expected_format == "boolean":
        assert isinstance(parsed, pyoxigraph.QueryBoolean)
        if request.expected_boolean is not None:
            assert bool(parsed) is request.expected_boolean
    else:
        assert isinstance(parsed, pyoxigraph.QuerySolutions)


def test_manifest_is_complete():
    assert len(TESTS) == 34
    assert len(UPDATE_TESTS) == 7


@pytest.mark.parametrize("test", QUERY_TESTS, ids=[t.name for t in QUERY_TESTS])
def test_w3c_protocol(endpoint, test: W3CTest):
    for request in test.requests:
        check_response(send(endpoint, request), request)


@pytest.mark.parametrize("test", UPDATE_TESTS, ids=[t.name for t in UPDATE_TESTS])
def test_w3c_update_is_refused_cleanly(endpoint, test: W3CTest):
    first = test.requests[0]
    assert first.is_update
    response = send(endpoint, first)
    assert response.status_code == 403
    assert "read-only" in response.text
    assert response.headers["content-type"].startswith("text/plain")
