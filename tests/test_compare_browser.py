"""``/compare`` in a real browser (Debian's chromium driven by Playwright), on the real app.

At a laptop's and a phone's width: the page does not scroll sideways (the chart scrolls inside
its own frame), Israel's mark is drawn, highlighted and reachable in the frame, every mark is
a link that a click follows to the partner's page, and axe-core finds no serious or critical
issue. A screenshot of each is written for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser import SCREENS, WAIT_MS, axe_problems, needs_browser, screenshot, sideways_overflow
from service_fixtures import serve

from pactgraph.release.published import Release

pytestmark = needs_browser

ISRAEL = "/id/actor/israel"


@pytest.fixture(scope="module")
def base_url(release: Release) -> Iterator[str]:
    with serve(release) as url:
        yield url


@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_the_comparison_page_fits_shows_israel_and_links_every_mark(
    chromium: Any, base_url: str, screen: str
) -> None:
    context = chromium.new_context(base_url=base_url, viewport=SCREENS[screen])
    try:
        page = context.new_page()
        page.goto("/compare")
        assert page.locator("main h1").count() == 1
        assert sideways_overflow(page) <= 0
        chart = page.locator("main figure svg.strength")
        assert chart.count() == 1
        assert chart.locator("title").first.text_content().strip()
        marks = chart.locator("a.mark")
        count = marks.count()
        # one mark per row of the table, every one a link to a page of ours
        assert count == page.locator("table.partners tbody tr").count() > 0
        hrefs = marks.evaluate_all("els => els.map(a => a.getAttribute('href'))")
        assert all(h.startswith("/id/actor/") for h in hrefs)
        assert len(set(hrefs)) == count

        israel = chart.locator(f'a.mark.highlight[href="{ISRAEL}"]')
        assert israel.count() == 1
        box = israel.locator("rect").bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0
        colour = israel.locator("rect").evaluate("r => getComputedStyle(r).fill")
        other = chart.locator("a.mark:not(.highlight) text").first
        assert colour not in ("none", "", "rgba(0, 0, 0, 0)")
        assert israel.locator("text").evaluate("t => getComputedStyle(t).fontWeight") != (
            other.evaluate("t => getComputedStyle(t).fontWeight")
        )
        # Israel's mark is in view once its frame is scrolled to it, without the page itself
        # scrolling sideways; its place is also stated in words at the top of the page.
        israel.scroll_into_view_if_needed()
        box = israel.bounding_box()
        viewport = SCREENS[screen]
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]
        assert sideways_overflow(page) <= 0
        assert page.locator("section.highlight-summary").is_visible()

        assert axe_problems(page) == []
        page.evaluate("() => window.scrollTo(0, 0)")
        screenshot(page, f"compare-{screen}")

        # A mark is a real link: following it opens the partner's page.
        israel.click()
        page.wait_for_url(f"**{ISRAEL}", timeout=WAIT_MS)
        assert page.locator("main article h1").first.inner_text().strip() == "Israel"
    finally:
        context.close()


def test_the_comparison_page_works_without_javascript(chromium: Any, base_url: str) -> None:
    context = chromium.new_context(base_url=base_url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/compare")
        assert page.locator("main figure svg.strength a.mark").count() > 0
        assert page.locator(f'svg.strength a.mark.highlight[href="{ISRAEL}"]').is_visible()
    finally:
        context.close()
