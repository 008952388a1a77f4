"""The SPARQL result cache: exact answers of an immutable release, bounded, LRU, tagged.

The cache itself is tested directly; its use by the endpoint over real HTTP on a served
release (hits and misses seen through ``X-Cache`` and ``/healthz``, ETag/304, a disabled
cache, and the release version in every key).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import pytest

from pactgraph.release.published import Release
from pactgraph.serve.cache import CachedAnswer, CacheKey, ResultCache

QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
JSON = "application/sparql-results+json"


def key(query: str, version: str = "1") -> CacheKey:
    return CacheKey(version, query, None, None, "json|ttl")


def test_lru_evicts_by_total_bytes() -> None:
    cache = ResultCache(max_bytes=10)
    cache.put(key("a"), CachedAnswer(JSON, b"aaaa"))
    cache.put(key("b"), CachedAnswer(JSON, b"bbbb"))
    assert cache.get(key("a")) is not None  # now "b" is the least recently used
    cache.put(key("c"), CachedAnswer(JSON, b"cccc"))
    assert cache.get(key("b")) is None
    assert cache.get(key("a")).body == b"aaaa"
    assert cache.get(key("c")).body == b"cccc"
    assert cache.size == 8 <= cache.max_bytes


def test_replacing_an_entry_keeps_the_size_right() -> None:
    cache = ResultCache(max_bytes=10)
    cache.put(key("a"), CachedAnswer(JSON, b"aaaaaa"))
    cache.put(key("a"), CachedAnswer(JSON, b"aa"))
    assert (cache.size, len(cache)) == (2, 1)


def test_zero_bytes_disables_the_cache() -> None:
    cache = ResultCache(max_bytes=0)
    assert not cache.enabled
    assert not cache.put(key("a"), CachedAnswer(JSON, b"x"))
    assert cache.get(key("a")) is None


def test_the_version_is_part_of_the_key() -> None:
    cache = ResultCache(max_bytes=100)
    cache.put(key("a", version="1"), CachedAnswer(JSON, b"old"))
    assert cache.get(key("a", version="2")) is None
    assert key("a", "1").etag() != key("a", "2").etag()


@pytest.fixture(scope="module")
def cached_service(mini_release: Release, start_service) -> Iterator[str]:
    with start_service(mini_release) as url:
        yield url


def test_a_repeated_query_is_answered_from_the_cache(cached_service: str) -> None:
    query = QUERY + " # repeated"
    with httpx.Client(base_url=cached_service, timeout=60) as http:
        before = http.get("/healthz").json()["result_cache"]
        first = http.get("/sparql", params={"query": query}, headers={"Accept": JSON})
        second = http.get("/sparql", params={"query": query}, headers={"Accept": JSON})
        after = http.get("/healthz").json()["result_cache"]
    assert first.status_code == second.status_code == 200
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert first.content == second.content
    assert first.headers["content-type"] == second.headers["content-type"]
    assert first.headers["etag"] == second.headers["etag"]
    assert after["hits"] == before["hits"] + 1
    assert after["entries"] == before["entries"] + 1


def test_another_media_type_is_another_entry(cached_service: str) -> None:
    query = QUERY + " # media types"
    with httpx.Client(base_url=cached_service, timeout=60) as http:
        as_json = http.get("/sparql", params={"query": query}, headers={"Accept": JSON})
        as_csv = http.get("/sparql", params={"query": query}, headers={"Accept": "text/csv"})
    assert as_csv.headers["x-cache"] == "miss"
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_json.headers["etag"] != as_csv.headers["etag"]


def test_etag_and_304(cached_service: str) -> None:
    query = QUERY + " # etag"
    with httpx.Client(base_url=cached_service, timeout=60) as http:
        first = http.get("/sparql", params={"query": query})
        etag = first.headers["etag"]
        assert first.headers["cache-control"].startswith("public, max-age=")
        again = http.get("/sparql", params={"query": query}, headers={"If-None-Match": etag})
        other = http.get("/sparql", params={"query": query}, headers={"If-None-Match": '"x"'})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert other.status_code == 200 and other.content == first.content


def test_errors_are_not_cached_nor_tagged(cached_service: str) -> None:
    with httpx.Client(base_url=cached_service, timeout=60) as http:
        answers = [http.get("/sparql", params={"query": "SELECT * {"}) for _ in range(2)]
    for answer in answers:
        assert answer.status_code == 400
        assert "etag" not in answer.headers
        assert answer.headers.get("x-cache") != "hit"


def test_post_answers_share_the_cache_but_carry_no_etag(cached_service: str) -> None:
    query = QUERY + " # post"
    with httpx.Client(base_url=cached_service, timeout=60) as http:
        answers = [http.post("/sparql", data={"query": query}) for _ in range(2)]
    assert [a.headers["x-cache"] for a in answers] == ["miss", "hit"]
    assert "etag" not in answers[1].headers


def test_cache_disabled_at_zero(mini_release: Release, start_service) -> None:
    with (
        start_service(mini_release, result_cache_bytes=0) as url,
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        answers = [http.get("/sparql", params={"query": QUERY}) for _ in range(2)]
        stats = http.get("/healthz").json()["result_cache"]
    assert all(a.status_code == 200 and "x-cache" not in a.headers for a in answers)
    assert answers[0].content == answers[1].content
    assert stats["entries"] == stats["hits"] == 0


def test_a_new_release_never_serves_an_old_entry(
    mini_release: Release, start_service, make_release, tmp_path
) -> None:
    """Two releases of different data: the same query, each its own answer and tag."""
    data = tmp_path / "other.nq"
    data.write_text(
        "<urn:pactgraph:test:a> <urn:pactgraph:test:p> <urn:pactgraph:test:b> "
        "<urn:pactgraph:test:g> .\n",
        encoding="utf-8",
    )
    other = make_release(tmp_path / "dist", data, "9.9.9-other")
    answers = []
    for release in (mini_release, other):
        with start_service(release) as url, httpx.Client(base_url=url, timeout=60) as http:
            answers.append(http.get("/sparql", params={"query": QUERY}, headers={"Accept": JSON}))
    assert answers[0].json() != answers[1].json()
    assert answers[0].headers["etag"] != answers[1].headers["etag"]
    shutil.rmtree(tmp_path / "dist", ignore_errors=True)


def test_405_allow_lists_head(cached_service: str) -> None:
    with httpx.Client(base_url=cached_service, timeout=60) as http:
        refused = http.put("/sparql", params={"query": "ASK {}"})
        head = http.head("/sparql", params={"query": "ASK {}"})
    assert refused.status_code == 405
    allowed = {m.strip() for m in refused.headers["allow"].split(",")}
    assert {"GET", "HEAD", "POST"} <= allowed
    assert head.status_code == 200
