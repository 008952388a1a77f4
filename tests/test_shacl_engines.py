"""pySHACL, rudof and the SPARQL engine give the same verdicts on every shape fixture (the
shapes stay the one definition; :mod:`pactgraph.gates.shacl_engines` picks the engine by size).

Each fixture in ``tests/data/valid`` and ``tests/data/invalid`` is validated by each engine
through :func:`pactgraph.gates.validate.validate_graph` (the engine forced by
``PACTGRAPH_SHACL_ENGINE``) and compared with pySHACL, the reference: conformance must be
equal, and so must the results — focus node, path, constraint component, value and named
shape — compared modulo blank-node labels, the ``xsd:string`` datatype (RDF 1.1 makes a plain
literal an ``xsd:string``; rdflib keeps them apart, the engines write them differently) and
the lexical form of a well-typed literal (oxigraph stores ``-5.0``^^xsd:decimal as ``-5``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from pactgraph.gates.shacl_engines import ENGINE_ENV, SPARQL_MIN_TRIPLES, engine_for
from pactgraph.gates.validate import Violation, validate_graph
from pactgraph.rdf.dataset import load_union

DATA = Path(__file__).parent / "data"
FIXTURES = sorted((DATA / "valid").glob("*.ttl")) + sorted((DATA / "invalid").glob("*.ttl"))
ENGINES = ("rudof", "sparql")
# Results an engine misses that pySHACL reports, with why. Conformance still agrees.
KNOWN_DIFFERENCES = {
    ("rudof", "vocabulary-wrong-schemes.ttl"): (
        "rudof reports no sh:node result for a literal value of an IRI-valued property "
        "(pySHACL does); the value is also reported by the property's other constraints"
    ),
}


def _term(node: object) -> object:
    if isinstance(node, BNode):
        return "_:"
    if isinstance(node, Literal):
        datatype = None if node.datatype == XSD.string else node.datatype
        # A well-typed literal by its value: Decimal("-5.0") == Decimal("-5"), same hash.
        value = str(node) if node.ill_typed or node.value is None else node.value
        return ("literal", value, datatype, node.language)
    return node


def _results(violations: list[Violation]) -> Counter[tuple[object, ...]]:
    return Counter(
        (_term(v.focus_node), _term(v.path), v.component, _term(v.value), v.shape)
        for v in violations
    )


def _validate(path: Path, engine: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(ENGINE_ENV, engine)
    return validate_graph(load_union([path]))


_REFERENCE: dict[Path, object] = {}


def _reference(fixture: Path, monkeypatch: pytest.MonkeyPatch):
    """pySHACL's report on a fixture, computed once for all engines compared with it."""
    if fixture not in _REFERENCE:
        _REFERENCE[fixture] = _validate(fixture, "pyshacl", monkeypatch)
    return _REFERENCE[fixture]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_engines_agree(fixture: Path, engine: str, monkeypatch: pytest.MonkeyPatch):
    reference = _reference(fixture, monkeypatch)
    fast = _validate(fixture, engine, monkeypatch)
    assert fast.conforms == reference.conforms == (fixture.parent.name == "valid")
    expected, got = _results(reference.violations), _results(fast.violations)
    if (engine, fixture.name) in KNOWN_DIFFERENCES:
        missing = expected - got
        assert missing.total() == 1 and not got - expected, KNOWN_DIFFERENCES[
            (engine, fixture.name)
        ]
        return
    assert got == expected


def test_engine_choice_by_size(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    assert engine_for(SPARQL_MIN_TRIPLES - 1) == "pyshacl"
    assert engine_for(SPARQL_MIN_TRIPLES) == "sparql"
    monkeypatch.setenv(ENGINE_ENV, "pyshacl")
    assert engine_for(10 * SPARQL_MIN_TRIPLES) == "pyshacl"
    monkeypatch.setenv(ENGINE_ENV, "rudof")
    assert engine_for(1) == "rudof"
    monkeypatch.setenv(ENGINE_ENV, "nope")
    with pytest.raises(ValueError, match=ENGINE_ENV):
        engine_for(1)


@pytest.mark.parametrize("engine", ENGINES)
def test_results_name_the_named_shape_with_any_engine(engine: str, monkeypatch):
    # Property shapes are blank nodes: each engine's results must map back to them.
    fixture = DATA / "invalid" / "obligation-missing-parts.ttl"
    shapes = {v.shape for v in _validate(fixture, engine, monkeypatch).violations}
    assert shapes and all(isinstance(shape, URIRef) for shape in shapes)
