"""Quality checks (queries/qc/*.rq): each fires on its own invalid fixture, for the intended
node and for nothing else; none fires on a clean fixture; the shipped data passes them all.

A fixture ``tests/data/quality/<check>.ttl`` violates exactly the check of that name; its
``# expect: IRI`` comment lines list the nodes the check must report. Fixtures are read
together with the real ontology and vocabularies, as the data files are.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pactgraph.cli.main import main
from pactgraph.gates.quality import CheckFileError, QualityCheck, load_checks, run_checks
from pactgraph.rdf.dataset import DataFiles, load_dataset
from pactgraph.settings import SETTINGS, Settings

QUALITY_DIR = Path(__file__).parent / "data" / "quality"
EXPECT = re.compile(r"^# expect: (\S+)$", re.MULTILINE)
CHECK_NAMES = [check.name for check in load_checks()]


def _with_model(fixture: Path) -> list[Path]:
    files = DataFiles.discover(SETTINGS)
    return [*files.ontology, *files.vocab, fixture]


def _expected(fixture: Path) -> set[str]:
    return set(EXPECT.findall(fixture.read_text(encoding="utf-8")))


def test_every_check_has_a_title_and_description() -> None:
    checks = load_checks()
    assert len(checks) >= 8
    for check in checks:
        assert check.title and check.description
        assert check.query.startswith("# title:")


def test_a_check_without_its_header_is_refused() -> None:
    with pytest.raises(CheckFileError, match="# title:"):
        QualityCheck.parse(Path("bad.rq"), "SELECT * WHERE { ?s ?p ?o }")


@pytest.mark.parametrize("name", CHECK_NAMES)
def test_every_check_has_an_invalid_fixture(name: str) -> None:
    fixture = QUALITY_DIR / f"{name}.ttl"
    assert fixture.is_file(), f"no invalid fixture for queries/qc/{name}.rq"
    assert _expected(fixture), f"{fixture} names no '# expect:' node"


@pytest.mark.parametrize("name", CHECK_NAMES)
def test_invalid_fixture_fails_only_its_own_check_on_the_expected_nodes(name: str) -> None:
    fixture = QUALITY_DIR / f"{name}.ttl"
    findings = run_checks(load_dataset(_with_model(fixture)))
    reported = {(finding.check.name, finding.iri) for finding in findings}
    assert reported == {(name, iri) for iri in _expected(fixture)}
    # The finding is shown with the check's title and the node, as the CLI prints it.
    title = findings[0].check.title
    assert all(str(finding).startswith(f"{title}: ") for finding in findings)


def test_clean_fixture_passes_every_check() -> None:
    assert run_checks(load_dataset(_with_model(QUALITY_DIR / "valid.ttl"))) == []


def test_shipped_data_passes_every_check() -> None:
    findings = run_checks(load_dataset())
    assert [str(finding) for finding in findings] == []


def test_check_command_reports_findings_and_fails(tmp_path: Path) -> None:
    root = tmp_path / "data"
    shutil.copytree(SETTINGS.ontology_dir, root / "ontology")
    shutil.copytree(SETTINGS.qc_dir, root / "queries" / "qc")
    (root / "graph").mkdir()
    shutil.copy(QUALITY_DIR / "duplicate-source-url.ttl", root / "graph" / "sources.ttl")
    result = CliRunner().invoke(main, ["--data", str(root), "check"])
    assert result.exit_code == 1
    assert "Two sources with the same URL: source:qc-report-copy-a" in result.stdout
    assert "source:qc-report-copy-b" in result.stdout


def test_check_command_passes_clean_data(tmp_path: Path) -> None:
    root = tmp_path / "data"
    shutil.copytree(SETTINGS.ontology_dir, root / "ontology")
    shutil.copytree(SETTINGS.qc_dir, root / "queries" / "qc")
    (root / "graph").mkdir()
    shutil.copy(QUALITY_DIR / "valid.ttl", root / "graph" / "valid.ttl")
    settings = Settings(root=root)
    result = CliRunner().invoke(main, ["--data", str(settings.root), "check"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
