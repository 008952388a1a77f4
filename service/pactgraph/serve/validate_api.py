"""``POST /validate``: check your own RDF against pactgraph's SHACL shapes.

The body is Turtle, N-Triples or JSON-LD, told apart by ``Content-Type``
(:data:`INPUT_FORMATS`), and at most ``ServiceConfig.max_body_size`` bytes (413 beyond). It is
parsed by pyoxigraph, which never fetches anything: a JSON-LD remote ``@context`` is an error,
not a download. RDF/XML is refused with 415 (it is the format that carries external entities,
so it is not parsed at all). A parse error is a 400 with the parser's message (line and
column). The report comes back in the format ``Accept`` (or ``?format=``) asks for
(:data:`REPORT_FORMATS`): the SHACL report graph in Turtle or JSON-LD, a JSON summary, a
readable HTML page, or plain text; each gives ``conforms`` and the violations' focus node,
path and message. The validation itself is :func:`pactgraph.gates.validate.validate_graph`, the same
one every release passes.

This module holds the endpoint and the pieces a validation is made of; the parsing,
validating and writing all run in a validation worker process (:mod:`pactgraph.serve.validation`,
with its own time, memory, concurrency and result limits): the server process only checks
the request's headers, reads the body and passes bytes along.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from pactgraph.gates.validate import ValidationReport, compact
from pactgraph.rdf.namespaces import prefixes
from pactgraph.serve import openapi
from pactgraph.serve.config import ServiceConfig
from pactgraph.serve.pages import render
from pactgraph.serve.sparql import ProtocolError, parse_accept, quality, read_body
from pactgraph.serve.ui import model_picture
from pactgraph.serve.workers import PoolBusy

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
    page = render(
        "validation.html",
        report=report,
        violations=rows,
        model_picture=model_picture() is not None,
    )
    return page.encode("utf-8")


@dataclass(frozen=True)
class ValidationTask:
    """One upload for a validation worker: the body as received, its media type (already
    known to be accepted), the report format's name and the most results to list."""

    body: bytes
    media_type: str
    report_format: str
    result_cap: int


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


def input_format(media_type: str) -> ox.RdfFormat:
    """The parser for an upload's media type (raises :class:`ProtocolError` 415 with a reason).

    >>> input_format("application/n-triples") == ox.RdfFormat.N_TRIPLES
    True
    >>> input_format("application/rdf+xml")
    Traceback (most recent call last):
    pactgraph.serve.sparql.ProtocolError: RDF/XML is not accepted ...
    """
    if media_type in REFUSED_INPUTS:
        raise ProtocolError(415, REFUSED_INPUTS[media_type])
    fmt = INPUT_FORMATS.get(media_type)
    if fmt is None:
        accepted = ", ".join(INPUT_FORMATS)
        raise ProtocolError(
            415, f"Unsupported Content-Type {media_type!r}; send one of {accepted}."
        )
    return fmt


def parse_input(body: bytes, media_type: str) -> ox.Dataset:
    """Parse the posted RDF (raises :class:`ProtocolError` 400/415 with a reason).

    Only ever called in a validation worker (:mod:`pactgraph.serve.validation`): a native
    parser that crashes on hostile input must take nothing else with it.
    """
    fmt = input_format(media_type)
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


# The OpenAPI description (pactgraph.serve.openapi): the RDF body, the report formats, errors.
VALIDATE_RESPONSES: openapi.Responses = {
    200: openapi.response(
        "The SHACL report (X-SHACL-Conforms says whether the data conforms).",
        [f.media_type for f in REPORT_FORMATS.values()],
    ),
    **openapi.json_errors(
        {
            400: "The body does not parse (the parser's message, with line and column), "
            "or the parser crashed on it.",
            406: "Neither Accept nor ?format= names a report format offered.",
            413: "The body is over the endpoint's limit, or validating it needs more memory "
            "than a validation may use.",
            415: "Content-Type is not Turtle, N-Triples or JSON-LD (RDF/XML is refused).",
            503: "Every validation worker is busy and the queue is full (Retry-After given).",
            504: "The validation ran over its time limit and was stopped.",
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
    """Validate the posted RDF against the shapes; the report in the negotiated format.

    Here only the headers are checked and the body read; a validation worker does the rest.
    """
    config: ServiceConfig = request.app.state.config
    name = choose_report_format(request.headers.get("accept"), request.query_params.get("format"))
    try:
        if name is None:
            offered = ", ".join(f.media_type for f in REPORT_FORMATS.values())
            raise ProtocolError(406, f"The report is available as: {offered}.")
        content_type = request.headers.get("content-type", "")
        media_type = content_type.split(";")[0].strip().lower()
        input_format(media_type)  # 415 before a byte of the body is read
        body = await read_body(request, config.max_body_size)
        task = ValidationTask(body, media_type, name, config.validate_result_cap)
        try:
            answer = await request.app.state.validation_pool.run(task)
        except PoolBusy:
            raise ProtocolError(
                503,
                "Every validation worker is busy and the queue is full; retry shortly.",
                {"Retry-After": str(config.retry_after_s)},
            ) from None
    except ProtocolError as error:
        return JSONResponse({"error": error.message}, error.status, error.headers)
    headers = {**answer.headers, "Vary": "Accept", "Content-Length": str(answer.length)}
    return Response(answer.body, answer.status, headers, media_type=answer.content_type)
