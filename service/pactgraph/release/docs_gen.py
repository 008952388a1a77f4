"""HTML documentation of the ontology and of each SKOS scheme, generated from the Turtle.

In the spirit of pyLODE and Widoco, but from our own templates (``templates/ontology.html``,
``templates/vocab.html``) so the pages share the service's look and need nothing else
installed: every class and property with its label, definition, super- and subclasses or
-properties, domains and ranges (``owl:unionOf`` spelled out), disjointness, characteristics
and alignments (``skos:*Match``, ``owl:equivalent*`` and superclasses or superproperties outside
our namespace), the model picture, and for every scheme its concepts as a tree with notations,
definitions and mappings. A release build writes the pages into the release directory
(:func:`documentation_pages`); the service answers ``/ontology`` and ``/vocab/{scheme}`` with
them when a browser asks.

>>> Link.to("https://w3id.org/pactgraph/ontology#Treaty", "Treaty").href
'/ontology#Treaty'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import OWL, RDF, RDFS, SKOS, BNode, Dataset, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS
from rdflib.term import Node

from pactgraph.rdf.dataset import DataFiles, graph_iri_for
from pactgraph.rdf.namespaces import PACT, prefixes_for
from pactgraph.rdf.namespaces import compact_iri as compact
from pactgraph.render.html import render
from pactgraph.settings import BASE_IRI, SETTINGS, Settings

ONTOLOGY_PAGE = "ontology.html"
MODEL_PICTURE = Path("docs") / "model.svg"

# Mapping properties shown as alignments, with how the page reads them.
MATCHES: dict[URIRef, str] = {
    SKOS.exactMatch: "exact match",
    SKOS.closeMatch: "close match",
    SKOS.broadMatch: "broader match",
    SKOS.narrowMatch: "narrower match",
    SKOS.relatedMatch: "related match",
    OWL.equivalentClass: "equivalent class",
    OWL.equivalentProperty: "equivalent property",
}
PROPERTY_KINDS: dict[URIRef, str] = {
    OWL.ObjectProperty: "object property",
    OWL.DatatypeProperty: "datatype property",
    OWL.AnnotationProperty: "annotation property",
}
CHARACTERISTICS: dict[URIRef, str] = {
    OWL.FunctionalProperty: "functional",
    OWL.InverseFunctionalProperty: "inverse functional",
    OWL.SymmetricProperty: "symmetric",
    OWL.AsymmetricProperty: "asymmetric",
    OWL.TransitiveProperty: "transitive",
    OWL.IrreflexiveProperty: "irreflexive",
}
DEFINITIONS = (SKOS.definition, RDFS.comment, DCTERMS.description)


@dataclass(frozen=True)
class Link:
    """A term as a link: our IRIs become paths on this service, others stay absolute."""

    text: str
    href: str
    iri: str
    note: str = ""

    @classmethod
    def to(cls, iri: str, text: str, note: str = "") -> Link:
        href = "/" + iri[len(BASE_IRI) :] if iri.startswith(BASE_IRI) else iri
        return cls(text=text, href=href, iri=iri, note=note)


@dataclass
class Term:
    """One class, property or concept with the rows of facts its entry shows."""

    iri: str
    anchor: str
    label: str
    kind: str
    definitions: list[str]
    rows: list[tuple[str, list[Link]]] = field(default_factory=list)
    children: list[Term] = field(default_factory=list)
    href: str = ""  # the term's own page, when it has one (concepts do)


def _text(graph: Graph, node: Node, props: Iterable[URIRef]) -> list[str]:
    found = []
    for prop in props:
        for value in graph.objects(node, prop):
            if isinstance(value, Literal) and value.language in (None, "en"):
                found.append(str(value))
    return list(dict.fromkeys(found))


def label(graph: Graph, node: Node) -> str:
    """A term's English label (``skos:prefLabel``, ``rdfs:label``), else its compact IRI."""
    names = _text(graph, node, (SKOS.prefLabel, RDFS.label, DCTERMS.title))
    return names[0] if names else compact(str(node))


def _link(graph: Graph, node: Node, note: str = "") -> Link:
    return Link.to(
        str(node),
        label(graph, node) if str(node).startswith(BASE_IRI) else compact(str(node)),
        note,
    )


def _named(graph: Graph, node: Node) -> list[URIRef]:
    """The named classes a class expression stands for (``owl:unionOf`` expanded)."""
    if isinstance(node, URIRef):
        return [node]
    members = graph.value(node, OWL.unionOf)
    if members is not None:
        return [m for m in Collection(graph, members) if isinstance(m, URIRef)]
    return []


