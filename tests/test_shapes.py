"""The SHACL shapes against their fixtures, with the real pySHACL and the real ontology.

- every fixture in ``tests/data/valid/`` conforms;
- every fixture in ``tests/data/invalid/`` fails, and fails for exactly the reasons its
  ``# expect: <shape> <constraint component>`` lines name (no more, no fewer);
- every targeted shape in ``shapes/`` has a valid fixture that exercises it (the shape has a
  focus node there) and an invalid fixture that breaks it; every untargeted helper shape is
  used by a targeted one. Adding a shape without fixtures fails this file.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

from pactgraph.gates.validate import SHAPES, ValidationReport, load_shapes, validate_graph
from pactgraph.rdf.dataset import graph_iri_for, load_dataset, ontology_graph, parse_file
from pactgraph.settings import SETTINGS, Settings

DATA = Path(__file__).parent / "data"
SOURCE = "https://w3id.org/pactgraph/id/source/"
ACTOR = "https://w3id.org/pactgraph/id/actor/"
VALID = sorted((DATA / "valid").glob("*.ttl"))
INVALID = sorted((DATA / "invalid").glob("*.ttl"))
EXPECT = re.compile(r"^# expect: (\S+) (\S+)\s*$", re.MULTILINE)

TARGETS = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode)
# Parameters that make a shape check something; a shape carrying any of them needs a message.
CONSTRAINTS = (
    SH["class"], SH.datatype, SH.nodeKind, SH.minCount, SH.maxCount, SH.minInclusive,
    SH.maxInclusive, SH.minExclusive, SH.maxExclusive, SH.pattern, SH.languageIn, SH["in"],
    SH.hasValue, SH["not"], SH["or"], SH["and"], SH.xone, SH.node, SH.qualifiedValueShape,
    SH.uniqueLang, SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals, SH.minLength,
    SH.maxLength, SH.closed,
)  # fmt: skip


def expectations(path: Path) -> set[tuple[str, str]]:
    """The (shape local name, constraint component local name) pairs an invalid file names."""
    return set(EXPECT.findall(path.read_text(encoding="utf-8")))


def found(report: ValidationReport) -> set[tuple[str, str]]:
    return {(v.shape_name, v.component) for v in report.violations}


@cache
def report_for(path: Path) -> ValidationReport:
    return validate_graph(parse_file(path))


@cache
def shapes() -> Graph:
    return load_shapes()


@cache
def hierarchy() -> Graph:
    return ontology_graph()


def targeted_shapes() -> set[URIRef]:
    return {s for t in TARGETS for s in shapes().subjects(t) if isinstance(s, URIRef)}


def name(shape: Node) -> str:
    return str(shape).removeprefix(str(SHAPES))


def focus_nodes(shape: URIRef, data: Graph) -> set[Node]:
    """Nodes of ``data`` that ``shape`` targets (class targets follow rdfs:subClassOf)."""
    mixed = data + hierarchy()
    nodes: set[Node] = set()
    for cls in shapes().objects(shape, SH.targetClass):
        classes = set(mixed.transitive_subjects(RDFS.subClassOf, cls))
        nodes |= {s for c in classes for s in data.subjects(RDF.type, c)}
    for prop in shapes().objects(shape, SH.targetSubjectsOf):
        nodes |= set(data.subjects(prop))
    for prop in shapes().objects(shape, SH.targetObjectsOf):
        nodes |= set(data.objects(None, prop))
    nodes |= {n for n in shapes().objects(shape, SH.targetNode) if (n, None, None) in data}
    return nodes


def referenced_shapes(start: Node) -> Iterator[Node]:
    """Every shape reachable from ``start`` through sh:property, sh:node, sh:or, ... lists."""
    stack, seen = [start], set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        yield node
        for _, obj in shapes().predicate_objects(node):
            stack.append(obj)
        for item in shapes().items(node) if (node, RDF.first, None) in shapes() else ():
            stack.append(item)


def test_fixtures_exist() -> None:
    assert VALID and INVALID


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_fixture_conforms(path: Path) -> None:
    report = report_for(path)
    assert report.conforms, report.as_text()
    assert report.violations == []


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_fixture_fails_for_the_intended_reason(path: Path) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} has no '# expect: <shape> <component>' line"
    assert path.read_text(encoding="utf-8").startswith("# expect: ")
    report = report_for(path)
    assert not report.conforms
    got = found(report)
    assert expected - got == set(), f"expected but not reported:\n{report.as_text()}"
    assert got - expected == set(), f"reported but not expected:\n{report.as_text()}"


def test_expect_lines_name_real_shapes() -> None:
    known = {name(s) for s in targeted_shapes()}
    for path in INVALID:
        for shape, _ in expectations(path):
            assert shape in known, f"{path.name}: no targeted shape named {shape}"


def test_every_targeted_shape_breaks_in_an_invalid_fixture() -> None:
    broken = {shape for path in INVALID for shape, _ in expectations(path)}
    untested = sorted(name(s) for s in targeted_shapes() if name(s) not in broken)
    assert untested == [], f"no invalid fixture for {untested}"


def test_every_targeted_shape_is_exercised_by_a_valid_fixture() -> None:
    graphs = [parse_file(path) for path in VALID]
    unexercised = sorted(
        name(shape)
        for shape in targeted_shapes()
        if not any(focus_nodes(shape, graph) for graph in graphs)
    )
    assert unexercised == [], f"no valid fixture gives these shapes a focus node: {unexercised}"


def test_every_helper_shape_is_used_by_a_targeted_shape() -> None:
    used = {node for shape in targeted_shapes() for node in referenced_shapes(shape)}
    named = {
        s
        for s in shapes().subjects(RDF.type, SH.NodeShape)
        if isinstance(s, URIRef) and s not in targeted_shapes()
    }
    assert sorted(map(name, named - used)) == []


def test_shapes_are_well_formed_shacl_core() -> None:
    # meta_shacl checks the shapes graph against the W3C shapes-for-shapes first and raises
    # when a shape is malformed; nothing beyond SHACL Core (SPARQL, rules, JS) is used.
    conforms, _, _ = validate(Graph(), shacl_graph=shapes(), meta_shacl=True)
    assert conforms
    beyond_core = (SH.sparql, SH.rule, SH.target, SH.js, SH.expression)
    assert [p for p in beyond_core if (None, p, None) in shapes()] == []


def test_shapes_are_in_the_shapes_namespace() -> None:
    for shape in shapes().subjects(RDF.type, SH.NodeShape):
        if isinstance(shape, URIRef):
            assert str(shape).startswith(str(SHAPES)), shape


def test_every_constraint_has_a_message() -> None:
    """Every shape that can produce a top-level result (a targeted shape and its property
    shapes) says in words what is wrong; a generated message is no help to a curator. Shapes
    nested in sh:or / sh:not / sh:node only ever appear as sh:detail of their user's result,
    which carries the user's message."""
    silent = []
    for shape in targeted_shapes():
        for part in [shape, *shapes().objects(shape, SH.property)]:
            constrained = any((part, c, None) in shapes() for c in CONSTRAINTS)
            if constrained and (part, SH.message, None) not in shapes():
                silent.append(f"{name(shape)} {shapes().value(part, SH.path)}")
    assert sorted(silent) == []


