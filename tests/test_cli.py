"""The ``pactgraph`` command line, driven for real: click's runner and the installed script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from pactgraph.cli.main import main
from pactgraph.release import store as store_module
from pactgraph.release.published import latest_release
from pactgraph.settings import Settings

REPO = Path(__file__).resolve().parents[1]
BROKEN_DIR = Path(__file__).parent / "data" / "broken"
PACT = "https://w3id.org/pactgraph/ontology#"
STATES_QUERY = (
    f"SELECT ?state ?label WHERE {{ ?state a <{PACT}State> ; "
    "<http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?state"
)


def run(runner: CliRunner, settings: Settings, *args: str):
    return runner.invoke(main, ["--data", str(settings.root), *args], catch_exceptions=False)


def _clean_env() -> dict[str, str]:
    """The environment of a user's shell: no test-only data root or import path."""
    return {k: v for k, v in os.environ.items() if k not in {"PACTGRAPH_DATA", "PYTHONPATH"}}


def _script() -> str:
    found = shutil.which("pactgraph") or shutil.which(
        "pactgraph", path=str(Path(sys.executable).parent)
    )
    assert found, "the pactgraph console script is not installed: run scripts/setup.sh"
    return found


# ------------------------------------------------------------------------------- help


def test_every_verb_has_help(cli_runner: CliRunner):
    top = cli_runner.invoke(main, ["--help"])
    assert top.exit_code == 0
    assert set(main.commands) >= {"validate", "build", "query"}
    for name in main.commands:
        result = cli_runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert f"Usage: main {name}" in result.output or f"Usage: pactgraph {name}" in result.output


# --------------------------------------------------------------------------- validate


def test_validate_conforming_data_exits_zero(cli_runner, mini_settings):
    result = run(cli_runner, mini_settings, "validate")
    assert result.exit_code == 0, result.output + result.stderr
    assert "Conforms" in result.output


def test_validate_names_focus_node_path_constraint_and_message(cli_runner, mini_settings):
    result = run(cli_runner, mini_settings, "validate", str(BROKEN_DIR / "shape-violation.ttl"))
    assert result.exit_code == 1
    assert "instrument:nameless" in result.output  # focus node
    assert "rdfs:label" in result.output  # path
    assert "MinCountConstraintComponent" in result.output  # constraint
    assert "needs a label" in result.output  # the shape's own message


def test_validate_with_paths_uses_the_ontology_hierarchy(cli_runner, mini_settings):
    # The treaty's parties are pact:State; the shape asks for pact:Actor (a superclass, only
    # known from the ontology). The actors file is included so the parties are typed.
    files = [mini_settings.graph_dir / "instruments", mini_settings.graph_dir / "actors"]
    result = run(cli_runner, mini_settings, "validate", *map(str, files))
    assert result.exit_code == 0, result.output


def test_validate_report_as_turtle(cli_runner, mini_settings):
    result = run(
        cli_runner,
        mini_settings,
        "validate",
        "--format",
        "ttl",
        str(BROKEN_DIR / "shape-violation.ttl"),
    )
    assert result.exit_code == 1
    report = Graph().parse(data=result.stdout, format="turtle")
    assert (None, SH.conforms, Literal(False)) in report
    focus = URIRef("https://w3id.org/pactgraph/id/instrument/nameless")
    assert (None, SH.focusNode, focus) in report


def test_validate_turtle_counts_only_the_reports_own_results(cli_runner, settings):
    """Results nested under sh:detail explain another result; the header and the summary
    count the report's sh:result values, as the text report does."""
    invalid = sorted((Path(__file__).parent / "data" / "invalid").glob("*.ttl"))
    text = run(cli_runner, settings, "validate", *map(str, invalid))
    counted = int(text.stdout.split(": ", 1)[1].split(" ", 1)[0])
    turtle = run(cli_runner, settings, "validate", "--format", "ttl", *map(str, invalid))
    report = Graph().parse(data=turtle.stdout, format="turtle")
    top = set(report.objects(None, SH.result))
    every = set(report.subjects(RDF.type, SH.ValidationResult))
    assert len(every) > len(top) == counted  # the fixtures do have nested results
    header = turtle.stdout.splitlines()[0]
    assert header.startswith(f"# {counted} result(s) in the report (sh:result); ")
    assert f"{len(every) - counted} more nested under sh:detail" in header


def test_validate_syntax_error_is_one_line_naming_file_and_line(cli_runner, mini_settings):
    broken = BROKEN_DIR / "unbound-prefix.ttl"
    result = run(cli_runner, mini_settings, "validate", str(broken))
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [lines[0]]
    assert f"{broken}:5:" in lines[0]
    assert "not bound" in lines[0]


