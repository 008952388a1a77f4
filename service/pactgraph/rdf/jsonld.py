"""The release's JSON-LD dump: compact, with our context inline, in a stable order.

Our context (``context.jsonld``) declares prefixes only, so compaction is a matter of writing
each IRI as ``prefix:local`` and each value in its compact form: a plain string for an
``xsd:string`` literal, ``{"@value", "@language"}`` or ``{"@value", "@type"}`` otherwise,
``{"@id"}`` for a node, and ``@type`` for ``rdf:type``. It is written here rather than by a
JSON-LD library because the dump must come out of a million-triple build in seconds (rdflib's
compactor needs minutes) and must be byte-identical for the same quads.

>>> line = (b'<https://w3id.org/pactgraph/id/actor/x> <http://www.w3.org/2000/01/rdf-schema#label>'
...         b' "X" <https://w3id.org/pactgraph/graph/a> .\\n')
>>> b'"@id": "actor:x"' in compact_jsonld(line)
True
"""

from __future__ import annotations

import json

import pyoxigraph as ox

from pactgraph.rdf.namespaces import compact_iri, jsonld_context

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def compact(iri: str) -> str:
    """``prefix:local`` (slashes allowed in the local part), else the IRI itself.

    >>> compact("https://w3id.org/pactgraph/graph/instruments/mous")
    'graph:instruments/mous'
    >>> compact("https://example.org/x")
    'https://example.org/x'
    """
    short = compact_iri(iri, path_locals=True)
    # JSON-LD reads "p://x" as an absolute IRI, never as prefix p with local "//x".
    return iri if short.partition(":")[2].startswith("//") else short


def _value(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> str | dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"@id": compact(term.value)}
    if isinstance(term, ox.BlankNode):
        return {"@id": f"_:{term.value}"}
    if term.language:
        return {"@language": term.language, "@value": term.value}
    if term.datatype.value == _XSD_STRING:
        return term.value
    return {"@type": compact(term.datatype.value), "@value": term.value}


def _name(term: ox.NamedNode | ox.BlankNode) -> str:
    return compact(term.value) if isinstance(term, ox.NamedNode) else f"_:{term.value}"


def _node_json(subject: str, properties: dict[str, list]) -> str:
    node = {key: values[0] if len(values) == 1 else values for key, values in properties.items()}
    node["@id"] = subject
    return json.dumps(node, sort_keys=True, ensure_ascii=False)


def compact_jsonld(nquads: bytes) -> bytes:
    """Sorted N-Quads (as the build writes them) as compact JSON-LD, one node a line.

    Each named graph is an object with its ``@graph``; a node's values keep the order of the
    N-Quads lines, so the same quads always give the same bytes. Nodes are written one at a
    time as the subject changes, so memory stays near the size of the output.
    """
    graphs: dict[str, list[str]] = {}
    subject: ox.NamedNode | ox.BlankNode | None = None
    properties: dict[str, dict[str, list]] = {}  # graph -> key -> values, for `subject`

    def flush() -> None:
        for graph, keys in properties.items():
            graphs.setdefault(graph, []).append(_node_json(_name(subject), keys))  # type: ignore[arg-type]
        properties.clear()

    for quad in ox.parse(nquads, format=ox.RdfFormat.N_QUADS):
        if quad.subject != subject:
            flush()
            subject = quad.subject
        graph_name = quad.graph_name
        graph = "@default" if isinstance(graph_name, ox.DefaultGraph) else _name(graph_name)
        keys = properties.setdefault(graph, {})
        obj = quad.object
        if quad.predicate.value == _RDF_TYPE and not isinstance(obj, ox.Literal):
            keys.setdefault("@type", []).append(_name(obj))
        else:
            keys.setdefault(compact(quad.predicate.value), []).append(_value(obj))
    flush()
    context = json.dumps(jsonld_context(), indent=1, sort_keys=True, ensure_ascii=False)
    parts = []
    for graph, nodes in sorted(graphs.items()):
        members = ",\n".join(sorted(nodes))
        head = "" if graph == "@default" else '{"@graph": [\n'
        tail = "" if graph == "@default" else f'\n], "@id": {json.dumps(graph)}}}'
        parts.append(f"{head}{members}{tail}")
    body = ",\n".join(parts)
    return f'{{"@context": {context},\n"@graph": [\n{body}\n]}}\n'.encode()
