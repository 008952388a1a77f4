"""Every IRI under the public base resolves: entity pages and RDF, ontology, vocabularies, shapes.

Routes (each ``GET`` and ``HEAD``):

- ``/id/{kind}/{slug}``            an entity: what the release says about it and what points to it
- ``/vocab/{scheme}/{concept}``    a SKOS concept, the same way
- ``/vocab/{scheme}``              a concept scheme's file; HTML: its generated documentation
- ``/ontology``, ``/ontology/{name}``  the ontology (hash terms ``/ontology#Term`` land here);
                                   HTML: the documentation generated at build time
- ``/graph/{path}``                a named graph (one data file) of the dataset
- ``/shapes``                      the SHACL shapes (``shape:`` terms are hash IRIs of this)
- ``/.well-known/void``            the release's ``void.ttl`` (VoID + DCAT)
- ``/context.jsonld``              the JSON-LD context of our namespaces

Content negotiation picks one of :data:`REPRESENTATIONS` (Turtle, N-Triples, JSON-LD,
RDF/XML from the service's one format table, plus HTML for browsers) from ``Accept``, with
``?format=`` overriding it; no acceptable type is a 406. Every answer says ``Vary: Accept``,
carries ``Link`` headers naming the alternates, the licence, the dump and the VoID
description, and an ETag made of the release version, the representation and a digest of
the bytes (``If-None-Match`` gives 304). An unknown IRI is a 404 with an HTML page (browsers)
or JSON (everyone else) that suggests near slugs.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from pactgraph.gates.inference import INFERRED_GRAPH
from pactgraph.gates.validate import load_shapes
from pactgraph.rdf.formats import GRAPH_FORMATS, Format
from pactgraph.rdf.jsonld import compact_jsonld
from pactgraph.rdf.namespaces import CONTEXT_FILE, prefixes_for
from pactgraph.release.citation import citation_text, release_iri
from pactgraph.release.description import dataset_license as declared
from pactgraph.release.shapes_doc import shape_docs
from pactgraph.release.versions import past_file_name
from pactgraph.release.void import SHAPES_FILE, VOID_FILE, canonical_shapes
from pactgraph.serve import openapi
from pactgraph.serve.pages import (
    LinkedData,
    Linker,
    entity_page,
    linked_data_for,
    render,
)
from pactgraph.serve.sparql import format_from_param, parse_accept, quality
from pactgraph.serve.summary import state_summary
from pactgraph.serve.ui import model_picture
from pactgraph.settings import BASE_IRI, GRAPH_IRI_BASE, SETTINGS

router = APIRouter()

HTML = "html"
HTML_MEDIA_TYPE = "text/html"
JSONLD_MEDIA_TYPE = "application/ld+json"
# What /context.jsonld can be asked for: the same bytes either way (a context is JSON).
CONTEXT_MEDIA_TYPES = (JSONLD_MEDIA_TYPE, "application/json")
# Machine formats offered for every linked-data resource, in tie-break order: a client that
# accepts anything (``*/*``) gets Turtle. HTML comes last so only browsers that ask get it.
RDF_REPRESENTATIONS: dict[str, Format] = {
    name: GRAPH_FORMATS[name] for name in ("ttl", "jsonld", "nt", "rdf")
}
REPRESENTATIONS: tuple[str, ...] = (*RDF_REPRESENTATIONS, HTML)
HTML_ALIASES = ("application/xhtml+xml",)
LABELS: dict[str, str] = {
    "ttl": "Turtle",
    "jsonld": "JSON-LD",
    "nt": "N-Triples",
    "rdf": "RDF/XML",
    HTML: "HTML",
}
DUMP_FILE = "pactgraph.nt.gz"
VOID_PATH = "/.well-known/void"
VOID_DATA_DUMP = "http://rdfs.org/ns/void#dataDump"
ONTOLOGY_DOC = "ontology.html"
OWL_VERSION_IRI = ox.NamedNode("http://www.w3.org/2002/07/owl#versionIRI")
OWL_DEPRECATED = ox.NamedNode("http://www.w3.org/2002/07/owl#deprecated")
IS_REPLACED_BY = ox.NamedNode("http://purl.org/dc/terms/isReplacedBy")
TRUE = ox.Literal("true", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))
CACHE_CONTROL = "public, max-age=300"


def vocab_doc(scheme: str) -> str:
    """The release file holding a concept scheme's documentation page.

    >>> vocab_doc("obligation-type")
    'vocab-obligation-type.html'
    """
    return f"vocab-{scheme}.html"


class NotAcceptable(Exception):
    """No representation fits the request's ``Accept`` or ``?format=``."""


