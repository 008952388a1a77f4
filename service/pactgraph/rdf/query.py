"""Run SPARQL queries on the embedded store.

The default graph of every query is the union of the named graphs (one per data file), as
the model contract says; ``GRAPH`` still reaches each file's own graph.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from pactgraph.rdf.formats import QueryResult


class QuerySyntaxError(ValueError):
    """A query that does not parse; the message carries the parser's line and column.

    >>> str(QuerySyntaxError("error at 1:7: expected a variable"))
    'SPARQL syntax error at 1:7: expected a variable'
    """

    def __init__(self, parser_message: str) -> None:
        self.parser_message = parser_message
        detail = parser_message.removeprefix("error ")
        super().__init__(f"SPARQL syntax error {detail}")


def run_query(store: ox.Store, query: str, base_iri: str | None = None) -> QueryResult:
    """Evaluate a query with the union of the named graphs as its default graph.

    >>> store = ox.Store()
    >>> store.add(ox.Quad(ox.NamedNode("http://e.org/s"), ox.NamedNode("http://e.org/p"),
    ...                   ox.Literal("o"), ox.NamedNode("http://e.org/g")))
    >>> [str(row["o"]) for row in run_query(store, "SELECT ?o { ?s ?p ?o }")]
    ['"o"']
    >>> run_query(store, "SELECT ?o { ?s ?p }")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pactgraph.rdf.query.QuerySyntaxError: SPARQL syntax error at 1:20: expected one of ...
    """
    try:
        return store.query(query, base_iri=base_iri, use_default_graph_as_union=True)
    except SyntaxError as error:
        raise QuerySyntaxError(str(error)) from error


def read_query(argument: str) -> str:
    """The query text for a CLI argument: the contents of a ``.rq`` file, or the text itself.

    >>> read_query("ASK {}")
    'ASK {}'
    """
    path = Path(argument)
    if argument.endswith(".rq") or (len(argument) < 4096 and "{" not in argument):
        if path.is_file():
            return path.read_text(encoding="utf-8")
        if argument.endswith(".rq"):
            raise FileNotFoundError(f"no such query file: {argument}")
    return argument
