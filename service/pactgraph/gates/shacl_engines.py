"""Which SHACL engine validates: pySHACL (the reference), or SPARQL on a store for large inputs.

The shapes (``shapes/*.ttl``) stay the single definition: every engine reads the same shapes
graph and returns a standard SHACL results graph, which :mod:`pactgraph.gates.validate` turns into
its report either way. pySHACL is the reference and validates everything below
``SPARQL_MIN_TRIPLES``; above it, its cost grows past a build's time budget (see
``bench/results/scale.md``), so :mod:`pactgraph.gates.shacl_sparql` takes over: the shapes compiled
to SPARQL and run on a pyoxigraph store (seconds, not minutes, at a million triples). rudof's
native engine (``pyrudof``) stays available by name for comparisons; at a million triples it
needed 17 GB, so it is never picked by size. ``tests/test_shacl_engines.py`` proves the
engines give the same conformance and the same results on every valid and invalid fixture.

``PACTGRAPH_SHACL_ENGINE=pyshacl|rudof|sparql`` forces one engine (for tests and comparisons).

>>> engine_for(1_000)
'pyshacl'
>>> engine_for(10**6)
'sparql'
"""

from __future__ import annotations

import os
from collections.abc import Callable

from rdflib import Graph

from pactgraph.gates import shacl_sparql

SPARQL_MIN_TRIPLES = 50_000
ENGINE_ENV = "PACTGRAPH_SHACL_ENGINE"


def run_pyshacl(data: Graph, shapes: Graph) -> tuple[bool, Graph]:
    """(conforms, results graph) from pySHACL; ``data`` is modified in place (our copy)."""
    from pyshacl import validate

    conforms, results, _ = validate(
        data,
        shacl_graph=shapes,
        inference="none",
        advanced=False,
        allow_warnings=False,
        inplace=True,
    )
    return bool(conforms), results


def run_sparql(data: Graph, shapes: Graph) -> tuple[bool, Graph]:
    """(conforms, results graph) from the shapes compiled to SPARQL, on a store of ``data``."""
    return shacl_sparql.run_sparql(data, shapes)


def run_rudof(data: Graph, shapes: Graph) -> tuple[bool, Graph]:
    """(conforms, results graph) from rudof's native SHACL engine."""
    import pyrudof

    rudof = pyrudof.Rudof(pyrudof.RudofConfig())
    # Blank-node labels do not survive a round trip through another engine: skolemized, the
    # property shapes keep their identity, so results name the same sh:sourceShape. (Data is
    # not skolemized: a skolem IRI would pass sh:nodeKind sh:IRI where the blank node fails.
    # Blank data nodes come back relabelled; releases hold none.)
    skolemized = shapes.skolemize()
    rudof.read_shacl(skolemized.serialize(format="nt"), pyrudof.ShaclFormat.NTriples)
    rudof.read_data(data.serialize(format="nt"), pyrudof.RDFFormat.NTriples)
    report = rudof.validate_shacl()
    text = rudof.serialize_shacl_validation_results(pyrudof.ResultShaclValidationFormat.NTriples)
    return bool(report.conforms), Graph().parse(data=text, format="nt").de_skolemize()


ENGINES: dict[str, Callable[[Graph, Graph], tuple[bool, Graph]]] = {
    "pyshacl": run_pyshacl,
    "rudof": run_rudof,
    "sparql": run_sparql,
}


def engine_for(triples: int) -> str:
    """The engine for a data graph of ``triples`` triples (the environment may force one)."""
    forced = os.environ.get(ENGINE_ENV)
    if forced:
        if forced not in ENGINES:
            raise ValueError(f"{ENGINE_ENV}={forced}: use one of {', '.join(ENGINES)}")
        return forced
    return "sparql" if triples >= SPARQL_MIN_TRIPLES else "pyshacl"


def run_shacl(data: Graph, shapes: Graph) -> tuple[bool, Graph]:
    """Validate ``data`` against ``shapes`` with the engine its size calls for."""
    return ENGINES[engine_for(len(data))](data, shapes)