# ------------------------------------------------------------------------ negotiation


def _media_type(name: str) -> str:
    return HTML_MEDIA_TYPE if name == HTML else RDF_REPRESENTATIONS[name].media_type


def choose_representation(accept: str | None, format_param: str | None) -> str:
    """The representation to send: ``?format=`` if given, else the best ``Accept`` match.

    >>> choose_representation("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    ...                       None)
    'html'
    >>> choose_representation("*/*", None), choose_representation(None, None)
    ('ttl', 'ttl')
    >>> choose_representation("text/html", "json-ld")
    'jsonld'
    """
    if format_param is not None:
        value = format_param.strip().lower()
        if value in (HTML, HTML_MEDIA_TYPE):
            return HTML
        name = format_from_param([value], "graph")
        if name in RDF_REPRESENTATIONS:
            return name
        raise NotAcceptable(f"format={format_param}")
    if not accept or not accept.strip():
        return REPRESENTATIONS[0]
    ranges = parse_accept(accept)
    best, best_q = None, 0.0
    for name in REPRESENTATIONS:
        aliases = HTML_ALIASES if name == HTML else RDF_REPRESENTATIONS[name].aliases
        q = quality(_media_type(name), aliases, ranges)
        if q > best_q:
            best, best_q = name, q
    if best is None:
        raise NotAcceptable(f"Accept: {accept}")
    return best


# ------------------------------------------------------------------------ serialisation


def used_prefixes(triples: list[ox.Triple]) -> dict[str, str]:
    """The prefixes of our context that some IRI of ``triples`` starts with."""
    iris = {
        term.value
        for t in triples
        for term in (t.subject, t.predicate, t.object, getattr(t.object, "datatype", None))
        if isinstance(term, ox.NamedNode)
    }
    return prefixes_for(iris)


def serialize_triples(triples: list[ox.Triple], name: str) -> bytes:
    """Triples in one of :data:`RDF_REPRESENTATIONS`, the same bytes for the same triples in
    any process and any input order (so ETags hold across restarts and replicas): triples are
    sorted, and JSON-LD is written by the release's own stable compact writer
    (:func:`pactgraph.rdf.jsonld.compact_jsonld`, our context inline).

    >>> t = ox.Triple(ox.NamedNode("https://w3id.org/pactgraph/id/actor/x"),
    ...               ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), ox.Literal("X"))
    >>> b"actor:x" in serialize_triples([t], "ttl")
    True
    >>> b'"@id": "actor:x"' in serialize_triples([t], "jsonld")
    True
    """
    ordered = sorted(triples, key=str)
    if name == "jsonld":
        nquads = "".join(f"{t} .\n" for t in ordered)
        return compact_jsonld(nquads.encode("utf-8"))
    fmt = RDF_REPRESENTATIONS[name].pyoxigraph
    with_prefixes = fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML)
    chosen = used_prefixes(triples) if with_prefixes else None
    return ox.serialize(ordered, format=fmt, prefixes=chosen) or b""


# ------------------------------------------------------------------------ responses


@dataclass(frozen=True)
class Alternate:
    """Another representation of the same resource, for ``Link`` headers and the page."""

    href: str
    media_type: str
    label: str


def alternates(path: str) -> list[Alternate]:
    """One ``?format=`` URL per representation of the resource at ``path``."""
    return [Alternate(f"{path}?format={n}", _media_type(n), LABELS[n]) for n in REPRESENTATIONS]


@lru_cache(maxsize=1)
def dataset_license() -> str:
    """The data licence, as the dataset description (``void.py``) declares it."""
    return declared()


