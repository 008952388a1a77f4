"""The HTTP server around the app: uvicorn with httptools, and bounds on request heads.

uvicorn's httptools protocol (the fastest it has) sets no limit on a request's head: any
number of headers, of any size, arriving as slowly as a client likes. One 8 MB ``Accept``
header used to freeze every route while it was parsed and ranked, and two hundred clients
trickling their headers held their connections for as long as they liked. h11 bounds the
head's size but costs throughput on every request and still has no read timeout; a front
proxy would be a second program to ship and configure. So the bounds live here, in a
subclass of uvicorn's protocol that checks the head while it arrives, before the app or
any parser of ours sees it:

- the request line's target at most ``max_url_bytes`` (414), the header fields together
  at most ``max_header_bytes`` and ``max_header_count`` of them (431);
- the whole head within ``header_timeout_s`` of its first byte (408, then the connection
  closes): a slow client costs only its own connection, for a bounded time.

Bytes fed to the parser while a head is incomplete are counted too, so a single endless
header value is refused once it passes the bound, not after it has been buffered whole.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from pactgraph.serve.config import ServiceConfig

# httptools.parse_url refuses longer targets (llhttp's URL parser keeps 16-bit offsets).
MAX_PARSABLE_URL = 65535
_REASONS = {
    408: b"Request Timeout",
    414: b"URI Too Long",
    431: b"Request Header Fields Too Large",
}


class HeadRefused(Exception):
    """A request head over a bound: the status to answer and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounded request heads (see the module docstring).

    The bounds are class attributes, set by :func:`protocol_for` from a
    :class:`ServiceConfig`.
    """

    max_url_bytes = 8192
    max_header_bytes = 16384
    max_header_count = 100
    header_timeout_s = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_fed = 0
        self._head_timer: asyncio.TimerHandle | None = None

    # -- the head's clock

    def _start_head(self) -> None:
        self._in_head = True
        self._head_fed = 0
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_too_slow)

    def _end_head(self) -> None:
        self._in_head = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(
                HeadRefused(408, f"The request head took over {self.header_timeout_s:g} s.")
            )

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._end_head()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The next request on a kept-alive connection starts its own head (the keep-alive
        # timeout covers the wait for its first byte; this clock starts when it comes).
        self._in_head = True
        self._head_fed = 0

    # -- counting while the head arrives

    def data_received(self, data: bytes) -> None:
        if self._in_head and self._head_timer is None:
            self._start_head()
        counted = self._in_head
        try:
            self.parser.feed_data(data)
        except HeadRefused as refused:
            self._refuse(refused)
            return
        except httptools.HttpParserCallbackError as error:
            cause = error.__context__ or error.__cause__
            if isinstance(cause, HeadRefused):
                self._refuse(cause)
                return
            self._bad_request()
            return
        except httptools.HttpParserError:
            self._bad_request()
            return
        except httptools.HttpParserUpgrade:  # as uvicorn's own data_received does
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if counted and self._in_head:
            self._head_fed += len(data)
            limit = self.max_url_bytes + self.max_header_bytes + 4096  # + the syntax around
            if self._head_fed > limit:
                self._refuse(self._oversized_head())

    def _too_long_target(self) -> HeadRefused:
        return HeadRefused(
            414,
            f"The request target is over {self.max_url_bytes} bytes; send a long query "
            "in a POST body (application/sparql-query) instead.",
        )

    def _oversized_head(self) -> HeadRefused:
        """What to answer a head that went over the raw bound before it ended."""
        if len(getattr(self, "url", b"")) > self.max_url_bytes:
            return self._too_long_target()
        return HeadRefused(431, "The request head is too large.")

    def on_headers_complete(self) -> None:
        # Checked once per request on what the parser collected (the raw bytes fed while
        # the head arrived were bounded in data_received): cheaper than a check per field.
        self._end_head()
        if len(self.url) > self.max_url_bytes:
            raise self._too_long_target()
        if len(self.headers) > self.max_header_count:
            raise HeadRefused(431, f"More than {self.max_header_count} header fields.")
        if sum(len(name) + len(value) for name, value in self.headers) > self.max_header_bytes:
            raise HeadRefused(431, f"Header fields over {self.max_header_bytes} bytes.")
        super().on_headers_complete()

    # -- answering a refused head

    def _bad_request(self) -> None:
        self.logger.warning("Invalid HTTP request received.")
        self.send_400_response("Invalid HTTP request received.")

    def _refuse(self, refused: HeadRefused) -> None:
        self._end_head()
        self.logger.warning("refused a request head: %s", refused.message)
        body = (refused.message + "\n").encode("utf-8")
        head = b"HTTP/1.1 %d %s\r\n" % (refused.status, _REASONS[refused.status])
        self.transport.write(
            head
            + b"content-type: text/plain; charset=utf-8\r\n"
            + b"content-length: %d\r\n" % len(body)
            + b"connection: close\r\n\r\n"
            + body
        )
        self.transport.close()


def protocol_for(config: ServiceConfig) -> type[BoundedHttpToolsProtocol]:
    """The protocol class with ``config``'s bounds.

    The request target must hold the longest query allowed (``max_query_length``
    characters, each at most four bytes of UTF-8 and so twelve once percent-encoded) and
    its other parameters, up to the 65,535 bytes httptools can parse at all: a longer query
    goes in a POST body (the 414 says so).

    >>> protocol_for(ServiceConfig(max_query_length=10)).max_url_bytes
    8312
    >>> protocol_for(ServiceConfig()).max_url_bytes
    65535
    """
    return type(
        "PactgraphHttpProtocol",
        (BoundedHttpToolsProtocol,),
        {
            "max_url_bytes": min(12 * config.max_query_length + 8192, MAX_PARSABLE_URL),
            "max_header_bytes": config.max_header_bytes,
            "max_header_count": config.max_header_count,
            "header_timeout_s": config.header_timeout_s,
        },
    )


def uvicorn_config(app: Any, config: ServiceConfig, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration pactgraph serves with: bounded heads, no access log of
    uvicorn's own (the app writes one JSON line per request).

    >>> uvicorn_config(None, ServiceConfig(), port=1).http.__name__
    'PactgraphHttpProtocol'
    """
    return uvicorn.Config(app, http=protocol_for(config), access_log=False, **options)
