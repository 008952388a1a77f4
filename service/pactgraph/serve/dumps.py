"""``/dumps/``: the release's files, with the HTTP caching and range semantics downloaders expect.

Layout served (one folder per release under the dist directory)::

    /dumps/                         listing of every release (HTML for browsers, JSON otherwise)
    /dumps/<version>/               listing of one release: name, size, sha256, media type, url
    /dumps/<version>/<file>         a file named in that release's SHA256SUMS, or SHA256SUMS
    /dumps/latest/...               302 to the same path under the served release's version

Why a redirect for ``latest`` rather than serving the bytes there: a versioned URL never
changes meaning, so caches may keep it; only the short ``latest`` hop (``Cache-Control:
no-cache``) has to be asked again, and a client always learns which version it got.

Only names listed in ``SHA256SUMS`` are served, looked up in a dict, so no request path is
ever joined onto the filesystem (``../`` and friends are simply unknown names: 404). The
strong ``ETag`` is the file's SHA-256 as recorded in ``SHA256SUMS`` (read once per release,
never recomputed per request); ``Last-Modified`` is the file's mtime; ``If-None-Match`` and
``If-Modified-Since`` give 304; ``Range`` and ``If-Range`` are Starlette's ``FileResponse``
(206 with ``Content-Range``, 416 when unsatisfiable). ``.gz`` files are served as
``application/gzip`` without ``Content-Encoding``, so every client gets the file's own bytes.

The handlers are ``async``: they only stat files and read a small ``SHA256SUMS`` once per
release (microseconds on a local disk), and ``FileResponse`` streams asynchronously, so a
thread-pool hop per request would cost more than it protects.

The routers read the served release from ``request.app.state.release`` and the folder holding
all releases from ``request.app.state.dist``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from pactgraph.rdf.formats import GRAPH_FORMATS
from pactgraph.release.citation import citation_text, release_iri
from pactgraph.release.published import LATEST, RELEASE_JSON, latest_release
from pactgraph.release.published import SUMS as SUMS_NAME
from pactgraph.serve import openapi
from pactgraph.serve.ui import prefers_html, render_page

router = APIRouter()


# Media type by file suffix (``Path.suffix``: ``pactgraph.nt.gz`` -> ``.gz``). The RDF entries
# come from the one format table the service negotiates with; a gzip file is its own type
# (no Content-Encoding), and SHA256SUMS (no suffix) is plain text for ``sha256sum -c``.
MEDIA_TYPES: dict[str, str] = {
    **{f".{fmt.extension}": fmt.media_type for fmt in GRAPH_FORMATS.values()},
    ".gz": "application/gzip",
    ".json": "application/json",
    # Human-readable documentation pages (ontology, vocabularies) some releases carry.
    ".html": "text/html",
    ".svg": "image/svg+xml",
    ".csv": "text/csv",
    ".txt": "text/plain",
    # A release's CITATION.cff is YAML (RFC 9512); LICENSE and LICENSE-DATA are plain text.
    ".cff": "application/yaml",
    "": "text/plain",
}
FALLBACK_MEDIA_TYPE = "application/octet-stream"

# Browsers and proxies may keep a versioned file for a day and must then revalidate (cheap:
# a 304 by ETag). ``latest`` redirects are always revalidated.
VERSIONED_CACHE_CONTROL = "public, max-age=86400"
LATEST_CACHE_CONTROL = "no-cache"

# What the OpenAPI description says (pactgraph.serve.openapi): listings are JSON or HTML.
LISTING_SCHEMA = {"type": "object", "properties": {"latest": {"type": ["string", "null"]}}}
LISTING = openapi.response(
    "The listing: JSON, or HTML for browsers.", [openapi.JSON, openapi.HTML], LISTING_SCHEMA
)
NOT_FOUND = openapi.json_errors({404: "No such release or file."})
LATEST_REDIRECT = {302: openapi.response(f"latest: the served release. {openapi.REDIRECT}")}
INDEX_RESPONSES: openapi.Responses = {200: LISTING}
VERSION_RESPONSES: openapi.Responses = {200: LISTING, **LATEST_REDIRECT, **NOT_FOUND}
FILE_RESPONSES: openapi.Responses = {
    200: openapi.response("The file's bytes.", [*MEDIA_TYPES.values(), FALLBACK_MEDIA_TYPE]),
    206: openapi.response(
        "The requested byte ranges (Range).",
        [*MEDIA_TYPES.values(), FALLBACK_MEDIA_TYPE, "multipart/byteranges"],
    ),
    **LATEST_REDIRECT,
    **openapi.NOT_MODIFIED,
    **NOT_FOUND,
    **openapi.text_errors({400: "Malformed Range header.", 416: "The Range cannot be satisfied."}),
}


@dataclass(frozen=True)
class DumpFile:
    """One downloadable file of a release, with what the listing and the headers need.

    >>> f = DumpFile("pactgraph.nt.gz", "ab" * 32, 10, 0.0, Path("/r/pactgraph.nt.gz"))
    >>> f.media_type, f.etag
    ('application/gzip', '"abababababababababababababababababababababababababababababababab"')
    """

    name: str
    sha256: str
    size: int
    mtime: float
    path: Path

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES.get(Path(self.name).suffix, FALLBACK_MEDIA_TYPE)

    @property
    def etag(self) -> str:
        return f'"{self.sha256}"'

    @property
    def last_modified(self) -> str:
        return formatdate(self.mtime, usegmt=True)

    @property
    def repr_digest(self) -> str:
        """RFC 9530 ``Repr-Digest`` value, so a client can check the bytes without SHA256SUMS."""
        return "sha-256=:" + base64.b64encode(bytes.fromhex(self.sha256)).decode() + ":"


@dataclass(frozen=True)
class DumpVersion:
    """A release folder as the dumps see it: its version and its files by name."""

    version: str
    directory: Path
    files: dict[str, DumpFile]
    # release.json (licences, citation, the predecessor and the diff's summary); {} if absent.
    metadata: dict[str, Any]


def parse_sums(text: str) -> dict[str, str]:
    """File name -> SHA-256 from ``sha256sum`` output; names with a path part are dropped.

    >>> parse_sums("ab  pactgraph.ttl\\ncd *pactgraph.nt\\nef  ../etc/passwd\\n")
    {'pactgraph.ttl': 'ab', 'pactgraph.nt': 'cd'}
    """
    sums: dict[str, str] = {}
    for line in text.splitlines():
        digest, _, name = line.strip().partition(" ")
        name = name.lstrip(" *")  # "  name" (text mode) or " *name" (binary mode)
        # Defence in depth: a listed name is served from the release folder itself only.
        if digest and name and name == Path(name).name and name not in {".", ".."}:
            sums[name] = digest.lower()
    return sums


def _dump_file(directory: Path, name: str, sha256: str) -> DumpFile | None:
    path = directory / name
    try:
        st = path.stat()
    except OSError:
        return None  # listed but absent: not offered rather than a 500 later
    return DumpFile(name, sha256, st.st_size, st.st_mtime, path)


@lru_cache(maxsize=64)
def _load_version(directory: Path, version: str, sums_mtime_ns: int) -> DumpVersion:
    # Keyed on SHA256SUMS's mtime, so a rebuilt release folder is read again, and the
    # sums (and the one hash we compute, of SHA256SUMS itself) are read once, not per request.
    sums_path = directory / SUMS_NAME
    raw = sums_path.read_bytes()
    files = {
        name: f
        for name, digest in parse_sums(raw.decode("utf-8")).items()
        if (f := _dump_file(directory, name, digest)) is not None
    }
    own = _dump_file(directory, SUMS_NAME, hashlib.sha256(raw).hexdigest())
    if own is not None:
        files[SUMS_NAME] = own
    metadata: dict[str, Any] = {}
    if RELEASE_JSON in files:
        try:
            metadata = json.loads(files[RELEASE_JSON].path.read_bytes())
        except (OSError, ValueError):
            metadata = {}  # the listing still offers the files; verify_release names the fault
    return DumpVersion(version, directory, dict(sorted(files.items())), metadata)


def load_version(directory: Path, version: str | None = None) -> DumpVersion | None:
    """The files of the release in ``directory`` (None when it has no ``SHA256SUMS``).

    >>> load_version(Path("/nonexistent")) is None
    True
    """
    try:
        mtime_ns = (directory / SUMS_NAME).stat().st_mtime_ns
    except OSError:
        return None
    return _load_version(directory, version or directory.name, mtime_ns)


def _served_release(request: Request) -> Any:
    return getattr(request.app.state, "release", None)


def release_dirs(request: Request) -> dict[str, Path]:
    """Version -> folder for every release the app can offer: the served one and the dist's."""
    dirs: dict[str, Path] = {}
    dist = getattr(request.app.state, "dist", None)
    if dist is not None and Path(dist).is_dir():
        for child in Path(dist).iterdir():
            # ``latest`` is a symlink to a version folder; it is a URL alias here, not a version.
            # Dot-folders are builds in progress (or killed mid-write): never a release.
            if child.name.startswith("."):
                continue
            if child.is_dir() and not child.is_symlink() and (child / SUMS_NAME).is_file():
                dirs[child.name] = child
    release = _served_release(request)
    if release is not None:
        dirs[str(release.version)] = Path(release.path)
    return dirs


