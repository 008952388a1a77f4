"""``/compare`` over real HTTP: the real app serving a release of the shipped data.

The page's partners are checked against example query 25 run by the service's own
``/sparql`` endpoint (a different path through the code: the worker pool over the release's
store), its levels against the commitment-strength scheme's triples in the release's dump,
and its bytes, ETag and 304 against a second fetch.
"""

from __future__ import annotations

import csv
import html
import io
import itertools
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlparse

import httpx
import pyoxigraph as ox
import pytest

from pactgraph.release.published import Release
from pactgraph.settings import BASE_IRI, SETTINGS

QUERY = SETTINGS.queries_dir / "25-partners-by-strongest-commitment.rq"
ISRAEL = BASE_IRI + "id/actor/israel"
STRENGTH_RANK = "https://w3id.org/pactgraph/ontology#strengthRank"
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def url(release: Release, start_service) -> Iterator[str]:
    with start_service(release) as base:
        yield base


@pytest.fixture(scope="module")
def page(url: str) -> str:
    answer = httpx.get(url + "/compare", headers=HTML, timeout=60)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    return answer.text


def _query_rows(url: str) -> list[dict[str, str]]:
    answer = httpx.post(
        url + "/sparql",
        data={"query": QUERY.read_text(encoding="utf-8")},
        headers={"Accept": "text/csv"},
        timeout=60,
    )
    assert answer.status_code == 200
    return list(csv.DictReader(io.StringIO(answer.text)))


class _Links(HTMLParser):
    """Every ``<a href>`` of a page, with the element it sits in (svg or table) and classes."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str]] = []
        self.links: list[tuple[str, str, str]] = []  # (href, where, classes)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a":
            where = next((t for t, _ in reversed(self.stack) if t in ("svg", "table")), "")
            self.links.append((found.get("href") or "", where, found.get("class") or ""))
        self.stack.append((tag, found.get("class") or ""))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


def _links(page: str) -> list[tuple[str, str, str]]:
    parser = _Links()
    parser.feed(page)
    return parser.links


def test_every_partner_of_query_25_is_a_linked_mark_and_a_table_row(url: str, page: str) -> None:
    rows = _query_rows(url)
    assert rows
    links = _links(page)
    marks = [href for href, where, classes in links if where == "svg" and "mark" in classes]
    in_table = [href for href, where, _ in links if where == "table"]
    partners = {row["partner"] for row in rows}
    expected = sorted("/" + iri.removeprefix(BASE_IRI) for iri in partners)
    # one mark per partner, each linking to the partner's entity page
    assert sorted(marks) == expected
    assert set(expected) <= set(in_table)
    # each mark sits in the column of its rank
    ranks = {"/" + row["partner"].removeprefix(BASE_IRI): row["rank"] for row in rows}
    for column in re.findall(r'<g class="column" data-rank="(\d+)">(.*?)</g>', page, re.S):
        for href in re.findall(r'<a href="([^"]+)" class="mark', column[1]):
            assert ranks[href] == column[0], href
    for href in [*expected[:3], "/id/actor/israel"]:
        assert httpx.get(url + href, headers=HTML, timeout=30).status_code == 200


def test_israel_is_highlighted_and_placed(url: str, page: str) -> None:
    rows = _query_rows(url)
    mine = [row for row in rows if row["partner"] == ISRAEL]
    assert len(mine) == 1, "query 25 has one row for Israel"
    highlighted = [
        href for href, where, classes in _links(page) if where == "svg" and "highlight" in classes
    ]
    assert highlighted == ["/id/actor/israel"]
    assert re.search(
        r'<tr class="highlight"><td>\d+</td><th scope="row"><a href="/id/actor/israel"', page
    )
    stronger = sum(1 for row in rows if int(row["rank"]) < int(mine[0]["rank"]))
    summary = re.search(r'<section class="highlight-summary".*?</section>', page, re.S).group(0)
    summary = html.unescape(summary)
    assert f"rank {mine[0]['rank']} of" in summary
    assert mine[0]["strengthLabel"] in summary
    assert f"{stronger} of {len(rows)} partners hold a stronger commitment" in summary


def test_levels_and_their_rationale_come_from_the_scheme(release: Release, page: str) -> None:
    quads = ox.parse(path=f"{release.path}/pactgraph.nq", format=ox.RdfFormat.N_QUADS)
    ranks = {
        q.subject.value: int(q.object.value) for q in quads if q.predicate.value == STRENGTH_RANK
    }
    assert ranks
    levels = re.search(r'<ol class="levels">(.*?)</ol>', page, re.S).group(1)
    items = re.findall(r'<li value="(\d+)">(.*?)</li>', levels, re.S)
    assert [int(rank) for rank, _ in items] == sorted(ranks.values())
    notes = {
        q.subject.value: q.object.value
        for q in ox.parse(path=f"{release.path}/pactgraph.nq", format=ox.RdfFormat.N_QUADS)
        if q.predicate.value == "http://www.w3.org/2004/02/skos/core#scopeNote"
    }
    for iri, rank in ranks.items():
        body = dict(items)[str(rank)]
        assert f'href="/{iri.removeprefix(BASE_IRI)}"' in body
        # the rationale shown is the start of the level's own scope note
        shown = re.search(r"<p>(.*?)</p>", body, re.S).group(1)
        assert notes[iri].startswith(html.unescape(shown))


def test_rows_are_offered_as_csv_and_json_through_sparql(url: str, page: str) -> None:
    hrefs = {
        classes: href
        for href, _, classes in _links(page)
        if classes in ("rows-csv", "rows-json", "query-link")
    }
    query = QUERY.read_text(encoding="utf-8")
    for name, media_type in (
        ("rows-csv", "text/csv"),
        ("rows-json", "application/sparql-results+json"),
    ):
        href = hrefs[name]
        assert parse_qs(urlparse(href).query)["query"][0] == query
        answer = httpx.get(url + href, timeout=60)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith(media_type)
    csv_rows = list(
        csv.DictReader(io.StringIO(httpx.get(url + hrefs["rows-csv"], timeout=60).text))
    )
    assert len(csv_rows) == len(_query_rows(url))
    assert hrefs["query-link"].startswith("/?")


def test_the_page_is_the_same_bytes_and_answers_304(url: str) -> None:
    first = httpx.get(url + "/compare", headers=HTML, timeout=60)
    second = httpx.get(url + "/compare", timeout=60)
    assert first.content == second.content
    etag = first.headers["etag"]
    assert etag == second.headers["etag"]
    again = httpx.get(url + "/compare", headers={"If-None-Match": etag}, timeout=30)
    assert again.status_code == 304 and again.content == b""
    head = httpx.head(url + "/compare", timeout=30)
    assert head.status_code == 200 and head.headers["etag"] == etag


def test_the_page_is_accessible_markup(page: str) -> None:
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert re.search(r"<title id=\"strength-title\">[^<]+</title>", svg)
    assert re.search(r"<desc id=\"strength-desc\">[^<]+</desc>", svg)
    levels = [int(n) for n in re.findall(r"<h([1-6])[ >]", page)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels))
    assert "<caption" in page and '<th scope="col">' in page
    assert "<script" not in page  # drawn on the server; nothing to run


def test_every_page_links_to_the_comparison(url: str) -> None:
    for path in ("/", "/id/actor/israel", "/dumps/", "/compare"):
        answer = httpx.get(url + path, headers=HTML, timeout=60)
        nav = re.search(r"<nav>.*?</nav>", answer.text, re.S)
        assert nav and 'href="/compare"' in nav.group(0), path
