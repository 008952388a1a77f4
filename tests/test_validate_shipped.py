"""The shipped data (ontology, vocabularies and graph/) conforms to the shapes.

On failure the assertion message is the readable report: one block per violation naming
the focus node, the path, the constraint and what to fix.
"""

from __future__ import annotations

from pactgraph.gates.validate import validate_graph
from pactgraph.rdf.dataset import DataFiles, load_dataset


def test_graph_folder_has_data() -> None:
    assert DataFiles.discover().graph, "graph/ holds no Turtle files"


def test_shipped_dataset_conforms() -> None:
    report = validate_graph(load_dataset())
    assert report.conforms, report.as_text()
    assert report.violations == []
