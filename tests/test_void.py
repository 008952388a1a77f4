"""The dataset describes itself: VoID and DCAT equal to what the data and the files really are.

The release's ``void.ttl`` is read back over HTTP from ``/.well-known/void``; every count in
it is compared with the same count asked of the running ``/sparql`` endpoint (queries in
``tests/data/void/``), and every distribution with the bytes ``/dumps/`` serves for it (size
and SHA-256 recomputed here). Nothing is typed in: a count that drifted from the data fails.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from pactgraph.release.published import Release
from pactgraph.release.void import void_turtle
from pactgraph.settings import BASE_IRI

QUERIES = Path(__file__).parent / "data" / "void"
IANA = "https://www.iana.org/assignments/media-types/"


@pytest.fixture(scope="module")
def url(release: Release, start_service) -> Iterator[str]:
    with start_service(release) as base:
        yield base


@pytest.fixture(scope="module")
def void_store(url: str) -> ox.Store:
    response = httpx.get(url + "/.well-known/void", headers={"Accept": "text/turtle"}, timeout=60)
    assert response.status_code == 200
    store = ox.Store()
    store.load(response.content, format=ox.RdfFormat.TURTLE)
    return store


def endpoint_rows(url: str, name: str) -> list[dict[str, str]]:
    query = (QUERIES / f"{name}.rq").read_text(encoding="utf-8")
    response = httpx.post(
        url + "/sparql",
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=120,
    )
    response.raise_for_status()
    return [
        {k: v["value"] for k, v in row.items()} for row in response.json()["results"]["bindings"]
    ]


def void_rows(store: ox.Store, name: str) -> list[dict[str, str]]:
    query = (QUERIES / f"{name}.rq").read_text(encoding="utf-8")
    solutions = store.query(query)
    names = solutions.variables
    return [{v.value: s[v].value for v in names if s[v] is not None} for s in solutions]


def keyed(rows: list[dict[str, str]]) -> dict[str, int]:
    return {row["key"]: int(row["n"]) for row in rows}


def test_dataset_counts_equal_the_endpoints_counts(url: str, void_store: ox.Store) -> None:
    (described,) = void_rows(void_store, "void-dataset")
    for field, query in (
        ("triples", "triples"),
        ("entities", "entities"),
        ("subjects", "distinct-subjects"),
        ("objects", "distinct-objects"),
    ):
        (row,) = endpoint_rows(url, query)
        assert int(described[field]) == int(row["n"]), field
    assert int(described["classes"]) == len(endpoint_rows(url, "classes"))
    assert int(described["properties"]) == len(endpoint_rows(url, "properties"))


def test_triples_equal_the_release_count(void_store: ox.Store, release: Release) -> None:
    (described,) = void_rows(void_store, "void-dataset")
    assert int(described["triples"]) == release.triple_count
    nt = (release.path / "pactgraph.nt").read_bytes()
    assert int(described["triples"]) == nt.count(b"\n")


@pytest.mark.parametrize("partition", ["classes", "properties"])
def test_partitions_equal_the_endpoints_counts(
    url: str, void_store: ox.Store, partition: str
) -> None:
    described = keyed(void_rows(void_store, f"void-{partition}"))
    counted = keyed(endpoint_rows(url, partition))
    assert described == counted
    assert described  # the data has classes and properties


def test_wikidata_linksets_count_the_links(url: str, void_store: ox.Store) -> None:
    described = keyed(void_rows(void_store, "void-linksets"))
    counted = keyed(endpoint_rows(url, "wikidata-links"))
    assert described == counted
    # Wikidata links are skos:exactMatch (model decision 6); owl:sameAs is no longer asserted.
    assert described.get("http://www.w3.org/2004/02/skos/core#exactMatch", 0) >= 1
    assert "http://www.w3.org/2002/07/owl#sameAs" not in described


def test_every_dump_is_a_distribution_with_its_real_size_and_digest(
    url: str, void_store: ox.Store, release: Release
) -> None:
    rows = void_rows(void_store, "void-distributions")
    dumps = sorted(n for n in release.files if n.startswith("pactgraph."))
    assert sorted(row["url"].rsplit("/", 1)[1] for row in rows) == dumps
    for row in rows:
        prefix = f"{BASE_IRI}dumps/{release.version}/"
        assert row["url"].startswith(prefix)
        served = httpx.get(url + "/dumps/" + row["url"][len(BASE_IRI + "dumps/") :], timeout=60)
        assert served.status_code == 200
        assert int(row["size"]) == len(served.content)
        assert row["sha256"] == hashlib.sha256(served.content).hexdigest()
        if row["url"].endswith(".gz"):
            assert row["compress"] == IANA + "application/gzip"
        else:
            assert row["mediaType"] == IANA + served.headers["content-type"].split(";")[0]


def test_description_names_licence_version_endpoint_and_publisher(
    void_store: ox.Store, release: Release
) -> None:
    dataset = ox.NamedNode(BASE_IRI + ".well-known/void#dataset")

    def objects(prop: str) -> list[str]:
        return [
            q.object.value for q in void_store.quads_for_pattern(dataset, ox.NamedNode(prop), None)
        ]

    assert objects("http://www.w3.org/ns/dcat#version") == [release.version]
    assert objects("http://purl.org/dc/terms/license")
    assert objects("http://rdfs.org/ns/void#sparqlEndpoint") == [BASE_IRI + "sparql"]
    assert objects("http://purl.org/dc/terms/publisher")
    assert objects("http://purl.org/dc/terms/title")


def test_void_is_in_the_release_checksums_and_deterministic(release: Release) -> None:
    assert "void.ttl" in release.files
    files = {name: path.read_bytes() for name, path in release.files.items()}
    again = void_turtle(files, release.version)
    assert again == files["void.ttl"]
