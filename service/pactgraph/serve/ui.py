"""``/``: the query page (YASGUI from our own origin), its example queries and the model picture.

Routes:

- ``/``                   the page: YASGUI bound to ``/sparql``, the research questions of
                          ``queries/*.rq`` as named examples with permalinks, links to the
                          dumps, the service description and the model picture.
- ``/ui/examples.json``   the examples: ``name`` (file stem), ``title``, ``description``, ``query``.
- ``/ui/static/<file>``   our own CSS and JavaScript (``service/pactgraph/ui/static``).
- ``/ui/vendor/<file>``   YASGUI's build files, from ``node_modules`` installed by
                          ``scripts/setup.sh`` (``npm ci``); never a CDN, never committed.
- ``/model.svg``          the model picture (``docs/model.svg``) when the data root has one.

Every file route looks names up in a table, so no request path reaches the filesystem. When
YASGUI is not installed the page still loads and says how to install it, and the examples
stay readable and linkable.

The handlers are ``async``: what they read (a template, the few ``.rq`` files) is small and
local, cheaper than a thread-pool hop per request.

Also exported for the other routers: :func:`prefers_html` (browser or API client?) and
:func:`render_page` (one Jinja environment, autoescaping, for every HTML page we serve).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from pactgraph.rdf.namespaces import prefixes
from pactgraph.serve import openapi
from pactgraph.settings import BASE_IRI, SETTINGS

router = APIRouter()

UI_DIR = Path(__file__).resolve().parents[1] / "ui"
TEMPLATES_DIR = UI_DIR / "templates"
STATIC_DIR = UI_DIR / "static"
YASGUI_BUILD = UI_DIR / "node_modules" / "@zazuko" / "yasgui" / "build"
CHARTJS_BUILD = UI_DIR / "node_modules" / "chart.js" / "dist"

# URL name -> (file, media type). Only these files are served; the source maps let a
# researcher debug the editor without us shipping anything else.
VENDOR_FILES: dict[str, tuple[Path, str]] = {
    "yasgui.min.js": (YASGUI_BUILD / "yasgui.min.js", "text/javascript"),
    "yasgui.min.css": (YASGUI_BUILD / "yasgui.min.css", "text/css"),
    "yasgui.min.js.map": (YASGUI_BUILD / "yasgui.min.js.map", "application/json"),
    # Chart.js draws the results' Chart view (static/charts.js); its UMD build needs no eval.
    "chart.umd.min.js": (CHARTJS_BUILD / "chart.umd.min.js", "text/javascript"),
    "chart.umd.min.js.map": (CHARTJS_BUILD / "chart.umd.min.js.map", "application/json"),
}
STATIC_FILES: dict[str, tuple[Path, str]] = {
    "app.js": (STATIC_DIR / "app.js", "text/javascript"),
    "charts.js": (STATIC_DIR / "charts.js", "text/javascript"),
    "style.css": (STATIC_DIR / "style.css", "text/css"),
}
# Our own files and the examples change with the checkout: always revalidate. The vendor
# build is linked as ``...?v=<yasgui version>``, so a browser may keep it for a day.
ASSET_CACHE_CONTROL = "no-cache"
VENDOR_CACHE_CONTROL = "public, max-age=86400"


def _file_responses(table: dict[str, tuple[Path, str]]) -> dict[int | str, dict[str, Any]]:
    """What a file route answers, for the OpenAPI description (pactgraph.serve.openapi)."""
    return {
        200: openapi.response("The file.", [media_type for _, media_type in table.values()]),
        **openapi.json_errors({404: "No such file (or not installed)."}),
    }


MODEL_PICTURE = "docs/model.svg"

# Header lines of a query file that describe it (``# title: ...``), in the order shown.
QUERY_HEADER_FIELDS: tuple[str, ...] = ("title", "description")

_ENV = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _accept_q(accept: str) -> dict[str, float]:
    """Media range -> q from an ``Accept`` header (malformed q-values count as 0).

    >>> _accept_q("text/html, application/json;q=0.5")
    {'text/html': 1.0, 'application/json': 0.5}
    """
    weights: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[media.lower()] = max(q, weights.get(media.lower(), 0.0))
    return weights


def prefers_html(request: Request) -> bool:
    """True when the client would rather read HTML than JSON (``?format=`` overrides).

    Browsers send ``text/html`` first; API clients send ``application/json``, ``*/*`` or
    nothing, and get JSON.
    """
    override = request.query_params.get("format")
    if override in {"html", "json"}:
        return override == "html"
    weights = _accept_q(request.headers.get("accept", ""))
    html = weights.get("text/html", 0.0)
    json = max(weights.get("application/json", 0.0), weights.get("*/*", 0.0))
    return html > 0 and html >= json


def render_page(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> Response:
    """Render one of ``ui/templates`` as an HTML response (autoescaped)."""
    context.setdefault("model_picture", model_picture() is not None)  # the nav links to it
    html = _ENV.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status_code)


@dataclass(frozen=True)
class Example:
    """A research question from ``queries/``: its file stem, header fields and text."""

    name: str
    title: str
    description: str
    query: str

    @cached_property
    def permalink(self) -> str:
        """The page URL that opens (and runs) this query in its own YASGUI tab."""
        return "/?" + urlencode({"query": self.query, "tabTitle": self.title})


