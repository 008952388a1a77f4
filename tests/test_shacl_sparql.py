"""The SPARQL SHACL engine (:mod:`pactgraph.gates.shacl_sparql`) and the store-level entry point.

``tests/test_shacl_engines.py`` compares the engine with pySHACL on every shape fixture; here:
the SHACL features our shapes do not use yet (against pySHACL too), the report's form, the
errors for features it cannot compile, the shipped data, and how
:func:`pactgraph.gates.validate.validate_store` picks its engine on a real pyoxigraph store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import SH

from pactgraph.gates import shacl_engines, shacl_sparql
from pactgraph.gates.shacl_engines import ENGINE_ENV, run_pyshacl
from pactgraph.gates.shacl_sparql import UnsupportedShapeError, compile_shapes, run_sparql
from pactgraph.gates.validate import Violation, _violations, validate_graph, validate_store
from pactgraph.rdf.dataset import DataFiles, graph_iri_for, load_dataset

DATA = Path(__file__).parent / "data"
HERE = DATA / "shacl-sparql"
EX = "http://example.org/"


def _key(v: Violation) -> tuple[object, ...]:
    path = "_:" if isinstance(v.path, BNode) else v.path
    return (v.focus_node, path, v.component, v.value, v.shape, v.severity)


def _results(results: Graph, shapes: Graph) -> Counter[tuple[object, ...]]:
    return Counter(_key(v) for v in _violations(results, shapes, lambda node: ()))


def _extra() -> tuple[Graph, Graph]:
    return Graph().parse(HERE / "extra-shapes.ttl"), Graph().parse(HERE / "extra-data.ttl")


def test_features_beyond_our_shapes_agree_with_pyshacl() -> None:
    shapes, data = _extra()
    reference_conforms, reference = run_pyshacl(data + Graph(), shapes + Graph())
    conforms, results = run_sparql(data, shapes)
    assert conforms is reference_conforms is False
    expected, got = _results(reference, shapes), _results(results, shapes)
    assert got == expected
    components = {key[2] for key in got}
    # The fixture really exercises what it is there for.
    assert {"XoneConstraintComponent", "AndConstraintComponent"} <= components
    assert {"QualifiedMaxCountConstraintComponent", "MaxLengthConstraintComponent"} <= components
    assert "Warning" in {key[5] for key in got}


def test_report_describes_blank_node_paths_and_names_the_shapes_graph_nodes() -> None:
    shapes, data = _extra()
    _, results = run_sparql(data, shapes)
    (minimum,) = [
        r
        for r in results.subjects(SH.sourceConstraintComponent, SH.MinCountConstraintComponent)
        if results.value(r, SH.focusNode) == URIRef(EX + "bad-team")
    ]
    path = results.value(minimum, SH.resultPath)
    assert results.value(path, SH.inversePath) == URIRef(EX + "memberOf")
    # The source shape is the shapes graph's own blank node, the one holding that path.
    assert shapes.value(results.value(minimum, SH.sourceShape), SH.path) == path
    (report,) = results.subjects(SH.result, minimum)
    assert results.value(report, SH.conforms) == Literal(False)


def test_messages_come_from_the_shape() -> None:
    shapes, data = _extra()
    _, results = run_sparql(data, shapes)
    (length,) = results.subjects(SH.sourceConstraintComponent, SH.MaxLengthConstraintComponent)
    message = shapes.value(results.value(length, SH.sourceShape), SH.message)
    assert message is not None
    assert list(results.objects(length, SH.resultMessage)) == [message]


@pytest.mark.parametrize(
    ("fixture", "feature"),
    [
        ("unsupported-closed.ttl", "sh:closed"),
        ("unsupported-equals.ttl", "sh:equals"),
        ("unsupported-recursive.ttl", "recursive"),
        ("unsupported-flags-alone.ttl", "sh:flags without sh:pattern"),
    ],
)
def test_unsupported_feature_raises_naming_shape_and_feature(fixture: str, feature: str) -> None:
    shapes = Graph().parse(HERE / fixture)
    with pytest.raises(UnsupportedShapeError) as raised:
        compile_shapes(shapes)
    assert feature in str(raised.value)
    assert raised.value.shape.n3() in str(raised.value)
    assert (raised.value.shape, None, None) in shapes


def test_shipped_graph_conforms_under_the_sparql_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENGINE_ENV, "sparql")
    report = validate_graph(load_dataset())
    assert report.conforms, report.as_text()
    stored = validate_store(_store(DataFiles.discover().all))
    assert stored.conforms, stored.as_text()
    assert stored.violations == []


def _store(paths: Iterable[Path]) -> ox.Store:
    """A store as a build makes it: one named graph per file."""
    store = ox.Store()
    for path in paths:
        graph = ox.NamedNode(str(graph_iri_for(path)))
        store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=graph)
    return store


class _Spy:
    """Calls the real engine and remembers that it was called."""

    def __init__(self, engine):
        self.engine, self.calls = engine, 0

    def __call__(self, *args):
        self.calls += 1
        return self.engine(*args)


def test_validate_store_picks_the_engine_by_size(monkeypatch: pytest.MonkeyPatch) -> None:
    fixture = DATA / "invalid" / "obligation-missing-parts.ttl"
    files = DataFiles.discover()
    store = _store([*files.ontology, *files.vocab, fixture])
    pyshacl, sparql = _Spy(shacl_engines.ENGINES["pyshacl"]), _Spy(shacl_sparql.validate)
    monkeypatch.setitem(shacl_engines.ENGINES, "pyshacl", pyshacl)
    monkeypatch.setattr(shacl_sparql, "validate", sparql)
    monkeypatch.delenv(ENGINE_ENV, raising=False)

    monkeypatch.setattr(shacl_engines, "SPARQL_MIN_TRIPLES", len(store) + 1)
    small = validate_store(store)
    assert (pyshacl.calls, sparql.calls) == (1, 0)

    monkeypatch.setattr(shacl_engines, "SPARQL_MIN_TRIPLES", len(store))
    large = validate_store(store)
    assert (pyshacl.calls, sparql.calls) == (1, 1)

    monkeypatch.setenv(ENGINE_ENV, "pyshacl")  # the environment overrides the size
    validate_store(store)
    assert (pyshacl.calls, sparql.calls) == (2, 1)

    assert not small.conforms and not large.conforms
    assert Counter(map(_key, large.violations)) == Counter(map(_key, small.violations))
    # Both say which file to fix: the fixture's named graph describes every focus node.
    for report in (small, large):
        assert {v.graphs for v in report.violations} == {(graph_iri_for(fixture),)}
