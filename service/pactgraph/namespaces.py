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
    for prefix, namespace in sorted(prefixes().items(), key=lambda item: -len(item[1])):
        local = iri[len(namespace) :]
        valid = local and "#" not in local and (path_locals or "/" not in local)
        if iri.startswith(namespace) and valid:
            return f"{prefix}:{local}"
    return iri


def prefixes_for(iris: Iterable[str]) -> dict[str, str]:
    """The prefixes some of ``iris`` start with (to declare only what a document uses).

    >>> prefixes_for(["https://w3id.org/pactgraph/id/actor/israel"])
    {'actor': 'https://w3id.org/pactgraph/id/actor/'}
    """
    iris = set(iris)
    return {p: ns for p, ns in prefixes().items() if any(i.startswith(ns) for i in iris)}