def latest_version(request: Request) -> str | None:
    """The version ``/dumps/latest/`` points at: the release this service answers from.

    Pointing at the served release (rather than whatever was built last) keeps the dumps and
    ``/sparql`` describing the same data.
    """
    release = _served_release(request)
    if release is not None:
        return str(release.version)
    dist = getattr(request.app.state, "dist", None)
    newest = latest_release(Path(dist)) if dist is not None else None
    return newest.path.name if newest is not None else None


def _not_found(what: str) -> JSONResponse:
    return JSONResponse({"error": f"not found: {what}"}, status_code=404)


def _to_latest(request: Request, rest: str) -> Response:
    version = latest_version(request)
    if version is None:
        return _not_found("no release has been built")
    target = request.url_for("dumps_index").path + f"{version}/{rest}"
    return RedirectResponse(
        target, status_code=302, headers={"Cache-Control": LATEST_CACHE_CONTROL}
    )


def _file_entry(version_url: str, f: DumpFile) -> dict[str, Any]:
    return {
        "name": f.name,
        "size": f.size,
        "sha256": f.sha256,
        "media_type": f.media_type,
        "last_modified": f.last_modified,
        # Names come from SHA256SUMS and are plain file names; quote them all the same.
        "url": version_url + quote(f.name),
    }


