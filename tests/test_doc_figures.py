"""Every figure about the data in README.md and docs/*.md is checked against a fresh release.

A figure in the prose carries a marker naming what it counts, ``8,096<!-- figure: NAME -->``
(invisible once rendered); :data:`FIGURES` says how to count NAME in the release, in SPARQL
that does not depend on how a store forms its default graph. Result tables quoted from a
query (``csv`` blocks after the command that makes them) are re-run and compared. The list of
files in README's "Releases" is compared with a built release directory.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import re
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox
import pytest

from pactgraph.gates.inference import INFERRED_GRAPH
from pactgraph.gates.shacl_engines import SPARQL_MIN_TRIPLES
from pactgraph.rdf.query import run_query
from pactgraph.release.build import PARALLEL_MIN_QUADS
from pactgraph.release.published import Release

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = [README, *sorted((REPO / "docs").glob("*.md"))]

# Figure name → a query whose single binding ?n is that figure, counted in the release.
FIGURES = {
    # Each triple once, whatever graphs assert it (pactgraph.nt, release.json triple_count).
    "distinct-triples": (
        "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { GRAPH ?g { ?s ?p ?o } } }"
    ),
    # Each (triple, graph) pair (pactgraph.nq, release.json quad_count).
    "quads": "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }",
    "named-graphs": "SELECT (COUNT(DISTINCT ?g) AS ?n) { GRAPH ?g { ?s ?p ?o } }",
    "inferred-quads": f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }} }}",
    # What the reasoner and SHACL are given: the asserted graphs' union, each triple once.
    "asserted-triples": (
        "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { GRAPH ?g { ?s ?p ?o } "
        f"FILTER(?g != <{INFERRED_GRAPH}>) }} }}"
    ),
}
# Israel's row of query 01, one column per kind of US provision (README, "Example queries").
_QUERY_01 = (REPO / "queries" / "01-us-defense-obligations-vs-israel.rq").read_text("utf-8")
_PROLOGUE, _SELECT = _QUERY_01.split("\nSELECT", 1)


def _israel(column: str) -> str:
    """Query 01 as a subquery, keeping Israel's value in ``column`` as ?n."""
    return (
        f"{_PROLOGUE}\nSELECT ?n {{ {{ SELECT{_SELECT} }} "
        f"FILTER(?partner = actor:israel) BIND(?{column} AS ?n) }}"
    )


FIGURES.update(
    {
        f"israel-{name}": _israel(column)
        for name, column in (
            ("legal-duties-in-force", "legalDutiesInForce"),
            ("political-commitments", "politicalCommitments"),
            ("permissions", "permissions"),
            ("proposed", "proposed"),
            ("practices", "practices"),
            ("lapsed", "lapsed"),
            ("other-provisions", "otherProvisions"),
        )
    }
)
MARKED = re.compile(r"(\d[\d,]*)<!-- figure: ([a-z-]+) -->")
# A count of triples or quads written out in the prose ("8,096 distinct triples").
COUNT_IN_PROSE = re.compile(
    r"(\d{1,3}(?:,\d{3})+)(<!-- figure: [a-z-]+ -->)?\s+(?:distinct\s+)?(?:triples|quads)\b"
)
# Thresholds of the code, not figures of the data: checked against the code instead.
THRESHOLDS = {f"{PARALLEL_MIN_QUADS:,}", f"{SPARQL_MIN_TRIPLES:,}"}
# ```sh  pactgraph query FILE.rq --format csv ``` then ```csv … ``` (or curl … query@FILE).
QUOTED_RESULT = re.compile(
    r"```sh\n(?:pactgraph query (?P<rq>\S+\.rq) --format csv"
    r"|curl [^\n]*\n[^\n]*query@(?P<curl>\S+\.rq))"
    r"\n```\n\n(?:(?:[^\n]+\n)+\n)?```csv\n(?P<csv>.*?)```",
    re.S,
)


@pytest.fixture(scope="module")
def release_store(release: Release) -> ox.Store:
    return release.open_store()


