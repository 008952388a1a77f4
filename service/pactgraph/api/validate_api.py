"""``POST /validate``: check your own RDF against pactgraph's SHACL shapes.

The body is Turtle, N-Triples or JSON-LD, told apart by ``Content-Type``
(:data:`INPUT_FORMATS`), and at most ``ServiceConfig.max_body_size`` bytes (413 beyond). It is
parsed by pyoxigraph, which never fetches anything: a JSON-LD remote ``@context`` is an error,
not a download. RDF/XML is refused with 415 (it is the format that carries external entities,
so it is not parsed at all). A parse error is a 400 with the parser's message (line and
column). The report comes back in the format ``Accept`` (or ``?format=``) asks for
(:data:`REPORT_FORMATS`): the SHACL report graph in Turtle or JSON-LD, a JSON summary, a
readable HTML page, or plain text; each gives ``conforms`` and every violation's focus node,
path and message. The validation itself is :func:`pactgraph.validate.validate_graph`, the same
one every release passes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from pactgraph.api import openapi
from pactgraph.api.pages import render
from pactgraph.api.sparql import ProtocolError, parse_accept, quality, read_body
from pactgraph.namespaces import prefixes
from pactgraph.validate import ValidationReport, compact, validate_graph

router = APIRouter()

# Content-Type -> parser. Only syntaxes whose parsing never reaches outside the request.
INPUT_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}
# Refused with a reason rather than a bare 415.
REFUSED_INPUTS: dict[str, str] = {
    "application/rdf+xml": "RDF/XML is not accepted (XML external entities are not something "
    "this service will resolve); convert it to Turtle, N-Triples or JSON-LD first.",
}
JSONLD_HINT = " Remote JSON-LD contexts are never fetched here: put the context inline."


def _json_summary(report: ValidationReport) -> bytes:
    summary: dict[str, object] = {
        "conforms": report.conforms,
        "violations": [
            {
                "focus_node": compact(v.focus_node),
                "path": compact(v.path) if v.path is not None else None,
                "message": v.message,
                "severity": v.severity,
                "constraint": v.component,
                "shape": compact(v.shape) if v.shape is not None else None,
                "value": compact(v.value) if v.value is not None else None,
            }
            for v in report.violations
        ],
    }
    if report.total_results is not None:  # only a cut report has it: the list is partial
        summary["truncated"] = {
            "total_results": report.total_results,
            "reported_results": len(report.violations),
            "message": report.cut_notice,
        }
    return json.dumps(summary, indent=2).encode("utf-8")


def _jsonld(report: ValidationReport) -> bytes:
    text = report.results_graph.serialize(format="json-ld", context=prefixes(), auto_compact=True)
    return text.encode("utf-8")


def _html(report: ValidationReport) -> bytes:
    rows = [
        {
            "focus_node": compact(v.focus_node),
            "path": compact(v.path),
            "message": v.message,
            "severity": v.severity,
            "constraint": v.component,
            "value": compact(v.value) if v.value is not None else None,
        }
        for v in report.violations
    ]
    from pactgraph.api.ui import model_picture

    page = render(
        "validation.html",
        report=report,
        violations=rows,
        model_picture=model_picture() is not None,
    )
    return page.encode("utf-8")


@dataclass(frozen=True)
class ReportFormat:
    """One way to write the report: its media type and writer."""

    media_type: str
    write: Callable[[ValidationReport], bytes]

    @property
    def content_type(self) -> str:
        text = self.media_type.startswith("text/")
        return f"{self.media_type}; charset=utf-8" if text else self.media_type


# ``?format=`` name -> format; the first is the default (and wins ties such as ``*/*``).
REPORT_FORMATS: dict[str, ReportFormat] = {
    "ttl": ReportFormat("text/turtle", lambda r: r.as_turtle().encode("utf-8")),
    "jsonld": ReportFormat("application/ld+json", _jsonld),
    "json": ReportFormat("application/json", _json_summary),
    "html": ReportFormat("text/html", _html),
    "txt": ReportFormat("text/plain", lambda r: (r.as_text() + "\n").encode("utf-8")),
}


def choose_report_format(accept: str | None, format_param: str | None) -> str | None:
    """The report format for ``?format=`` or ``Accept``; ``None`` when nothing fits.

    >>> choose_report_format("text/html,*/*;q=0.8", None), choose_report_format(None, None)
    ('html', 'ttl')
    >>> choose_report_format("application/json", None), choose_report_format("*/*", "txt")
    ('json', 'txt')
    """
    if format_param is not None:
        return format_param if format_param in REPORT_FORMATS else None
    if not accept or not accept.strip():
        return next(iter(REPORT_FORMATS))
    ranges = parse_accept(accept)
    best, best_q = None, 0.0
    for name, fmt in REPORT_FORMATS.items():
        q = quality(fmt.media_type, (), ranges)
        if q > best_q:
            best, best_q = name, q
    return best


def parse_input(body: bytes, media_type: str) -> ox.Dataset:
    """Parse the posted RDF (raises :class:`ProtocolError` 400/415 with a reason)."""
    if media_type in REFUSED_INPUTS:
        raise ProtocolError(415, REFUSED_INPUTS[media_type])
    fmt = INPUT_FORMATS.get(media_type)
    if fmt is None:
        accepted = ", ".join(INPUT_FORMATS)
        raise ProtocolError(
            415, f"Unsupported Content-Type {media_type!r}; send one of {accepted}."
        )
    try:
        return ox.Dataset(ox.parse(body, format=fmt))
    except SyntaxError as error:
        hint = JSONLD_HINT if fmt == ox.RdfFormat.JSON_LD else ""
        raise ProtocolError(
            400, f"Could not parse the {media_type} body: {error}.{hint}"
        ) from error


def to_rdflib(quads: ox.Dataset):  # -> rdflib.Graph (imported lazily)
    """The triples of every graph of ``quads`` as one rdflib Graph (what pySHACL takes)."""
    from rdflib import Graph

    triples = {q.triple for q in quads}
    graph = Graph()
    graph.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"", format="nt")
    return graph


# The OpenAPI description (pactgraph.api.openapi): the RDF body, the report formats, errors.
VALIDATE_RESPONSES: openapi.Responses = {
    200: openapi.response(
        "The SHACL report (X-SHACL-Conforms says whether the data conforms).",
        [f.media_type for f in REPORT_FORMATS.values()],
    ),
    **openapi.json_errors(
        {
            400: "The body does not parse (the parser's message, with line and column).",
            406: "Neither Accept nor ?format= names a report format offered.",
            413: "The body is over the endpoint's limit.",
            415: "Content-Type is not Turtle, N-Triples or JSON-LD (RDF/XML is refused).",
        }
    ),
}
VALIDATE_REQUEST = {
    "parameters": openapi.query_parameters(
        {"format": f"Report format, one of {', '.join(REPORT_FORMATS)}; overrides Accept."}
    ),
    "requestBody": {
        "required": True,
        "content": openapi.content(INPUT_FORMATS, {"type": "string"}),
    },
}


@router.post(
    "/validate",
    name="validate",
    response_class=Response,
    responses=VALIDATE_RESPONSES,
    openapi_extra=VALIDATE_REQUEST,
)
async def validate_endpoint(request: Request) -> Response:
    """Validate the posted RDF against the shapes; the report in the negotiated format."""
    name = choose_report_format(request.headers.get("accept"), request.query_params.get("format"))
    try:
        if name is None:
            offered = ", ".join(f.media_type for f in REPORT_FORMATS.values())
            raise ProtocolError(406, f"The report is available as: {offered}.")
        content_type = request.headers.get("content-type", "")
        media_type = content_type.split(";")[0].strip().lower()
        body = await read_body(request, request.app.state.config.max_body_size)
        quads = parse_input(body, media_type)
    except ProtocolError as error:
        return JSONResponse({"error": error.message}, status_code=error.status)
    report = await run_in_threadpool(lambda: validate_graph(to_rdflib(quads)))
    fmt = REPORT_FORMATS[name]
    headers = {"Vary": "Accept", "X-SHACL-Conforms": "true" if report.conforms else "false"}
    return Response(fmt.write(report), 200, headers, media_type=fmt.content_type)