def _links(graph: Graph, nodes: Iterable[Node]) -> list[Link]:
    found = {n for node in nodes for n in _named(graph, node)}
    return sorted((_link(graph, n) for n in found), key=lambda link: link.text.lower())


def _alignments(graph: Graph, term: URIRef, parent: URIRef) -> list[Link]:
    links = [
        _link(graph, target, note)
        for prop, note in MATCHES.items()
        for target in graph.objects(term, prop)
        if isinstance(target, URIRef)
    ]
    # A superclass or superproperty outside our namespace is an alignment too.
    links += [
        _link(graph, target, "subsumed by")
        for target in graph.objects(term, parent)
        if isinstance(target, URIRef) and not str(target).startswith(PACT)
    ]
    return sorted(links, key=lambda link: (link.note, link.text))


def _ours(graph: Graph, kind: URIRef) -> list[URIRef]:
    return sorted(
        (s for s in graph.subjects(RDF.type, kind) if str(s).startswith(PACT)),
        key=lambda s: label(graph, s).lower(),
    )


def _rows(rows: Iterable[tuple[str, list[Link]]]) -> list[tuple[str, list[Link]]]:
    return [(heading, links) for heading, links in rows if links]


def class_terms(graph: Graph) -> list[Term]:
    """Every ``owl:Class`` in our namespace, alphabetically, with its rows of facts."""
    terms = []
    for cls in _ours(graph, OWL.Class):
        domains = [
            p
            for p in graph.subjects(RDFS.domain, None)
            if cls in _named(graph, graph.value(p, RDFS.domain))
        ]
        ranges = [
            p
            for p in graph.subjects(RDFS.range, None)
            if cls in _named(graph, graph.value(p, RDFS.range))
        ]
        disjoint = [*graph.objects(cls, OWL.disjointWith), *graph.subjects(OWL.disjointWith, cls)]
        for group in graph.subjects(RDF.type, OWL.AllDisjointClasses):
            members = list(Collection(graph, graph.value(group, OWL.members)))
            if cls in members:
                disjoint += [m for m in members if m != cls]
        own_parents = [p for p in graph.objects(cls, RDFS.subClassOf) if str(p).startswith(PACT)]
        terms.append(
            Term(
                iri=str(cls),
                anchor=str(cls)[len(PACT) :],
                label=label(graph, cls),
                kind="class",
                definitions=_text(graph, cls, DEFINITIONS),
                rows=_rows(
                    [
                        ("Subclass of", _links(graph, own_parents)),
                        ("Superclass of", _links(graph, graph.subjects(RDFS.subClassOf, cls))),
                        ("Disjoint with", _links(graph, set(disjoint))),
                        ("In the domain of", _links(graph, domains)),
                        ("In the range of", _links(graph, ranges)),
                        ("Alignments", _alignments(graph, cls, RDFS.subClassOf)),
                    ]
                ),
            )
        )
    return terms


def property_terms(graph: Graph) -> list[Term]:
    """Every object, datatype and annotation property in our namespace, alphabetically."""
    seen: dict[URIRef, str] = {}
    for kind, name in PROPERTY_KINDS.items():
        for prop in _ours(graph, kind):
            seen.setdefault(prop, name)
    terms = []
    for prop in sorted(seen, key=lambda p: label(graph, p).lower()):
        traits = [
            Link(text=name, href="", iri="")
            for kind, name in CHARACTERISTICS.items()
            if (prop, RDF.type, kind) in graph
        ]
        own_parents = [
            p for p in graph.objects(prop, RDFS.subPropertyOf) if str(p).startswith(PACT)
        ]
        terms.append(
            Term(
                iri=str(prop),
                anchor=str(prop)[len(PACT) :],
                label=label(graph, prop),
                kind=seen[prop],
                definitions=_text(graph, prop, DEFINITIONS),
                rows=_rows(
                    [
                        ("Domain", _links(graph, graph.objects(prop, RDFS.domain))),
                        ("Range", _links(graph, graph.objects(prop, RDFS.range))),
                        ("Sub-property of", _links(graph, own_parents)),
                        (
                            "Super-property of",
                            _links(graph, graph.subjects(RDFS.subPropertyOf, prop)),
                        ),
                        (
                            "Inverse of",
                            _links(
                                graph,
                                [
                                    *graph.objects(prop, OWL.inverseOf),
                                    *graph.subjects(OWL.inverseOf, prop),
                                ],
                            ),
                        ),
                        ("Characteristics", traits),
                        ("Alignments", _alignments(graph, prop, RDFS.subPropertyOf)),
                    ]
                ),
            )
        )
    return terms


