"""Entity pages in a real browser: Debian's chromium driven by Playwright, the real app.

A visitor opens an instrument's page, follows a party to the actor's page and a source to the
document's page (whose own web address is shown as a link), and opens the query editor from
the page: the editor holds a query about the instrument and shows as many rows as
``/sparql`` gives for that query. The page reads on a phone-sized screen without sideways
scrolling. The browser launcher and its skip conditions come from the ``browser`` plugin.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from browser import SCREENS, WAIT_MS, axe_problems, needs_browser, screenshot, sideways_overflow
from service_fixtures import serve

from pactgraph.release.published import Release

# A key slug of the model contract (ontology/README.md): the 2016 memorandum.
INSTRUMENT = "/id/instrument/mou-fy2019-fy2028"
PHONE = {"width": 390, "height": 844}

pytestmark = needs_browser


@pytest.fixture(scope="module")
def base_url(release: Release) -> Iterator[str]:
    with serve(release) as url:
        yield url


@pytest.fixture
def page(chromium: Any, base_url: str) -> Iterator[Any]:
    context = chromium.new_context(base_url=base_url)
    pg = context.new_page()
    yield pg
    context.close()


def _heading(page: Any) -> str:
    return page.locator("main article h1").first.inner_text().strip()


def test_follow_an_instrument_to_an_actor_and_a_source(page: Any, base_url: str) -> None:
    page.goto(INSTRUMENT)
    title = _heading(page)
    assert title
    assert page.locator("section.obligations li.obligation").count() >= 1

    # a party of the instrument, from its Properties list
    party = page.locator('dl.facts dt:has-text("party") + dd a').first
    party_name = party.inner_text().strip()
    party.click()
    page.wait_for_url("**/id/actor/**", timeout=WAIT_MS)
    assert _heading(page) == party_name
    # the actor's page links back to the instrument it is party to
    assert page.locator(f'a[href="{INSTRUMENT}"]').count() >= 1

    page.go_back()
    page.wait_for_url(f"**{INSTRUMENT}", timeout=WAIT_MS)
    source = page.locator('section.sources li.source a[href*="/id/source/"]').first
    source_name = source.inner_text().strip()
    source.click()
    page.wait_for_url("**/id/source/**", timeout=WAIT_MS)
    assert _heading(page) == source_name
    # the document's own address, as a link off this site
    external = page.locator('dl.facts a[href^="http"]:not([href^="' + base_url + '"])')
    assert external.count() >= 1


def test_open_the_query_editor_from_the_page(page: Any, base_url: str) -> None:
    page.goto(INSTRUMENT)
    link = page.locator("a.query-link")
    href = link.get_attribute("href")
    query = parse_qs(urlparse(href).query)["query"][0]
    assert "https://w3id.org/pactgraph" + INSTRUMENT in query
    expected = httpx.post(
        base_url + "/sparql",
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=60,
    ).json()["results"]["bindings"]
    assert expected

    link.click()
    page.wait_for_url(f"{base_url}/?*", timeout=WAIT_MS)
    page.wait_for_selector(".tabPanel.active .CodeMirror", timeout=WAIT_MS)
    editor = page.evaluate("() => window.pactgraphYasgui.getTab().getQuery()")
    assert editor.strip() == query.strip()
    chip = page.locator(".tabPanel.active .yasr_response_chip")
    chip.wait_for(timeout=WAIT_MS)
    page.wait_for_function(
        "() => /\\d+ result/.test(document.querySelector('.tabPanel.active"
        " .yasr_response_chip')?.innerText || '')",
        timeout=WAIT_MS,
    )
    assert f"{len(expected)} result" in chip.inner_text()


def test_the_page_fits_a_phone(chromium: Any, base_url: str) -> None:
    context = chromium.new_context(base_url=base_url, viewport=PHONE)
    try:
        page = context.new_page()
        for path in (INSTRUMENT, "/id/actor/israel", "/ontology"):
            page.goto(path)
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, path
            assert page.locator("main h1").count() >= 1
            assert page.locator("main table").count() == 0  # no layout tables
    finally:
        context.close()


STATE = "/id/actor/israel"
# The instruments of the state with a dated status change that concerns it (all parties, or it).
DATED_INSTRUMENTS = """
PREFIX pact: <https://w3id.org/pactgraph/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
SELECT (COUNT(DISTINCT ?instrument) AS ?n) WHERE {
  { ?instrument pact:party ?who }
  UNION { ?provision pact:arisesUnder ?instrument ; pact:beneficiary|pact:bearer ?who }
  ?who org:subOrganizationOf* <https://w3id.org/pactgraph%s> .
  ?change pact:statusOf ?instrument ; pact:toStatus ?to ; pact:statusDate ?date .
  FILTER NOT EXISTS {
    ?change pact:statusFor ?for .
    FILTER NOT EXISTS { ?for org:subOrganizationOf* <https://w3id.org/pactgraph%s> }
  }
}
"""


@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_a_state_page_opens_with_a_summary_and_a_timeline(
    chromium: Any, base_url: str, screen: str
) -> None:
    context = chromium.new_context(base_url=base_url, viewport=SCREENS[screen])
    try:
        page = context.new_page()
        page.goto(STATE)
        summary = page.locator("main section.summary")
        assert summary.count() == 1
        # The summary comes before the cards.
        first_section = page.locator("main article > section").first
        assert first_section.get_attribute("class") == "summary"
        assert summary.locator("h3:has-text('Instruments by kind') + ul li").count() >= 1
        timeline = summary.locator("svg.timeline")
        assert timeline.count() == 1
        assert timeline.locator("title").first.text_content().strip()
        assert timeline.locator("desc").first.text_content().strip()
        # One linked row per instrument with a dated history, as /sparql counts them.
        expected = httpx.post(
            base_url + "/sparql",
            data={"query": DATED_INSTRUMENTS % (STATE, STATE)},
            headers={"Accept": "application/sparql-results+json"},
            timeout=60,
        ).json()["results"]["bindings"][0]["n"]["value"]
        rows = timeline.locator("g.row")
        assert rows.count() == int(expected) > 0
        href = rows.first.locator("a").get_attribute("href")
        assert href.startswith("/id/instrument/")
        assert httpx.get(base_url + href, headers={"Accept": "text/html"}).status_code == 200
        assert sideways_overflow(page) <= 0
        assert axe_problems(page) == []
        screenshot(page, f"state-israel-{screen}")
    finally:
        context.close()


def test_a_state_page_is_the_same_bytes_every_time(base_url: str) -> None:
    """The server-drawn timeline has no clock or random ids: the ETag holds."""
    first = httpx.get(base_url + STATE, headers={"Accept": "text/html"}, timeout=30)
    second = httpx.get(base_url + STATE, headers={"Accept": "text/html"}, timeout=30)
    assert "<svg" in first.text
    assert first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]
    again = httpx.get(
        base_url + STATE,
        headers={"Accept": "text/html", "If-None-Match": first.headers["etag"]},
        timeout=30,
    )
    assert again.status_code == 304


@pytest.mark.parametrize("screen", sorted(SCREENS))
@pytest.mark.parametrize("path", ["/ontology", "/shapes", "/dumps/"])
def test_the_documentation_pages_fit_and_pass_axe(
    chromium: Any, base_url: str, path: str, screen: str
) -> None:
    context = chromium.new_context(base_url=base_url, viewport=SCREENS[screen])
    try:
        page = context.new_page()
        page.goto(path)
        assert sideways_overflow(page) <= 0
        assert axe_problems(page) == []
        if path == "/ontology" and page.locator("#diagram svg").count():
            # The model diagram's labels are legible at the page's default size.
            sizes = page.evaluate(
                """() => [...document.querySelectorAll('#diagram svg text')]
                    .map(t => t.getBoundingClientRect().height).filter(h => h > 0)"""
            )
            assert sizes and min(sizes) >= 12
        if path == "/shapes":
            shapes = httpx.get(base_url + "/shapes?format=ttl", timeout=30).text
            named = shapes.count("a sh:NodeShape") or shapes.count("sh:NodeShape")
            sections = page.locator("section.shape")
            assert sections.count() >= 1 and sections.count() <= named
            assert page.locator("section.shape li.prop .cardinality").count() >= sections.count()
            assert "_:" not in page.locator("main").inner_text()
        screenshot(page, f"{path.strip('/').replace('/', '-') or 'index'}-{screen}")
    finally:
        context.close()
