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
from browser import WAIT_MS, needs_browser
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
