"""Pytest plugin for the browser tests: Debian's chromium, headless, driven by Playwright.

``needs_browser`` skips a test (or a module, as ``pytestmark``) when the browser, its driver or
YASGUI is missing; ``chromium`` is one launched browser per test module. :func:`axe_problems`
runs axe-core (pinned in ``service/pactgraph/ui/package.json``, installed by ``npm ci``) on a
page; :func:`no_sideways_scroll` and :func:`overlaps` measure a page's layout;
:func:`screenshot` writes a picture of the page to :data:`SCREENSHOTS` (git-ignored, or
``$PACTGRAPH_SCREENSHOTS``) for a person to look at.

Needs ``/usr/bin/chromium`` (``scripts/test.sh`` installs it) and YASGUI under
``service/pactgraph/ui/node_modules`` (``scripts/setup.sh`` runs ``npm ci``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pactgraph.serve import ui

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# How long a page may take to show what a test waits for.
WAIT_MS = 30_000
# The two screens every page is tried on: a laptop and a phone.
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENS = {"desktop": DESKTOP, "phone": PHONE}
AXE = ui.UI_DIR / "node_modules" / "axe-core" / "axe.min.js"
# Impacts a page of ours may not have (axe's "minor" and "moderate" are reported, not failed).
AXE_FAILING = ("serious", "critical")
REPOSITORY = Path(__file__).resolve().parents[1]
SCREENSHOTS = Path(os.environ.get("PACTGRAPH_SCREENSHOTS", REPOSITORY / "test-screenshots"))

try:
    from playwright import sync_api as playwright_api
except ImportError:  # the ``test`` extra brings it; without it the browser tests are skipped
    playwright_api = None

needs_browser = pytest.mark.skipif(
    playwright_api is None or not CHROMIUM.exists() or not ui.yasgui_installed(),
    reason="needs playwright, /usr/bin/chromium and YASGUI (scripts/setup.sh, scripts/test.sh)",
)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A headless chromium for the module's tests (each test opens its own context)."""
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def axe_problems(page: Any, exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page, as ``{id, impact, targets}``.

    axe is evaluated through the browser's debugging protocol, which the page's
    Content-Security-Policy does not govern (the page itself never loads it). ``exclude``
    lists CSS selectors of regions that are not ours to fix.
    """
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (scripts/setup.sh runs npm ci)")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        """async (exclude) => {
            const context = exclude.length ? {include: [document], exclude: exclude.map(s => [s])}
                                           : document;
            const result = await axe.run(context, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
            }));
        }""",
        list(exclude),
    )
    return [v for v in found if v["impact"] in AXE_FAILING]


def sideways_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the window (0 or less: it fits)."""
    return int(page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth"))


def overlaps(page: Any, controls: str, text: str) -> list[str]:
    """Visible elements matching ``controls`` whose box intersects one matching ``text``."""
    return list(
        page.evaluate(
            """([controls, text]) => {
                const boxes = sel => [...document.querySelectorAll(sel)]
                    .map(e => [e, e.getBoundingClientRect()])
                    .filter(([e, r]) => r.width > 0 && r.height > 0);
                const hit = (a, b) => a.left < b.right && b.left < a.right
                                   && a.top < b.bottom && b.top < a.bottom;
                const lines = boxes(text);
                return boxes(controls)
                    .filter(([e, r]) => lines.some(([l, lr]) => hit(r, lr)))
                    .map(([e]) => e.className || e.tagName);
            }""",
            [controls, text],
        )
    )


def screenshot(page: Any, name: str) -> Path:
    """Write the whole page as ``SCREENSHOTS/<name>.png`` (for a person; never compared)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
