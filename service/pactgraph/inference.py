"""Materialise the entailments that help queries into their own named graph.

A SPARQL engine without a reasoner finds ``?x a pact:Instrument`` only where the data says so
literally; a treaty, an MOU or a bill is typed with its most specific class. This module adds,
in the named graph ``https://w3id.org/pactgraph/graph/inferred``, what RDFS and OWL 2 RL
entail from the ontology for our own nodes, so such queries work on any store:

* ``rdf:type`` closed under ``rdfs:subClassOf`` and ``owl:equivalentClass`` (RDFS 9, cax-sco,
  cax-eqc);
* ``rdfs:domain`` and ``rdfs:range`` typing (RDFS 2/3, prp-dom/prp-rng), for IRIs only;
* property values closed under ``rdfs:subPropertyOf`` and ``owl:equivalentProperty``
  (RDFS 7, prp-spo1, prp-eqp);
* ``owl:inverseOf``, ``owl:SymmetricProperty`` and ``owl:TransitiveProperty`` (prp-inv,
  prp-symp, prp-trp).

What it leaves out, on purpose: ``owl:sameAs`` (it would copy every statement onto Wikidata
IRIs), class and property restrictions (the reasoner checks those), and "schema noise" —
triples about ontology terms, ``owl:Thing``/``rdfs:Resource`` typing, anything already
asserted. Only triples whose subject is one of our nodes (``…/id/…`` or ``…/vocab/…``) are
kept. The asserted graphs are never changed, and the result depends only on the input
triples (a set, serialised sorted by the release), so builds stay byte-identical.

>>> from pactgraph.dataset import load_dataset
>>> inferred = infer(load_dataset())
>>> len(inferred) > 0
True
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from rdflib import OWL, RDF, RDFS, Dataset, Graph, URIRef
from rdflib.term import Node

from pactgraph.reason import INFERRED_GRAPH, asserted_graph
from pactgraph.settings import BASE_IRI

# Our own nodes: instances and SKOS concepts. Ontology terms are schema, not data.
DATA_NAMESPACES = (BASE_IRI + "id/", BASE_IRI + "vocab/")

# Types every node has; stating them helps no query.
_TRIVIAL_TYPES = frozenset({OWL.Thing, RDFS.Resource, OWL.NamedIndividual})

Triple = tuple[Node, Node, Node]


def _closure(edges: dict[Node, set[Node]], start: Node) -> set[Node]:
    """Every node reachable from ``start`` (excluding ``start`` unless on a cycle)."""
    seen: set[Node] = set()
    queue = deque(edges.get(start, ()))
    while queue:
        node = queue.popleft()
        if node not in seen:
            seen.add(node)
            queue.extend(edges.get(node, ()))
    return seen


@dataclass
class Schema:
    """The parts of the ontology the rules use, precomputed once (only named terms).

    >>> g = Graph()
    >>> a, b, c = URIRef("urn:A"), URIRef("urn:B"), URIRef("urn:C")
    >>> _ = g.add((a, RDFS.subClassOf, b)); _ = g.add((b, RDFS.subClassOf, c))
    >>> sorted(Schema.of(g).superclasses[a])
    [rdflib.term.URIRef('urn:B'), rdflib.term.URIRef('urn:C')]
    """

    superclasses: dict[Node, set[Node]] = field(default_factory=dict)
    superproperties: dict[Node, set[Node]] = field(default_factory=dict)
    inverses: dict[Node, set[Node]] = field(default_factory=lambda: defaultdict(set))
    symmetric: set[Node] = field(default_factory=set)
    transitive: set[Node] = field(default_factory=set)
    domains: dict[Node, set[Node]] = field(default_factory=lambda: defaultdict(set))
    ranges: dict[Node, set[Node]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def of(cls, graph: Graph) -> Schema:
        """Read the class and property axioms of a graph."""
        schema = cls()
        class_edges: dict[Node, set[Node]] = defaultdict(set)
        for sub, sup in _named_pairs(graph, RDFS.subClassOf):
            class_edges[sub].add(sup)
        for first, second in _named_pairs(graph, OWL.equivalentClass):
            class_edges[first].add(second)
            class_edges[second].add(first)
        schema.superclasses = {c: _closure(class_edges, c) - {c} for c in list(class_edges)}

        property_edges: dict[Node, set[Node]] = defaultdict(set)
        for sub, sup in _named_pairs(graph, RDFS.subPropertyOf):
            property_edges[sub].add(sup)
        for first, second in _named_pairs(graph, OWL.equivalentProperty):
            property_edges[first].add(second)
            property_edges[second].add(first)
        schema.superproperties = {
            p: _closure(property_edges, p) - {p} for p in list(property_edges)
        }
        for first, second in _named_pairs(graph, OWL.inverseOf):
            schema.inverses[first].add(second)
            schema.inverses[second].add(first)
        schema.symmetric = {p for p in graph.subjects(RDF.type, OWL.SymmetricProperty)}
        schema.transitive = {p for p in graph.subjects(RDF.type, OWL.TransitiveProperty)}
        for prop, domain in _named_pairs(graph, RDFS.domain):
            schema.domains[prop].add(domain)
        for prop, range_ in _named_pairs(graph, RDFS.range):
            schema.ranges[prop].add(range_)
        return schema

    def consequences(self, triple: Triple, known: Facts) -> Iterator[Triple]:
        """The triples one rule application derives from ``triple`` (given what is known)."""
        subject, predicate, obj = triple
        if predicate == RDF.type:
            for sup in self.superclasses.get(obj, ()):
                yield subject, RDF.type, sup
            return
        is_node = isinstance(obj, URIRef)
        for sup in self.superproperties.get(predicate, ()):
            yield subject, sup, obj
        for domain in self.domains.get(predicate, ()):
            yield subject, RDF.type, domain
        if not is_node:
            return
        for range_ in self.ranges.get(predicate, ()):
            yield obj, RDF.type, range_
        for inverse in self.inverses.get(predicate, ()):
            yield obj, inverse, subject
        if predicate in self.symmetric:
            yield obj, predicate, subject
        if predicate in self.transitive:
            for further in known.objects(obj, predicate):
                yield subject, predicate, further
            for earlier in known.subjects(predicate, subject):
                yield earlier, predicate, obj


class Facts:
    """The triples known so far: a set, plus indexes for the transitive properties only.

    An rdflib Graph would do, but membership tests on a plain set are several times faster,
    and only the transitive rule needs to look triples up by subject or object.

    >>> p = URIRef("urn:p")
    >>> facts = Facts([], transitive={p})
    >>> facts.add((URIRef("urn:a"), p, URIRef("urn:b")))
    >>> sorted(facts.objects(URIRef("urn:a"), p))
    [rdflib.term.URIRef('urn:b')]
    """

    def __init__(self, triples: Iterable[Triple], transitive: set[Node]) -> None:
        self.transitive = transitive
        self.triples: set[Triple] = set()
        self._out: dict[tuple[Node, Node], set[Node]] = defaultdict(set)
        self._in: dict[tuple[Node, Node], set[Node]] = defaultdict(set)
        for triple in triples:
            self.add(triple)

    def __contains__(self, triple: Triple) -> bool:
        return triple in self.triples

    def add(self, triple: Triple) -> None:
        self.triples.add(triple)
        subject, predicate, obj = triple
        if predicate in self.transitive:
            self._out[subject, predicate].add(obj)
            self._in[predicate, obj].add(subject)

    def objects(self, subject: Node, predicate: Node) -> list[Node]:
        return sorted(self._out.get((subject, predicate), ()))

    def subjects(self, predicate: Node, obj: Node) -> list[Node]:
        return sorted(self._in.get((predicate, obj), ()))


def _named_pairs(graph: Graph, predicate: URIRef) -> Iterator[tuple[URIRef, URIRef]]:
    # Anonymous classes (unions, restrictions) are the reasoner's business, not ours.
    for subject, obj in graph.subject_objects(predicate):
        if isinstance(subject, URIRef) and isinstance(obj, URIRef):
            yield subject, obj


def is_ours(node: Node) -> bool:
    """True for one of our instance or concept IRIs.

    >>> is_ours(URIRef("https://w3id.org/pactgraph/id/actor/israel"))
    True
    >>> is_ours(URIRef("https://w3id.org/pactgraph/ontology#Actor"))
    False
    """
    return isinstance(node, URIRef) and str(node).startswith(DATA_NAMESPACES)


def _worth_keeping(triple: Triple) -> bool:
    subject, predicate, obj = triple
    if not is_ours(subject):
        return False
    return not (predicate == RDF.type and obj in _TRIVIAL_TYPES)


def infer(data: Graph | Dataset) -> Graph:
    """The new triples about our nodes that the rules entail (asserted ones excluded).

    Runs the rules of the module docstring to a fixpoint, each new triple feeding the next
    round, so chains such as "range gives a type, the type gives its superclasses" complete.
    """
    asserted = asserted_graph(data)
    schema = Schema.of(asserted)
    known = Facts(asserted, schema.transitive)
    inferred = Graph(identifier=INFERRED_GRAPH)
    inferred.namespace_manager = asserted.namespace_manager
    queue: deque[Triple] = deque(asserted)
    while queue:
        for new in schema.consequences(queue.popleft(), known):
            if new not in known:
                known.add(new)
                queue.append(new)
                if _worth_keeping(new):
                    inferred.add(new)
    return inferred


def add_inferred_graph(dataset: Dataset) -> Graph:
    """Replace the dataset's inferred named graph with a freshly computed one; return it."""
    new = infer(dataset)
    dataset.remove_graph(INFERRED_GRAPH)
    target = dataset.graph(INFERRED_GRAPH)
    for triple in sorted(new):
        target.add(triple)
    return target


def inference_gate(dataset: Dataset, settings: object = None) -> list[str]:
    """Build gate: add the inferred graph to the release dataset (it has nothing to refuse).

    ``settings`` is accepted for the gate signature; inference needs only the dataset.
    """
    add_inferred_graph(dataset)
    return []