def link_header(path: str, version: str) -> str:
    """``Link``: alternates, licence, the full dump of this release and its VoID description.

    The path is the request's, decoded: it is percent-encoded again, so a hostile URL (a NUL,
    a line break) cannot make an invalid header (which the server would answer by dropping
    the connection).

    >>> link_header("/id/actor/a b", "1").split(";")[0]
    '</id/actor/a%20b?format=ttl>'
    """
    path = quote(path, safe="/:@!$'()*+=")
    links = [f'<{a.href}>; rel="alternate"; type="{a.media_type}"' for a in alternates(path)]
    links.append(f'<{dataset_license()}>; rel="license"')
    links.append(f'</dumps/{version}/{DUMP_FILE}>; rel="{VOID_DATA_DUMP}"; type="application/gzip"')
    links.append(f'<{VOID_PATH}>; rel="describedby"; type="text/turtle"')
    return ", ".join(links)


def _etag(version: str, name: str, body: bytes) -> str:
    return f'"{version}-{name}-{hashlib.sha256(body).hexdigest()[:16]}"'


def _fresh(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags


def _send(
    request: Request,
    name: str,
    body: bytes,
    version: str,
    status: int = 200,
    moved: dict[str, str] | None = None,
) -> Response:
    headers = {
        "Vary": "Accept",
        "Link": link_header(request.url.path, version),
        "Cache-Control": CACHE_CONTROL,
        **(moved or {}),
    }
    if status == 200:
        headers["ETag"] = _etag(version, name, body)
        if _fresh(request, headers["ETag"]):
            return Response(status_code=304, headers=headers)
    content_type = RDF_REPRESENTATIONS[name].content_type if name != HTML else None
    media_type = content_type or "text/html; charset=utf-8"
    return Response(body, status, headers, media_type=media_type)


def _not_acceptable(request: Request, what: str) -> Response:
    offered = ", ".join(_media_type(n) for n in REPRESENTATIONS)
    return JSONResponse(
        {"error": f"Cannot produce {what}.", "available": offered},
        status_code=406,
        headers={"Vary": "Accept", "Link": link_header(request.url.path, _version(request))},
    )


def _version(request: Request) -> str:
    return str(request.app.state.release.version)


def _data(request: Request) -> LinkedData:
    return linked_data_for(request.app.state.release)


def _linker(request: Request) -> Linker:
    config = request.app.state.config
    # Never built from the request's Host header (a client chooses it, and the page is
    # cacheable): the configured public base, else links relative to this service's root.
    return Linker(config.public_base_iri or request.scope.get("root_path", "") + "/")


def _model_picture() -> bool:
    return model_picture() is not None


def _representation(request: Request) -> str:
    return choose_representation(request.headers.get("accept"), request.query_params.get("format"))


def _serve(
    request: Request,
    triples: list[ox.Triple],
    html: Callable[[], str],
    retired: tuple[int, dict[str, str]] | None = None,
) -> Response:
    """Negotiate, then send ``triples`` in an RDF format or the page ``html()`` renders.

    ``retired`` is the status and headers of a retired IRI (:func:`retirement`).
    """
    try:
        name = _representation(request)
    except NotAcceptable as error:
        return _not_acceptable(request, str(error))
    body = html().encode("utf-8") if name == HTML else serialize_triples(triples, name)
    status, moved = retired or (200, None)
    return _send(request, name, body, _version(request), status, moved)


def retirement(
    data: LinkedData, iri: str, linker: Linker, path: str, version: str
) -> tuple[int, dict[str, str]] | None:
    """How a retired IRI (``owl:deprecated true``) answers; ``None`` when it is not retired.

    Decision 6 of docs/model-decisions.md: one ``dcterms:isReplacedBy`` -> 301 to it; several
    -> 300 Multiple Choices naming each in ``Link``; none -> 410 Gone. The body stays the
    retired node's description, so a reader learns why it went and what replaced it.

    >>> from pactgraph.serve.pages import Linker
    >>> store = ox.Store()
    >>> old = ox.NamedNode("https://w3id.org/pactgraph/id/obligation/old")
    >>> store.add(ox.Quad(old, OWL_DEPRECATED, TRUE))
    >>> retirement(LinkedData(store, "v"), old.value, Linker("/"), "/id/obligation/old", "v")[0]
    410
    """
    node = ox.NamedNode(iri)
    if TRUE not in data.objects(node, OWL_DEPRECATED):
        return None
    targets = sorted(linker.href(o.value) for o in data.objects(node, IS_REPLACED_BY))
    if len(targets) == 1:
        return 301, {"Location": targets[0]}
    if targets:
        links = ", ".join(f'<{href}>; rel="alternate"' for href in targets)
        return 300, {"Link": f"{link_header(path, version)}, {links}"}
    return 410, {}


def _suggestions(data: LinkedData, iri: str, linker: Linker) -> list[dict[str, str]]:
    namespace = iri.rsplit("/", 1)[0] + "/"
    known = [i for i in known_iris(data) if i.startswith(namespace)] or known_iris(data)
    near = difflib.get_close_matches(iri, known, n=5, cutoff=0.6)
    return [{"iri": i, "href": linker.href(i), "text": data.label(ox.NamedNode(i))} for i in near]


def known_iris(data: LinkedData) -> list[str]:
    """Every IRI under the public base used as a subject in the release (sorted)."""
    return _known(data)


@lru_cache(maxsize=4)
def _known(data: LinkedData) -> list[str]:
    return sorted(
        {
            q.subject.value
            for q in data.store.quads_for_pattern(None, None, None, None)
            if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(BASE_IRI)
        }
    )


def not_found(request: Request, iri: str) -> Response:
    """404: an HTML page for browsers, JSON for the rest, both suggesting near IRIs."""
    data, linker = _data(request), _linker(request)
    suggestions = _suggestions(data, iri, linker)
    headers = {"Vary": "Accept", "Link": link_header(request.url.path, _version(request))}
    try:
        name = _representation(request)
    except NotAcceptable:
        name = "ttl"
    if name == HTML:
        body = render(
            "not_found.html",
            iri=iri,
            version=_version(request),
            suggestions=suggestions,
            model_picture=_model_picture(),
        )
        return Response(body, 404, headers, media_type="text/html; charset=utf-8")
    return JSONResponse(
        {
            "error": "not found",
            "iri": iri,
            "message": f"Release {_version(request)} has no triple about this IRI.",
            "suggestions": [s["iri"] for s in suggestions],
            "see_also": ["/sparql", "/ontology", VOID_PATH, "/dumps/"],
        },
        status_code=404,
        headers=headers,
    )


def _entity(request: Request, iri: str) -> Response:
    data = _data(request)
    triples = data.describe(iri)
    if not triples:
        return not_found(request, iri)
    linker = _linker(request)
    # The page model is built only when a browser asks for the page.
    return _serve(
        request,
        triples,
        lambda: render(
            "entity.html",
            page=entity_page(data, iri, linker),
            summary=state_summary(data, iri, linker),
            alternates=alternates(request.url.path),
            model_picture=_model_picture(),
            cite=_cite(request),
        ),
        retirement(data, iri, linker, request.url.path, _version(request)),
    )


def _cite(request: Request) -> dict[str, str]:
    """The page's "cite this" line: the served release's citation and version IRI."""
    version = _version(request)
    return {
        "text": citation_text(version),
        "iri": release_iri(version),
        "href": _linker(request).href(release_iri(version)),
    }


def _release_file(request: Request, name: str) -> Path | None:
    path = Path(request.app.state.release.path) / name
    return path if path.is_file() else None


def _document(
    request: Request,
    iri: str,
    triples: list[ox.Triple],
    title: str,
    description: str = "",
    generated_page: str | None = None,
) -> Response:
    """A whole RDF document; HTML is the generated page from the release when there is one."""
    if not triples:
        return not_found(request, iri)
    page = _release_file(request, generated_page) if generated_page else None

    def html() -> str:
        if page is not None:
            return page.read_text(encoding="utf-8")
        return render(
            "document.html",
            title=title,
            iri=iri,
            description=description,
            turtle=serialize_triples(triples, "ttl").decode("utf-8"),
            alternates=alternates(request.url.path),
            model_picture=_model_picture(),
        )

    return _serve(request, triples, html)


# ------------------------------------------------------------------------ routes

GET_HEAD = ["GET", "HEAD"]
# Every negotiated resource answers the same way (pactgraph.serve.openapi); ?format= overrides
# Accept with a representation name or media type.
NEGOTIATED = {
    "methods": GET_HEAD,
    "response_class": Response,
    "responses": openapi.linked_data_responses(f.media_type for f in RDF_REPRESENTATIONS.values()),
    "openapi_extra": {
        "parameters": openapi.query_parameters(
            {"format": f"One of {', '.join(REPRESENTATIONS)} or a media type; overrides Accept."}
        )
    },
}
CONTEXT_RESPONSES: openapi.Responses = {
    200: openapi.response("The JSON-LD context.", [JSONLD_MEDIA_TYPE], {"type": "object"}),
    **openapi.NOT_MODIFIED,
    **openapi.json_errors({406: "Accept names neither JSON-LD nor JSON."}),
}


@router.api_route("/id/{kind}/{slug}", name="ld_entity", **NEGOTIATED)
def entity(request: Request, kind: str, slug: str) -> Response:
    """An instance IRI ``…/id/{kind}/{slug}``."""
    return _entity(request, f"{BASE_IRI}id/{kind}/{slug}")


@router.api_route("/vocab/{scheme}/{concept}", name="ld_concept", **NEGOTIATED)
def concept(request: Request, scheme: str, concept: str) -> Response:
    """A SKOS concept ``…/vocab/{scheme}/{concept}``."""
    return _entity(request, f"{BASE_IRI}vocab/{scheme}/{concept}")


@router.api_route("/vocab/{scheme}", name="ld_scheme", **NEGOTIATED)
def scheme(request: Request, scheme: str) -> Response:
    """A concept scheme: its whole file as RDF; its documentation page as HTML."""
    iri = f"{BASE_IRI}vocab/{scheme}"
    triples = _data(request).graph(f"{GRAPH_IRI_BASE}vocab/{scheme}")
    return _document(request, iri, triples, scheme, generated_page=vocab_doc(scheme))


@router.api_route("/ontology", name="ld_ontology", **NEGOTIATED)
def ontology(request: Request) -> Response:
    """The ontology document (its terms are ``/ontology#Term``, answered here)."""
    triples = _data(request).graph(f"{GRAPH_IRI_BASE}ontology/pactgraph")
    return _document(
        request, f"{BASE_IRI}ontology", triples, "pactgraph ontology", generated_page=ONTOLOGY_DOC
    )


def _versioned_ontology_graph(data: LinkedData, iri: str) -> list[ox.Triple]:
    """The graph of the ontology whose ``owl:versionIRI`` is ``iri`` ([] when none is)."""
    try:
        version = ox.NamedNode(iri)
    except ValueError:  # not a valid IRI (from a hostile URL): no ontology has it
        return []
    for ontology in data.subjects(OWL_VERSION_IRI, version):
        for quad in data.store.quads_for_pattern(ontology, OWL_VERSION_IRI, None, None):
            if isinstance(quad.graph_name, ox.NamedNode):
                return data.graph(quad.graph_name.value)
    return []


@router.api_route("/ontology/{name:path}", name="ld_ontology_part", **NEGOTIATED)
def ontology_part(request: Request, name: str) -> Response:
    """Another ontology file (``/ontology/alignments``) or a version IRI
    (``/ontology/0.1.0``); HTML: the same documentation."""
    iri = f"{BASE_IRI}ontology/{name}"
    data = _data(request)
    triples = data.graph(f"{GRAPH_IRI_BASE}ontology/{name}") or _versioned_ontology_graph(data, iri)
    if not triples:
        # A past version, kept in the release as the file it was published as.
        triples = _past_version_triples(str(request.app.state.release.path), name)
    return _document(request, iri, triples, name, generated_page=ONTOLOGY_DOC)


@lru_cache(maxsize=8)
def _past_version_triples(release_dir: str, name: str) -> list[ox.Triple]:
    """The triples of ``ontology-<name>.ttl`` in a release ([] when it holds no such file)."""
    file_name = past_file_name(name)
    path = Path(release_dir) / file_name if file_name else None
    if path is None or not path.is_file():
        return []
    quads = ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE)
    return sorted({q.triple for q in quads}, key=str)


