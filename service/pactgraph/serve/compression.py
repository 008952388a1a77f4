"""gzip content-coding for the service's text answers (SPARQL results, RDF, pages).

A client that sends ``Accept-Encoding: gzip`` gets SPARQL results, RDF and HTML compressed,
whichever path answered (the fast path or FastAPI): :class:`GzipSend` wraps the ASGI ``send``
of the whole service. What it does to a response:

- the body is compressed chunk by chunk (streamed answers stay streamed); large chunks are
  compressed in a worker thread, never on the event loop;
- the ``ETag`` gains ``-gzip`` inside its quotes: the two encodings are different bytes, so
  they are different representations with different validators (RFC 9110, 8.8.3); the
  client's ``If-None-Match`` is mapped back before the app compares it, and a 304 carries the
  validator of the encoding the client has;
- ``Vary`` gains ``Accept-Encoding``; ``Content-Length`` goes (the length is not known
  before the end).

Not compressed: a request with ``Range`` (ranges apply to the identity body only), the dump
files (``/dumps/…``: already gzip files, or served with byte ranges), a response that has a
``Content-Encoding`` or ``Content-Range`` already, and media types that are not text.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]

LEVEL = 6
# Chunks larger than this are compressed in a worker thread (about 1 ms of CPU per 64 KiB).
THREAD_THRESHOLD = 64 * 1024
GZIP_SUFFIX = "-gzip"
COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/ld+json",
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "application/rdf+xml",
    "application/n-triples",
    "application/n-quads",
    "application/trig",
    "application/xml",
    "application/javascript",
    "image/svg+xml",
)
SKIPPED_PATH_PREFIXES = ("/dumps/",)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` value allows gzip (``*`` counts; ``q=0`` refuses).

    >>> accepts_gzip("gzip, deflate, br")
    True
    >>> accepts_gzip("gzip;q=0, identity")
    False
    >>> accepts_gzip("*")
    True
    >>> accepts_gzip("identity")
    False
    """
    verdict = {}
    for item in accept_encoding.split(",")[:32]:  # a bounded look at a client's list
        name, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        verdict[name.strip().lower()] = q > 0
    return verdict.get("gzip", verdict.get("x-gzip", verdict.get("*", False)))


def gzip_etag(etag: str) -> str:
    """The validator of the gzip-coded representation of ``etag``'s identity body.

    >>> gzip_etag('"v1-json-ab"'), gzip_etag('W/"x"')
    ('"v1-json-ab-gzip"', 'W/"x-gzip"')
    """
    return etag[:-1] + GZIP_SUFFIX + '"' if etag.endswith('"') else etag


def identity_tags(if_none_match: str) -> str:
    """``If-None-Match`` with every gzip validator mapped back to the identity one.

    >>> identity_tags('"a-gzip", W/"b-gzip", "c"')
    '"a", W/"b", "c"'
    """
    return if_none_match.replace(GZIP_SUFFIX + '"', '"')


def wants_gzip(scope: Message) -> bool:
    """Whether to gzip the answer to this HTTP request (see the module's rules)."""
    if scope.get("path", "").startswith(SKIPPED_PATH_PREFIXES):
        return False
    accept_encoding = b""
    for name, value in scope.get("headers", ()):
        if name == b"range":
            return False
        if name == b"accept-encoding":
            accept_encoding = value
    return accepts_gzip(accept_encoding.decode("latin-1")) if accept_encoding else False


def map_validators(scope: Message) -> bool:
    """Rewrite the request's ``If-None-Match`` in place so the app compares identity tags;
    return whether the client named a gzip validator (what a 304 then confirms)."""
    named_gzip = False
    headers = []
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            text = value.decode("latin-1")
            mapped = identity_tags(text)
            named_gzip = named_gzip or mapped != text
            value = mapped.encode("latin-1")
        headers.append((name, value))
    scope["headers"] = headers
    return named_gzip


class GzipSend:
    """An ASGI ``send`` that gzips an eligible response on its way out.

    ``gzip_validator``: the request's ``If-None-Match`` named a gzip validator, so a 304
    confirms that one (a 304 to an identity validator keeps the identity one).
    """

    def __init__(self, send: Send, method: str, gzip_validator: bool = False) -> None:
        self.send = send
        self.head = method == "HEAD"
        self.gzip_validator = gzip_validator
        self.active = False
        self.compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, 31)  # 31: the gzip wrapper

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            message = self._start(message)
        elif message["type"] == "http.response.body" and self.active and not self.head:
            message = await self._body(message)
        await self.send(message)

    def _start(self, message: Message) -> Message:
        headers = [(n.lower(), v) for n, v in message.get("headers", ())]
        names = {n for n, _ in headers}
        content_type = dict(headers).get(b"content-type", b"").decode("latin-1").lower()
        status = message["status"]
        eligible = (
            ((status == 304 and self.gzip_validator) or (200 <= status < 300 and status != 206))
            and b"content-encoding" not in names
            and b"content-range" not in names
            and (status == 304 or content_type.startswith(COMPRESSIBLE))
        )
        if not eligible:
            return message
        self.active = status != 304
        rewritten = []
        vary_seen = False
        for name, value in headers:
            if name == b"content-length" and self.active:
                continue
            if name == b"accept-ranges" and self.active:
                continue  # ranges are served on the identity body only
            if name == b"etag":
                value = gzip_etag(value.decode("latin-1")).encode("latin-1")
            if name == b"vary":
                vary_seen = True
                if b"accept-encoding" not in value.lower():
                    value += b", Accept-Encoding"
            rewritten.append((name, value))
        if not vary_seen:
            rewritten.append((b"vary", b"Accept-Encoding"))
        if self.active:
            rewritten.append((b"content-encoding", b"gzip"))
        return {**message, "headers": rewritten}

    async def _body(self, message: Message) -> Message:
        chunk = message.get("body", b"")
        more = message.get("more_body", False)

        def work() -> bytes:
            out = self.compressor.compress(chunk) if chunk else b""
            return out + (b"" if more else self.compressor.flush())

        if len(chunk) > THREAD_THRESHOLD:
            data = await anyio.to_thread.run_sync(work)
        else:
            data = work()
        return {**message, "body": data}
