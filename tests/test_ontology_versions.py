"""Ontology versions (review I9, model decision 6): the table ``ontology/versions.csv`` names
every version with the SHA-256 of its file; the live file's hash is in it with the version the
file declares; past versions are kept unchanged and are never part of the live model."""

from __future__ import annotations

from rdflib import OWL, Literal, URIRef

from pactgraph.rdf.dataset import DataFiles, parse_file
from pactgraph.release.versions import past_ontology_files, read_versions, sha256_of
from pactgraph.settings import SETTINGS

ONTOLOGY = URIRef("https://w3id.org/pactgraph/ontology")


def test_the_current_file_is_in_the_table_with_its_version() -> None:
    live = SETTINGS.ontology_dir / "pactgraph.ttl"
    header = parse_file(live)
    (version,) = header.objects(ONTOLOGY, OWL.versionInfo)
    (iri,) = header.objects(ONTOLOGY, OWL.versionIRI)
    rows = [v for v in read_versions() if v.sha256 == sha256_of(live)]
    assert [(r.version, r.version_iri, r.file) for r in rows] == [
        (str(version), str(iri), "ontology/pactgraph.ttl")
    ], "ontology/pactgraph.ttl changed: record its new SHA-256 (and a new version) in versions.csv"


def test_every_version_is_listed_once_and_past_files_are_unchanged() -> None:
    versions = read_versions()
    assert len({v.version for v in versions}) == len(versions) >= 2
    assert len({v.version_iri for v in versions}) == len(versions)
    for past in [v for v in versions if v.is_past()]:
        assert sha256_of(past.path()) == past.sha256, f"{past.file} must never change"
        header = parse_file(past.path())
        assert (ONTOLOGY, OWL.versionIRI, URIRef(past.version_iri)) in header
        assert (ONTOLOGY, OWL.versionInfo, Literal(past.version)) in header


def test_the_current_version_names_its_predecessor() -> None:
    *earlier, current = read_versions()
    header = parse_file(current.path())
    assert list(header.objects(ONTOLOGY, OWL.priorVersion)) == [URIRef(earlier[-1].version_iri)]


def test_past_versions_are_not_loaded_with_the_live_model() -> None:
    loaded = DataFiles.discover().all
    assert not [p for p in loaded if p.is_relative_to(SETTINGS.ontology_versions_dir)]
    assert sorted(past_ontology_files()) == [
        "ontology-0.1.0.ttl",
        "ontology-0.2.0.ttl",
        "ontology-alignments-0.1.0.ttl",
        "ontology-alignments-0.2.0.ttl",
    ]