@lru_cache(maxsize=4)
def _inferred_triples(store_path: str, version: str) -> list[ox.Triple]:
    del version  # the cache key: one release's store never changes
    try:
        store = ox.Store.read_only(store_path)
    except OSError:  # a release without its store (served from a --backend): no such page
        return []
    try:
        quads = store.quads_for_pattern(None, None, None, ox.NamedNode(str(INFERRED_GRAPH)))
        return sorted({q.triple for q in quads}, key=str)
    finally:
        del store


@router.api_route("/graph/{name:path}", name="ld_graph", **NEGOTIATED)
def named_graph(request: Request, name: str) -> Response:
    """A named graph of the dataset (one data file), e.g. ``/graph/instruments/mous``, or the
    inferred graph ``/graph/inferred``."""
    iri = f"{GRAPH_IRI_BASE}{name}"
    triples = _data(request).graph(iri)
    if not triples and name == "inferred":
        # The pages' data leaves the inferred graph out (they show what sources back); its
        # IRI is a graph of every release all the same, so it is read from the release store.
        release = request.app.state.release
        triples = _inferred_triples(str(release.store_path), str(release.version))
    return _document(request, iri, triples, f"Named graph {name}")


@lru_cache(maxsize=4)
def _shapes_triples(release_file: Path | None) -> list[ox.Triple]:
    # The release's canonical shapes file; a release built before it existed (0.2.0 and
    # earlier) is canonicalised here once per process, which takes seconds.
    data = release_file.read_bytes() if release_file else canonical_shapes(SETTINGS)
    return [q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)]


