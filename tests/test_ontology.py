"""The ontology and the SKOS vocabularies keep the promises of ``ontology/README.md``.

These tests read the shipped files (through :mod:`pactgraph.rdf.dataset`), so they also catch a
data file that uses a ``pact:`` term or a vocabulary concept the model does not define.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, SKOS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, VANN

from pactgraph.rdf.dataset import DataFiles, load_union, ontology_graph, parse_file

PACT = Namespace("https://w3id.org/pactgraph/ontology#")
VOCAB = "https://w3id.org/pactgraph/vocab/"
ONTOLOGY_IRI = URIRef("https://w3id.org/pactgraph/ontology")
ATOP_SCHEME = URIRef(VOCAB + "atop")

# Header field → what its value must look like (the contract's list of required metadata).
HEADER_FIELDS: dict[URIRef, object] = {
    DCTERMS.title: Literal,
    DCTERMS.description: Literal,
    DCTERMS.creator: URIRef("https://w3id.org/pactgraph/id/actor/pactgraph-project"),
    DCTERMS.publisher: URIRef("https://w3id.org/pactgraph/id/actor/pactgraph-project"),
    DCTERMS.created: Literal,
    DCTERMS.issued: Literal,
    DCTERMS.modified: Literal,
    DCTERMS.bibliographicCitation: Literal,
    DCTERMS.license: URIRef("https://creativecommons.org/licenses/by/4.0/"),
    OWL.versionIRI: URIRef("https://w3id.org/pactgraph/ontology/0.3.0"),
    OWL.versionInfo: Literal("0.3.0"),
    OWL.priorVersion: URIRef("https://w3id.org/pactgraph/ontology/0.2.0"),
    URIRef("http://purl.org/ontology/bibo/status"): Literal("draft", lang="en"),
    VANN.preferredNamespacePrefix: Literal("pact"),
    VANN.preferredNamespaceUri: Literal(str(PACT)),
}

TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)


@pytest.fixture(scope="module")
def files() -> DataFiles:
    return DataFiles.discover()


@pytest.fixture(scope="module")
def core(files: DataFiles) -> Graph:
    """``ontology/pactgraph.ttl`` alone (without the alignments)."""
    (path,) = [p for p in files.ontology if p.name == "pactgraph.ttl"]
    return parse_file(path)


@pytest.fixture(scope="module")
def model() -> Graph:
    """Ontology, alignments and vocabularies together."""
    return ontology_graph()


def english(values: Iterator[object]) -> list[Literal]:
    return [v for v in values if isinstance(v, Literal) and v.language == "en"]


def pact_terms(graph: Graph) -> list[URIRef]:
    return sorted(
        {
            s
            for kind in TERM_TYPES
            for s in graph.subjects(RDF.type, kind)
            if isinstance(s, URIRef) and s.startswith(str(PACT))
        }
    )


def concepts(graph: Graph) -> list[URIRef]:
    return sorted(s for s in graph.subjects(RDF.type, SKOS.Concept) if isinstance(s, URIRef))


# ------------------------------------------------------------------------------- header


@pytest.mark.parametrize("field", list(HEADER_FIELDS), ids=lambda f: f.n3())
def test_ontology_header_has_field(core: Graph, field: URIRef) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in core
    values = list(core.objects(ONTOLOGY_IRI, field))
    expected = HEADER_FIELDS[field]
    assert values, f"ontology header lacks {field}"
    if expected is Literal:
        assert all(isinstance(v, Literal) and str(v).strip() for v in values)
    else:
        assert values == [expected]


def test_ontology_imports_nothing(core: Graph) -> None:
    assert list(core.objects(ONTOLOGY_IRI, OWL.imports)) == []


def test_ontology_has_no_blank_nodes(files: DataFiles) -> None:
    # Blank nodes get fresh labels on every parse, which would make dumps differ per build.
    for path in [*files.ontology, *files.vocab]:
        graph = parse_file(path)
        assert not [t for t in graph if any(isinstance(x, BNode) for x in t)], path


# ------------------------------------------------------------------------------- terms


def test_ontology_declares_the_contract_core(core: Graph) -> None:
    terms = set(pact_terms(core))
    assert len(terms) > 90
    for name in ("Actor", "Instrument", "Obligation", "Source", "Claim", "bearer", "status"):
        assert PACT[name] in terms


@pytest.mark.parametrize("prop", [RDFS.label, SKOS.definition], ids=["label", "definition"])
def test_every_pact_term_is_documented(core: Graph, prop: URIRef) -> None:
    undocumented = [t for t in pact_terms(core) if len(english(core.objects(t, prop))) != 1]
    assert undocumented == []


def test_every_pact_term_is_defined_by_the_ontology(core: Graph) -> None:
    strays = [t for t in pact_terms(core) if (t, RDFS.isDefinedBy, ONTOLOGY_IRI) not in core]
    assert strays == []


def test_every_pact_term_has_one_kind(core: Graph) -> None:
    mixed = [
        t for t in pact_terms(core) if len(set(core.objects(t, RDF.type)) & set(TERM_TYPES)) > 1
    ]
    assert mixed == []


def declared_disjoint(graph: Graph, a: URIRef, b: URIRef) -> bool:
    """True when the ontology states ``a owl:disjointWith b`` (in either direction)."""
    return (a, OWL.disjointWith, b) in graph or (b, OWL.disjointWith, a) in graph


def test_bill_and_statute_are_disjoint(core: Graph) -> None:
    assert declared_disjoint(core, PACT.Bill, PACT.Statute)
    assert not declared_disjoint(core, PACT.Bill, PACT.Bill)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Actor", "Instrument"),
        ("Actor", "Provision"),
        ("Actor", "Source"),
        ("Actor", "Claim"),
        ("Instrument", "Provision"),
        ("Instrument", "Source"),
        ("Instrument", "Claim"),
        ("Provision", "Source"),
        ("Provision", "Claim"),
        ("Duty", "Permission"),
        ("Duty", "PoliticalCommitment"),
        ("Program", "JointExercise"),
        ("CooperationActivity", "Actor"),
        ("Participation", "StatusChange"),
        ("Source", "Claim"),
        ("LegalInstrument", "ProposedFramework"),
        ("Treaty", "MemorandumOfUnderstanding"),
    ],
)
def test_contract_disjointness(core: Graph, a: str, b: str) -> None:
    assert declared_disjoint(core, PACT[a], PACT[b])


def test_reciprocal_of_is_symmetric_and_bearer_not_functional(core: Graph) -> None:
    assert (PACT.reciprocalOf, RDF.type, OWL.SymmetricProperty) in core
    assert (PACT.bearer, RDF.type, OWL.FunctionalProperty) not in core


def test_external_properties_used_in_the_model_are_declared(model: Graph) -> None:
    # An undeclared property makes the whole fall out of OWL 2 DL (HermiT then refuses it).
    builtin = {RDF.type, RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range}
    builtin |= {RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy}
    declared = {
        s
        for kind in (OWL.AnnotationProperty, OWL.ObjectProperty, OWL.DatatypeProperty)
        for s in model.subjects(RDF.type, kind)
    }
    used = {p for p in model.predicates() if not str(p).startswith(str(OWL))}
    assert sorted(used - declared - builtin) == []


# ------------------------------------------------------------------------------- vocabularies


def test_every_contract_scheme_has_a_file(files: DataFiles) -> None:
    names = {p.stem for p in files.vocab}
    expected = {
        "obligation-type",
        "atop",
        "condition-type",
        "instrument-status",
        "bindingness",
        "deontic-modality",
        "amount-type",
        "amount-basis",
        "source-kind",
        "citation-identification",
        "qualifier-type",
        "participation-role",
        "commitment-strength",
    }
    assert expected <= names


@pytest.mark.parametrize("path", DataFiles.discover().vocab, ids=lambda p: p.stem)
def test_vocabulary_file_holds_its_scheme(path: Path) -> None:
    graph = parse_file(path)
    scheme = URIRef(VOCAB + path.stem)
    assert list(graph.subjects(RDF.type, SKOS.ConceptScheme)) == [scheme]
    assert english(graph.objects(scheme, DCTERMS.title))
    tops = set(graph.objects(scheme, SKOS.hasTopConcept))
    assert tops == set(graph.subjects(SKOS.topConceptOf, scheme))
    for concept in concepts(graph):
        assert concept.startswith(f"{scheme}/"), concept
        broader = list(graph.objects(concept, SKOS.broader))
        # Each concept hangs somewhere: at the top of the scheme or under a concept of it.
        assert (concept in tops) != bool(broader), concept
        assert all((b, RDF.type, SKOS.Concept) in graph for b in broader), concept


def test_every_concept_has_one_scheme_label_and_definition(model: Graph) -> None:
    found = concepts(model)
    assert len(found) > 80
    for concept in found:
        assert len(list(model.objects(concept, SKOS.inScheme))) == 1, concept
        assert len(english(model.objects(concept, SKOS.prefLabel))) == 1, concept
        assert len(english(model.objects(concept, SKOS.definition))) == 1, concept


def test_atop_mirror_concepts_carry_variable_name_and_source(model: Graph) -> None:
    mirror = [c for c in concepts(model) if (c, SKOS.inScheme, ATOP_SCHEME) in model]
    assert len(mirror) == 12
    for concept in mirror:
        assert [str(n) for n in model.objects(concept, SKOS.notation)] == [concept.split("/")[-1]]
        assert (concept, DCTERMS.source, URIRef("http://atop.rice.edu/data")) in model


def test_atop_core_types_map_exactly(model: Graph) -> None:
    ot = Namespace(VOCAB + "obligation-type/")
    atop = Namespace(VOCAB + "atop/")
    for ours, theirs in [("defense", "defense"), ("offense", "offense"), ("neutrality", "neutral")]:
        assert (ot[ours], SKOS.exactMatch, atop[theirs]) in model
    targets = {o for p in (SKOS.exactMatch, SKOS.closeMatch) for o in model.objects(None, p)}
    assert {atop.consul, atop.milaid, atop.notaiden} <= targets


# ------------------------------------------------------------------------------- data vs model


@pytest.fixture(scope="module")
def data(files: DataFiles) -> Graph:
    if not files.graph:
        pytest.skip("graph/ holds no data yet")
    return load_union(files.graph)


def test_every_pact_term_used_in_data_is_declared(model: Graph, data: Graph) -> None:
    declared = set(model.subjects(RDF.type, None))
    used = {
        term
        for triple in data
        for term in triple
        if isinstance(term, URIRef) and term.startswith(str(PACT))
    }
    assert sorted(used - declared) == []


def test_every_property_used_in_data_is_declared(model: Graph, data: Graph) -> None:
    # An undeclared property takes the whole out of OWL 2 DL; it is also how typos such as
    # schema:URL show up. Declare a new external property under "External terms" in
    # ontology/pactgraph.ttl (most metadata properties as owl:AnnotationProperty).
    builtin = {RDF.type, RDFS.label, RDFS.comment, RDFS.seeAlso, OWL.sameAs}
    declared = {
        s
        for kind in (OWL.AnnotationProperty, OWL.ObjectProperty, OWL.DatatypeProperty)
        for s in model.subjects(RDF.type, kind)
    }
    assert sorted(set(data.predicates()) - declared - builtin) == []


def test_every_class_used_in_data_is_declared(model: Graph, data: Graph) -> None:
    declared = set(model.subjects(RDF.type, OWL.Class))
    assert sorted(set(data.objects(None, RDF.type)) - declared) == []


def test_every_vocabulary_iri_used_in_data_is_a_concept(model: Graph, data: Graph) -> None:
    known = set(concepts(model)) | set(model.subjects(RDF.type, SKOS.ConceptScheme))
    used = {
        term
        for triple in data
        for term in triple
        if isinstance(term, URIRef) and term.startswith(VOCAB)
    }
    assert sorted(used - known) == []


GOVERNMENT_BODY_KINDS = (
    "Legislature", "LegislativeCommittee", "ExecutiveDepartment", "Agency", "MilitaryCommand",
    "Office",
)  # fmt: skip
REVIEW_I2_PAIRS = [
    *((a, b) for i, a in enumerate(GOVERNMENT_BODY_KINDS) for b in GOVERNMENT_BODY_KINDS[i + 1 :]),
    *(
        (a, b)
        for a in ("State", "InternationalOrganization")
        for b in ("MediaOutlet", "AdvocacyGroup", "ResearchOrganization")
    ),
    *(("StatutoryProvision", b) for b in ("Statute", "Bill", "InternationalAgreement")),
]


def test_the_24_missing_pairs_of_the_review_are_declared(core: Graph) -> None:
    assert len(REVIEW_I2_PAIRS) == 24
    assert [p for p in REVIEW_I2_PAIRS if not declared_disjoint(core, PACT[p[0]], PACT[p[1]])] == []
