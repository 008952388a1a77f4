"""Draw the ontology as a Graphviz picture: classes, subclass links, and object properties.

:func:`ontology_to_dot` turns an rdflib graph of the ontology into DOT text: every class is a
node (our own ``pact:`` classes boxed, with their datatype properties listed inside; other
vocabularies' classes grey and dashed), every ``rdfs:subClassOf`` is a hollow-headed arrow to
the superclass, and every object property with a domain and a range is a labelled arrow from
domain to range. The output is sorted throughout, so the same ontology always gives the same
bytes and the committed ``docs/model.dot`` can be checked for staleness in a test.

The ``diagram`` command writes ``docs/model.dot`` and, when Graphviz's ``dot`` is installed,
renders ``docs/model.svg`` from it.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

import click
from rdflib import OWL, RDF, RDFS, BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from pactgraph.rdf.dataset import parse_file
from pactgraph.rdf.namespaces import PACT, compact_iri
from pactgraph.settings import SETTINGS, Settings

# Graph-wide and per-kind Graphviz attributes (kept here so the look is changed in one place).
GRAPH_ATTRIBUTES: dict[str, str] = {
    # Left to right: subclasses point right towards their superclasses.
    "rankdir": "LR",
    "fontname": "Helvetica",
    "nodesep": "0.3",
    "ranksep": "0.6",
    "label": "pactgraph ontology: classes, subclass links (hollow arrows), object properties",
    "labelloc": "t",
}
NODE_STYLES: dict[str, dict[str, str]] = {
    "own": {"shape": "box", "style": "rounded,filled", "fillcolor": "#eef3fb", "color": "#35608f"},
    "external": {"shape": "box", "style": "dashed", "color": "#888888", "fontcolor": "#555555"},
}
EDGE_STYLES: dict[str, dict[str, str]] = {
    "subclass": {"arrowhead": "empty", "color": "#35608f"},
    "property": {
        "arrowhead": "vee",
        "color": "#b5651d",
        "fontcolor": "#8a4b12",
        "fontsize": "10",
    },
}

_DEFAULT_OUT = Path("docs")
_ONTOLOGY_FILE = "pactgraph.ttl"


def curie(iri: Node) -> str:
    """A short name for an IRI: ``prefix:local`` for a known namespace, else the IRI itself.

    >>> curie(URIRef("https://w3id.org/pactgraph/ontology#Treaty"))
    'pact:Treaty'
    >>> curie(URIRef("http://example.org/x"))
    'http://example.org/x'
    """
    return compact_iri(str(iri), path_locals=True)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attributes(attrs: dict[str, str]) -> str:
    return ", ".join(f"{key}={_quote(value)}" for key, value in sorted(attrs.items()))


def _named_classes(graph: Graph, node: Node) -> list[URIRef]:
    """The named classes a domain or range stands for (expanding an ``owl:unionOf``)."""
    if isinstance(node, URIRef):
        return [node]
    if isinstance(node, BNode):
        for members in graph.objects(node, OWL.unionOf):
            return sorted(m for m in Collection(graph, members) if isinstance(m, URIRef))
    return []


def _ends(graph: Graph, prop: URIRef, which: URIRef) -> list[URIRef]:
    return sorted({c for node in graph.objects(prop, which) for c in _named_classes(graph, node)})


def _own(iri: URIRef) -> bool:
    return str(iri).startswith(PACT)


def _local(iri: URIRef) -> str:
    return curie(iri).split(":", 1)[-1] if _own(iri) else curie(iri)


def _node_label(name: str, fields: Iterable[str]) -> str:
    """An HTML-like Graphviz label: the class name in bold, then its datatype properties."""
    rows = [f"<B>{html.escape(name)}</B>"]
    rows += [f'<FONT POINT-SIZE="9">{html.escape(field)}</FONT>' for field in fields]
    return "<" + '<BR ALIGN="LEFT"/>'.join(rows) + ">"


def _lines(graph: Graph) -> Iterator[str]:
    classes = {c for c in graph.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
    subclass_edges = sorted(
        (child, parent)
        for child, parent in graph.subject_objects(RDFS.subClassOf)
        if isinstance(child, URIRef) and isinstance(parent, URIRef)
    )
    property_edges = sorted(
        (domain, rng, prop)
        for prop in graph.subjects(RDF.type, OWL.ObjectProperty)
        if isinstance(prop, URIRef)
        for domain in _ends(graph, prop, RDFS.domain)
        for rng in _ends(graph, prop, RDFS.range)
    )
    fields: dict[URIRef, list[str]] = defaultdict(list)
    for prop in graph.subjects(RDF.type, OWL.DatatypeProperty):
        if isinstance(prop, URIRef) and _own(prop):
            for domain in _ends(graph, prop, RDFS.domain):
                fields[domain].append(_local(prop))

    # Only the external classes something of ours points at are drawn.
    shown = {c for c in classes if _own(c)}
    shown |= {end for edge in subclass_edges for end in edge if _own(edge[0])}
    shown |= {end for domain, rng, _ in property_edges for end in (domain, rng)}

    yield "digraph pactgraph {"
    yield f"  graph [{_attributes(GRAPH_ATTRIBUTES)}];"
    yield '  node [fontname="Helvetica", fontsize="11"];'
    yield '  edge [fontname="Helvetica"];'
    for cls in sorted(shown, key=curie):
        style = NODE_STYLES["own" if _own(cls) else "external"]
        label = _node_label(_local(cls), sorted(fields.get(cls, [])))
        yield f"  {_quote(curie(cls))} [{_attributes(style)}, label={label}];"
    for child, parent in subclass_edges:
        if child in shown and parent in shown:
            attrs = _attributes(EDGE_STYLES["subclass"])
            yield f"  {_quote(curie(child))} -> {_quote(curie(parent))} [{attrs}];"
    for domain, rng, prop in property_edges:
        attrs = {**EDGE_STYLES["property"], "label": _local(prop)}
        yield f"  {_quote(curie(domain))} -> {_quote(curie(rng))} [{_attributes(attrs)}];"
    yield "}"


def ontology_to_dot(graph: Graph) -> str:
    """The ontology as Graphviz DOT text (deterministic: sorted nodes and edges).

    >>> bill, text = URIRef(PACT + "Bill"), URIRef(PACT + "Text")
    >>> g = Graph()
    >>> for triple in [(bill, RDF.type, OWL.Class), (bill, RDFS.subClassOf, text)]:
    ...     _ = g.add(triple)
    >>> '"pact:Bill" -> "pact:Text" [arrowhead="empty"' in ontology_to_dot(g)
    True
    """
    return "\n".join(_lines(graph)) + "\n"


def write_diagram(settings: Settings = SETTINGS, out: Path = _DEFAULT_OUT) -> list[Path]:
    """Write ``model.dot`` (and ``model.svg`` when ``dot`` is installed) into ``out``.

    Returns the paths written, DOT first.
    """
    dot_text = ontology_to_dot(parse_file(settings.ontology_dir / _ONTOLOGY_FILE))
    out.mkdir(parents=True, exist_ok=True)
    dot_path = out / "model.dot"
    dot_path.write_text(dot_text, encoding="utf-8")
    written = [dot_path]
    dot_binary = shutil.which("dot")
    if dot_binary:
        svg_path = out / "model.svg"
        subprocess.run([dot_binary, "-Tsvg", "-o", str(svg_path), str(dot_path)], check=True)
        written.append(svg_path)
    return written


@click.command("diagram")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=_DEFAULT_OUT,
    show_default=True,
    help="Folder to write model.dot (and model.svg) into.",
)
def diagram_command(out: Path) -> None:
    """Draw the ontology: docs/model.dot, and docs/model.svg if Graphviz is installed."""
    ctx = click.get_current_context()
    settings = ctx.find_object(Settings) or SETTINGS
    written = write_diagram(settings, out)
    for path in written:
        click.echo(str(path))
    if len(written) == 1:
        click.echo("dot (Graphviz) not found: wrote DOT only.", err=True)
