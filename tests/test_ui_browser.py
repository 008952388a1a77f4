"""The query page in a real headless browser: Debian's chromium driven by Playwright.

The real app serves the shipped release under uvicorn on a free loopback port; the page must
load YASGUI from our own origin, offer the ``queries/*.rq`` examples, run one and show its
rows, open a permalink, and never call another origin. The row counts the page shows are
checked against the same query sent to ``/sparql`` directly, so nothing here is hard-coded.

Needs ``/usr/bin/chromium`` (``scripts/test.sh`` installs it) and YASGUI under
``service/pactgraph/ui/node_modules`` (``scripts/setup.sh`` runs ``npm ci``).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from browser import (
    SCREENS,
    WAIT_MS,
    axe_problems,
    needs_browser,
    overlaps,
    screenshot,
    sideways_overflow,
)
from service_fixtures import serve

from pactgraph.rdf.namespaces import compact_iri
from pactgraph.release.published import Release
from pactgraph.serve import ui
from pactgraph.settings import BASE_IRI

# YASR's table shows this many rows per page by default.
YASR_PAGE_SIZE = 50


@pytest.fixture(scope="module")
def base_url(release: Release) -> Iterator[str]:
    with serve(release) as url:
        yield url


@pytest.fixture
def requested() -> list[str]:
    """Every URL the page asks for, in order."""
    return []


@pytest.fixture
def page(chromium: Any, base_url: str, requested: list[str]) -> Iterator[Any]:
    # A fresh context per test: YASGUI keeps its tabs in localStorage.
    context = chromium.new_context(base_url=base_url)
    pg = context.new_page()
    pg.on("request", lambda request: requested.append(request.url))
    yield pg
    context.close()


def _row_count(base_url: str, query: str) -> int | None:
    """Rows the endpoint itself returns for ``query``; None when it is not a SELECT."""
    r = httpx.post(
        base_url + "/sparql",
        data={"query": query},
        headers={"Accept": "application/sparql-results+json, text/turtle;q=0.5"},
        timeout=60,
    )
    r.raise_for_status()
    body = r.json() if r.headers["content-type"].startswith("application/sparql-results") else {}
    return len(body["results"]["bindings"]) if "results" in body else None


@pytest.fixture(scope="module")
def example(base_url: str) -> dict[str, Any]:
    """The first shipped example that returns rows (what a visitor would try first)."""
    examples = httpx.get(base_url + "/ui/examples.json", timeout=30).json()
    if not examples:
        pytest.skip("no queries/*.rq to offer as examples")
    for ex in examples:
        rows = _row_count(base_url, ex["query"])
        if rows:
            return {**ex, "rows": rows}
    pytest.fail("no example SELECT query returns any row on the shipped release")


def _visible_rows(page: Any) -> Any:
    return page.locator(".tabPanel.active .yasr table.dataTable tbody tr")


@needs_browser
def test_the_page_lists_every_example_and_links_the_rest(page: Any, base_url: str) -> None:
    page.goto("/")
    page.wait_for_selector("body[data-examples-ready=true]", timeout=WAIT_MS)
    examples = httpx.get(base_url + "/ui/examples.json", timeout=30).json()
    buttons = page.locator("button.example-open")
    assert buttons.count() == len(examples)
    assert [buttons.nth(i).inner_text() for i in range(buttons.count())] == [
        ex["title"] for ex in examples
    ]
    for href in ("/dumps/", "/sparql?format=ttl"):
        assert page.locator(f'a[href="{href}"]').count() >= 1
    model = page.locator('a[href="/model.svg"]')
    if model.count():
        assert httpx.get(base_url + "/model.svg", timeout=30).status_code == 200


@needs_browser
def test_running_an_example_shows_its_rows(
    page: Any, base_url: str, example: dict, requested: list[str]
) -> None:
    page.goto("/")
    page.wait_for_selector("body[data-examples-ready=true]", timeout=WAIT_MS)
    page.click(f'button.example-open[data-name="{example["name"]}"]')
    # The example opens in its own tab, named after the query's title, and runs.
    page.wait_for_selector(f'.tab.active:has-text("{example["title"][:40]}")', timeout=WAIT_MS)
    rows = _visible_rows(page)
    rows.first.wait_for(timeout=WAIT_MS)
    assert rows.count() == min(example["rows"], YASR_PAGE_SIZE)
    assert rows.first.locator("td").count() >= 2  # the row number plus at least one value
    chip = page.inner_text(".tabPanel.active .yasr_response_chip")
    assert f"{example['rows']} result" in chip
    # Everything came from this origin: YASGUI from /ui/vendor/, results from /sparql.
    others = [u for u in requested if not u.startswith((base_url, "data:"))]
    assert others == []
    assert any(u.startswith(base_url + "/ui/vendor/yasgui.min.js?v=") for u in requested)
    assert base_url + "/sparql" in requested


@needs_browser
def test_a_permalink_opens_and_runs_its_query(page: Any, base_url: str, example: dict) -> None:
    page.goto(example["permalink"])
    rows = _visible_rows(page)
    rows.first.wait_for(timeout=WAIT_MS)
    assert rows.count() == min(example["rows"], YASR_PAGE_SIZE)
    assert example["title"][:40] in page.inner_text(".tab.active")


@needs_browser
def test_a_typed_query_runs_against_this_service(page: Any, base_url: str) -> None:
    page.goto("/")
    page.wait_for_selector(".tabPanel.active .CodeMirror", timeout=WAIT_MS)
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    page.evaluate("q => { window.pactgraphYasgui.getTab().setQuery(q); }", query)
    page.locator(".tabPanel.active .yasqe_queryButton").click()
    rows = _visible_rows(page)
    rows.first.wait_for(timeout=WAIT_MS)
    assert rows.count() == min(_row_count(base_url, query), YASR_PAGE_SIZE)


@needs_browser
def test_a_crafted_link_cannot_retarget_the_page(
    page: Any, base_url: str, requested: list[str]
) -> None:
    """A permalink keeps only its query and title: no other endpoint, headers or settings,
    and the Content-Security-Policy would stop a request elsewhere anyway."""
    elsewhere = "http://127.0.0.1:9/sparql"
    crafted = (
        "/?query=SELECT%20%3Fs%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%20LIMIT%201"
        f"&endpoint={elsewhere}&headers=%7B%22X-Evil%22%3A%221%22%7D&outputSettings=%7B%7D"
    )
    response = page.goto(crafted)
    assert "connect-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    _visible_rows(page).first.wait_for(timeout=WAIT_MS)
    assert not [u for u in requested if u.startswith(elsewhere)]
    assert base_url + "/sparql" in requested
    assert "endpoint=" not in page.url and "headers=" not in page.url
    assert "query=" in page.url


NUMERIC = {
    "http://www.w3.org/2001/XMLSchema#" + name
    for name in ("integer", "decimal", "double", "float", "int", "long", "nonNegativeInteger")
}
ACTIVE = ".tabPanel.active"


def _bindings(base_url: str, query: str) -> dict[str, Any]:
    r = httpx.post(
        base_url + "/sparql",
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=60,
    )
    r.raise_for_status()
    return r.json()


def _cell_checks(page: Any, body: dict[str, Any]) -> None:
    """The table's first row shows each value of the endpoint's first row as a person reads it."""
    variables = body["head"]["vars"]
    first = body["results"]["bindings"][0]
    cells = page.locator(f"{ACTIVE} .yasr table.dataTable tbody tr").first.locator("td")
    for index, name in enumerate(variables, start=1):
        binding = first.get(name)
        cell = cells.nth(index)
        text = cell.inner_text().strip()
        assert "^^" not in text and '"' not in text, (name, text)
        if binding is None:
            continue
        if binding["type"] == "uri":
            link = cell.locator("a.iri")
            iri = binding["value"]
            expected = "/" + iri[len(BASE_IRI) :] if iri.startswith(BASE_IRI) else iri
            assert link.get_attribute("href") == expected
            assert link.inner_text().strip() == compact_iri(iri)
        elif binding.get("datatype") in NUMERIC:
            shown = text.replace(",", "").replace("\u2212", "-")
            assert float(shown) == float(binding["value"]), (name, text)
            assert "dt-right" in (cell.get_attribute("class") or "")
        elif binding.get("xml:lang"):
            assert cell.locator(".lit-lang").inner_text().strip() == binding["xml:lang"]
            assert text.startswith(binding["value"])


@needs_browser
@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_the_first_example_reads_like_a_results_page(
    chromium: Any, base_url: str, screen: str
) -> None:
    """The editor opens on the first example; run, its results read as values, in full, inside
    their pane; nothing covers the query; the page opens at its top and passes axe-core."""
    context = chromium.new_context(base_url=base_url, viewport=SCREENS[screen])
    try:
        page = context.new_page()
        page.goto("/")
        page.wait_for_selector("body[data-examples-ready=true]", timeout=WAIT_MS)
        page.wait_for_selector(f"{ACTIVE} .CodeMirror", timeout=WAIT_MS)
        assert page.evaluate("() => window.scrollY") == 0  # the introduction comes first
        first = httpx.get(base_url + "/ui/examples.json", timeout=30).json()[0]
        editor = page.evaluate("() => window.pactgraphYasgui.getTab().getQuery()")
        assert editor.strip() == first["query"].strip()
        assert axe_problems(page) == []

        page.click(f'button.example-open[data-name="{first["name"]}"]')
        _visible_rows(page).first.wait_for(timeout=WAIT_MS)
        page.wait_for_function("() => document.body.dataset.lastRun", timeout=WAIT_MS)
        body = _bindings(base_url, first["query"])
        # The run and share buttons cover no line of the query.
        assert overlaps(page, f"{ACTIVE} .yasqe_buttons button", f"{ACTIVE} .CodeMirror-line") == []
        assert sideways_overflow(page) <= 0
        # Every column header in full, in the query's order, after the row numbers' "#".
        headers = page.locator(f"{ACTIVE} .yasr table.dataTable thead th")
        texts = [headers.nth(i).inner_text().strip() for i in range(headers.count())]
        assert texts == ["#", *body["head"]["vars"]]
        cut = page.evaluate(
            """(sel) => [...document.querySelectorAll(sel)]
                .filter(th => th.scrollWidth > th.clientWidth + 1).map(th => th.innerText)""",
            f"{ACTIVE} .yasr table.dataTable thead th",
        )
        assert cut == []
        _cell_checks(page, body)
        # The table scrolls inside its pane, which the keyboard can reach.
        pane = page.locator(f"{ACTIVE} .yasr_results")
        assert pane.get_attribute("tabindex") == "0"
        # The browser's tab names the query that ran and its row count.
        rows = len(body["results"]["bindings"])
        assert page.title().startswith(f"{first['title']} ({rows} result")
        assert axe_problems(page) == []
        screenshot(page, f"query-example-01-{screen}")
    finally:
        context.close()


@needs_browser
def test_the_examples_and_the_editor_work_from_the_keyboard(page: Any, base_url: str) -> None:
    page.goto("/")
    page.wait_for_selector("body[data-examples-ready=true]", timeout=WAIT_MS)
    page.wait_for_selector(f"{ACTIVE} .CodeMirror", timeout=WAIT_MS)
    examples = httpx.get(base_url + "/ui/examples.json", timeout=30).json()
    second = examples[min(1, len(examples) - 1)]
    page.focus(f'button.example-open[data-name="{second["name"]}"]')
    page.keyboard.press("Enter")
    page.wait_for_selector(f'.tab.active:has-text("{second["title"][:30]}")', timeout=WAIT_MS)
    # Into the editor, type, run with Ctrl+Enter, and leave it with Esc.
    page.focus(f"{ACTIVE} .CodeMirror textarea")
    page.keyboard.press("Control+a")
    page.keyboard.type("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    page.evaluate("() => { delete document.body.dataset.lastRun; }")
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => document.body.dataset.lastRun", timeout=WAIT_MS)
    assert page.locator(f"{ACTIVE} .yasr table.dataTable thead th").nth(1).inner_text() == "n"
    page.focus(f"{ACTIVE} .CodeMirror textarea")
    page.keyboard.press("Escape")
    inside = page.evaluate("() => !!document.activeElement.closest('.CodeMirror')")
    assert not inside


TEMPORAL = {
    "http://www.w3.org/2001/XMLSchema#" + name for name in ("date", "dateTime", "gYear")
}


def _chartable(base_url: str, examples: list[dict[str, Any]], over_time: bool) -> dict | None:
    """The first example whose rows carry a number and (or, if not ``over_time``, no) date."""
    for ex in examples:
        try:
            body = _bindings(base_url, ex["query"])
        except httpx.HTTPError:
            continue
        rows = body.get("results", {}).get("bindings", [])
        if len(rows) < 2:
            continue

        def every(name: str, types: set[str], rows: list = rows) -> bool:
            bound = [r[name] for r in rows if name in r]
            return bool(bound) and all(b.get("datatype") in types for b in bound)

        names = body["head"]["vars"]
        numeric = [n for n in names if every(n, NUMERIC)]
        dated = [n for n in names if every(n, TEMPORAL)]
        if numeric and bool(dated) == over_time:
            return {**ex, "rows": len(rows)}
    return None


@needs_browser
@pytest.mark.parametrize("over_time", [True, False], ids=["series", "categories"])
def test_results_that_are_a_series_or_counts_show_as_a_chart(
    page: Any, base_url: str, over_time: bool
) -> None:
    examples = httpx.get(base_url + "/ui/examples.json", timeout=30).json()
    example = _chartable(base_url, examples, over_time)
    if example is None:
        pytest.skip("no example of this shape in the shipped queries")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/")
    page.wait_for_selector("body[data-examples-ready=true]", timeout=WAIT_MS)
    page.click(f'button.example-open[data-name="{example["name"]}"]')
    _visible_rows(page).first.wait_for(timeout=WAIT_MS)
    page.locator(f"{ACTIVE} .select_chart").click()
    canvas = page.locator(f"{ACTIVE} .pactgraph-chart canvas")
    canvas.wait_for(timeout=WAIT_MS)
    drawn = page.evaluate(
        """(el) => { const c = Chart.getChart(el); return c && {
            type: c.config.type,
            points: c.data.datasets.reduce((n, d) => n + d.data.length, 0) }; }""",
        canvas.element_handle(),
    )
    assert drawn["type"] == ("scatter" if over_time else "bar")
    assert drawn["points"] > 0
    assert canvas.get_attribute("role") == "img" and canvas.get_attribute("aria-label")
    box = canvas.bounding_box()
    assert box["width"] > 200 and box["height"] > 200
    # Chart.js came from this origin and ran under the page's policy: no CSP report, no error.
    assert problems == []
    assert axe_problems(page) == []
    screenshot(page, f"query-chart-{'series' if over_time else 'categories'}")


# Server-side behaviour of the page, without a browser (the real app, in process).


def _get(app: Any, path: str) -> httpx.Response:
    # ASGITransport runs no lifespan, so the app's worker pool is never started.
    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)

    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, fetch).result()


def test_without_yasgui_the_page_says_how_to_install_it(
    mini_release: Release, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pactgraph.serve.app import create_app

    missing = {name: (tmp_path / name, media) for name, (_, media) in ui.VENDOR_FILES.items()}
    monkeypatch.setattr(ui, "VENDOR_FILES", missing)
    app = create_app(mini_release)
    page = _get(app, "/")
    assert page.status_code == 200
    assert 'id="no-editor"' in page.text
    assert "npm ci --prefix service/pactgraph/ui" in page.text
    assert "yasgui.min.js" not in page.text
    assert _get(app, "/ui/vendor/yasgui.min.js").status_code == 404


def test_examples_come_from_the_query_files(tmp_path: Path) -> None:
    (tmp_path / "02-second.rq").write_text(
        "# title: Second question\n# description: What it asks.\nASK {}\n", encoding="utf-8"
    )
    (tmp_path / "01-untitled.rq").write_text("ASK {}\n", encoding="utf-8")
    (tmp_path / "qc").mkdir()
    (tmp_path / "qc" / "check.rq").write_text("# title: not an example\nASK {}\n")
    examples = ui.list_examples(tmp_path)
    assert [(e.name, e.title, e.description) for e in examples] == [
        ("01-untitled", "01-untitled", ""),
        ("02-second", "Second question", "What it asks."),
    ]
    assert examples[1].query.endswith("ASK {}\n")
    assert ui.list_examples(tmp_path / "nothing-here") == []


def test_vendor_and_static_routes_serve_only_their_tables(mini_release: Release) -> None:
    from pactgraph.serve.app import create_app

    app = create_app(mini_release)
    for path in ("/ui/static/app.js", "/ui/static/style.css"):
        assert _get(app, path).status_code == 200
    for path in (
        "/ui/static/index.html",
        "/ui/vendor/package.json",
        "/ui/static/..%2fpackage.json",
    ):
        assert _get(app, path).status_code == 404
