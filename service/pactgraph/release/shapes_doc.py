"""The SHACL shapes as a person reads them: one section per shape, the way pyLODE documents an
ontology. Each shape shows its label, description, targets, and one row per property (path,
cardinality, datatype, class or node kind, allowed values, pattern, severity, message), then
its SPARQL constraints' messages. Everything is sorted, so the page is the same bytes for the
same shapes (its ETag holds). ``/shapes`` serves it to browsers; the Turtle is one click away.

>>> from rdflib import Graph
>>> g = Graph().parse(data='''
... @prefix sh: <http://www.w3.org/ns/shacl#> .
... @prefix ex: <https://w3id.org/pactgraph/shapes#> .
... @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
... ex:S a sh:NodeShape ; sh:targetClass ex:C ;
...   sh:property [ sh:path ex:p ; sh:minCount 1 ; sh:maxCount 1 ; sh:datatype xsd:date ;
...                 sh:message "one date" ] .''', format="turtle")
>>> [(s.label, [(p.path, p.cardinality, p.value_type) for p in s.properties]) for s in
...  shape_docs(g)]
[('S', [('shape:p', 'exactly 1', 'xsd:date')])]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import RDF, RDFS, SH, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, SKOS
from rdflib.term import Node

from pactgraph.rdf.namespaces import compact_iri
from pactgraph.settings import BASE_IRI

TARGETS = {
    SH.targetClass: "instances of",
    SH.targetNode: "the node",
    SH.targetSubjectsOf: "subjects of",
    SH.targetObjectsOf: "objects of",
}


@dataclass(frozen=True)
class Ref:
    """A term shown as a link (our IRIs on this service) with its compact name."""

    text: str
    href: str | None


@dataclass(frozen=True)
class PropertyDoc:
    """One ``sh:property`` of a shape."""

    path: str
    path_ref: Ref
    cardinality: str
    value_type: str
    allowed: list[str]
    pattern: str
    severity: str
    messages: list[str]
    other: list[str]


@dataclass
class ShapeDoc:
    """One named shape."""

    anchor: str
    iri: str
    label: str
    description: list[str]
    targets: list[tuple[str, Ref]]
    properties: list[PropertyDoc] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)
    severity: str = ""


def _ref(node: Node) -> Ref:
    text = compact_iri(str(node)) if isinstance(node, URIRef) else str(node)
    href = None
    if isinstance(node, URIRef):
        iri = str(node)
        href = "/" + iri[len(BASE_IRI) :] if iri.startswith(BASE_IRI) else iri
    return Ref(text, href)


def _path(graph: Graph, path: Node) -> str:
    """A SHACL property path written as SPARQL would (``^p``, ``p/q``, ``p*``, ``(p|q)``)."""
    if isinstance(path, URIRef):
        return compact_iri(str(path))
    if isinstance(path, BNode):
        if (path, RDF.first, None) in graph:
            return "/".join(_path(graph, p) for p in Collection(graph, path))
        for key, fmt in (
            (SH.inversePath, "^{}"),
            (SH.zeroOrMorePath, "{}*"),
            (SH.oneOrMorePath, "{}+"),
            (SH.zeroOrOnePath, "{}?"),
        ):
            inner = graph.value(path, key)
            if inner is not None:
                return fmt.format(_path(graph, inner))
        alternatives = graph.value(path, SH.alternativePath)
        if alternatives is not None:
            return "(" + "|".join(_path(graph, p) for p in Collection(graph, alternatives)) + ")"
    return str(path)


def _int(graph: Graph, node: Node, prop: URIRef) -> int | None:
    value = graph.value(node, prop)
    return int(value) if isinstance(value, Literal) else None


def cardinality(low: int | None, high: int | None) -> str:
    """How many values a property may have, in words.

    >>> cardinality(1, 1), cardinality(None, 0), cardinality(1, None), cardinality(None, None)
    ('exactly 1', 'none', 'at least 1', 'any number')
    """
    if high == 0:
        return "none"
    if low and high is not None:
        return f"exactly {low}" if low == high else f"{low} to {high}"
    if low:
        return f"at least {low}"
    if high is not None:
        return f"at most {high}"
    return "any number"


def _texts(graph: Graph, node: Node, *props: URIRef) -> list[str]:
    return sorted({str(o) for p in props for o in graph.objects(node, p)})


def _property(graph: Graph, node: Node) -> PropertyDoc:
    path_node = graph.value(node, SH.path)
    path = _path(graph, path_node) if path_node is not None else "(no path)"
    kinds = []
    typed = ((SH.datatype, ""), (SH["class"], "an instance of "), (SH.node, "conforms to "))
    for prop, word in typed:
        kinds += [word + compact_iri(str(o)) for o in graph.objects(node, prop)]
    kinds += [
        compact_iri(str(o)).replace("sh:", "") for o in graph.objects(node, SH.nodeKind)
    ]
    allowed = []
    for values in graph.objects(node, SH["in"]):
        allowed += [_ref(v).text for v in Collection(graph, values)]
    allowed += [f"= {_ref(v).text}" for v in graph.objects(node, SH.hasValue)]
    other = []
    for prop in (SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive,
                 SH.minLength, SH.maxLength, SH.languageIn, SH.uniqueLang, SH.equals,
                 SH.disjoint, SH.lessThan, SH.qualifiedValueShape):
        for o in graph.objects(node, prop):
            shown = o if not isinstance(o, BNode) else "(a nested shape)"
            other.append(f"{compact_iri(str(prop))} {_ref(shown).text}")
    severity = graph.value(node, SH.severity)
    return PropertyDoc(
        path=path,
        path_ref=_ref(path_node) if isinstance(path_node, URIRef) else Ref(path, None),
        cardinality=cardinality(_int(graph, node, SH.minCount), _int(graph, node, SH.maxCount)),
        value_type=", ".join(sorted(kinds)),
        allowed=allowed,
        pattern=" ".join(str(o) for o in graph.objects(node, SH.pattern)),
        severity=compact_iri(str(severity)).replace("sh:", "") if severity else "",
        messages=_texts(graph, node, SH.message),
        other=sorted(other),
    )


def shape_docs(graph: Graph) -> list[ShapeDoc]:
    """Every named node shape of ``graph``, by label, with its property and SPARQL rows."""
    docs = []
    shapes = {s for s in graph.subjects(RDF.type, SH.NodeShape) if isinstance(s, URIRef)}
    for shape in shapes:
        iri = str(shape)
        label = str(graph.value(shape, RDFS.label) or compact_iri(iri).split(":")[-1])
        doc = ShapeDoc(
            anchor=iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1],
            iri=iri,
            label=label,
            description=_texts(graph, shape, RDFS.comment, SKOS.definition, DCTERMS.description),
            targets=sorted(
                ((word, _ref(t)) for p, word in TARGETS.items() for t in graph.objects(shape, p)),
                key=lambda item: (item[0], item[1].text),
            ),
        )
        properties = [_property(graph, p) for p in graph.objects(shape, SH.property)]
        doc.properties = sorted(properties, key=lambda p: (p.path, p.cardinality, p.messages))
        for constraint in graph.objects(shape, SH.sparql):
            messages = _texts(graph, constraint, SH.message) or ["(a SPARQL constraint)"]
            doc.constraints += messages
        doc.constraints.sort()
        if graph.value(shape, SH.closed) == Literal(True):
            doc.description.append("Closed: only the listed properties.")
        docs.append(doc)
    return sorted(docs, key=lambda d: (d.label.lower(), d.iri))