def _version_entry(request: Request, dump: DumpVersion) -> dict[str, Any]:
    # A path, not an absolute URL: the listing is cacheable and the Host header is the
    # client's to choose (a path resolves against the listing's own URL).
    version_url = request.url_for("dumps_version", version=dump.version).path
    entry: dict[str, Any] = {
        "version": dump.version,
        "url": version_url,
        "files": [_file_entry(version_url, f) for f in dump.files.values()],
    }
    if "citation" in dump.metadata:
        entry["citation"] = {
            "text": citation_text(dump.version),
            "iri": release_iri(dump.version),
            "url": version_url + quote(dump.metadata["citation"]["file"]),
        }
    if "licenses" in dump.metadata:
        entry["licenses"] = {
            kind: {**licence, "url": version_url + quote(licence["file"])}
            for kind, licence in dump.metadata["licenses"].items()
        }
    previous = dump.metadata.get("previous")
    if previous:
        entry["changes"] = _changes_entry(request, version_url, previous)
    return entry


def _changes_entry(request: Request, version_url: str, previous: dict[str, Any]) -> dict[str, Any]:
    """What changed since the predecessor: its version and links, the summary, the patch."""
    old = previous["version"]
    return {
        "from": old,
        "from_iri": previous["iri"],
        "from_url": request.url_for("dumps_version", version=old).path,
        "summary": previous["summary"],
        "patch": {kind: version_url + quote(name) for kind, name in previous["patch"].items()},
    }


def _served_dump(request: Request, version: str) -> DumpVersion | None:
    """Release ``version`` among the served releases, or None when there is no such one."""
    directory = release_dirs(request).get(version)
    return load_version(directory, version) if directory is not None else None