def concept_tree(graph: Graph, scheme: URIRef) -> list[Term]:
    """The scheme's concepts as a tree: top concepts (or parentless ones) first."""
    concepts = set(graph.subjects(SKOS.inScheme, scheme))

    def term(concept: URIRef) -> Term:
        narrower = {c for c in concepts if (c, SKOS.broader, concept) in graph}
        narrower |= {c for c in graph.objects(concept, SKOS.narrower) if c in concepts}
        notations = [
            Link(text=str(n), href="", iri="") for n in graph.objects(concept, SKOS.notation)
        ]
        return Term(
            iri=str(concept),
            anchor=str(concept).rstrip("/").rsplit("/", 1)[-1],
            label=label(graph, concept),
            kind="concept",
            definitions=_text(graph, concept, (SKOS.definition, RDFS.comment)),
            rows=_rows(
                [
                    ("Notation", notations),
                    ("Mappings", _alignments(graph, concept, SKOS.broader)),
                ]
            ),
            children=sorted((term(c) for c in narrower), key=lambda t: t.label.lower()),
            href=Link.to(str(concept), "").href,
        )

    def has_parent(c: URIRef) -> bool:
        parents = {*graph.objects(c, SKOS.broader), *graph.subjects(SKOS.narrower, c)}
        return bool(parents & concepts)

    tops = [c for c in concepts if not has_parent(c) and isinstance(c, URIRef)]
    return sorted((term(c) for c in tops), key=lambda t: t.label.lower())


def _graph_of(dataset: Dataset, paths: Iterable[Path], settings: Settings) -> Graph:
    graph = Graph()
    for path in paths:
        graph += dataset.graph(graph_iri_for(path, settings))
    return graph


def _diagram(settings: Settings) -> str | None:
    """The model picture's SVG element, for inlining (no XML prolog), if there is one."""
    path = settings.root / MODEL_PICTURE
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    start = text.find("<svg")
    return text[start:] if start >= 0 else None


def used_namespaces(graph: Graph) -> list[tuple[str, str]]:
    """(prefix, namespace) of our JSON-LD context for every namespace the graph uses."""
    iris = {str(term) for triple in graph for term in triple if isinstance(term, URIRef)}
    return sorted(prefixes_for(iris).items())


def ontology_page(graph: Graph, settings: Settings = SETTINGS) -> str:
    """The ontology documentation page for the ontology (and alignments) graph."""
    ontologies = sorted(graph.subjects(RDF.type, OWL.Ontology))
    headers = [
        {
            "iri": str(o),
            "title": label(graph, o),
            "description": _text(graph, o, (DCTERMS.description, RDFS.comment)),
            "version": graph.value(o, OWL.versionInfo),
            "license": graph.value(o, DCTERMS.license),
        }
        for o in ontologies
    ]
    return render(
        "ontology.html",
        title="pactgraph ontology",
        ontologies=headers,
        classes=class_terms(graph),
        properties=property_terms(graph),
        namespaces=used_namespaces(graph),
        diagram=_diagram(settings),
        model_picture=(settings.root / MODEL_PICTURE).is_file(),
    )


def vocab_page(graph: Graph, scheme: URIRef, settings: Settings = SETTINGS) -> str:
    """One concept scheme's documentation page."""
    return render(
        "vocab.html",
        title=f"{label(graph, scheme)} — pactgraph vocabulary",
        scheme=Link.to(str(scheme), label(graph, scheme)),
        definitions=_text(graph, scheme, (SKOS.definition, RDFS.comment, DCTERMS.description)),
        concepts=concept_tree(graph, scheme),
        model_picture=(settings.root / MODEL_PICTURE).is_file(),
    )


def documentation_pages(dataset: Dataset, settings: Settings = SETTINGS) -> dict[str, bytes]:
    """``ontology.html`` and ``vocab-{scheme}.html`` for every scheme, from the loaded data."""
    files = DataFiles.discover(settings)
    pages = {ONTOLOGY_PAGE: ontology_page(_graph_of(dataset, files.ontology, settings), settings)}
    vocab = _graph_of(dataset, files.vocab, settings)
    for scheme in sorted(vocab.subjects(RDF.type, SKOS.ConceptScheme)):
        if isinstance(scheme, BNode) or not str(scheme).startswith(BASE_IRI + "vocab/"):
            continue
        name = str(scheme)[len(BASE_IRI + "vocab/") :]
        pages[f"vocab-{name}.html"] = vocab_page(vocab, scheme, settings)
    return {name: text.encode("utf-8") for name, text in pages.items()}
