"""The inferred graph: superclass queries work without a reasoner, the asserted graphs stay
untouched, only new triples about our own nodes are added, and the result is deterministic.
The stratified store implementation is checked against a naive fixpoint of the same rules.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import OWL, RDF, RDFS, Dataset, Graph, URIRef

from pactgraph.gates import reason
from pactgraph.gates.inference import (
    DATA_NAMESPACES,
    INFERRED_GRAPH,
    add_inferred_graph,
    add_inferred_graph_to_store,
    infer,
    inferred_quads,
)
from pactgraph.rdf.dataset import DataFiles, load_dataset, load_store
from pactgraph.rdf.terms import memory_store, to_rdflib
from pactgraph.release.build import GATES
from pactgraph.settings import SETTINGS

INFERENCE_DIR = Path(__file__).parent / "data" / "inference"
PACT = "https://w3id.org/pactgraph/ontology#"
ID = "https://w3id.org/pactgraph/id/"


def _members(store: ox.Store, cls: str) -> set[str]:
    query = (INFERENCE_DIR / "members-of-class.rq").read_text(encoding="utf-8")
    rows = store.query(
        query,
        use_default_graph_as_union=True,
        substitutions={ox.Variable("class"): ox.NamedNode(cls)},
    )
    return {row["member"].value for row in rows}


def _fixture_dataset() -> Dataset:
    files = DataFiles.discover(SETTINGS)
    return load_dataset([*files.ontology, *files.vocab, INFERENCE_DIR / "instruments.ttl"])


@pytest.fixture(scope="module")
def fixture_dataset() -> Dataset:
    return _fixture_dataset()


@pytest.fixture(scope="module")
def shipped() -> Dataset:
    return load_dataset()


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        ("Instrument", {"treaty", "mou", "bill", "statute"}),
        ("CooperationMeans", {"treaty", "mou", "bill", "statute", "program"}),
        ("InternationalAgreement", {"treaty", "mou"}),
        ("LegalInstrument", {"treaty", "mou", "bill", "statute"}),
    ],
)
def test_superclass_query_needs_the_inferred_graph(
    fixture_dataset: Dataset, cls: str, expected: set[str]
) -> None:
    asserted = _members(memory_store(fixture_dataset), PACT + cls)
    dataset = _fixture_dataset()
    add_inferred_graph(dataset)
    with_inferred = _members(memory_store(dataset), PACT + cls)
    assert asserted == set()
    assert with_inferred == {f"{ID}instrument/inf-{slug}" for slug in expected}


def test_shipped_graph_answers_all_actors_only_with_inference(shipped: Dataset) -> None:
    asserted = _members(memory_store(shipped), PACT + "Actor")
    dataset = load_dataset()
    add_inferred_graph(dataset)
    inferred = _members(memory_store(dataset), PACT + "Actor")
    assert f"{ID}actor/israel" in inferred and f"{ID}actor/israel" not in asserted
    assert asserted < inferred


def test_range_and_subproperty_entailments(fixture_dataset: Dataset) -> None:
    inferred = infer(fixture_dataset)
    untyped = URIRef(ID + "actor/inf-untyped-bearer")
    # rdfs:range of pact:bearer gives a type, and that type its superclasses.
    assert (untyped, RDF.type, URIRef(PACT + "Actor")) in inferred
    assert (untyped, RDF.type, URIRef("http://www.w3.org/ns/prov#Agent")) in inferred
    # pact:statedIn ⊑ prov:wasDerivedFrom (ontology/alignments.ttl).
    claim = URIRef(ID + "claim/inf-claim")
    source = URIRef(ID + "source/inf-source")
    assert (claim, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"), source) in inferred


def test_symmetric_property_is_materialised(fixture_dataset: Dataset) -> None:
    inferred = infer(fixture_dataset)
    first, second = URIRef(ID + "obligation/inf-first"), URIRef(ID + "obligation/inf-second")
    assert (second, URIRef(PACT + "reciprocalOf"), first) in inferred


def test_only_new_triples_about_our_nodes(shipped: Dataset) -> None:
    inferred = infer(shipped)
    assert len(inferred) > 0
    asserted = {triple for graph in shipped.graphs() for triple in graph}
    for subject, predicate, obj in inferred:
        assert (subject, predicate, obj) not in asserted
        assert str(subject).startswith(DATA_NAMESPACES)
        assert obj not in {OWL.Thing, RDFS.Resource, OWL.NamedIndividual}
        assert predicate != OWL.sameAs


def test_asserted_graphs_are_untouched() -> None:
    dataset = load_dataset()
    before = {g.identifier: set(g) for g in dataset.graphs()}
    graph = add_inferred_graph(dataset)
    after = {g.identifier: set(g) for g in dataset.graphs() if g.identifier != INFERRED_GRAPH}
    assert {k: v for k, v in before.items() if v} == {k: v for k, v in after.items() if v}
    assert graph.identifier == INFERRED_GRAPH
    assert len(dataset.graph(INFERRED_GRAPH)) == len(graph) > 0
    # Running it again replaces the graph rather than growing it.
    assert len(add_inferred_graph(dataset)) == len(graph)


def test_inference_is_deterministic() -> None:
    first = infer(load_dataset()).serialize(format="nt")
    second = infer(load_dataset()).serialize(format="nt")
    assert sorted(first.splitlines()) == sorted(second.splitlines())


def test_inferred_graph_gate_is_registered_after_the_checks() -> None:
    names = [name for name, _gate in GATES]
    assert "inferred-graph" in names
    assert names.index("inferred-graph") > names.index("reasoning")


# --- the store implementation against a naive fixpoint ---------------------------------------

Triple = tuple[URIRef, URIRef, URIRef]


def _naive_inferred(graph: Graph) -> set[Triple]:
    """Every rule of pactgraph.gates.inference applied to all facts, round after round, until
    nothing changes; then the new triples about our nodes. Slow and obviously faithful."""

    def named(predicate: URIRef) -> set[tuple[URIRef, URIRef]]:
        pairs = graph.subject_objects(predicate)
        return {(a, b) for a, b in pairs if isinstance(a, URIRef) and isinstance(b, URIRef)}

    up_class = named(RDFS.subClassOf) | {x for a, b in named(OWL.equivalentClass)
                                         for x in ((a, b), (b, a))}  # fmt: skip
    up_property = named(RDFS.subPropertyOf) | {x for a, b in named(OWL.equivalentProperty)
                                               for x in ((a, b), (b, a))}  # fmt: skip
    inverse = {x for a, b in named(OWL.inverseOf) for x in ((a, b), (b, a))}
    domains, ranges = named(RDFS.domain), named(RDFS.range)
    symmetric = set(graph.subjects(RDF.type, OWL.SymmetricProperty))
    transitive = set(graph.subjects(RDF.type, OWL.TransitiveProperty))
    asserted = set(graph)
    facts = set(asserted)
    while True:
        new = set()
        for s, p, o in facts:
            if p == RDF.type:
                new |= {(s, RDF.type, d) for c, d in up_class if c == o}
                continue
            new |= {(s, q, o) for r, q in up_property if r == p}
            new |= {(s, RDF.type, d) for q, d in domains if q == p}
            if isinstance(o, URIRef):
                new |= {(o, RDF.type, r) for q, r in ranges if q == p}
                new |= {(o, q, s) for r, q in inverse if r == p}
                new |= {(o, p, s)} if p in symmetric else set()
                if p in transitive:
                    new |= {(s, p, z) for y, q, z in facts if q == p and y == o}
        if new <= facts:
            break
        facts |= new
    trivial = {OWL.Thing, RDFS.Resource, OWL.NamedIndividual}
    return {
        (s, p, o)
        for s, p, o in facts - asserted
        if str(s).startswith(DATA_NAMESPACES) and not (p == RDF.type and o in trivial)
    }


def _store_triples(store: ox.Store) -> set[tuple]:
    return {
        tuple(to_rdflib(t) for t in (q.subject, q.predicate, q.object))
        for q in inferred_quads(store)
    }


@pytest.mark.parametrize("which", ["shipped", "fixture"])
def test_store_rules_match_the_naive_fixpoint(
    which: str, shipped: Dataset, fixture_dataset: Dataset
) -> None:
    dataset = shipped if which == "shipped" else fixture_dataset
    union = reason.asserted_graph(dataset)
    expected = _naive_inferred(union)
    assert expected  # the comparison means something
    files = DataFiles.discover(SETTINGS)
    paths = None if which == "shipped" else [*files.ontology, *files.vocab,
                                             INFERENCE_DIR / "instruments.ttl"]  # fmt: skip
    assert _store_triples(load_store(paths)) == expected
    assert set(infer(dataset)) == expected


def test_store_graph_is_added_sorted_replaced_and_counted() -> None:
    store = load_store()
    graph = ox.NamedNode(INFERRED_GRAPH)
    before = {q for q in store if q.graph_name != graph}
    added = add_inferred_graph_to_store(store)
    quads = list(store.quads_for_pattern(None, None, None, graph))
    assert added == len(quads) > 0
    assert {q for q in store if q.graph_name != graph} == before
    # Nothing asserted is repeated, and a second run replaces rather than grows the graph.
    assert not {q.triple for q in quads} & {q.triple for q in before}
    assert add_inferred_graph_to_store(store) == added
    assert len(list(store.quads_for_pattern(None, None, None, graph))) == added


def test_store_order_is_deterministic_and_sorted() -> None:
    first, second = inferred_quads(load_store()), inferred_quads(load_store())
    assert first == second
    keys = [tuple(str(t) for t in q.triple) for q in first]
    assert keys == sorted(keys)


def test_reasoning_and_inference_name_the_same_inferred_graph() -> None:
    assert reason.INFERRED_GRAPH is INFERRED_GRAPH
    assert str(INFERRED_GRAPH) == "https://w3id.org/pactgraph/graph/inferred"
