"""The inferred graph: superclass queries work without a reasoner, the asserted graphs stay
untouched, only new triples about our own nodes are added, and the result is deterministic.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import OWL, RDF, RDFS, Dataset, URIRef

from pactgraph.build import GATES
from pactgraph.dataset import DataFiles, load_dataset
from pactgraph.inference import DATA_NAMESPACES, add_inferred_graph, infer
from pactgraph.reason import INFERRED_GRAPH
from pactgraph.settings import SETTINGS
from pactgraph.store import memory_store

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
        ("Instrument", {"treaty", "mou", "bill", "statute", "program"}),
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