def read_example(path: Path) -> Example:
    """An :class:`Example` from a ``.rq`` file's ``# title:`` / ``# description:`` lines.

    The title falls back to the file name, so a file without a header is still offered.
    Parsed once per version of the file (its mtime and size), not once per page view.
    """
    st = path.stat()
    return _read_example(path, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=256)
def _read_example(path: Path, mtime_ns: int, size: int) -> Example:
    text = path.read_text(encoding="utf-8")
    fields: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            if stripped:
                break  # the header is the leading comment block
            continue
        key, sep, value = stripped.lstrip("#").partition(":")
        key = key.strip().lower()
        if sep and key in QUERY_HEADER_FIELDS and key not in fields:
            fields[key] = value.strip()
    return Example(
        name=path.stem,
        title=fields.get("title") or path.stem,
        description=fields.get("description", ""),
        query=text,
    )


def list_examples(queries_dir: Path | None = None) -> list[Example]:
    """Every ``*.rq`` directly in ``queries_dir`` (not ``qc/``), by file name; [] when none.

    >>> list_examples(Path("/nonexistent"))
    []
    """
    folder = queries_dir or SETTINGS.queries_dir
    if not folder.is_dir():
        return []
    return [read_example(p) for p in sorted(folder.glob("*.rq")) if p.is_file()]


def yasgui_version() -> str | None:
    """The installed YASGUI's version (from its package.json), or None when not installed."""
    try:
        manifest = json.loads((YASGUI_BUILD.parent / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return str(manifest.get("version", "")) or None


def chartjs_version() -> str | None:
    """The installed Chart.js's version (from its package.json), or None when not installed."""
    try:
        manifest = json.loads((CHARTJS_BUILD.parent / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return str(manifest.get("version", "")) or None


def yasgui_installed() -> bool:
    """Whether ``npm ci`` has put YASGUI's build where ``/ui/vendor/`` looks for it."""
    return all(path.is_file() for path, _ in VENDOR_FILES.values() if path.suffix != ".map")


def model_picture() -> Path | None:
    """``docs/model.svg`` under the data root, when there is one."""
    path = SETTINGS.root / MODEL_PICTURE
    return path if path.is_file() else None


def _release_info(request: Request) -> dict[str, Any]:
    release = getattr(request.app.state, "release", None)
    if release is None:
        return {}
    return {"version": release.version, "triple_count": release.triple_count}


def page_config(examples: list[Example]) -> dict[str, Any]:
    """What the page's script is told (as JSON in the page): the graph's prefixes, the public
    base of its IRIs and the editor's first query (the first example, with its prefixes).

    >>> sorted(page_config([]))
    ['base', 'defaultQuery', 'prefixes']
    """
    return {
        "prefixes": prefixes(),
        "base": BASE_IRI,
        "defaultQuery": examples[0].query if examples else None,
    }


def render_index(request: Request) -> Response:
    """The query page; ``GET /sparql`` may return it to browsers too."""
    examples = list_examples()
    return render_page(
        request,
        "index.html",
        examples=examples,
        page_config=page_config(examples),
        yasgui=yasgui_installed(),
        yasgui_version=yasgui_version(),
        chartjs_version=chartjs_version(),
        model_picture=model_picture() is not None,
        release=_release_info(request),
    )


@router.get("/", response_class=HTMLResponse, name="ui_index")
async def index(request: Request) -> Response:
    """The query page."""
    return render_index(request)


@router.get(
    "/ui/examples.json",
    name="ui_examples",
    responses={200: {"content": {"application/json": {"schema": {"type": "array"}}}}},
)
async def examples() -> JSONResponse:
    """The example queries as JSON (what the page's script loads)."""
    return JSONResponse(
        [asdict(e) | {"permalink": e.permalink} for e in list_examples()],
        headers={"Cache-Control": ASSET_CACHE_CONTROL},
    )


def _serve(table: dict[str, tuple[Path, str]], name: str, cache_control: str) -> Response:
    entry = table.get(name)
    if entry is None or not entry[0].is_file():
        return JSONResponse({"error": f"not found: {name}"}, status_code=404)
    path, media_type = entry
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": cache_control})


@router.get(
    "/ui/vendor/{name}",
    name="ui_vendor",
    response_class=Response,
    responses=_file_responses(VENDOR_FILES),
)
async def vendor(name: str) -> Response:
    """YASGUI's installed build files (404 until ``npm ci`` has run)."""
    return _serve(VENDOR_FILES, name, VENDOR_CACHE_CONTROL)


@router.get(
    "/ui/static/{name}",
    name="ui_static",
    response_class=Response,
    responses=_file_responses(STATIC_FILES),
)
async def static(name: str) -> Response:
    """Our own page script and style."""
    return _serve(STATIC_FILES, name, ASSET_CACHE_CONTROL)


@router.get(
    "/model.svg",
    name="model_picture",
    response_class=Response,
    responses=_file_responses({"model.svg": (Path(MODEL_PICTURE), "image/svg+xml")}),
)
async def model_svg() -> Response:
    """The model picture from ``docs/model.svg`` (404 when the data root has none)."""
    path = model_picture()
    if path is None:
        return JSONResponse({"error": "not found: model.svg"}, status_code=404)
    return FileResponse(path, media_type="image/svg+xml")
