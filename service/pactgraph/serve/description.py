"""The SPARQL 1.1 Service Description of the endpoint, built from a Turtle template.

The fixed part is ``service_description.ttl`` beside this module; the parts that depend on
the release and the configuration (named graphs and their sizes, result formats, version,
limits, federation) are added here with rdflib terms. The result is cached per endpoint IRI
and format.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import Request
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF, RDFS, VOID

from pactgraph.rdf.formats import GRAPH_FORMATS, RESULT_FORMATS, Format

TEMPLATE = Path(__file__).with_name("service_description.ttl")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")

# W3C format IRIs (https://www.w3.org/ns/formats/) by the names of pactgraph.rdf.formats.
FORMAT_IRIS: dict[str, URIRef] = {
    "json": FORMATS.SPARQL_Results_JSON,
    "xml": FORMATS.SPARQL_Results_XML,
    "csv": FORMATS.SPARQL_Results_CSV,
    "tsv": FORMATS.SPARQL_Results_TSV,
    "ttl": FORMATS.Turtle,
    "nt": FORMATS["N-Triples"],
    "jsonld": FORMATS["JSON-LD"],
    "rdf": FORMATS.RDF_XML,
    "trig": FORMATS.TriG,
    "nq": FORMATS["N-Quads"],
}


@cache
def _template() -> str:
    return TEMPLATE.read_text(encoding="utf-8")


def description_graph(
    endpoint: str,
    graphs: dict[str, int],
    version: str,
    triple_count: int,
    limits: dict[str, str],
    federated: bool,
) -> Graph:
    """The service description as an rdflib graph.

    >>> g = description_graph("http://h/sparql", {"http://g/1": 3}, "1.0", 3, {}, False)
    >>> (URIRef("http://h/sparql#service"), SD.endpoint, URIRef("http://h/sparql")) in g
    True
    >>> len(list(g.objects(None, SD.namedGraph)))
    1
    """
    graph = Graph()
    graph.parse(data=_template(), format="turtle", publicID=endpoint)
    service = URIRef(endpoint + "#service")
    dataset = URIRef(endpoint + "#dataset")
    default_graph = URIRef(endpoint + "#default-graph")
    for name in [*RESULT_FORMATS, *GRAPH_FORMATS]:
        graph.add((service, SD.resultFormat, FORMAT_IRIS[name]))
    if federated:
        graph.add((service, SD.feature, SD.BasicFederatedQuery))
    for what, value in limits.items():
        graph.add((service, RDFS.comment, Literal(f"Limit: {what} {value}.", lang="en")))
    graph.add((dataset, OWL.versionInfo, Literal(version)))
    graph.add((default_graph, VOID.triples, Literal(triple_count)))
    for iri, count in sorted(graphs.items()):
        named, described = BNode(), BNode()
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, URIRef(iri)))
        graph.add((named, SD.graph, described))
        graph.add((described, RDF.type, SD.Graph))
        graph.add((described, VOID.triples, Literal(count)))
    return graph


def serialize_description(graph: Graph, fmt: Format) -> bytes:
    """Write the description with pyoxigraph's writer for ``fmt`` (the endpoint's own)."""
    import pyoxigraph

    triples = [
        quad.triple
        for quad in pyoxigraph.parse(
            graph.serialize(format="nt", encoding="utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES
        )
    ]
    prefixes = {"sd": str(SD), "void": str(VOID), "formats": str(FORMATS), "rdfs": str(RDFS)}
    return pyoxigraph.serialize(triples, format=fmt.pyoxigraph, prefixes=prefixes) or b""


def describe(request: Request, fmt: Format) -> bytes:
    """The serialised description for the app serving ``request`` (cached)."""
    state = request.app.state
    endpoint = state.config.endpoint_iri(state.config.service_base(request.scope))
    key = (endpoint, fmt.name)
    cached = state.description_cache.get(key)
    if cached is None:
        config = state.config
        limits = {
            "query time (s)": f"{config.timeout_s:g}",
            "result rows or triples": str(config.row_cap),
            "query length (characters)": str(config.max_query_length),
            "request body (bytes)": str(config.max_body_size),
        }
        graph = description_graph(
            endpoint,
            state.graph_sizes,
            state.release.version,
            state.release.triple_count,
            limits,
            federated=bool(config.service_allow_list),
        )
        cached = state.description_cache[key] = serialize_description(graph, fmt)
    return cached
