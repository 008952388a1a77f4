"""Moving RDF terms between pyoxigraph (where the build keeps its data) and rdflib.

The build holds every quad in one pyoxigraph store; the tools that only speak rdflib
(pySHACL, owlready2's input, the documentation pages) get an rdflib copy of the part they
need, made here, so there is one conversion in the code base and blank nodes keep their
labels both ways.

>>> to_rdflib(ox.Literal("x", language="en"))
rdflib.term.Literal('x', lang='en')
>>> to_oxigraph(to_rdflib(ox.NamedNode("http://example.org/a")))
<NamedNode value=http://example.org/a>
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import NamespaceManager

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

OxTerm = ox.NamedNode | ox.BlankNode | ox.Literal


def to_rdflib(term: OxTerm) -> URIRef | BNode | Literal:
    """The rdflib term for a pyoxigraph term (``xsd:string`` literals become plain ones)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == _XSD_STRING:  # rdflib keeps plain literals apart from xsd:string
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def to_oxigraph(term: object) -> OxTerm:
    """The pyoxigraph term for an rdflib term."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"cannot convert {term!r} to an RDF term")


def rdflib_dataset(quads: Iterable[ox.Quad]) -> Dataset:
    """An rdflib Dataset of pyoxigraph quads (named graphs kept), with no prefixes bound.

    >>> q = ox.Quad(ox.NamedNode("http://e.org/s"), ox.NamedNode("http://e.org/p"),
    ...             ox.Literal("o"), ox.NamedNode("http://e.org/g"))
    >>> len(rdflib_dataset([q]))
    1
    """
    dataset = Dataset()
    dataset.namespace_manager = NamespaceManager(dataset, bind_namespaces="none")
    for quad in quads:
        graph = quad.graph_name
        name = None if isinstance(graph, ox.DefaultGraph) else to_rdflib(graph)
        dataset.add((*map(to_rdflib, quad.triple), name))
    return dataset


def add_triples(graph: Graph, quads: Iterable[ox.Quad]) -> Graph:
    """Add the triples of pyoxigraph quads to an rdflib Graph (graph names dropped).

    >>> q = ox.Quad(ox.NamedNode("http://e.org/s"), ox.NamedNode("http://e.org/p"),
    ...             ox.Literal("o"), ox.NamedNode("http://e.org/g"))
    >>> len(add_triples(Graph(), [q, q]))
    1
    """
    graph.addN((*map(to_rdflib, quad.triple), graph) for quad in quads)
    return graph


def oxigraph_quads(dataset: Dataset) -> Iterable[ox.Quad]:
    """The quads of an rdflib Dataset as pyoxigraph quads (the default graph kept as such)."""
    for s, p, o, g in dataset.quads((None, None, None, None)):
        name = getattr(g, "identifier", g)
        graph = ox.DefaultGraph() if name is None else to_oxigraph(name)
        yield ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), graph)


def memory_store(dataset: Dataset) -> ox.Store:
    """An in-memory store holding the dataset's quads.

    >>> from rdflib import URIRef
    >>> ds = Dataset()
    >>> ds.graph(URIRef("http://example.org/g")).add(
    ...     (URIRef("http://example.org/s"), URIRef("http://example.org/p"), URIRef("http://example.org/o")))
    <Graph identifier=http://example.org/g (<class 'rdflib.graph.Graph'>)>
    >>> len(memory_store(ds))
    1
    """
    store = ox.Store()
    store.extend(oxigraph_quads(dataset))
    return store
