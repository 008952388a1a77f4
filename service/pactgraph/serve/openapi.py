"""What the OpenAPI description (``/openapi.json``) says each route answers, in one place.

FastAPI can only infer "200, JSON" for a handler that returns a ``Response``; the service
really answers SPARQL results, RDF, files and HTML, with plain-text or JSON errors. Each
router passes ``responses=`` (and ``openapi_extra=`` for parameters and request bodies FastAPI
cannot see, because the handlers read the raw request) built from the helpers and tables
here; the media types themselves stay in the routers' own format tables. The description is
held to the truth by ``tests/test_fuzz.py`` (schemathesis status-code, content-type and
response-schema conformance against the live server).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from typing import Any

from pactgraph.rdf.formats import FORMATS_BY_KIND

Responses = dict[int | str, dict[str, Any]]

TEXT = "text/plain"
JSON = "application/json"
HTML = "text/html"

# Error bodies: the SPARQL protocol layer writes plain text; the other routers a JSON object
# with an ``error`` string. Starlette's own 404/405 (no route matched) say ``detail``.
ERROR_OBJECT: dict[str, Any] = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
}
NOT_FOUND_OBJECT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "detail": {"type": "string"},
        "iri": {"type": "string"},
        "message": {"type": "string"},
        "suggestions": {"type": "array", "items": {"type": "string"}},
        "see_also": {"type": "array", "items": {"type": "string"}},
    },
}


def content(media_types: Iterable[str], schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """An OpenAPI ``content`` map: each media type with ``schema`` (any value when omitted).

    >>> content(["text/turtle"])
    {'text/turtle': {'schema': {}}}
    """
    return {media_type: {"schema": schema or {}} for media_type in dict.fromkeys(media_types)}


def response(
    description: str, media_types: Iterable[str] = (), schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One response object; no ``media_types`` means no body (304, redirects).

    >>> response("Gone")
    {'description': 'Gone'}
    """
    declared: dict[str, Any] = {"description": description}
    body = content(media_types, schema)
    if body:
        declared["content"] = body
    return declared


def text_errors(reasons: dict[int, str]) -> Responses:
    """Plain-text error responses, status -> why (the SPARQL protocol's error form).

    >>> text_errors({400: "Bad query."})[400]["content"]
    {'text/plain': {'schema': {'type': 'string'}}}
    """
    return {status: response(why, [TEXT], {"type": "string"}) for status, why in reasons.items()}


def json_errors(reasons: dict[int, str]) -> Responses:
    """JSON error responses (``{"error": "..."}``), status -> why.

    >>> sorted(json_errors({415: "Unsupported body."})[415]["content"])
    ['application/json']
    """
    return {status: response(why, [JSON], ERROR_OBJECT) for status, why in reasons.items()}


def query_parameters(names: dict[str, str]) -> list[dict[str, Any]]:
    """Optional string query parameters, name -> description.

    >>> query_parameters({"format": "Overrides Accept."})[0]["in"]
    'query'
    """
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": why,
            "schema": {"type": "string"},
        }
        for name, why in names.items()
    ]


NOT_MODIFIED: Responses = {304: response("The client's copy is current (If-None-Match).")}
REDIRECT = "Location gives the target."

# Starlette's answer when a path parameter holds characters no route matches (e.g. ``/``).
ROUTE_NOT_FOUND: Responses = {404: response("No such resource.", [JSON], NOT_FOUND_OBJECT)}


def linked_data_responses(rdf_types: Iterable[str]) -> Responses:
    """A negotiated linked-data resource: RDF in ``rdf_types`` or HTML; 304, 404, 406."""
    return {
        200: response("The resource in the negotiated representation.", [*rdf_types, HTML]),
        **NOT_MODIFIED,
        404: response(
            "No triple about this IRI: JSON with near IRIs, or an HTML page for browsers.",
            [JSON, HTML],
            NOT_FOUND_OBJECT,
        ),
        406: response(
            "Neither Accept nor ?format= names a representation offered.",
            [JSON],
            {
                "type": "object",
                "properties": {"error": {"type": "string"}, "available": {"type": "string"}},
            },
        ),
    }


