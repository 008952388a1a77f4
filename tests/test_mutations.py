"""Mutation harness (review §3): seeded errors applied to the shipped graph must be rejected
by ``validate``, ``check`` or ``reason`` for the intended reason; legitimate facts must pass.

One mechanism for every seeded error, reading the fixtures the other tests already use:

* ``tests/data/invalid/*.ttl`` (one or more SHACL shapes; ``# expect: Shape Component``);
* ``tests/data/quality/*.ttl`` (one quality check, the file's name; ``# expect: IRI``);
* ``tests/data/reasoning/*.ttl`` (one disjointness clash, as ``tests/test_reason.py`` names it);
* ``tests/data/mutations/*.ttl``: the review's twelve (M01 to M12), edits of shipped nodes with
  ``# remove: SUBJECT PREDICATE`` (drop those triples first), ``# expect: Shape Component``,
  ``# expect-check: NAME IRI``, ``# expect-clash: INDIVIDUAL CLASS CLASS`` or
  ``# expect: nothing`` (a legitimate fact: the graph must stay clean);
* one generated mutation per disjoint pair of the ontology (an individual typed with both).

Each fixture's own nodes (``…/id/{kind}/fixture-…`` and the like) are renamed per fixture, so
all of them go into one graph: one SHACL run, one run of the quality checks and one HermiT run
for all the seeded errors together, and one of each for the legitimate facts. A seeded error is
*caught* when a result for the intended shape and component, check or disjoint pair names one
of its own nodes. README states the count this test measures.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, BNode, Dataset, Graph, Literal, URIRef
from rdflib.term import Node

from pactgraph.gates.quality import run_checks
from pactgraph.gates.reason import default_names, disjoint_pairs, reason
from pactgraph.gates.validate import validate_graph
from pactgraph.rdf.dataset import DataFiles, load_dataset, parse_file
from pactgraph.settings import SETTINGS

sys.path.insert(0, str(Path(__file__).parent))
from test_reason import CLASHES

DATA = Path(__file__).parent / "data"
README = Path(__file__).resolve().parents[1] / "README.md"
ID = "https://w3id.org/pactgraph/id/"
# Fixture-local slugs: renamed per fixture so that fixtures can share one graph.
LOCAL = re.compile(rf"^({re.escape(ID)}[a-z-]+/)((?:fixture|qc|clash|rules|inf)-.*)$")
SHAPE_EXPECT = re.compile(r"^# expect: (\S+) (\S+Component)\s*$", re.M)
IRI_EXPECT = re.compile(r"^# expect: (https?://\S+)\s*$", re.M)
CHECK_EXPECT = re.compile(r"^# expect-check: (\S+) (\S+)\s*$", re.M)
CLASH_EXPECT = re.compile(r"^# expect-clash: (\S+) (\S+) (\S+)\s*$", re.M)
REMOVE = re.compile(r"^# remove: (\S+) (\S+)\s*$", re.M)
LEGITIMATE = re.compile(r"^# expect: nothing\s*$", re.M)
KILL_RATE = re.compile(r"mutation harness: (\d+) of (\d+) seeded errors caught")


@dataclass
class Mutation:
    """One seeded error (or legitimate fact) and what must catch it."""

    name: str
    graph: Graph
    removals: list[tuple[URIRef, URIRef]] = field(default_factory=list)
    shapes: set[tuple[str, str]] = field(default_factory=set)
    checks: set[tuple[str, str]] = field(default_factory=set)
    clashes: set[tuple[str, tuple[str, str]]] = field(default_factory=set)
    legitimate: bool = False

    @property
    def nodes(self) -> set[Node]:
        """Every node the mutation adds or edits: a result must name one of them."""
        found = {t for triple in self.graph for t in triple if isinstance(t, URIRef | BNode)}
        return found | {s for s, _ in self.removals}


def _renamed(graph: Graph, tag: str) -> Graph:
    """``graph`` with its fixture-local IRIs made unique to ``tag``."""

    def rename(term: Node) -> Node:
        match = LOCAL.match(term) if isinstance(term, URIRef) else None
        return URIRef(f"{match[1]}{tag}-{match[2]}") if match else term

    def relabel(term: Node) -> Node:
        # Labels too: fixtures reuse names ("Ruritania"), which would merge their duplicates.
        if isinstance(term, Literal) and not term.datatype:
            return Literal(f"{term} ({tag})", lang=term.language)
        return term

    out = Graph()
    for s, p, o in graph:
        out.add((rename(s), p, relabel(rename(o)) if p == RDFS.label else rename(o)))
    return out


def _rename_iri(iri: str, tag: str) -> str:
    match = LOCAL.match(iri)
    return f"{match[1]}{tag}-{match[2]}" if match else iri


def _expand(curie: str) -> URIRef:
    """A full IRI from ``<…>`` or a prefixed name in the project's prefixes."""
    return URIRef(curie[1:-1]) if curie.startswith("<") else default_names().expand_curie(curie)


def _short(term: str) -> str:
    return URIRef(term).n3(default_names())