@router.api_route("/shapes", name="ld_shapes", **NEGOTIATED)
def shapes(request: Request) -> Response:
    """The SHACL shapes that ``/validate`` and every release check data against."""
    triples = _shapes_triples(_release_file(request, SHAPES_FILE))
    return _serve(
        request,
        triples,
        lambda: render(
            "shapes.html",
            iri=f"{BASE_IRI}shapes",
            shapes=_shape_docs(SETTINGS.shapes_dir),
            alternates=alternates(request.url.path),
            model_picture=_model_picture(),
        ),
    )


@lru_cache(maxsize=4)
def _shape_docs(shapes_dir: Path) -> list:
    del shapes_dir  # the cache key: load_shapes reads SETTINGS' folder
    return shape_docs(load_shapes(SETTINGS))


@router.api_route(VOID_PATH, name="ld_void", **NEGOTIATED)
def void(request: Request) -> Response:
    """The release's VoID and DCAT description, computed when it was built."""
    path = _release_file(request, VOID_FILE)
    quads = ox.parse(path=str(path), format=ox.RdfFormat.TURTLE) if path else []
    return _document(
        request,
        f"{BASE_IRI}.well-known/void",
        [q.triple for q in quads],
        "pactgraph dataset description (VoID and DCAT)",
        "Counts, partitions, distributions and linksets of this release, computed at build time.",
    )


@router.api_route(
    "/context.jsonld",
    methods=GET_HEAD,
    name="ld_context",
    response_class=Response,
    responses=CONTEXT_RESPONSES,
)
def context(request: Request) -> Response:
    """The JSON-LD context of our namespaces (JSON-LD, or JSON for a plain JSON client)."""
    accept = request.headers.get("accept")
    ranges = parse_accept(accept) if accept and accept.strip() else []
    if ranges and not any(quality(t, (), ranges) for t in CONTEXT_MEDIA_TYPES):
        return JSONResponse(
            {"error": f"Cannot produce Accept: {accept[:200]}",
             "available": ", ".join(CONTEXT_MEDIA_TYPES)},
            status_code=406,
            headers={"Vary": "Accept"},
        )
    body = CONTEXT_FILE.read_bytes()
    headers = {
        "ETag": _etag(_version(request), "context", body),
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept",
    }
    if _fresh(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return Response(body, 200, headers, media_type=JSONLD_MEDIA_TYPE)
