"""The release is consistent with the vocabularies it reuses (model decision 1, review C1/C2).

The asserted data and ontology of a release, loaded together with the W3C files in
``tests/data/external/`` (PROV-O, ORG, OWL-Time; ODRL 2.2 separately), must be consistent for
HermiT, run through :mod:`pactgraph.gates.reason`. One HermiT run each.

For ODRL our mappings are read as types: every ``skos:closeMatch``/``skos:exactMatch`` from one
of our classes (or concepts used as deontic modalities) to an ODRL class becomes ``rdf:type``
on that class's instances, which is what a consumer materialising the mappings gets. Before
ontology 0.2, ``pact:Obligation closeMatch odrl:Duty`` put permissions into ``odrl:Duty``,
which ODRL declares disjoint with ``odrl:Permission``.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import OWL, RDF, RDFS, SKOS, Graph, Namespace, URIRef

from pactgraph.gates.reason import reason
from pactgraph.rdf.terms import add_triples
from pactgraph.release.published import Release

EXTERNAL = Path(__file__).parent / "data" / "external"
ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
PACT = Namespace("https://w3id.org/pactgraph/ontology#")
INFERRED = "https://w3id.org/pactgraph/graph/inferred"


def _asserted(release: Release) -> Graph:
    """The release's triples outside the inferred graph (data, ontology, vocabularies)."""
    store = release.open_store()
    try:
        quads = [q for q in store if q.graph_name != ox.NamedNode(INFERRED)]
        return add_triples(Graph(), quads)
    finally:
        del store


def _with(graph: Graph, *names: str) -> Graph:
    for name in names:
        path = EXTERNAL / name
        graph.parse(path, format="nt" if path.suffix == ".nt" else "turtle")
    return graph


@pytest.fixture(scope="module")
def asserted(release: Release) -> Graph:
    return _asserted(release)


def test_the_release_is_consistent_with_prov_org_and_time(asserted: Graph) -> None:
    graph = _with(Graph() + asserted, "prov-o.ttl", "org.ttl", "time.ttl")
    report = reason(graph)
    assert report.consistent, report.text()
    assert report.unsatisfiable == ()


def _subclasses(graph: Graph, cls: URIRef) -> set[URIRef]:
    return {c for c in graph.transitive_subjects(RDFS.subClassOf, cls) if isinstance(c, URIRef)}


def odrl_types(graph: Graph) -> Graph:
    """``rdf:type`` triples a consumer gets by reading our ODRL mappings as types."""
    typed = Graph()
    for mapping in (SKOS.closeMatch, SKOS.exactMatch):
        for ours, theirs in graph.subject_objects(mapping):
            if not (isinstance(theirs, URIRef) and theirs.startswith(str(ODRL))):
                continue
            if (ours, RDF.type, OWL.Class) in graph:
                members = {n for c in _subclasses(graph, ours) for n in graph.subjects(RDF.type, c)}
            else:  # a concept, e.g. deontic:permission: the provisions that carry it
                members = set(graph.subjects(PACT.deonticModality, ours))
            for node in members:
                typed.add((node, RDF.type, theirs))
    return typed


def test_the_release_is_consistent_with_odrl_read_as_types(asserted: Graph) -> None:
    types = odrl_types(asserted)
    # So the test cannot pass by mapping nothing: duties and permissions both get ODRL types.
    assert {o for o in types.objects(None, RDF.type)} >= {ODRL.Duty, ODRL.Permission}
    graph = _with(Graph() + asserted + types, "odrl22.nt")
    report = reason(graph)
    assert report.consistent, report.text()


def test_the_old_obligation_mapping_would_be_inconsistent(asserted: Graph) -> None:
    # The test can fail: ontology 0.1.0 mapped every obligation to odrl:Duty.
    types = Graph()
    for node in set(asserted.subjects(RDF.type, PACT.Permission)):
        types.add((node, RDF.type, ODRL.Duty))
        types.add((node, RDF.type, ODRL.Permission))
    graph = _with(Graph() + asserted + types, "odrl22.nt")
    assert not reason(graph).consistent