@cache
def mutations() -> tuple[Mutation, ...]:
    """Every seeded error and legitimate fact, read from the fixture folders."""
    found: list[Mutation] = []
    for path in sorted((DATA / "invalid").glob("*.ttl")):
        text, tag = path.read_text(encoding="utf-8"), f"mi{len(found)}"
        found.append(
            Mutation(
                f"invalid/{path.name}",
                _renamed(parse_file(path), tag),
                shapes=set(SHAPE_EXPECT.findall(text)),
            )
        )
    for path in sorted((DATA / "quality").glob("*.ttl")):
        if path.stem == "valid":
            continue
        text, tag = path.read_text(encoding="utf-8"), f"mq{len(found)}"
        iris = IRI_EXPECT.findall(text)
        found.append(
            Mutation(
                f"quality/{path.name}",
                _renamed(parse_file(path), tag),
                checks={(path.stem, _rename_iri(i, tag)) for i in iris},
            )
        )
    for name, (individual, classes, _why) in sorted(CLASHES.items()):
        tag = f"mr{len(found)}"
        graph = _renamed(parse_file(DATA / "reasoning" / name), tag)
        iri = _rename_iri(_expand(individual), tag)
        found.append(Mutation(f"reasoning/{name}", graph, clashes={(_short(iri), classes)}))
    for path in sorted((DATA / "mutations").glob("*.ttl")):
        text, graph = path.read_text(encoding="utf-8"), parse_file(path)
        found.append(
            Mutation(
                f"mutations/{path.name}",
                graph,
                removals=[(_expand(s), _expand(p)) for s, p in REMOVE.findall(text)],
                shapes=set(SHAPE_EXPECT.findall(text)),
                checks={(c, str(_expand(i))) for c, i in CHECK_EXPECT.findall(text)},
                clashes={(i, tuple(sorted((a, b)))) for i, a, b in CLASH_EXPECT.findall(text)},
                legitimate=bool(LEGITIMATE.search(text)),
            )
        )
    (core,) = [p for p in DataFiles.discover(SETTINGS).ontology if p.name == "pactgraph.ttl"]
    names = default_names()
    for number, (first, second) in enumerate(sorted(disjoint_pairs(parse_file(core)))):
        node = URIRef(f"{ID}instrument/disjoint-pair-{number}")
        graph = Graph()
        graph.add((node, RDF.type, first))
        graph.add((node, RDF.type, second))
        pair = tuple(sorted((first.n3(names), second.n3(names))))
        name = f"disjoint/{first.n3(names)}-{second.n3(names)}"
        found.append(Mutation(name, graph, clashes={(_short(node), pair)}))  # type: ignore[arg-type]
    return tuple(found)


def _applied(batch: list[Mutation]) -> Dataset:
    """The shipped dataset with every mutation of ``batch`` applied (removals first)."""
    dataset = load_dataset()
    for mutation in batch:
        for subject, predicate in mutation.removals:
            dataset.remove((subject, predicate, None, None))
    target = dataset.graph(URIRef("https://w3id.org/pactgraph/graph/mutations"))
    for mutation in batch:
        for triple in mutation.graph:
            target.add(triple)
    return dataset


@dataclass
class Outcome:
    """What the three gates said about one graph."""

    shapes: set[tuple[str, str, Node]]
    checks: set[tuple[str, str]]
    clashes: set[tuple[str, tuple[str, str]]]
    consistent: bool


def _outcome(dataset: Dataset) -> Outcome:
    report = validate_graph(dataset)
    findings = run_checks(dataset)
    reasoning = reason(dataset)
    return Outcome(
        shapes={(v.shape_name, v.component, v.focus_node) for v in report.violations},
        checks={(f.check.name, str(f.iri)) for f in findings},
        clashes={(c.individual, tuple(sorted(c.classes))) for c in reasoning.clashes},
        consistent=reasoning.consistent,
    )


@pytest.fixture(scope="module")
def seeded() -> Outcome:
    return _outcome(_applied([m for m in mutations() if not m.legitimate]))


def caught(mutation: Mutation, outcome: Outcome) -> bool:
    """True when every intended reason of ``mutation`` shows up, on one of its own nodes."""
    nodes = mutation.nodes
    shapes_ok = all(
        any((shape, component, node) in outcome.shapes for node in nodes)
        for shape, component in mutation.shapes
    )
    return (
        bool(mutation.shapes or mutation.checks or mutation.clashes)
        and shapes_ok
        and mutation.checks <= outcome.checks
        and mutation.clashes <= outcome.clashes
    )


def test_the_harness_covers_the_review_shapes_checks_and_pairs() -> None:
    names = [m.name for m in mutations()]
    assert len([n for n in names if n.startswith("mutations/m")]) == 12
    assert len([n for n in names if n.startswith("disjoint/")]) >= 150
    assert {m.name for m in mutations() if m.legitimate} == {
        "mutations/m07-two-passage-dates.ttl",
        "mutations/m10-exercise-as-activity.ttl",
    }


def test_every_seeded_error_is_caught_for_its_intended_reason(seeded: Outcome) -> None:
    missed = [m.name for m in mutations() if not m.legitimate and not caught(m, seeded)]
    assert missed == []
    assert not seeded.consistent


def test_legitimate_facts_pass_all_three_gates() -> None:
    outcome = _outcome(_applied([m for m in mutations() if m.legitimate]))
    assert (outcome.shapes, outcome.checks, outcome.clashes) == (set(), set(), set())
    assert outcome.consistent


def test_readme_states_the_kill_rate(seeded: Outcome) -> None:
    errors = [m for m in mutations() if not m.legitimate]
    killed = sum(caught(m, seeded) for m in errors)
    match = KILL_RATE.search(README.read_text(encoding="utf-8"))
    assert match, "README lacks 'mutation harness: N of N seeded errors caught'"
    assert (int(match[1]), int(match[2])) == (killed, len(errors))


def test_a_wrong_reason_does_not_count_as_caught(seeded: Outcome) -> None:
    # The harness can fail: M06 rejected for a pair it does not break is not caught.
    (m06,) = [m for m in mutations() if m.name.startswith("mutations/m06")]
    assert caught(m06, seeded)
    wrong = Mutation(m06.name, m06.graph, clashes={("actor:axios", ("pact:Bill", "pact:Statute"))})
    assert not caught(wrong, seeded)
    assert not caught(Mutation("nothing expected", m06.graph), seeded)