def _listing(request: Request, data: dict[str, Any], title: str) -> Response:
    response = (
        render_page(request, "dumps.html", title=title, **data)
        if prefers_html(request)
        else JSONResponse(data)
    )
    response.headers["Vary"] = "Accept"  # one URL, two representations: caches must know
    return response


@router.api_route(
    "/dumps/",
    methods=["GET", "HEAD"],
    name="dumps_index",
    response_class=Response,
    responses=INDEX_RESPONSES,
)
async def dumps_index(request: Request) -> Response:
    """All releases with their files; ``latest`` names the served one."""
    found = [
        dump
        for version, directory in release_dirs(request).items()
        if (dump := load_version(directory, version)) is not None
    ]
    # Newest first: version strings carry a content hash, so order by when each was written.
    versions = sorted(found, key=lambda d: d.files[SUMS_NAME].mtime, reverse=True)
    data = {
        "latest": latest_version(request),
        "versions": [_version_entry(request, dump) for dump in versions],
    }
    return _listing(request, data, "pactgraph dumps")


@router.api_route(
    "/dumps/{version}/",
    methods=["GET", "HEAD"],
    name="dumps_version",
    response_class=Response,
    responses=VERSION_RESPONSES,
)
async def dumps_version(request: Request, version: str) -> Response:
    """One release's files: name, size, sha256, media type and URL of each."""
    if version == LATEST:
        return _to_latest(request, "")
    dump = _served_dump(request, version)
    if dump is None:
        return _not_found(f"release {version}")
    data = {"latest": latest_version(request), **_version_entry(request, dump)}
    return _listing(request, data, f"pactgraph {version} dumps")


def is_fresh(request: Request, f: DumpFile) -> bool:
    """True when the client's copy is current (RFC 9110 §13.2.2: If-None-Match wins)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        # Weak comparison, as the RFC prescribes for If-None-Match.
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or f.etag in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False  # an unparseable date is ignored, as the RFC says
        return int(f.mtime) <= since
    return False


@router.api_route(
    "/dumps/{version}/{name}",
    methods=["GET", "HEAD"],
    name="dump_file",
    response_class=Response,
    responses=FILE_RESPONSES,
)
async def dump_file(request: Request, version: str, name: str) -> Response:
    """A release file with a SHA-256 ETag, conditional GET and byte ranges."""
    if version == LATEST:
        return _to_latest(request, name)
    dump = _served_dump(request, version)
    f = dump.files.get(name) if dump is not None else None
    if f is None:
        return _not_found(f"{version}/{name}")
    headers = {
        "ETag": f.etag,
        "Last-Modified": f.last_modified,
        "Cache-Control": VERSIONED_CACHE_CONTROL,
        "Repr-Digest": f.repr_digest,
    }
    if is_fresh(request, f):
        return Response(status_code=304, headers=headers)
    # FileResponse keeps our ETag (it only sets one when absent), so its If-Range check
    # compares against the SHA-256 too; it does the Range / 206 / 416 handling.
    return DumpFileResponse(
        f.path,
        media_type=f.media_type,
        headers=headers,
        stat_result=os.stat(f.path),
    )


def known_range_unit(range_header: str) -> bool:
    """Whether a ``Range`` header is in bytes, the only unit served here.

    RFC 9110 (14.2): a server ignores a Range in a unit it does not know and sends the whole
    representation (200), so such a header must not reach the range parser (whose answer
    would be a 400).

    >>> known_range_unit("bytes=0-9"), known_range_unit(" BYTES =1-2"), known_range_unit("rows=1-2")
    (True, True, False)
    """
    unit, _, _ = range_header.partition("=")
    return unit.strip().lower() == "bytes"


class DumpFileResponse(FileResponse):
    """Starlette's file response (Range, If-Range, 206, 416), with a Range in an unknown
    unit ignored rather than refused."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = scope.get("headers", [])
        if any(n == b"range" and not known_range_unit(v.decode("latin-1")) for n, v in headers):
            scope = {**scope, "headers": [(n, v) for n, v in headers if n != b"range"]}
        await super().__call__(scope, receive, send)
