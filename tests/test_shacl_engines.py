"""pySHACL and rudof give the same verdicts on every shape fixture (the shapes stay the one
definition; :mod:`pactgraph.shacl_engines` picks the engine by size).

Each fixture in ``tests/data/valid`` and ``tests/data/invalid`` is validated by both engines
through :func:`pactgraph.validate.validate_graph` (the engine forced by
``PACTGRAPH_SHACL_ENGINE``): conformance must be equal, and so must the results — focus node,
path, constraint component, value and named shape — compared modulo blank-node labels and
the ``xsd:string`` datatype (RDF 1.1 makes a plain literal an ``xsd:string``; rdflib keeps
them apart, the engines write them differently).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from pactgraph.dataset import load_union
from pactgraph.shacl_engines import ENGINE_ENV, RUDOF_MIN_TRIPLES, engine_for
from pactgraph.validate import Violation, validate_graph

DATA = Path(__file__).parent / "data"
FIXTURES = sorted((DATA / "valid").glob("*.ttl")) + sorted((DATA / "invalid").glob("*.ttl"))
# Results one engine reports and the other does not, with why. Conformance still agrees.
KNOWN_DIFFERENCES = {
    "vocabulary-wrong-schemes.ttl": (
        "rudof reports no sh:node result for a literal value of an IRI-valued property "
        "(pySHACL does); the value is also reported by the property's other constraints"
    ),
}


def _term(node: object) -> object:
    if isinstance(node, BNode):
        return "_:"
    if isinstance(node, Literal) and node.datatype == XSD.string:
        return Literal(str(node))
    return node


def _results(violations: list[Violation]) -> list[tuple[object, ...]]:
    return sorted(
        (
            (_term(v.focus_node), _term(v.path), v.component, _term(v.value), v.shape)
            for v in violations
        ),
        key=repr,
    )


def _validate(path: Path, engine: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(ENGINE_ENV, engine)
    return validate_graph(load_union([path]))


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_engines_agree(fixture: Path, monkeypatch: pytest.MonkeyPatch):
    reference = _validate(fixture, "pyshacl", monkeypatch)
    fast = _validate(fixture, "rudof", monkeypatch)
    assert fast.conforms == reference.conforms == (fixture.parent.name == "valid")
    if fixture.name in KNOWN_DIFFERENCES:
        missing = set(_results(reference.violations)) - set(_results(fast.violations))
        assert len(missing) == 1 and not set(_results(fast.violations)) - set(
            _results(reference.violations)
        ), KNOWN_DIFFERENCES[fixture.name]
        return
    assert _results(fast.violations) == _results(reference.violations)


def test_engine_choice_by_size(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    assert engine_for(RUDOF_MIN_TRIPLES - 1) == "pyshacl"
    assert engine_for(RUDOF_MIN_TRIPLES) == "rudof"
    monkeypatch.setenv(ENGINE_ENV, "pyshacl")
    assert engine_for(10 * RUDOF_MIN_TRIPLES) == "pyshacl"
    monkeypatch.setenv(ENGINE_ENV, "nope")
    with pytest.raises(ValueError, match=ENGINE_ENV):
        engine_for(1)


def test_results_name_the_named_shape_with_either_engine(monkeypatch: pytest.MonkeyPatch):
    # Property shapes are blank nodes: the rudof path must map its results back to them.
    fixture = DATA / "invalid" / "obligation-missing-parts.ttl"
    shapes = {v.shape for v in _validate(fixture, "rudof", monkeypatch).violations}
    assert shapes and all(isinstance(shape, URIRef) for shape in shapes)
