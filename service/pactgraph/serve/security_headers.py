"""Headers every response carries so a browser treats the service's pages safely.

- ``Content-Security-Policy``: scripts, styles, images and fonts from this origin only (the
  query editor is served from ``/ui/vendor/``), and ``connect-src 'self'``: a page of ours
  can send queries to this service and nowhere else, whatever a crafted link asks for.
  Styles also allow inline ones (the pages' own ``<style>`` blocks and the editor's).
  ``frame-ancestors 'none'`` keeps the pages out of other sites' frames.
- ``X-Frame-Options: DENY`` says the same to browsers that predate ``frame-ancestors``.
- ``X-Content-Type-Options: nosniff``: a body is only ever what its ``Content-Type`` says.
- ``Referrer-Policy: no-referrer``: a query in a page URL is not sent to other sites.

They are added on the way out of the whole service (:class:`SecureSend`), fast path
included, unless a response sets its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode("ascii")),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)


def with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` plus each security header it does not set itself.

    >>> names = [n for n, _ in with_security_headers([(b"x-frame-options", b"SAMEORIGIN")])]
    >>> names.count(b"x-frame-options"), b"content-security-policy" in names
    (1, True)
    """
    present = {name.lower() for name, _ in headers}
    return [*headers, *((n, v) for n, v in SECURITY_HEADERS if n not in present)]


class SecureSend:
    """An ASGI ``send`` that adds :data:`SECURITY_HEADERS` to the response start."""

    def __init__(self, send: Send) -> None:
        self.send = send

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = with_security_headers(list(message.get("headers", ())))
            message = {**message, "headers": headers}
        await self.send(message)