def test_validate_missing_path_is_a_usage_error(cli_runner, mini_settings):
    result = cli_runner.invoke(main, ["validate", "no/such/file.ttl"])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


# ------------------------------------------------------------------------------ build


def test_build_writes_a_release_and_says_so(cli_runner, mini_settings, tmp_path):
    out = tmp_path / "dist"
    result = run(cli_runner, mini_settings, "build", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    release = latest_release(out)
    assert release is not None
    assert release.version in result.output
    assert f"{release.triple_count} triples" in result.output


def test_build_refuses_invalid_data_and_writes_nothing(cli_runner, mini_copy, tmp_path):
    shutil.copy(BROKEN_DIR / "shape-violation.ttl", mini_copy.graph_dir / "violation.ttl")
    out = tmp_path / "dist"
    result = run(cli_runner, mini_copy, "build", "--out", str(out))
    assert result.exit_code == 1
    assert "release gate shacl failed" in result.stderr
    assert "instrument:nameless" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


# ------------------------------------------------------------------------------ query


def test_query_select_csv_sees_the_union_of_the_graphs(cli_runner, mini_settings, tmp_path):
    # The join spans two files: parties in instruments/treaties, labels in actors/states.
    text = (
        f"SELECT ?label WHERE {{ ?treaty <{PACT}party> ?party . "
        "?party <http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?label"
    )
    result = run(
        cli_runner, mini_settings, "query", text, "--format", "csv", "--dist", str(tmp_path)
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["label", "Alphaland", "Betastan"]


def test_query_from_an_rq_file_as_json(cli_runner, mini_settings, tmp_path):
    query_file = tmp_path / "states.rq"
    query_file.write_text(STATES_QUERY, encoding="utf-8")
    result = run(cli_runner, mini_settings, "query", str(query_file), "--dist", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["results"]["bindings"]
    assert [row["label"]["value"] for row in rows] == ["Alphaland", "Betastan"]


@pytest.mark.parametrize(
    ("fmt", "rdflib_format"), [("nt", "nt"), ("ttl", "turtle"), ("jsonld", "json-ld")]
)
def test_query_construct_in_graph_formats(cli_runner, mini_settings, tmp_path, fmt, rdflib_format):
    text = f"CONSTRUCT {{ ?s a <{PACT}State> }} WHERE {{ ?s a <{PACT}State> }}"
    result = run(cli_runner, mini_settings, "query", text, "--format", fmt, "--dist", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    graph = Graph().parse(data=result.stdout, format=rdflib_format)
    assert set(graph.subjects()) == {
        URIRef("https://w3id.org/pactgraph/id/actor/alpha"),
        URIRef("https://w3id.org/pactgraph/id/actor/beta"),
    }


def test_query_syntax_error_prints_the_parser_position_and_exits_2(
    cli_runner, mini_settings, tmp_path
):
    result = run(
        cli_runner, mini_settings, "query", "SELECT ?s WHERE {\n ?s ?p }", "--dist", str(tmp_path)
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line
    assert "SPARQL syntax error at 2:" in line


def test_query_format_that_does_not_fit_the_result_exits_2(cli_runner, mini_settings, tmp_path):
    result = run(
        cli_runner, mini_settings, "query", "ASK {}", "--format", "nt", "--dist", str(tmp_path)
    )
    assert result.exit_code == 2
    assert "json, xml, csv, tsv" in result.stderr


def test_query_uses_the_current_release_store(cli_runner, mini_settings, tmp_path, monkeypatch):
    out = tmp_path / "dist"
    assert run(cli_runner, mini_settings, "build", "--out", str(out)).exit_code == 0

    def no_loading(*args, **kwargs):
        raise AssertionError("loaded the data although a current release exists")

    monkeypatch.setattr(store_module, "load_store", no_loading)
    result = run(cli_runner, mini_settings, "query", "ASK { ?s ?p ?o }", "--dist", str(out))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["boolean"] is True


# ------------------------------------------------------------------- the real script


def test_installed_script_runs_a_query_from_another_directory(mini_settings, tmp_path):
    completed = subprocess.run(
        [_script(), "--data", str(mini_settings.root), "query", STATES_QUERY, "--format", "tsv"],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[0] == "?state\t?label"
    assert len(completed.stdout.splitlines()) == 3
    assert not (tmp_path / "dist").exists()  # querying never writes a release


def test_installed_script_reports_bad_input_without_a_traceback(mini_settings, tmp_path):
    completed = subprocess.run(
        [
            _script(),
            "--data",
            str(mini_settings.root),
            "validate",
            str(BROKEN_DIR / "unbound-prefix.ttl"),
        ],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1
    assert "unbound-prefix.ttl:5:" in completed.stderr


