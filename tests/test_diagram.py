"""The model picture: DOT generation, the ``diagram`` command, and the committed copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pactgraph.rdf.dataset import parse_file
from pactgraph.release.diagram import diagram_command, ontology_to_dot
from pactgraph.settings import Settings

TESTS_DIR = Path(__file__).resolve().parent
REPO = TESTS_DIR.parent
TINY = TESTS_DIR / "data" / "diagram" / "tiny-ontology.ttl"


@pytest.fixture(scope="module")
def tiny_dot() -> str:
    return ontology_to_dot(parse_file(TINY))


def test_subclass_links_point_to_the_superclass(tiny_dot: str) -> None:
    assert '"pact:Treaty" -> "pact:Instrument" [arrowhead="empty"' in tiny_dot
    assert '"pact:Instrument" -> "prov:Entity" [arrowhead="empty"' in tiny_dot


def test_object_property_is_a_labelled_edge_for_each_domain_class(tiny_dot: str) -> None:
    # The union domain gives one edge per member class.
    for domain in ("pact:Instrument", "pact:Obligation"):
        edge = next(line for line in tiny_dot.splitlines() if f'"{domain}" -> "pact:Actor"' in line)
        assert 'label="party"' in edge
    assert "supports" not in tiny_dot


def test_datatype_properties_are_listed_in_their_class(tiny_dot: str) -> None:
    node = next(
        line for line in tiny_dot.splitlines() if line.strip().startswith('"pact:Instrument" [')
    )
    assert "dateSigned" in node


def test_external_classes_are_drawn_apart(tiny_dot: str) -> None:
    node = next(line for line in tiny_dot.splitlines() if line.strip().startswith('"prov:Agent" ['))
    assert 'style="dashed"' in node


def test_output_is_deterministic() -> None:
    assert ontology_to_dot(parse_file(TINY)) == ontology_to_dot(parse_file(TINY))


def test_committed_picture_is_up_to_date() -> None:
    # Regenerate with `pactgraph diagram` whenever ontology/pactgraph.ttl changes.
    committed = (REPO / "docs" / "model.dot").read_text(encoding="utf-8")
    assert committed == ontology_to_dot(parse_file(REPO / "ontology" / "pactgraph.ttl"))


def test_command_writes_dot_and_svg(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (root / "ontology").mkdir(parents=True)
    shutil.copy(TINY, root / "ontology" / "pactgraph.ttl")
    out = tmp_path / "docs"
    result = CliRunner().invoke(diagram_command, ["--out", str(out)], obj=Settings(root=root))
    assert result.exit_code == 0, result.output
    assert (out / "model.dot").read_text(encoding="utf-8") == ontology_to_dot(parse_file(TINY))
    if shutil.which("dot"):
        assert (out / "model.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
        assert "Treaty" in (out / "model.svg").read_text(encoding="utf-8")