def test_reported_messages_are_our_messages() -> None:
    ours = {str(m) for m in shapes().objects(None, SH.message)}
    for path in INVALID:
        for violation in report_for(path).violations:
            assert violation.message in ours, (path.name, violation.message)


def test_report_text_names_focus_path_constraint_and_message() -> None:
    path = DATA / "invalid" / "obligation-two-bearers.ttl"
    report = report_for(path)
    text = report.as_text()
    assert text == validate_graph(parse_file(path)).as_text()  # deterministic
    assert "obligation:fixture-mutual" in text
    assert "path:       pact:bearer" in text
    assert "MaxCountConstraintComponent (shape:ObligationShape)" in text
    assert "exactly one bearer" in text


def test_report_turtle_is_the_results_graph() -> None:
    report = report_for(DATA / "invalid" / "amount-bad-value.ttl")
    results = Graph().parse(data=report.as_turtle(), format="turtle")
    top_level = list(results.objects(None, SH.result))
    assert len(top_level) == len(report.violations) > 0
    assert (None, SH.conforms, None) in results


def test_a_dataset_is_validated_as_the_union_of_its_graphs() -> None:
    # Split one conforming fixture across two named graphs: the source and its publisher in
    # one, the topics that cite the source in the other. Only the union conforms (pySHACL on
    # its own validates each graph of a Dataset separately).
    fixture = parse_file(DATA / "valid" / "topics.ttl")
    shared = {URIRef(SOURCE + "fixture-doc"), URIRef(ACTOR + "fixture-publisher")}
    dataset = Dataset()
    sources, topics = dataset.graph(URIRef("urn:x:sources")), dataset.graph(URIRef("urn:x:topics"))
    for triple in fixture:
        (sources if triple[0] in shared else topics).add(triple)
    assert len(sources) and len(topics)
    assert not validate_graph(Graph() + topics).conforms
    report = validate_graph(dataset)
    assert report.conforms, report.as_text()
    broken = dataset.graph(URIRef("urn:x:broken"))
    for triple in parse_file(DATA / "invalid" / "instant-no-date.ttl"):
        broken.add(triple)
    assert found(validate_graph(dataset)) == {("InstantShape", "MinCountConstraintComponent")}


