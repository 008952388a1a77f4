"""A bounded, exact cache of finished SPARQL answers.

A release never changes once published, so the answer to (release version, query text,
dataset parameters, response media type) is always the same bytes: caching it is exact, not
an approximation. Entries are kept least-recently-used first out, bounded by the total size
of their bodies; only successful (200) answers are stored.

>>> cache = ResultCache(max_bytes=10)
>>> key = CacheKey("1.0", "ASK {}", None, None, "application/sparql-results+json")
>>> cache.put(key, CachedAnswer("application/sparql-results+json", b"true"))
True
>>> cache.get(key).body, cache.hits, cache.misses
(b'true', 1, 0)
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class CacheKey:
    """What determines an answer's bytes exactly."""

    version: str
    query: str
    default_graphs: tuple[str, ...] | None
    named_graphs: tuple[str, ...] | None
    # The negotiated formats (for SELECT/ASK and CONSTRUCT/DESCRIBE), not the raw Accept
    # header: two Accept headers that pick the same formats share one entry.
    formats: str
    # Relative IRIs in the query resolve against the endpoint's IRI, which may follow the
    # request's Host: part of what the answer depends on.
    base_iri: str | None = None

    def etag(self) -> str:
        """A strong entity tag: a hash of the whole key (which includes the release version).

        >>> CacheKey("1", "q", None, None, "json").etag() == CacheKey("2", "q", None, None,
        ...     "json").etag()
        False
        """
        digest = hashlib.sha256(repr(self).encode("utf-8")).hexdigest()[:32]
        return f'"{digest}"'


@dataclass(frozen=True)
class CachedAnswer:
    """A successful answer as sent: its ``Content-Type`` and body."""

    content_type: str
    body: bytes


class ResultCache:
    """LRU of answers bounded by the total bytes of their bodies (0 bytes: disabled)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[CacheKey, CachedAnswer] = OrderedDict()

    @property
    def enabled(self) -> bool:
        """Whether anything can be cached at all."""
        return self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> CachedAnswer | None:
        """The cached answer for ``key`` (now the most recently used), or ``None``."""
        answer = self._entries.get(key)
        if answer is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return answer

    def put(self, key: CacheKey, answer: CachedAnswer) -> bool:
        """Keep ``answer``, evicting the least recently used; whether it was kept.

        An answer larger than the whole budget is not kept (it would only evict everything).

        >>> cache = ResultCache(max_bytes=4)
        >>> cache.put(CacheKey("1", "a", None, None, "j"), CachedAnswer("t", b"12345"))
        False
        """
        size = len(answer.body)
        if size > self.max_bytes:
            return False
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= len(old.body)
        while self._entries and self.size + size > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.size -= len(evicted.body)
        self._entries[key] = answer
        self.size += size
        return True

    def stats(self) -> dict[str, int]:
        """Counters for ``/healthz``."""
        return {
            "entries": len(self._entries),
            "bytes": self.size,
            "max_bytes": self.max_bytes,
            "hits": self.hits,
            "misses": self.misses,
        }
