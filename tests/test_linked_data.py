"""Every IRI resolves: the real app over real HTTP, serving a release of the shipped data.

For one IRI of every kind under ``/id/`` and for a concept, a scheme, the ontology, the
alignments, the shapes and the VoID description, every representation (Turtle, N-Triples,
JSON-LD, RDF/XML by ``Accept`` and by ``?format=``, and HTML) is fetched and checked: the
media type, that the RDF parses and holds exactly the triples the release has about the
IRI (read independently from the release's N-Quads dump), that the page shows the label and
links the values, the ``Link``/``Vary``/``ETag`` headers, 304s, 406s and the 404 page.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from pactgraph.release.published import Release
from pactgraph.settings import BASE_IRI, GRAPH_IRI_BASE

INFERRED = GRAPH_IRI_BASE + "inferred"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
# Representation -> (Accept header, media type of the answer, pyoxigraph parser or None).
REPRESENTATIONS: dict[str, tuple[str, str, ox.RdfFormat | None]] = {
    "ttl": ("text/turtle", "text/turtle", ox.RdfFormat.TURTLE),
    "nt": ("application/n-triples", "application/n-triples", ox.RdfFormat.N_TRIPLES),
    "jsonld": ("application/ld+json", "application/ld+json", ox.RdfFormat.JSON_LD),
    "rdf": ("application/rdf+xml", "application/rdf+xml", ox.RdfFormat.RDF_XML),
    "html": (
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "text/html",
        None,
    ),
}
KINDS = (
    "actor", "instrument", "obligation", "condition", "amount", "period", "instant", "figure",
    "source", "claim", "topic", "review",
)  # fmt: skip


@pytest.fixture(scope="module")
def url(release: Release, start_service) -> Iterator[str]:
    with start_service(release) as base:
        yield base


@cache
def asserted(release_path: str) -> frozenset[ox.Triple]:
    """The release's triples outside the inferred graph, from its N-Quads dump."""
    quads = ox.parse(path=f"{release_path}/pactgraph.nq", format=ox.RdfFormat.N_QUADS)
    return frozenset(q.triple for q in quads if q.graph_name != ox.NamedNode(INFERRED))


def about(release: Release, iri: str) -> set[ox.Triple]:
    node = ox.NamedNode(iri)
    return {t for t in asserted(str(release.path)) if node in (t.subject, t.object)}


def graph_triples(release: Release, graph: str) -> set[ox.Triple]:
    quads = ox.parse(path=f"{release.path}/pactgraph.nq", format=ox.RdfFormat.N_QUADS)
    return {q.triple for q in quads if q.graph_name == ox.NamedNode(graph)}


def example_iri(release: Release, namespace: str) -> str:
    """The first subject of the release under ``namespace`` (no hard-coded slugs)."""
    subjects = sorted(
        t.subject.value
        for t in asserted(str(release.path))
        if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(namespace)
    )
    if not subjects:
        pytest.skip(f"the release has nothing under {namespace}")
    return subjects[0]


def parse(body: bytes, fmt: ox.RdfFormat) -> set[ox.Triple]:
    return {q.triple for q in ox.parse(body, format=fmt)}


def path_of(iri: str) -> str:
    return "/" + iri[len(BASE_IRI) :]


def check_rdf(response: httpx.Response, name: str, expected: set[ox.Triple]) -> None:
    _accept, media_type, fmt = REPRESENTATIONS[name]
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].split(";")[0] == media_type
    assert parse(response.content, fmt) == expected


