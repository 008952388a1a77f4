"""Serialisation formats for SPARQL results, as mapping tables.

Two tables, one per kind of result: :data:`RESULT_FORMATS` for SELECT and ASK (SPARQL result
formats) and :data:`GRAPH_FORMATS` for CONSTRUCT and DESCRIBE (RDF formats). Each entry knows
its short name (used by the CLI and ``?format=``), media type, file extension and the
pyoxigraph format that writes it, so the CLI and the HTTP service negotiate from one place.

>>> RESULT_FORMATS["json"].media_type
'application/sparql-results+json'
>>> GRAPH_FORMATS["ttl"].extension
'ttl'
>>> GRAPH_BY_MEDIA_TYPE["application/n-triples"].name
'nt'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pyoxigraph import (
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    serialize,
)

QueryResult = QuerySolutions | QueryBoolean | QueryTriples
ResultKind = Literal["results", "graph"]


@dataclass(frozen=True)
class Format:
    """One serialisation: short name, the pyoxigraph writer, and what it is called on the web.

    >>> Format("csv", QueryResultsFormat.CSV).media_type
    'text/csv'
    """

    name: str
    pyoxigraph: QueryResultsFormat | RdfFormat
    # Other media types clients send for the same format (content negotiation accepts them).
    aliases: tuple[str, ...] = ()

    @property
    def media_type(self) -> str:
        """The canonical media type, without parameters (pyoxigraph adds ``charset`` to some)."""
        return self.pyoxigraph.media_type.split(";")[0].strip()

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header value: text formats say they are UTF-8."""
        text = self.media_type.startswith("text/")
        return f"{self.media_type}; charset=utf-8" if text else self.media_type

    @property
    def extension(self) -> str:
        return self.pyoxigraph.file_extension

    @property
    def kind(self) -> ResultKind:
        return "results" if isinstance(self.pyoxigraph, QueryResultsFormat) else "graph"


# SELECT / ASK results.
RESULT_FORMATS: dict[str, Format] = {
    "json": Format("json", QueryResultsFormat.JSON, ("application/json",)),
    "xml": Format("xml", QueryResultsFormat.XML, ("application/xml", "text/xml")),
    "csv": Format("csv", QueryResultsFormat.CSV),
    "tsv": Format("tsv", QueryResultsFormat.TSV),
}

# CONSTRUCT / DESCRIBE results (and whole graphs). Quad formats put the triples in the
# default graph, which is what SPARQL 1.1 graph results are.
GRAPH_FORMATS: dict[str, Format] = {
    "ttl": Format("ttl", RdfFormat.TURTLE, ("application/x-turtle",)),
    "nt": Format("nt", RdfFormat.N_TRIPLES, ("text/plain",)),
    "jsonld": Format("jsonld", RdfFormat.JSON_LD, ("application/json",)),
    "rdf": Format("rdf", RdfFormat.RDF_XML, ("application/xml", "text/xml")),
    "trig": Format("trig", RdfFormat.TRIG),
    "nq": Format("nq", RdfFormat.N_QUADS),
}

# The first format of each table is the default.
DEFAULT_FORMAT: dict[ResultKind, Format] = {
    "results": RESULT_FORMATS["json"],
    "graph": GRAPH_FORMATS["ttl"],
}


def _by_media_type(table: dict[str, Format]) -> dict[str, Format]:
    index: dict[str, Format] = {}
    for fmt in table.values():
        for media_type in (fmt.media_type, *fmt.aliases):
            index.setdefault(media_type, fmt)  # first format claiming an alias keeps it
    return index


RESULT_BY_MEDIA_TYPE: dict[str, Format] = _by_media_type(RESULT_FORMATS)
GRAPH_BY_MEDIA_TYPE: dict[str, Format] = _by_media_type(GRAPH_FORMATS)
FORMATS_BY_KIND: dict[ResultKind, dict[str, Format]] = {
    "results": RESULT_FORMATS,
    "graph": GRAPH_FORMATS,
}


def result_kind(result: QueryResult) -> ResultKind:
    """``"graph"`` for CONSTRUCT/DESCRIBE results, ``"results"`` for SELECT/ASK.

    >>> from pyoxigraph import Store
    >>> result_kind(Store().query("ASK {}"))
    'results'
    """
    return "graph" if isinstance(result, QueryTriples) else "results"


def format_for(result: QueryResult, name: str | None = None) -> Format:
    """The format named ``name`` (or the default) for this kind of result.

    Raises ``ValueError`` naming the formats that would fit when ``name`` does not.

    >>> from pyoxigraph import Store
    >>> format_for(Store().query("ASK {}")).name
    'json'
    >>> format_for(Store().query("ASK {}"), "ttl")
    Traceback (most recent call last):
    ...
    ValueError: format 'ttl' does not fit a SELECT/ASK result; use one of: json, xml, csv, tsv
    """
    kind = result_kind(result)
    if name is None:
        return DEFAULT_FORMAT[kind]
    table = FORMATS_BY_KIND[kind]
    if name not in table:
        what = "CONSTRUCT/DESCRIBE" if kind == "graph" else "SELECT/ASK"
        raise ValueError(
            f"format {name!r} does not fit a {what} result; use one of: {', '.join(table)}"
        )
    return table[name]


def serialize_result(
    result: QueryResult, fmt: Format | str | None = None, prefixes: dict[str, str] | None = None
) -> bytes:
    """Write a pyoxigraph query result in a format (a :class:`Format`, its name, or default).

    ``prefixes`` shorten IRIs in graph formats that support them (Turtle, TriG).

    >>> from pyoxigraph import Store
    >>> serialize_result(Store().query("ASK {}"), "json")
    b'{"head":{},"boolean":true}'
    """
    chosen = fmt if isinstance(fmt, Format) else format_for(result, fmt)
    if chosen.kind != result_kind(result):
        raise ValueError(f"format {chosen.name!r} does not fit this query result")
    if isinstance(result, QueryTriples):
        return serialize(result, format=chosen.pyoxigraph, prefixes=prefixes) or b""
    return result.serialize(format=chosen.pyoxigraph) or b""
