"""SPARQLWrapper, the client many users will query the service with, on every shipped example.

SPARQLWrapper decides between query and update by the first keyword of the text after
stripping comment lines (``Wrapper._parseQueryType`` after ``Wrapper._cleanComments``). Its
``comments_pattern`` ``(^|\\n)\\s*#.*?\\n`` consumes the newline that ends a comment line, so
the next line of a run of ``#`` lines no longer starts after a newline and survives; the
keyword search (no word boundaries) then finds ``ADD`` in "added" or "address" there and sends
the text as an update, which the service refuses (403). Our query files therefore keep their
header lines apart with a blank line; these tests keep it that way and send every example
through SPARQLWrapper's default path to the real service.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from itertools import pairwise
from pathlib import Path
from xml.dom.minidom import Document

import pyoxigraph as ox
import pytest
from rdflib.plugins.sparql import prepareQuery
from SPARQLWrapper import SPARQLWrapper

from pactgraph.rdf.query import run_query
from pactgraph.release.published import Release
from pactgraph.serve.ui import read_example
from pactgraph.settings import SETTINGS

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(SETTINGS.queries_dir.glob("*.rq"))
README = REPO / "README.md"
# The URL the README's example uses; the test points it at the live service instead.
README_ENDPOINT = "http://127.0.0.1:8000/sparql"
# rdflib's algebra name → SPARQL query form (what SPARQLWrapper should detect).
FORMS = {
    "SelectQuery": "SELECT",
    "ConstructQuery": "CONSTRUCT",
    "AskQuery": "ASK",
    "DescribeQuery": "DESCRIBE",
}


def leading_lines(text: str) -> list[str]:
    """The lines before the query proper: comments, blank lines, BASE and PREFIX.

    >>> leading_lines("# a\\n\\n# b\\nPREFIX x: <y>\\nSELECT * {}\\n# c")
    ['# a', '', '# b', 'PREFIX x: <y>']
    """
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and not re.match(
            r"(?i)(PREFIX|BASE)\b", stripped
        ):
            break
        lines.append(line)
    return lines


@pytest.fixture(scope="module")
def service(
    release: Release, start_service: Callable[..., AbstractContextManager[str]]
) -> Iterator[str]:
    """The shipped data's release served for real (so every example has rows to return)."""
    with start_service(release) as url:
        yield url


@pytest.fixture(scope="module")
def release_store(release: Release) -> ox.Store:
    """The store the service answers from (data plus the inferred graph)."""
    return release.open_store()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_header_keeps_its_fields_and_no_two_comment_lines_touch(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    example = read_example(path)  # the service's own header reader (titles on the query page)
    assert example.title != path.stem, f"{path.name}: no '# title:' the service can read"
    assert example.description, f"{path.name}: no '# description:' the service can read"
    lines = leading_lines(text)
    for above, below in pairwise(lines):
        assert not (above.lstrip().startswith("#") and below.lstrip().startswith("#")), (
            f"{path.name}: consecutive comment lines before the query ({below!r}); "
            "SPARQLWrapper would read the second one as query text: put a blank line between"
        )


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_sparqlwrapper_detects_the_query_form(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    form = FORMS[prepareQuery(text).algebra.name]
    wrapper = SPARQLWrapper("http://127.0.0.1:9/sparql")  # never contacted
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "unknown query type" is a failure too
        wrapper.setQuery(text)
    assert wrapper.queryType == form
    assert wrapper.isSparqlQueryRequest()


def test_the_detection_bug_is_still_there_for_touching_comment_lines() -> None:
    # Why the layout matters: the same header without the blank line is sent as an update.
    # If SPARQLWrapper fixes its comment pattern, this fails and the rule above can go.
    wrapper = SPARQLWrapper("http://127.0.0.1:9/sparql")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wrapper.setQuery("# title: t\n# description: amounts are never added\nSELECT * {}")
    assert wrapper.isSparqlUpdateRequest()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_through_sparqlwrapper_default_path(
    path: Path, service: str, release_store: ox.Store
) -> None:
    text = path.read_text(encoding="utf-8")
    wrapper = SPARQLWrapper(service + "/sparql")
    wrapper.setQuery(text)
    response = wrapper.query()  # raises on 403 (sent as an update) or any other error
    assert response.response.getcode() == 200
    parsed = response.convert()  # the default return format: SPARQL XML results
    assert isinstance(parsed, Document)
    expected = len(list(run_query(release_store, text)))
    assert len(parsed.getElementsByTagName("result")) == expected


def readme_python_block() -> str:
    """The code block of the README's "From Python" section."""
    section = README.read_text(encoding="utf-8").split("### From Python", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README.md: no python block under 'From Python'"
    return match.group(1)


def test_readme_python_example_runs_against_the_service(
    service: str,
    release_store: ox.Store,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = readme_python_block()
    assert README_ENDPOINT in code
    monkeypatch.chdir(REPO)  # the example reads queries/… from the top of the checkout
    exec(compile(code.replace(README_ENDPOINT, service + "/sparql"), "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    query = (REPO / "queries" / "04-mou-chain.rq").read_text(encoding="utf-8")
    rows = list(run_query(release_store, query))
    assert rows, "the example query returns rows on the shipped data"
    assert printed == [
        f"{row['mouLabel'].value} {row['value'].value} {row['basisLabel'].value}" for row in rows
    ]
