"""Loading: one named graph per file, data prefixes kept, parse errors name file and line."""

from __future__ import annotations

import doctest
import importlib
import shutil
from pathlib import Path

import pytest
from rdflib import URIRef
from rdflib.compare import isomorphic

from pactgraph.rdf.dataset import (
    DataFileError,
    DataFiles,
    graph_iri_for,
    load_dataset,
    parse_file,
)
from pactgraph.settings import GRAPH_IRI_BASE, Settings

BROKEN_DIR = Path(__file__).parent / "data" / "broken"


def _named_graphs(dataset):
    default = dataset.default_graph.identifier
    return {g.identifier: g for g in dataset.graphs() if g.identifier != default}


@pytest.mark.parametrize("which", ["mini", "shipped"])
def test_every_file_is_its_own_named_graph(which: str, mini_settings: Settings, settings):
    chosen = mini_settings if which == "mini" else settings
    files = DataFiles.discover(chosen).all
    assert files, f"no data files under {chosen.root}"
    dataset = load_dataset(settings=chosen)
    graphs = _named_graphs(dataset)
    assert set(graphs) == {graph_iri_for(path, chosen) for path in files}
    for path in files:
        assert isomorphic(graphs[graph_iri_for(path, chosen)], parse_file(path)), path
    assert len(dataset.default_graph) == 0


def test_graph_names_follow_the_model_contract(mini_settings: Settings):
    root = mini_settings.root
    expected = {
        root / "graph/actors/states.ttl": "actors/states",
        root / "graph/instruments/treaties.ttl": "instruments/treaties",
        root / "ontology/vocab/status.ttl": "vocab/status",
        root / "ontology/pactgraph.ttl": "ontology/pactgraph",
    }
    for path, name in expected.items():
        assert graph_iri_for(path, mini_settings) == URIRef(GRAPH_IRI_BASE + name)


def test_dataset_keeps_the_files_prefixes_and_no_others(mini_settings: Settings):
    prefixes = dict(load_dataset(settings=mini_settings).namespaces())
    assert prefixes["pact"] == URIRef("https://w3id.org/pactgraph/ontology#")
    assert prefixes["actor"] == URIRef("https://w3id.org/pactgraph/id/actor/")
    assert "brick" not in prefixes and "schema" not in prefixes  # rdflib defaults, unused here


def test_parse_error_names_file_line_and_the_parsers_complaint(tmp_path: Path):
    broken = tmp_path / "unbound-prefix.ttl"
    shutil.copy(BROKEN_DIR / "unbound-prefix.ttl", broken)
    with pytest.raises(DataFileError) as caught:
        parse_file(broken)
    error = caught.value
    assert error.path == broken
    assert error.line == 5  # `rdfs:label` is used on line 5 without a @prefix
    message = str(error)
    assert message.startswith(f"{broken}:5: ")
    assert 'Prefix "rdfs:" not bound' in message
    assert "rdfs:label" in message  # quotes the offending line


def test_regression_parse_error_is_one_line_not_rdflibs_header(tmp_path: Path):
    """Regression: the message used to be rdflib's first line, 'at line 3 of <>:'."""
    broken = tmp_path / "statement.ttl"
    broken.write_text(
        "@prefix ex: <http://example.org/> .\n\nex:a ex:p ex:b\nex:c ex:d ex:e .\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFileError) as caught:
        parse_file(broken)
    message = str(caught.value)
    assert "\n" not in message
    assert "of <>" not in message
    assert caught.value.line == 4
    assert "expected" in message  # the parser's own reason survives


def test_loading_a_tree_with_a_broken_file_names_that_file(mini_copy: Settings):
    target = mini_copy.graph_dir / "actors" / "broken.ttl"
    shutil.copy(BROKEN_DIR / "unbound-prefix.ttl", target)
    with pytest.raises(DataFileError, match=r"broken\.ttl:5: "):
        load_dataset(settings=mini_copy)


def test_non_utf8_file_is_reported_not_crashed(tmp_path: Path):
    binary = tmp_path / "binary.ttl"
    binary.write_bytes(b"\xff\xfe not turtle")
    with pytest.raises(DataFileError, match=r"binary\.ttl"):
        parse_file(binary)


@pytest.mark.parametrize(
    "module_name",
    [
        "pactgraph.settings",
        "pactgraph.rdf.dataset",
        "pactgraph.rdf.formats",
        "pactgraph.release.build",
        "pactgraph.release.published",
        "pactgraph.rdf.terms",
        "pactgraph.rdf.query",
    ],
)
def test_the_core_modules_have_docstring_examples(module_name: str):
    """These modules show their use by example (every module's examples run below)."""
    module = importlib.import_module(module_name)
    found = doctest.DocTestFinder().find(module)
    assert sum(len(test.examples) for test in found) > 0, f"{module_name} has no examples"


def _package_modules() -> list[str]:
    import pkgutil

    import pactgraph

    return sorted(m.name for m in pkgutil.walk_packages(pactgraph.__path__, prefix="pactgraph."))


@pytest.mark.parametrize("module_name", _package_modules())
def test_every_modules_docstring_examples_pass(module_name: str):
    """Every example in every module's docstrings runs and gives what it shows."""
    module = importlib.import_module(module_name)
    outcome = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert outcome.failed == 0
