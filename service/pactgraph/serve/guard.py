"""What a query may touch: the graphs it names (FROM / FROM NAMED) and the services it calls.

pyoxigraph would send an HTTP request for every ``SERVICE`` it meets, so a query is vetted
before it runs. The vetting parser is rdflib's (a full SPARQL 1.1 grammar); it is slow
(tens of milliseconds), so it only runs when the raw text mentions ``SERVICE`` or ``FROM``
other than inside a prefixed name or a variable (:func:`needs_vetting`) — pyoxigraph does
not expand ``\\u`` escapes before parsing, so a keyword it can see is always spelled out in
the raw text — and its answers are cached per query text. A query that mentions them but that the
vetting parser cannot read is refused: we never run what we could not check.

>>> scope_of("SELECT * WHERE { ?s ?p ?o }")
QueryScope(default_graphs=(), named_graphs=(), services=())
>>> scope_of("PREFIX e: <http://e/> SELECT * FROM e:g WHERE { SERVICE e:s { ?s ?p ?o } }")
QueryScope(default_graphs=('http://e/g',), named_graphs=(), services=('http://e/s',))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Only queries that mention one of these words need the (slow) vetting parser.
_MENTIONS = re.compile(r"service|from", re.IGNORECASE)
# The characters of the name a mention may be glued to. A run ending right before the word
# that holds ":", "?" or "$" makes it part of a prefixed name (prov:wasDerivedFrom) or a
# variable (?from), never a keyword: SPARQL's lexer takes those tokens whole. Anything else
# (digits, letters, punctuation: pyoxigraph needs no space before a keyword) counts.
_NAME_PUNCTUATION = frozenset(":?$%\\-_")
VARIABLE_SERVICE = "?"  # marks SERVICE ?var: the endpoint is only known at run time


class QueryRefused(Exception):
    """A query this endpoint will not run, with the HTTP status and a message for the client.

    >>> QueryRefused(400, "no").status
    400
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class QueryScope:
    """The graph names and service endpoints a query mentions, as absolute IRIs."""

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    services: tuple[str, ...] = ()


def _walk(node: Any) -> Iterator[Any]:
    from rdflib.plugins.sparql.parserutils import CompValue

    yield node
    if isinstance(node, CompValue):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list | tuple) or type(node).__name__ == "ParseResults":
        for value in node:
            yield from _walk(value)


def needs_vetting(query: str) -> bool:
    """Whether ``query`` may contain a SERVICE or FROM keyword (cheap, errs towards yes).

    >>> needs_vetting("SELECT * { ?s prov:wasDerivedFrom ?from }")
    False
    >>> needs_vetting("SELECT * { ?s ?p 1SERVICE <http://x/> {} }")
    True
    """
    for mention in _MENTIONS.finditer(query):
        start = mention.start()
        while start and (query[start - 1].isalnum() or query[start - 1] in _NAME_PUNCTUATION):
            start -= 1
        if not any(marker in query[start : mention.start()] for marker in ":?$"):
            return True
    return False


# Functions whose value changes from one evaluation to the next (SPARQL 1.1, 17.4).
_VOLATILE_CALL = re.compile(r"(now|rand|uuid|struuid|bnode)\s*\(", re.IGNORECASE)
# A CONSTRUCT template's blank nodes get fresh labels in every answer.
_CONSTRUCT = re.compile(r"construct", re.IGNORECASE)


def _is_keyword_at(query: str, start: int) -> bool:
    """Whether the word at ``start`` stands alone, not inside a prefixed name or variable."""
    if start and (query[start - 1].isalnum() or query[start - 1] == "_"):
        return False
    glued = start
    while glued and (query[glued - 1].isalnum() or query[glued - 1] in _NAME_PUNCTUATION):
        glued -= 1
    return not any(marker in query[glued:start] for marker in ":?$")


