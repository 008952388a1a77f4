"""Pytest plugin for the browser tests: Debian's chromium, headless, driven by Playwright.

``needs_browser`` skips a test (or a module, as ``pytestmark``) when the browser, its driver or
YASGUI is missing; ``chromium`` is one launched browser per test module.

Needs ``/usr/bin/chromium`` (``scripts/test.sh`` installs it) and YASGUI under
``service/pactgraph/ui/node_modules`` (``scripts/setup.sh`` runs ``npm ci``).
"""

from __future__ import annotations

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