def check_headers(response: httpx.Response, release: Release) -> None:
    assert "Accept" in [v.strip() for v in response.headers["vary"].split(",")]
    link = response.headers["link"]
    for _, media_type, _ in REPRESENTATIONS.values():
        assert f'rel="alternate"; type="{media_type}"' in link
    assert 'rel="license"' in link and "creativecommons.org/licenses/by/4.0/" in link
    assert f"/dumps/{release.version}/pactgraph.nt.gz>" in link
    assert release.version in response.headers["etag"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_instance_iri_in_every_representation(
    url: str, release: Release, kind: str
) -> None:
    iri = example_iri(release, f"{BASE_IRI}id/{kind}/")
    expected = about(release, iri)
    etags = set()
    for name, (accept, _media_type, fmt) in REPRESENTATIONS.items():
        negotiated = httpx.get(url + path_of(iri), headers={"Accept": accept}, timeout=60)
        by_param = httpx.get(url + path_of(iri), params={"format": name}, timeout=60)
        for response in (negotiated, by_param):
            check_headers(response, release)
            if fmt is None:
                assert response.headers["content-type"].startswith("text/html")
            else:
                check_rdf(response, name, expected)
        assert negotiated.content == by_param.content
        etags.add(negotiated.headers["etag"])
    assert len(etags) == len(REPRESENTATIONS)  # one ETag per representation


@pytest.mark.parametrize("what", ["concept", "scheme", "ontology", "alignments", "shapes", "void"])
def test_vocabulary_ontology_shapes_and_void_in_every_representation(
    url: str, release: Release, what: str
) -> None:
    if what == "concept":
        iri = example_iri(release, f"{BASE_IRI}vocab/obligation-type/")
        path, expected = path_of(iri), about(release, iri)
    elif what == "scheme":
        path = "/vocab/obligation-type"
        expected = graph_triples(release, GRAPH_IRI_BASE + "vocab/obligation-type")
    elif what == "ontology":
        path, expected = "/ontology", graph_triples(release, GRAPH_IRI_BASE + "ontology/pactgraph")
    elif what == "alignments":
        path = "/ontology/alignments"
        expected = graph_triples(release, GRAPH_IRI_BASE + "ontology/alignments")
    elif what == "void":
        path = "/.well-known/void"
        expected = parse((release.path / "void.ttl").read_bytes(), ox.RdfFormat.TURTLE)
    else:
        path, expected = "/shapes", None
    assert expected != set()
    bodies = {}
    for name, (accept, media_type, fmt) in REPRESENTATIONS.items():
        response = httpx.get(url + path, headers={"Accept": accept}, timeout=60)
        check_headers(response, release)
        assert response.headers["content-type"].split(";")[0] == media_type
        bodies[name] = response.content
        if fmt is None:
            continue
        got = parse(response.content, fmt)
        if expected is None:  # shapes: blank nodes, so compare sizes and a known shape
            assert any(t.subject.value.endswith("#ObligationShape") for t in got)
        elif any(isinstance(t.subject, ox.BlankNode) for t in expected):
            assert len(got) == len(expected)
        else:
            assert got == expected
    if expected is not None and what != "void":
        # every format carries the same graph (blank nodes aside)
        assert len(parse(bodies["nt"], ox.RdfFormat.N_TRIPLES)) == len(
            parse(bodies["ttl"], ox.RdfFormat.TURTLE)
        )


def test_the_ontology_page_is_the_generated_documentation(url: str, release: Release) -> None:
    page = httpx.get(url + "/ontology", headers={"Accept": "text/html"}, timeout=60)
    assert page.text == (release.path / "ontology.html").read_text(encoding="utf-8")
    classes = {
        t.subject.value
        for t in graph_triples(release, GRAPH_IRI_BASE + "ontology/pactgraph")
        if t.predicate.value == RDF_TYPE
        and t.object.value == "http://www.w3.org/2002/07/owl#Class"
        and t.subject.value.startswith(BASE_IRI + "ontology#")
    }
    # every class of ours has an entry a hash IRI lands on
    for cls in classes:
        assert f'id="{cls.split("#")[1]}"' in page.text
    scheme = httpx.get(url + "/vocab/obligation-type", headers={"Accept": "text/html"}, timeout=60)
    assert scheme.text == (release.path / "vocab-obligation-type.html").read_text("utf-8")
    concepts = {
        t.subject.value
        for t in graph_triples(release, GRAPH_IRI_BASE + "vocab/obligation-type")
        if t.predicate.value == "http://www.w3.org/2004/02/skos/core#inScheme"
    }
    assert concepts
    for concept in concepts:  # every concept has an entry, linked to its own page
        assert f'id="{concept.rsplit("/", 1)[1]}"' in scheme.text
        assert f'href="{path_of(concept)}"' in scheme.text


def test_an_instrument_page_shows_its_facts_sources_claims_and_obligations(
    url: str, release: Release
) -> None:
    # the instrument with the most obligations arising under it
    arises = ox.NamedNode("https://w3id.org/pactgraph/ontology#arisesUnder")
    counts: dict[str, int] = {}
    for t in asserted(str(release.path)):
        if t.predicate == arises:
            counts[t.object.value] = counts.get(t.object.value, 0) + 1
    iri = max(sorted(counts), key=counts.get)
    page = httpx.get(url + path_of(iri), headers={"Accept": "text/html"}, timeout=60).text
    facts = about(release, iri)
    labels = [
        t.object.value for t in facts if t.subject.value == iri and t.predicate.value == LABEL
    ]
    assert f"<h1>{labels[0]}</h1>" in page.replace("&#39;", "'")
    # every IRI it points to (ours) is a link on this service
    for t in facts:
        if t.subject.value == iri and isinstance(t.object, ox.NamedNode):
            target = t.object.value
            if target.startswith(BASE_IRI):
                assert f'href="{path_of(target)}"' in page
    assert page.count('class="obligation"') == counts[iri]
    assert 'class="source-url"' in page
    assert 'class="query-link" href="/?query=' in page


def test_dates_and_amounts_are_readable(url: str, release: Release) -> None:
    iri = example_iri(release, f"{BASE_IRI}id/amount/")
    page = httpx.get(url + path_of(iri), params={"format": "html"}, timeout=60).text
    value = next(
        t.object.value
        for t in asserted(str(release.path))
        if t.subject.value == iri and t.predicate.value == "http://schema.org/value"
    )
    grouped = f"{int(float(value)):,}"
    assert re.search(re.escape(grouped) + r" (USD|[A-Z]{3})", page)
    instant = example_iri(release, f"{BASE_IRI}id/instant/")
    slug = instant.rsplit("/", 1)[1]
    page = httpx.get(url + path_of(instant), params={"format": "html"}, timeout=60).text
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", slug):
        year = slug[:4]
        assert re.search(r"\d{1,2} [A-Z][a-z]+ " + year, page)


def test_jsonld_is_compact_with_our_context(url: str) -> None:
    body = httpx.get(url + "/id/actor/israel", params={"format": "jsonld"}, timeout=60).json()
    assert body["@context"]["actor"] == BASE_IRI + "id/actor/"
    assert "rdfs:label" in json.dumps(body)
    context = httpx.get(url + "/context.jsonld", timeout=60)
    assert context.headers["content-type"].startswith("application/ld+json")
    assert body["@context"].items() <= context.json()["@context"].items()


def test_etag_gives_304_and_changes_with_the_representation(url: str) -> None:
    first = httpx.get(url + "/id/actor/israel", headers={"Accept": "text/turtle"}, timeout=60)
    again = httpx.get(
        url + "/id/actor/israel",
        headers={"Accept": "text/turtle", "If-None-Match": first.headers["etag"]},
        timeout=60,
    )
    assert again.status_code == 304 and again.content == b""
    other = httpx.get(
        url + "/id/actor/israel",
        headers={"Accept": "application/n-triples", "If-None-Match": first.headers["etag"]},
        timeout=60,
    )
    assert other.status_code == 200


def test_link_header_targets_resolve(url: str) -> None:
    response = httpx.get(url + "/id/actor/israel", timeout=60)
    targets = re.findall(r"<(/[^>]*)>", response.headers["link"])
    assert targets
    for target in targets:
        assert httpx.get(url + target, timeout=60, follow_redirects=True).status_code == 200


def test_unknown_iri_is_a_helpful_404(url: str, release: Release) -> None:
    iri = example_iri(release, f"{BASE_IRI}id/actor/")
    typo = path_of(iri)[:-1] + ("x" if not iri.endswith("x") else "y")
    browser = httpx.get(url + typo, headers={"Accept": "text/html"}, timeout=60)
    assert browser.status_code == 404
    assert browser.headers["content-type"].startswith("text/html")
    assert "Vary" in browser.headers and "Accept" in browser.headers["vary"]
    assert f'href="{path_of(iri)}"' in browser.text  # "did you mean" the real one
    machine = httpx.get(url + typo, headers={"Accept": "text/turtle"}, timeout=60)
    assert machine.status_code == 404
    assert iri in machine.json()["suggestions"]
    assert httpx.get(url + "/id/no-such-kind/x", timeout=60).status_code == 404
    assert httpx.get(url + "/vocab/no-such-scheme", timeout=60).status_code == 404


def test_nothing_acceptable_is_406(url: str) -> None:
    response = httpx.get(
        url + "/id/actor/israel", headers={"Accept": "application/pdf"}, timeout=60
    )
    assert response.status_code == 406
    assert "text/turtle" in response.json()["available"]
    assert httpx.get(url + "/id/actor/israel?format=csv", timeout=60).status_code == 406


def test_head_answers_like_get(url: str) -> None:
    get = httpx.get(url + "/id/actor/israel", timeout=60)
    head = httpx.head(url + "/id/actor/israel", timeout=60)
    assert head.status_code == 200 and head.headers["etag"] == get.headers["etag"]


def test_public_base_makes_links_canonical(release: Release, start_service) -> None:
    with start_service(release, public_base_iri=BASE_IRI) as base:
        page = httpx.get(base + "/id/actor/israel", params={"format": "html"}, timeout=60).text
    assert f'href="{BASE_IRI}id/' in page
    assert f'href="{base}/id/' not in page


DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_the_documented_wikidata_join_runs_and_its_output_is_current(url: str) -> None:
    query = (DOCS / "queries" / "wikidata-join.rq").read_text(encoding="utf-8")
    assert query.split("PREFIX", 1)[1] in (DOCS / "linked-data.md").read_text("utf-8")
    response = httpx.post(
        url + "/sparql", data={"query": query}, headers={"Accept": "text/csv"}, timeout=60
    )
    assert response.status_code == 200
    live = list(csv.DictReader(io.StringIO(response.text)))
    assert live and all(
        row["wikidata"].startswith("http://www.wikidata.org/entity/") for row in live
    )
    documented = re.search(r"```csv\n(.*?)```", (DOCS / "linked-data.md").read_text("utf-8"), re.S)
    rows = list(csv.DictReader(io.StringIO(documented.group(1))))
    # the same actors and identifiers (the counts grow with the data)
    assert {(r["wikidata"], r["label"]) for r in rows} == {
        (r["wikidata"], r["label"]) for r in live
    }


def test_the_federated_variant_is_refused_without_an_allow_list(url: str) -> None:
    query = (DOCS / "queries" / "wikidata-federated.rq").read_text(encoding="utf-8")
    response = httpx.post(url + "/sparql", data={"query": query}, timeout=60)
    assert response.status_code == 400
    assert "https://query.wikidata.org/sparql" in response.text


def test_version_iris_and_named_graphs_resolve(url: str, release: Release) -> None:
    version_iri = "http://www.w3.org/2002/07/owl#versionIRI"
    quads = list(ox.parse(path=f"{release.path}/pactgraph.nq", format=ox.RdfFormat.N_QUADS))
    versioned = [q for q in quads if q.predicate.value == version_iri]
    assert versioned
    for quad in versioned:
        response = httpx.get(url + path_of(quad.object.value), params={"format": "nt"}, timeout=60)
        got = parse(response.content, ox.RdfFormat.N_TRIPLES)
        assert len(got) == len(graph_triples(release, quad.graph_name.value))
    graphs = sorted({q.graph_name.value for q in quads} - {INFERRED})
    for graph in graphs[:3]:
        response = httpx.get(url + path_of(graph), params={"format": "nt"}, timeout=60)
        assert response.status_code == 200
        got = parse(response.content, ox.RdfFormat.N_TRIPLES)
        expected = graph_triples(release, graph)
        if any(isinstance(t.subject, ox.BlankNode) for t in expected):
            assert len(got) == len(expected)
        else:
            assert got == expected


@pytest.mark.parametrize("version", ["0.1.0", "0.2.0"])
def test_a_past_ontology_version_is_served_as_it_was(
    url: str, release: Release, version: str
) -> None:
    # /ontology/<past version> is the file kept in ontology/versions/, never the live ontology.
    repo = Path(__file__).resolve().parents[1]
    kept = repo / "ontology" / "versions" / version / "pactgraph.ttl"
    expected = {q.triple for q in ox.parse(kept.read_bytes(), format=ox.RdfFormat.TURTLE)}
    assert (release.path / f"ontology-{version}.ttl").read_bytes() == kept.read_bytes()
    response = httpx.get(url + f"/ontology/{version}", params={"format": "nt"}, timeout=60)
    assert response.status_code == 200
    assert set(parse(response.content, ox.RdfFormat.N_TRIPLES)) == expected
    live = repo / "ontology" / "pactgraph.ttl"
    (current,) = re.findall(r'owl:versionInfo "([0-9.]+)"', live.read_text("utf-8"))
    answer = httpx.get(url + f"/ontology/{current}", params={"format": "nt"}, timeout=60)
    assert answer.status_code == 200
    assert set(parse(answer.content, ox.RdfFormat.N_TRIPLES)) != expected
    assert httpx.get(url + "/ontology/0.0.9", timeout=60).status_code == 404


def retired_iris(release: Release) -> dict[str, list[str]]:
    """Every retired IRI of the release (``owl:deprecated true``) -> its replacements."""
    deprecated = ox.NamedNode("http://www.w3.org/2002/07/owl#deprecated")
    replaced_by = ox.NamedNode("http://purl.org/dc/terms/isReplacedBy")
    triples = asserted(str(release.path))
    retired = {
        t.subject.value
        for t in triples
        if t.predicate == deprecated
        and t.object.value == "true"
        and t.subject.value.startswith(f"{BASE_IRI}id/")
    }
    return {
        iri: sorted(
            t.object.value for t in triples if t.subject.value == iri and t.predicate == replaced_by
        )
        for iri in sorted(retired)
    }


@pytest.mark.parametrize("accept", ["text/turtle", "text/html"])
def test_a_retired_iri_redirects_or_lists_its_replacements(
    url: str, release: Release, accept: str
) -> None:
    """Decision 6: a retired IRI never answers 200 as if it still meant something.

    One replacement -> 301 to it; several -> 300 naming each; none -> 410. The body stays
    the retired node's description (why it went), and no ETag is sent for it.
    """
    retired = retired_iris(release)
    assert retired, "the release retires IRIs (decision 6); this test needs one"
    seen = set()
    for iri, replacements in retired.items():
        answer = httpx.get(url + path_of(iri), headers={"Accept": accept})
        expected = {0: 410, 1: 301}.get(len(replacements), 300)
        seen.add(expected)
        assert answer.status_code == expected, (iri, answer.status_code)
        assert "etag" not in answer.headers
        assert "owl#deprecated" in answer.text or "deprecated" in answer.text.lower()
        if expected == 301:
            assert answer.headers["location"] == path_of(replacements[0])
            followed = httpx.get(url + answer.headers["location"], headers={"Accept": accept})
            assert followed.status_code == 200
        if expected == 300:
            for replacement in replacements:
                assert f'<{path_of(replacement)}>; rel="alternate"' in answer.headers["link"]
    assert seen >= {300, 301}, "the shipped data has both kinds of retirement"


def test_shapes_are_served_from_the_release_file(url: str, release: Release) -> None:
    """/shapes answers the release's canonical shapes file (built once, not per process)."""
    kept = release.path / "shapes.nt"
    expected = set(parse(kept.read_bytes(), ox.RdfFormat.N_TRIPLES))
    assert any(t.subject.value.endswith("#ObligationShape") for t in expected)
    answer = httpx.get(url + "/shapes", params={"format": "nt"}, timeout=60)
    assert answer.status_code == 200
    assert set(parse(answer.content, ox.RdfFormat.N_TRIPLES)) == expected