def is_deterministic(query: str) -> bool:
    """Whether the same query always gives the same answer over the same release (cheap,
    errs towards no: an answer is then neither cached nor given a validator, which costs
    only speed). NOW, RAND, UUID, STRUUID and BNODE differ per evaluation, and so do the
    labels of a CONSTRUCT template's blank nodes.

    >>> is_deterministic("SELECT ?s { ?s a ?c }")
    True
    >>> is_deterministic("SELECT (STRUUID() AS ?u) {}")
    False
    >>> is_deterministic("ask { bind(now() as ?t) }")
    False
    >>> is_deterministic("SELECT ?rand ?x { ?x ex:now ?rand }")
    True
    >>> is_deterministic("CONSTRUCT { [] ex:p ?o } WHERE { ?s ex:p ?o }")
    False
    """
    for match in _VOLATILE_CALL.finditer(query):
        if _is_keyword_at(query, match.start()):
            return False
    if any(_is_keyword_at(query, m.start()) for m in _CONSTRUCT.finditer(query)):
        return "_:" not in query and "[" not in query
    return True


@lru_cache(maxsize=256)
def scope_of(query: str, base_iri: str | None = None) -> QueryScope:
    """The dataset clauses and SERVICE endpoints of ``query`` (``?`` for a variable service).

    Relative IRIs resolve against the query's BASE, else ``base_iri``.

    Raises :class:`QueryRefused` (400) when the query needs vetting but cannot be parsed.
    """
    if not needs_vetting(query):
        return QueryScope()
    from rdflib.plugins.sparql.algebra import translatePrologue
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.term import Variable

    try:
        parsed = parseQuery(query)
        prologue = translatePrologue(parsed[0], base_iri)
    except Exception as error:  # pyparsing and rdflib raise many types for bad input
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise QueryRefused(
            400,
            "This query mentions SERVICE or FROM, and the safety check could not parse it, "
            f"so it was not run: {first}",
        ) from error

    def iri(term: Any) -> str:
        return str(prologue.absolutize(term))

    default, named, services = [], [], []
    for node in _walk(parsed[1]):
        name = getattr(node, "name", None)
        if name == "DatasetClause":
            if "default" in node:
                default.append(iri(node["default"]))
            if "named" in node:
                named.append(iri(node["named"]))
        elif name == "ServiceGraphPattern":
            term = node["term"]
            services.append(VARIABLE_SERVICE if isinstance(term, Variable) else iri(term))
    return QueryScope(tuple(default), tuple(named), tuple(services))


def check_scope(
    scope: QueryScope, known_graphs: Iterable[str], allows_service: Callable[[str], bool]
) -> None:
    """Refuse (400) graph names the dataset lacks and services not on the allow-list.

    >>> try:
    ...     check_scope(QueryScope(default_graphs=("http://x/",)), {"http://g/"}, lambda i: False)
    ... except QueryRefused as refusal:
    ...     print(refusal.status, refusal.message[:50])
    400 FROM <http://x/> names a graph this dataset does n
    """
    known = set(known_graphs)
    for clause, graphs in (("FROM", scope.default_graphs), ("FROM NAMED", scope.named_graphs)):
        for graph in graphs:
            if graph not in known:
                raise QueryRefused(400, unknown_graph_message(clause, graph))
    for service in scope.services:
        if service == VARIABLE_SERVICE:
            raise QueryRefused(
                400, "SERVICE with a variable endpoint is not allowed: name the endpoint IRI."
            )
        if not allows_service(service):
            raise QueryRefused(
                400,
                f"SERVICE <{service}> is not allowed: this endpoint does not call other "
                "services unless they are on its configured allow-list.",
            )


def unknown_graph_message(where: str, graph: str) -> str:
    """Why a graph name was refused (shared by FROM clauses and protocol parameters)."""
    return (
        f"{where} <{graph}> names a graph this dataset does not have; graphs are never "
        "fetched from the web or the filesystem. The service description (GET /sparql) "
        "lists the named graphs."
    )
