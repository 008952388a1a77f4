"""``/compare``: every partner against the strength of the United States' commitment to it.

The rows are those of the example query ``queries/25-partners-by-strongest-commitment.rq``
(one row per partner state: its strongest US commitment in force, the provision and the
instrument), run on the release's asserted data by :func:`pactgraph.serve.summary.strength_rows`
— the same rows a state's page shows as its "strongest commitment". The levels, their order
and their rationale are the commitment-strength scheme's concepts (``pact:strengthRank``,
``skos:prefLabel``, ``skos:definition``, ``skos:scopeNote``), read from the same data.

The page is drawn on the server (:func:`pactgraph.render.figures.strength_svg`), needs no
JavaScript, links every mark to its entity page, lists the same rows in a table, and is the
same bytes for a release (its ETag gives 304s). The rows are offered as CSV and JSON through
``/sparql`` running query 25 itself.

>>> first_sentence("Ranked first because x: y. In the data: z.")
'Ranked first because x: y.'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from pactgraph.rdf.namespaces import PACT
from pactgraph.render.figures import StrengthPoint, strength_svg
from pactgraph.render.html import render
from pactgraph.serve import openapi
from pactgraph.serve.linked_data import (
    CACHE_CONTROL,
    _data,
    _etag,
    _fresh,
    _linker,
    _model_picture,
    _version,
)
from pactgraph.serve.pages import SKOS, LinkedData, Linker, Value, _value
from pactgraph.serve.summary import STRENGTH_QUERY, strength_rows
from pactgraph.settings import BASE_IRI, SETTINGS

router = APIRouter()

# The case the graph started from (a key slug of the model contract, ontology/README.md):
# drawn apart on the chart and named at the top of the page.
HIGHLIGHT = BASE_IRI + "id/actor/israel"
STRENGTH_RANK = ox.NamedNode(PACT + "strengthRank")
DEFINITION = ox.NamedNode(SKOS + "definition")
SCOPE_NOTE = ox.NamedNode(SKOS + "scopeNote")
_SENTENCE = re.compile(r"^(.+?[.!?])(?:\s+(?=[A-Z])|$)", re.S)


def first_sentence(text: str) -> str:
    """The first sentence of a note (the whole text when it has one sentence)."""
    match = _SENTENCE.match(text.strip())
    return match.group(1) if match else text.strip()


@dataclass(frozen=True)
class Level:
    """One level of the commitment-strength scheme, with the partners the query puts there."""

    rank: int
    concept: Value
    definition: str
    rationale: str  # the first sentence of the level's scope note: why it sits where it does
    scope_note: str
    partners: list[Value]


@dataclass(frozen=True)
class Row:
    """One row of query 25, as the page's table shows it."""

    partner: Value
    rank: int
    strength: Value
    provision: Value | None
    instrument: Value | None
    highlight: bool


@dataclass(frozen=True)
class Comparison:
    """Everything ``compare.html`` shows."""

    levels: list[Level]
    rows: list[Row]
    figure: str
    highlight: Row | None
    stronger: int  # partners at a stronger rank than the highlighted one
    same: int  # other partners at its rank
    weaker: int
    links: dict[str, str]


def strength_levels(data: LinkedData, linker: Linker) -> list[tuple[int, ox.NamedNode, Value]]:
    """Every concept with a ``pact:strengthRank``, strongest first: ``(rank, node, value)``."""
    found = []
    for triple in data.triples(None, STRENGTH_RANK):
        if isinstance(triple.subject, ox.NamedNode) and isinstance(triple.object, ox.Literal):
            found.append((int(triple.object.value), triple.subject))
    return [(rank, node, _value(data, node, linker)) for rank, node in sorted(set(found))]


def _text(data: LinkedData, node: ox.NamedNode, predicate: ox.NamedNode) -> str:
    values = [o for o in data.objects(node, predicate) if isinstance(o, ox.Literal)]
    english = [v for v in values if v.language in (None, "en")]
    return (english or values)[0].value if values else ""


def query_links(queries_text: str) -> dict[str, str]:
    """Where query 25's rows can be had: CSV and JSON from ``/sparql``, and the editor.

    >>> sorted(query_links("SELECT * {}"))
    ['csv', 'editor', 'json']
    """
    return {
        "csv": "/sparql?" + urlencode({"query": queries_text, "format": "csv"}),
        "json": "/sparql?" + urlencode({"query": queries_text, "format": "json"}),
        "editor": "/?" + urlencode({"query": queries_text, "tabTitle": "Partners by strength"}),
    }


def comparison(data: LinkedData, linker: Linker) -> Comparison:
    """The comparison page's model: query 25's rows placed on the scheme's levels."""
    rows = []
    for r in strength_rows(data):
        if "partner" not in r or "rank" not in r:
            continue
        rows.append(
            Row(
                partner=_value(data, r["partner"], linker),
                rank=int(r["rank"].value),
                strength=_value(data, r["strength"], linker),
                provision=_value(data, r["provision"], linker) if "provision" in r else None,
                instrument=_value(data, r["instrument"], linker) if "instrument" in r else None,
                highlight=r["partner"].value == HIGHLIGHT,
            )
        )
    rows.sort(key=lambda row: (row.rank, row.partner.text.lower(), row.partner.iri or ""))
    levels = []
    for rank, node, concept in strength_levels(data, linker):
        scope = _text(data, node, SCOPE_NOTE)
        levels.append(
            Level(
                rank=rank,
                concept=concept,
                definition=_text(data, node, DEFINITION),
                rationale=first_sentence(scope) if scope else "",
                scope_note=scope,
                partners=[row.partner for row in rows if row.rank == rank],
            )
        )
    points = [
        StrengthPoint(
            label=row.partner.text,
            href=row.partner.href or "",
            rank=row.rank,
            level=row.strength.text,
            detail=row.instrument.text if row.instrument else "",
            detail_href=row.instrument.href or "" if row.instrument else "",
            highlight=row.highlight,
        )
        for row in rows
    ]
    figure = strength_svg(
        points,
        [(level.rank, level.concept.text) for level in levels],
        "Partners by the strength of the United States' commitment to each",
        f"{len(rows)} partner states in {len(levels)} columns, one per level of the"
        " commitment-strength scale, strongest on the left. Each name links to the state's"
        " page; the highlighted name is Israel.",
        "strength",
    )
    mine = next((row for row in rows if row.highlight), None)
    path = SETTINGS.queries_dir / STRENGTH_QUERY
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    return Comparison(
        levels=levels,
        rows=rows,
        figure=figure,
        highlight=mine,
        stronger=sum(1 for row in rows if mine and row.rank < mine.rank),
        same=sum(1 for row in rows if mine and row.rank == mine.rank and not row.highlight),
        weaker=sum(1 for row in rows if mine and row.rank > mine.rank),
        links=query_links(text) if text else {},
    )


@router.api_route(
    "/compare",
    methods=["GET", "HEAD"],
    name="compare",
    response_class=HTMLResponse,
    responses={
        200: openapi.response("The comparison page (HTML).", [openapi.HTML]),
        **openapi.NOT_MODIFIED,
    },
    summary="Partners by the strength of the US commitment to each (HTML)",
)
def compare(request: Request) -> Response:
    """The comparison page: a server-drawn chart and a table of query 25's rows."""
    data, linker = _data(request), _linker(request)
    body = render(
        "compare.html",
        page=comparison(data, linker),
        version=_version(request),
        model_picture=_model_picture(),
    ).encode("utf-8")
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": _etag(_version(request), "compare", body)}
    if _fresh(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return Response(body, 200, headers, media_type="text/html; charset=utf-8")
