"""``/dumps/``: listings, SHA-256 ETags, conditional GET, byte ranges, ``latest`` and traversal.

Runs the real app (``create_app``) under uvicorn on a free loopback port over a real release
of ``tests/data/mini`` and talks raw HTTP to it (httpx, and ``http.client`` where a path must
reach the server un-normalised).
"""

from __future__ import annotations

import doctest
import gzip
import hashlib
import http.client
import importlib
from collections.abc import Iterator
from email.utils import formatdate
from urllib.parse import urlsplit

import httpx
import pytest
from service_fixtures import serve

from pactgraph.release.published import Release

EXPECTED_MEDIA_TYPES = {
    "pactgraph.ttl": "text/turtle",
    "pactgraph.nt": "application/n-triples",
    "pactgraph.nq": "application/n-quads",
    "pactgraph.jsonld": "application/ld+json",
    "pactgraph.ttl.gz": "application/gzip",
    "pactgraph.nt.gz": "application/gzip",
    "pactgraph.nq.gz": "application/gzip",
    "pactgraph.jsonld.gz": "application/gzip",
    "SHA256SUMS": "text/plain",
}


def _sums(release: Release) -> dict[str, str]:
    pairs = (line.split("  ", 1) for line in release.checksums.splitlines() if line.strip())
    return {name: digest for digest, name in pairs}


@pytest.fixture(scope="module")
def base_url(mini_release: Release) -> Iterator[str]:
    with serve(mini_release) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as c:
        yield c


def _url(release: Release, name: str) -> str:
    return f"/dumps/{release.version}/{name}"