def test_edited_shapes_are_reloaded(tmp_path: Path) -> None:
    # Shapes are cached between calls, but an edited shapes file must take effect at once.
    for folder in ("ontology", "shapes"):
        shutil.copytree(SETTINGS.root / folder, tmp_path / folder)
    settings = Settings(root=tmp_path)
    data = parse_file(DATA / "invalid" / "instant-no-date.ttl")
    assert not validate_graph(data, settings).conforms
    time_shapes = tmp_path / "shapes" / "time.ttl"
    edited = time_shapes.read_text(encoding="utf-8").replace(
        "sh:targetClass time:Instant ;", "sh:targetClass time:Nothing ;"
    )
    assert edited != time_shapes.read_text(encoding="utf-8")
    time_shapes.write_text(edited, encoding="utf-8")
    report = validate_graph(data, settings)
    assert report.conforms, report.as_text()


def test_report_on_a_dataset_names_the_graph_to_fix() -> None:
    paths = [DATA / "valid" / "sources.ttl", DATA / "invalid" / "obligation-two-bearers.ttl"]
    report = validate_graph(load_dataset(paths))
    assert report.violations
    assert {v.graphs for v in report.violations} == {(graph_iri_for(paths[1]),)}
    assert "in:         graph:external/obligation-two-bearers" in report.as_text()


def test_every_property_constraint_fails_in_some_invalid_fixture() -> None:
    # Finer than "every shape breaks somewhere": each constraint parameter of each property
    # shape (sh:minCount on pact:bearer, sh:class on pact:bearer, ...) is broken by a fixture.
    def component(parameter: URIRef) -> str:
        local = str(parameter).removeprefix(str(SH))
        return local[0].upper() + local[1:] + "ConstraintComponent"

    broken = {
        (v.shape_name, v.path, v.component) for p in INVALID for v in report_for(p).violations
    }
    parameters = set(CONSTRAINTS) - {SH.qualifiedValueShape} | {
        SH.qualifiedMinCount,
        SH.qualifiedMaxCount,
    }
    untested = sorted(
        f"{name(shape)} {path} {component(parameter)}"
        for shape in targeted_shapes()
        for part in shapes().objects(shape, SH.property)
        for path in [shapes().value(part, SH.path)]
        for parameter in shapes().predicates(part)
        if parameter in parameters and (name(shape), path, component(parameter)) not in broken
    )
    assert untested == []


def test_every_sh_class_is_within_the_range_of_its_path() -> None:
    """Review I2/I7: a shape is never weaker than the ontology. Where a property has an
    ``rdfs:range``, each ``sh:class`` on a property shape of that path is the range or one of
    its subclasses (otherwise SHACL passes a value the reasoner then retypes silently)."""
    model = hierarchy()

    def within(cls: Node, bound: Node) -> bool:
        return cls == bound or bound in model.transitive_objects(cls, RDFS.subClassOf)

    looser = sorted(
        f"{name(shape)} {path.n3()} sh:class {cls.n3()} but rdfs:range {rng.n3()}"
        for shape, path in shapes().subject_objects(SH.path)
        if isinstance(path, URIRef)
        for cls in shapes().objects(shape, SH["class"])
        for rng in model.objects(path, RDFS.range)
        if not within(cls, rng)
    )
    assert looser == []
    # So the check cannot pass vacuously.
    assert len(list(shapes().subjects(SH["class"], None))) > 30