def count(store: ox.Store, name: str) -> int:
    """The figure ``name`` of :data:`FIGURES`, counted in ``store``."""
    (row,) = list(run_query(store, FIGURES[name]))
    return int(row["n"].value)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_marked_figures_match_the_release(doc: Path, release_store: ox.Store) -> None:
    for written, name in MARKED.findall(doc.read_text(encoding="utf-8")):
        assert name in FIGURES, f"{doc.name}: unknown figure {name!r} (add it to FIGURES)"
        actual = count(release_store, name)
        assert written == f"{actual:,}", f"{doc.name}: {name} is {actual:,}, not {written}"


def test_the_readme_states_the_counts_that_get_confused() -> None:
    named = {name for _, name in MARKED.findall(README.read_text(encoding="utf-8"))}
    assert {"distinct-triples", "quads", "asserted-triples"} <= named


def test_the_two_counts_agree_with_release_json(release: Release, release_store) -> None:
    assert count(release_store, "distinct-triples") == release.metadata["triple_count"]
    assert count(release_store, "quads") == release.metadata["quad_count"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_count_of_triples_or_quads_in_prose_is_marked(doc: Path) -> None:
    for number, marker in COUNT_IN_PROSE.findall(doc.read_text(encoding="utf-8")):
        assert marker or number in THRESHOLDS, (
            f"{doc.name}: '{number}' counts triples or quads without a figure marker "
            "(<!-- figure: NAME -->, checked by this test)"
        )


def _shown(term: ox.NamedNode | ox.Literal | ox.BlankNode | None, short: bool) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode) and short:
        return re.split(r"[/#]", term.value)[-1]
    return term.value


def quoted_results(doc: Path) -> list[tuple[str, str]]:
    """(query file, csv text) for every result table quoted after its command in ``doc``."""
    found = []
    for match in QUOTED_RESULT.finditer(doc.read_text(encoding="utf-8")):
        found.append((match["rq"] or match["curl"], match["csv"]))
    return found


def test_the_docs_quote_results() -> None:
    # So the comparison below cannot pass by finding nothing.
    assert len(quoted_results(README)) >= 3
    assert len(quoted_results(REPO / "docs" / "linked-data.md")) >= 1


def csv_row(values: Iterable[str]) -> str:
    """One CSV line as a CSV writer quotes it (a label with a comma is in quotes).

    >>> csv_row(["Belgium", "NATO SOFA (London, 1951)", ""])
    'Belgium,"NATO SOFA (London, 1951)",'
    """
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(list(values))
    return out.getvalue()


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_quoted_results_are_what_the_release_answers(doc: Path, release_store) -> None:
    # README shortens IRIs to their last segment and shows only some columns; docs/ quote
    # whole IRIs. Either way every row and value shown must be the release's answer.
    short = doc == README
    for query_file, quoted in quoted_results(doc):
        query = (REPO / query_file).read_text(encoding="utf-8")
        header, *rows = quoted.strip("\n").split("\n")
        columns = header.split(",")
        solutions = run_query(release_store, query)
        expected = [csv_row(_shown(s[c], short) for c in columns) for s in solutions]
        assert rows == expected, f"{doc.name}: the output quoted for {query_file} is out of date"


def release_list() -> list[str]:
    """The file patterns README's "Releases" list names (the first code spans of each item)."""
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- release-files -->", 1)[1].split("<!-- /release-files -->", 1)[0]
    patterns = []
    for item in re.findall(r"^- (.*?):", block, re.M):
        patterns += re.findall(r"`([^`]+)`", item)
    return patterns


def test_the_readme_lists_what_a_release_holds(release: Release) -> None:
    patterns = release_list()
    present = sorted(
        path.name + ("/" if path.is_dir() else "") for path in release.path.iterdir()
    )
    for name in present:
        matching = [p for p in patterns if fnmatch.fnmatchcase(name, p)]
        assert len(matching) == 1, f"{name} is in a release; README lists it {len(matching)} times"
    for pattern in patterns:
        assert any(fnmatch.fnmatchcase(name, pattern) for name in present), (
            f"README lists {pattern}, which a release does not hold"
        )
