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
triples, in a sorted order, so builds stay byte-identical.

How it scales (a million triples in a few seconds): the rules work on a ``pyoxigraph.Store``
holding every graph, and they are stratified rather than run as one worklist. No rule makes a
property value from a type, so (1) the property rules run to a fixpoint over only the triples
whose predicate has a super-property, an inverse, or is symmetric or transitive; (2) every
domain and range then gives its subjects and objects a type, read one predicate at a time
from the store's index; (3) each node's types are closed under the class hierarchy once per
distinct set of types, and many nodes share one. :func:`infer` (an rdflib graph or dataset)
loads its input into a store and runs the same code.

>>> from pactgraph.rdf.dataset import load_dataset
>>> inferred = infer(load_dataset())
>>> len(inferred) > 0
True
"""

from __future__ import annotations

import gc
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import OWL, RDF, RDFS, Dataset, Graph, URIRef

from pactgraph.rdf.terms import oxigraph_quads, to_oxigraph
from pactgraph.settings import BASE_IRI, GRAPH_IRI_BASE

# The inferred graph is derived from the asserted ones; rules and reasoning never read it.
# A URIRef is a str, so ``ox.NamedNode(INFERRED_GRAPH)`` and rdflib both take it.
INFERRED_GRAPH = URIRef(GRAPH_IRI_BASE + "inferred")
_INFERRED = ox.NamedNode(INFERRED_GRAPH)

# Our own nodes: instances and SKOS concepts. Ontology terms are schema, not data.
DATA_NAMESPACES = (BASE_IRI + "id/", BASE_IRI + "vocab/")

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Triple = tuple[Term, Term, Term]


def iri(term: str) -> ox.NamedNode:
    """The pyoxigraph node of an IRI (rdflib's namespace terms are strings).

    >>> iri(RDF.type).value
    'http://www.w3.org/1999/02/22-rdf-syntax-ns#type'
    """
    return ox.NamedNode(str(term))


RDF_TYPE = iri(RDF.type)
# Types every node has; stating them helps no query.
TRIVIAL_TYPES = frozenset(iri(t) for t in (OWL.Thing, RDFS.Resource, OWL.NamedIndividual))


def asserted_graphs(store: ox.Store) -> list[ox.NamedNode | ox.DefaultGraph]:
    """Every graph of the store except the inferred one (the default graph included).

    >>> store = ox.Store()
    >>> store.add(ox.Quad(iri("urn:a"), RDF_TYPE, iri("urn:C"), _INFERRED))
    >>> asserted_graphs(store)
    [<DefaultGraph>]
    """
    named = sorted((g for g in store.named_graphs() if g != _INFERRED), key=str)
    return [*named, ox.DefaultGraph()]


def asserted_quads(
    store: ox.Store,
    subject: Term | None = None,
    predicate: ox.NamedNode | None = None,
    obj: Term | None = None,
) -> Iterator[ox.Quad]:
    """The quads matching a pattern in every graph except the inferred one.

    One index lookup per graph rather than a test per quad: at a million triples the test
    alone costs seconds.

    >>> store = ox.Store()
    >>> store.add(ox.Quad(iri("urn:a"), RDF_TYPE, iri("urn:C"), _INFERRED))
    >>> list(asserted_quads(store))
    []
    """
    for graph in asserted_graphs(store):
        yield from store.quads_for_pattern(subject, predicate, obj, graph)


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of small tuples and sets.

    None of them form cycles, but each allocation burst triggers a full scan of the growing
    heap; at a million triples that doubled the run time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _closure(edges: dict[Term, set[Term]], start: Term) -> set[Term]:
    """Every node reachable from ``start`` (excluding ``start`` unless on a cycle)."""
    seen: set[Term] = set()
    queue = deque(edges.get(start, ()))
    while queue:
        node = queue.popleft()
        if node not in seen:
            seen.add(node)
            queue.extend(edges.get(node, ()))
    return seen


def _named_pairs(store: ox.Store, predicate: str) -> Iterator[tuple[ox.NamedNode, ox.NamedNode]]:
    # Anonymous classes (unions, restrictions) are the reasoner's business, not ours.
    for quad in asserted_quads(store, None, iri(predicate), None):
        if isinstance(quad.subject, ox.NamedNode) and isinstance(quad.object, ox.NamedNode):
            yield quad.subject, quad.object


@dataclass
class Schema:
    """The parts of the ontology the rules use, read once from the store (named terms only).

    >>> store = ox.Store()
    >>> a, b, c = iri("urn:A"), iri("urn:B"), iri("urn:C")
    >>> sub = iri(RDFS.subClassOf)
    >>> store.extend([ox.Quad(a, sub, b), ox.Quad(b, sub, c)])
    >>> sorted(x.value for x in Schema.of(store).superclasses[a])
    ['urn:B', 'urn:C']
    """

    superclasses: dict[Term, set[Term]] = field(default_factory=dict)
    superproperties: dict[Term, set[Term]] = field(default_factory=dict)
    inverses: dict[Term, set[Term]] = field(default_factory=lambda: defaultdict(set))
    symmetric: set[Term] = field(default_factory=set)
    transitive: set[Term] = field(default_factory=set)
    domains: dict[Term, set[Term]] = field(default_factory=lambda: defaultdict(set))
    ranges: dict[Term, set[Term]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def of(cls, store: ox.Store) -> Schema:
        """Read the class and property axioms of the asserted graphs."""
        schema = cls()
        class_edges: dict[Term, set[Term]] = defaultdict(set)
        for sub, sup in _named_pairs(store, RDFS.subClassOf):
            class_edges[sub].add(sup)
        for first, second in _named_pairs(store, OWL.equivalentClass):
            class_edges[first].add(second)
            class_edges[second].add(first)
        schema.superclasses = {c: _closure(class_edges, c) - {c} for c in list(class_edges)}

        property_edges: dict[Term, set[Term]] = defaultdict(set)
        for sub, sup in _named_pairs(store, RDFS.subPropertyOf):
            property_edges[sub].add(sup)
        for first, second in _named_pairs(store, OWL.equivalentProperty):
            property_edges[first].add(second)
            property_edges[second].add(first)
        schema.superproperties = {
            p: _closure(property_edges, p) - {p} for p in list(property_edges)
        }
        for first, second in _named_pairs(store, OWL.inverseOf):
            schema.inverses[first].add(second)
            schema.inverses[second].add(first)
        for kind, members in ((OWL.SymmetricProperty, schema.symmetric),
                              (OWL.TransitiveProperty, schema.transitive)):  # fmt: skip
            members.update(q.subject for q in asserted_quads(store, None, RDF_TYPE, iri(kind)))
        for prop, domain in _named_pairs(store, RDFS.domain):
            schema.domains[prop].add(domain)
        for prop, range_ in _named_pairs(store, RDFS.range):
            schema.ranges[prop].add(range_)
        return schema

    @property
    def property_rule_predicates(self) -> set[Term]:
        """Predicates whose values make other property values (the first stratum's input)."""
        return {*self.superproperties, *self.inverses, *self.symmetric, *self.transitive} - {
            RDF_TYPE
        }

    def property_consequences(self, triple: Triple, known: Facts) -> Iterator[Triple]:
        """The property values one rule application derives from ``triple``.

        ``rdf:type`` triples derive only types (the class hierarchy), never property values.
        """
        subject, predicate, obj = triple
        if predicate == RDF_TYPE:
            return
        for sup in self.superproperties.get(predicate, ()):
            yield subject, sup, obj
        if not isinstance(obj, ox.NamedNode):
            return
        for inverse in self.inverses.get(predicate, ()):
            yield obj, inverse, subject
        if predicate in self.symmetric:
            yield obj, predicate, subject
        if predicate in self.transitive:
            for further in known.objects(obj, predicate):
                yield subject, predicate, further
            for earlier in known.subjects(predicate, subject):
                yield earlier, predicate, obj

    def direct_types(self, triple: Triple) -> Iterator[tuple[Term, Term]]:
        """The (node, class) pairs a property value gives by domain and range."""
        subject, predicate, obj = triple
        for domain in self.domains.get(predicate, ()):
            yield subject, domain
        if isinstance(obj, ox.NamedNode):
            for range_ in self.ranges.get(predicate, ()):
                yield obj, range_


class Facts:
    """The triples known so far: a set, plus indexes for the transitive properties only.

    Only the transitive rule needs to look triples up by subject or object.

    >>> p = iri("urn:p")
    >>> facts = Facts([], transitive={p})
    >>> facts.add((iri("urn:a"), p, iri("urn:b")))
    >>> [o.value for o in facts.objects(iri("urn:a"), p)]
    ['urn:b']
    """

    def __init__(self, triples: Iterable[Triple], transitive: set[Term]) -> None:
        self.transitive = transitive
        self.triples: set[Triple] = set()
        self._out: dict[tuple[Term, Term], set[Term]] = defaultdict(set)
        self._in: dict[tuple[Term, Term], set[Term]] = defaultdict(set)
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

    def objects(self, subject: Term, predicate: Term) -> list[Term]:
        return sorted(self._out.get((subject, predicate), ()), key=str)

    def subjects(self, predicate: Term, obj: Term) -> list[Term]:
        return sorted(self._in.get((predicate, obj), ()), key=str)


@dataclass
class Entailment:
    """Everything the rules entail from a store's asserted graphs, kept or not.

    ``types`` holds, for every node that has a type, all of its classes (asserted ones
    included, closed under the class hierarchy); ``asserted_types`` what the data states;
    ``properties`` the property values entailed and not asserted.
    """

    schema: Schema
    types: dict[Term, frozenset[Term]]
    asserted_types: dict[Term, set[Term]]
    properties: set[Triple]

    def inferred_triples(self) -> Iterator[Triple]:
        """The new triples about our nodes (the inferred graph), in no particular order."""
        for node, classes in self.types.items():
            if is_ours(node):
                stated = self.asserted_types.get(node, set())
                for cls in classes - stated - TRIVIAL_TYPES:
                    yield node, RDF_TYPE, cls
        for triple in self.properties:
            # Entailed rdf:type values are in ``types`` already.
            if triple[1] != RDF_TYPE and is_ours(triple[0]):
                yield triple


def _property_closure(store: ox.Store, schema: Schema) -> set[Triple]:
    """Stratum 1: the property values the property rules entail and the data does not state."""
    inputs = schema.property_rule_predicates
    derivable = {*inputs, *(p for ps in schema.superproperties.values() for p in ps)}
    derivable.update(p for ps in schema.inverses.values() for p in ps)
    stated = [
        (q.subject, q.predicate, q.object)
        for predicate in sorted(derivable, key=str)
        for q in asserted_quads(store, None, predicate, None)  # type: ignore[arg-type]
    ]
    known = Facts(stated, schema.transitive)
    queue: deque[Triple] = deque(t for t in stated if t[1] in inputs)
    new: set[Triple] = set()
    while queue:
        for triple in schema.property_consequences(queue.popleft(), known):
            if triple not in known:
                known.add(triple)
                new.add(triple)
                queue.append(triple)
    return new


def entail(store: ox.Store) -> Entailment:
    """Run the rules of the module docstring over the asserted graphs of a store.

    >>> store = ox.Store()
    >>> node, cls, sup = iri(BASE_IRI + "id/x/a"), iri("urn:C"), iri("urn:D")
    >>> store.extend([ox.Quad(node, RDF_TYPE, cls), ox.Quad(cls, iri(RDFS.subClassOf), sup)])
    >>> sorted(c.value for c in entail(store).types[node])
    ['urn:C', 'urn:D']
    """
    with _no_gc_pauses():
        schema = Schema.of(store)
        properties = _property_closure(store, schema)
        asserted_types: dict[Term, set[Term]] = defaultdict(set)
        for quad in asserted_quads(store, None, RDF_TYPE, None):
            asserted_types[quad.subject].add(quad.object)
        direct = _typed_by_domain_and_range(store, schema, properties)
        for node, classes in asserted_types.items():
            direct[node].update(classes)
        types = _closed_types(schema, direct)
    return Entailment(schema, types, dict(asserted_types), properties)


def _typed_by_domain_and_range(
    store: ox.Store, schema: Schema, properties: set[Triple]
) -> dict[Term, set[Term]]:
    """Stratum 2: the classes each node gets from the domains and ranges of its properties.

    Each typing predicate is read once from the store's index; its distinct subjects and
    objects are collected first, so a node pays one set update per predicate, not per triple.
    """
    direct: dict[Term, set[Term]] = defaultdict(set)
    graphs = asserted_graphs(store)
    for predicate in sorted({*schema.domains, *schema.ranges} - {RDF_TYPE}, key=str):
        domains = schema.domains.get(predicate, set())
        ranges = schema.ranges.get(predicate, set())
        for graph in graphs:
            # Set comprehensions over the index: the per-triple cost is what counts here.
            quads = store.quads_for_pattern(None, predicate, None, graph)  # type: ignore[arg-type]
            if domains and ranges:
                pairs = [(q.subject, q.object) for q in quads]
                subjects, objects = {s for s, _ in pairs}, {o for _, o in pairs}
            elif domains:
                subjects, objects = {q.subject for q in quads}, set()
            else:
                subjects, objects = set(), {q.object for q in quads}
            for node in subjects:
                direct[node].update(domains)
            for node in objects:
                if isinstance(node, ox.NamedNode):
                    direct[node].update(ranges)
    for triple in properties:
        if triple[1] == RDF_TYPE:
            direct[triple[0]].add(triple[2])
        else:
            for node, cls in schema.direct_types(triple):
                direct[node].add(cls)
    return direct


def _closed_types(schema: Schema, direct: dict[Term, set[Term]]) -> dict[Term, frozenset[Term]]:
    """Stratum 3: each node's classes closed under the hierarchy, once per distinct set."""
    closed: dict[frozenset[Term], frozenset[Term]] = {}

    def close(classes: frozenset[Term]) -> frozenset[Term]:
        if classes not in closed:
            closed[classes] = classes.union(*(schema.superclasses.get(c, ()) for c in classes))
        return closed[classes]

    return {node: close(frozenset(classes)) for node, classes in direct.items()}


def inferred_nquads(store: ox.Store) -> bytes:
    """The inferred graph of a store as N-Quads: new triples about our nodes, sorted lines.

    Text rather than ``Quad`` objects because the store parses it far faster than Python
    builds the objects; each term is written once and reused.

    >>> store = ox.Store()
    >>> node = iri(BASE_IRI + "id/instrument/t")
    >>> store.add(ox.Quad(node, RDF_TYPE, iri(BASE_IRI + "ontology#Treaty")))
    >>> store.add(ox.Quad(iri(BASE_IRI + "ontology#Treaty"), iri(RDFS.subClassOf),
    ...                   iri(BASE_IRI + "ontology#Instrument")))
    >>> subject, predicate, obj, graph, _ = inferred_nquads(store).decode().split(" ")
    >>> obj.removeprefix("<" + BASE_IRI), graph.removeprefix("<" + BASE_IRI)
    ('ontology#Instrument>', 'graph/inferred>')
    """
    entailment = entail(store)
    with _no_gc_pauses():
        text: dict[Term, str] = {}  # the N-Triples form of each term (str() of a term)

        def nt(term: Term) -> str:
            written = text.get(term)
            if written is None:
                written = text[term] = str(term)
            return written

        tail = f" {_INFERRED} .\n"
        lines = sorted(
            f"{nt(s)} {nt(p)} {nt(o)}{tail}" for s, p, o in entailment.inferred_triples()
        )
    return "".join(lines).encode("utf-8")


def inferred_quads(store: ox.Store) -> list[ox.Quad]:
    """The inferred graph of a store as quads, in the order of :func:`inferred_nquads`."""
    return list(ox.parse(inferred_nquads(store), format=ox.RdfFormat.N_QUADS))


def add_inferred_graph_to_store(store: ox.Store) -> int:
    """Replace the store's inferred named graph with a freshly computed one; return its size.

    >>> store = ox.Store()
    >>> add_inferred_graph_to_store(store)
    0
    """
    store.remove_graph(_INFERRED)
    data = inferred_nquads(store)
    store.add_graph(_INFERRED)
    store.load(data, format=ox.RdfFormat.N_QUADS)
    return data.count(b"\n")


def is_ours(node: Term) -> bool:
    """True for one of our instance or concept IRIs.

    >>> is_ours(iri("https://w3id.org/pactgraph/id/actor/israel"))
    True
    >>> is_ours(iri("https://w3id.org/pactgraph/ontology#Actor"))
    False
    """
    return isinstance(node, ox.NamedNode) and node.value.startswith(DATA_NAMESPACES)


def store_of(data: Graph | Dataset) -> ox.Store:
    """An in-memory store of an rdflib graph (default graph) or dataset (its named graphs).

    >>> g = Graph(); _ = g.add((URIRef("urn:a"), RDF.type, OWL.Class))
    >>> len(store_of(g))
    1
    """
    store = ox.Store()
    if isinstance(data, Dataset):
        store.extend(oxigraph_quads(data))
    else:
        store.extend(ox.Quad(*map(to_oxigraph, triple)) for triple in data)
    return store


def infer(data: Graph | Dataset) -> Graph:
    """The new triples about our nodes that the rules entail (asserted ones excluded).

    The same rules as :func:`inferred_quads`, on a store loaded from ``data``.
    """
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in inferred_quads(store_of(data))]
    inferred = Graph(identifier=INFERRED_GRAPH)
    inferred.namespace_manager = data.namespace_manager
    if triples:
        inferred.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    return inferred


def add_inferred_graph(dataset: Dataset) -> Graph:
    """Replace the dataset's inferred named graph with a freshly computed one; return it."""
    new = infer(dataset)
    dataset.remove_graph(INFERRED_GRAPH)
    target = dataset.graph(INFERRED_GRAPH)
    for triple in sorted(new):
        target.add(triple)
    return target