# ------------------------------------------------------------------------ /sparql

SPARQL_PARAMETERS: dict[str, str] = {
    "query": "The SPARQL query (absent: the service description).",
    "default-graph-uri": "A named graph to use as the default graph (repeatable).",
    "named-graph-uri": "A named graph the query may address with GRAPH (repeatable).",
    "format": "Result format name or media type; overrides Accept.",
}


def sparql_responses() -> Responses:
    """Every answer of ``/sparql``: results or graphs in each format, and the protocol errors."""
    types = [fmt.media_type for table in FORMATS_BY_KIND.values() for fmt in table.values()]
    return {
        200: response(
            "SELECT/ASK results or a CONSTRUCT/DESCRIBE graph in the negotiated format; "
            "without a query, the service description (an RDF graph).",
            types,
        ),
        303: response("A browser asking for the service description is sent to the query page."),
        **text_errors(
            {
                400: "Malformed request or query (syntax errors give line and column).",
                403: "SPARQL Update is refused: the endpoint is read-only.",
                405: "Not a protocol operation (PUT, DELETE, PATCH); Allow lists the methods.",
                406: "No format the client accepts fits the query form.",
                413: "Request body or query over the endpoint's limit.",
                415: "POST media type other than a form or application/sparql-query.",
                422: "The result has more rows or triples than the endpoint's cap.",
                500: "The query worker stopped (killed, or over its memory cap).",
                502: "The remote store (serve --backend) failed.",
                503: "Every worker is busy and the queue is full (Retry-After given).",
                504: "The query ran over the time limit and was stopped.",
            }
        ),
    }


def sparql_get() -> dict[str, Any]:
    """``openapi_extra`` for GET/HEAD ``/sparql``: the protocol's URL parameters."""
    return {"parameters": query_parameters(SPARQL_PARAMETERS)}


def sparql_post(form: str, direct: str) -> dict[str, Any]:
    """``openapi_extra`` for POST ``/sparql``: a form (``form``) or the bare query (``direct``)."""
    fields = {
        name: {"type": "string", "description": why} for name, why in SPARQL_PARAMETERS.items()
    }
    return {
        "parameters": query_parameters(
            {k: v for k, v in SPARQL_PARAMETERS.items() if k != "query"}
        ),
        "requestBody": {
            "required": True,
            "content": {
                form: {"schema": {"type": "object", "properties": fields, "required": ["query"]}},
                direct: {"schema": {"type": "string"}},
            },
        },
    }


FASTAPI_VALIDATION_ERROR = "HTTPValidationError"


def install(app: Any) -> None:
    """Serve ``app``'s description with one ``operationId`` per operation and no 422 lie.

    FastAPI names a multi-method route (``GET`` and ``HEAD``) once, so its operations would
    share an id, which OpenAPI forbids; here each id gets its method appended. FastAPI also
    adds a JSON 422 "validation error" to every route with path parameters; ours are plain
    strings that cannot fail validation, so that answer never happens and is taken out.
    """
    generate = app.openapi

    def described() -> dict[str, Any]:
        if app.openapi_schema is None:
            with warnings.catch_warnings():  # the duplicates FastAPI warns about are fixed here
                warnings.filterwarnings("ignore", "Duplicate Operation ID", UserWarning)
                description = generate()
            for operations in description.get("paths", {}).values():
                for method, operation in operations.items():
                    stem = operation["operationId"].rsplit("_", 1)[0]
                    operation["operationId"] = f"{stem}_{method}"
                    if FASTAPI_VALIDATION_ERROR in json.dumps(operation["responses"].get("422")):
                        del operation["responses"]["422"]
            schemas = description.get("components", {}).get("schemas", {})
            if FASTAPI_VALIDATION_ERROR not in json.dumps(description["paths"]):
                for name in (FASTAPI_VALIDATION_ERROR, "ValidationError"):
                    schemas.pop(name, None)
            if "components" in description and not schemas:
                description["components"].pop("schemas", None)
                if not description["components"]:
                    del description["components"]
            app.openapi_schema = description
        return app.openapi_schema

    app.openapi = described
