"""The project's namespaces: one list, read from the JSON-LD context file.

``context.jsonld`` beside this module is the single table of prefixes; it is served at
``/context.jsonld``, embedded in the JSON-LD dump, and used here to print IRIs compactly in
pages, documentation, VoID and validation reports.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from pactgraph.settings import BASE_IRI

CONTEXT_FILE = Path(__file__).resolve().parent / "context.jsonld"
PACT = BASE_IRI + "ontology#"


@lru_cache(maxsize=1)
def jsonld_context() -> dict[str, Any]:
    """The ``@context`` object of ``context.jsonld``.

    >>> jsonld_context()["pact"] == PACT
    True
    """
    return json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]


@lru_cache(maxsize=1)
def prefixes() -> dict[str, str]:
    """Prefix -> namespace, from the JSON-LD context.

    >>> prefixes()["actor"]
    'https://w3id.org/pactgraph/id/actor/'
    """
    return {k: v for k, v in jsonld_context().items() if isinstance(v, str) and v[-1] in "/#"}


def compact_iri(iri: str, *, path_locals: bool = False) -> str:
    """``prefix:local`` for an IRI in a known namespace (longest match), else the IRI.

    Local parts with ``/`` are not valid prefixed names, so they stay full IRIs unless
    ``path_locals`` is set (reports show named graphs as ``graph:instruments/mous``).

    >>> compact_iri("https://w3id.org/pactgraph/vocab/obligation-type/defense")
    'ot:defense'
    >>> compact_iri("https://w3id.org/pactgraph/graph/instruments/mous", path_locals=True)
    'graph:instruments/mous'
    >>> compact_iri("https://example.org/x")
    'https://example.org/x'
    """
    return _compact(iri, path_locals)


@lru_cache(maxsize=1)
def _prefix_of() -> dict[str, str]:
    return {namespace: prefix for prefix, namespace in prefixes().items()}


@lru_cache(maxsize=1 << 16)  # dumps compact millions of IRIs, most of them repeatedly
def _compact(iri: str, path_locals: bool) -> str:
    prefix_of = _prefix_of()
    end = len(iri)
    # Every namespace ends in "/" or "#": try each such cut, the longest namespace first.
    while (end := max(iri.rfind("/", 0, end), iri.rfind("#", 0, end))) > 0:
        prefix = prefix_of.get(iri[: end + 1])
        local = iri[end + 1 :]
        if prefix and local and "#" not in local and (path_locals or "/" not in local):
            return f"{prefix}:{local}"
    return iri


def prefixes_for(iris: Iterable[str]) -> dict[str, str]:
    """The prefixes some of ``iris`` start with (to declare only what a document uses).

    >>> prefixes_for(["https://w3id.org/pactgraph/id/actor/israel"])
    {'actor': 'https://w3id.org/pactgraph/id/actor/'}
    """
    iris = set(iris)
    return {p: ns for p, ns in prefixes().items() if any(i.startswith(ns) for i in iris)}