def test_version_listing_names_every_file_with_size_hash_and_type(
    client: httpx.Client, mini_release: Release
) -> None:
    r = client.get(f"/dumps/{mini_release.version}/", headers={"Accept": "application/json"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    listing = r.json()
    assert listing["version"] == mini_release.version
    files = {f["name"]: f for f in listing["files"]}
    assert set(files) == {*_sums(mini_release), "SHA256SUMS"}
    for name, entry in files.items():
        data = (mini_release.path / name).read_bytes()
        assert entry["size"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["url"].endswith(_url(mini_release, name))
    for name, media_type in EXPECTED_MEDIA_TYPES.items():
        assert files[name]["media_type"] == media_type
    # Every listed file has a real type, not the octet-stream fallback.
    assert all(f["media_type"] != "application/octet-stream" for f in files.values())


def test_root_listing_names_the_served_release_as_latest(
    client: httpx.Client, mini_release: Release
) -> None:
    listing = client.get("/dumps/").json()  # no Accept at all: JSON
    assert listing["latest"] == mini_release.version
    assert mini_release.version in [v["version"] for v in listing["versions"]]


def test_browsers_get_an_html_listing_with_links(
    client: httpx.Client, mini_release: Release
) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for path in ("/dumps/", f"/dumps/{mini_release.version}/"):
        r = client.get(path, headers={"Accept": accept})
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        assert "accept" in r.headers["vary"].lower()
        assert f'href="{_url(mini_release, "pactgraph.nt.gz")}"' in r.text
    forced = client.get(f"/dumps/{mini_release.version}/?format=json", headers={"Accept": accept})
    assert forced.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("name", sorted(EXPECTED_MEDIA_TYPES))
def test_each_file_is_served_with_its_type_and_sha256_etag(
    client: httpx.Client, mini_release: Release, name: str
) -> None:
    r = client.get(_url(mini_release, name))
    data = (mini_release.path / name).read_bytes()
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["content-type"].split(";")[0] == EXPECTED_MEDIA_TYPES[name]
    assert r.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert r.headers["accept-ranges"] == "bytes"
    assert "last-modified" in r.headers
    if name != "SHA256SUMS":
        assert r.headers["etag"] == f'"{_sums(mini_release)[name]}"'


def test_gzip_files_are_the_file_bytes_not_a_content_encoding(
    client: httpx.Client, mini_release: Release
) -> None:
    r = client.get(_url(mini_release, "pactgraph.nt.gz"), headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in r.headers
    assert r.content[:2] == b"\x1f\x8b"
    assert gzip.decompress(r.content) == (mini_release.path / "pactgraph.nt").read_bytes()


def test_head_sends_the_headers_only(client: httpx.Client, mini_release: Release) -> None:
    r = client.head(_url(mini_release, "pactgraph.ttl"))
    assert r.status_code == 200
    assert r.content == b""
    assert int(r.headers["content-length"]) == (mini_release.path / "pactgraph.ttl").stat().st_size


def test_if_none_match_with_the_etag_gives_304(client: httpx.Client, mini_release: Release) -> None:
    path = _url(mini_release, "pactgraph.nq")
    etag = client.get(path).headers["etag"]
    r = client.get(path, headers={"If-None-Match": etag})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["etag"] == etag
    assert client.get(path, headers={"If-None-Match": f"W/{etag}"}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"0000", ' + etag}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"not-the-hash"'}).status_code == 200


def test_if_modified_since(client: httpx.Client, mini_release: Release) -> None:
    path = _url(mini_release, "pactgraph.ttl")
    last_modified = client.get(path).headers["last-modified"]
    assert client.get(path, headers={"If-Modified-Since": last_modified}).status_code == 304
    long_ago = formatdate(0, usegmt=True)
    assert client.get(path, headers={"If-Modified-Since": long_ago}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    both = {"If-Modified-Since": last_modified, "If-None-Match": '"other"'}
    assert client.get(path, headers=both).status_code == 200


def test_byte_ranges(client: httpx.Client, mini_release: Release) -> None:
    name = "pactgraph.nt"
    data = (mini_release.path / name).read_bytes()
    size = len(data)
    r = client.get(_url(mini_release, name), headers={"Range": "bytes=0-9"})
    assert r.status_code == 206
    assert r.content == data[:10]
    assert r.headers["content-range"] == f"bytes 0-9/{size}"
    tail = client.get(_url(mini_release, name), headers={"Range": "bytes=-7"})
    assert tail.status_code == 206
    assert tail.content == data[-7:]
    gz = client.get(_url(mini_release, "pactgraph.nt.gz"), headers={"Range": "bytes=0-1"})
    assert gz.status_code == 206
    assert gz.content == b"\x1f\x8b"


def test_unsatisfiable_range_gives_416(client: httpx.Client, mini_release: Release) -> None:
    size = (mini_release.path / "pactgraph.nt").stat().st_size
    r = client.get(_url(mini_release, "pactgraph.nt"), headers={"Range": f"bytes={size}-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{size}"


def test_if_range_uses_the_sha256_etag(client: httpx.Client, mini_release: Release) -> None:
    path = _url(mini_release, "pactgraph.ttl")
    etag = client.get(path).headers["etag"]
    same = client.get(path, headers={"Range": "bytes=0-3", "If-Range": etag})
    assert same.status_code == 206
    stale = client.get(path, headers={"Range": "bytes=0-3", "If-Range": '"stale"'})
    assert stale.status_code == 200
    assert stale.content == (mini_release.path / "pactgraph.ttl").read_bytes()


def test_latest_redirects_to_the_versioned_url(client: httpx.Client, mini_release: Release) -> None:
    r = client.get("/dumps/latest/pactgraph.ttl")
    assert r.status_code == 302
    assert urlsplit(r.headers["location"]).path == _url(mini_release, "pactgraph.ttl")
    listing = client.get("/dumps/latest/")
    assert listing.status_code == 302
    assert urlsplit(listing.headers["location"]).path == f"/dumps/{mini_release.version}/"
    followed = client.get("/dumps/latest/SHA256SUMS", follow_redirects=True)
    assert followed.status_code == 200
    assert followed.text == mini_release.checksums


@pytest.mark.parametrize(
    # (".." itself is covered below with raw paths: httpx would normalise it away.)
    "name",
    ["store", "release.json.bak", "pactgraph.rdf", "...", "pactgraph.ttl%00", "SHA256SUMS.gz"],
)
def test_names_not_in_sha256sums_are_404(
    client: httpx.Client, mini_release: Release, name: str
) -> None:
    assert (mini_release.path / "store").is_dir()  # present on disk, yet never served
    assert client.get(f"/dumps/{mini_release.version}/{name}").status_code == 404


def test_unknown_versions_are_404(client: httpx.Client) -> None:
    assert client.get("/dumps/0.0.0-nope/").status_code == 404
    assert client.get("/dumps/0.0.0-nope/pactgraph.ttl").status_code == 404


@pytest.mark.parametrize(
    "raw_path",
    [
        "/dumps/{v}/../../../../etc/passwd",
        "/dumps/{v}/..%2f..%2f..%2fetc%2fpasswd",
        "/dumps/..%2f..%2fetc/passwd",
        "/dumps/{v}/store%2fversion",
        "/dumps/%2e%2e/SHA256SUMS",
    ],
)
def test_path_traversal_never_reaches_the_filesystem(
    base_url: str, mini_release: Release, raw_path: str
) -> None:
    # http.client sends the path exactly as written (httpx would normalise the dots away).
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", raw_path.format(v=mini_release.version))
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 404, body
    assert b"root:" not in body


@pytest.mark.parametrize("module_name", ["pactgraph.serve.dumps", "pactgraph.serve.ui"])
def test_docstring_examples_run(module_name: str) -> None:
    module = importlib.import_module(module_name)
    outcome = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert outcome.attempted > 0, f"{module_name} has no examples"
    assert outcome.failed == 0
