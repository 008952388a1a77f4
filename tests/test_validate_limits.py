"""``POST /validate`` under abuse, over real HTTP against the real app (issue 12).

Every upload is parsed, validated and reported in a validation worker process with a time
limit, a memory cap, a bounded queue and a cap on the results a report lists, so:

- a JSON-LD body nesting scoped ``@context``s 20 000 deep (it overflowed the parser's stack
  and killed the whole server) is a 400 for that request, and the service answers on;
- hostile shapes of every accepted syntax never stop ``/healthz`` or a query;
- an upload over the time limit is stopped with 504 while the service answers meanwhile,
  and one over the memory cap gets 413;
- with the one worker busy and no waiting room, the next upload gets 503 and Retry-After;
- a report with more results than the cap lists the first ones and says how many there were;
- a client that hangs up mid-body (``/validate`` and ``POST /sparql``) costs a one-line log,
  never a 500 with a traceback.

Ordering is proven by completion order and ``/healthz`` state, never by a clock.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from probes import get_health, wait_for_health
from rdflib import Graph
from rdflib.namespace import RDFS, SH

from pactgraph.serve.config import ServiceConfig

DATA = Path(__file__).parent / "data"
VALID = DATA / "valid" / "obligations.ttl"
SETTLE_TIMEOUT_S = 120.0
PACT = "https://w3id.org/pactgraph/ontology#"


def deep_context(depth: int) -> bytes:
    """JSON-LD whose term ``p`` has a scoped context nesting ``depth`` more scoped contexts."""
    opening = '{"q":{"@id":"urn:q","@context":' * depth
    closing = "}}" * depth
    return (
        '{"@context":{"p":{"@id":"urn:p","@context":'
        + opening
        + "{}"
        + closing
        + '}},"@id":"urn:a","p":"x"}'
    ).encode()


def bare_nodes(count: int) -> bytes:
    """Turtle with ``count`` obligations that have nothing but a type: six results each, and
    pySHACL's time grows faster than the count (25 000 took over a minute)."""
    lines = [f"@prefix pact: <{PACT}> ."]
    lines += [f"<urn:n{i}> a pact:Obligation ." for i in range(count)]
    return "\n".join(lines).encode()


def post(url: str, body: bytes, content_type: str, accept: str = "application/json"):
    return httpx.post(
        url + "/validate",
        content=body,
        headers={"Content-Type": content_type, "Accept": accept},
        timeout=600,
    )


def assert_alive(url: str) -> None:
    """``/healthz`` and a cheap query answer (generous bounds: liveness, not speed)."""
    assert httpx.get(url + "/healthz", timeout=60).status_code == 200
    answer = httpx.get(url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=60)
    assert answer.status_code == 200 and answer.json()["boolean"] is True


def assert_validates(url: str) -> None:
    """A clean upload is validated (by a fresh worker after a stopped or crashed one)."""
    response = post(url, VALID.read_bytes(), "text/turtle")
    assert response.status_code == 200, response.text
    assert response.json() == {"conforms": True, "violations": []}


@dataclass(frozen=True)
class Served:
    url: str
    log: Path


@pytest.fixture(scope="module")
def service(mini_release, start_service, tmp_path_factory) -> Iterator[Served]:
    """Default limits (its log kept), but a report lists at most 3 results."""
    log = tmp_path_factory.mktemp("validate-log") / "server.log"
    with start_service(mini_release, log_path=log, validate_result_cap=3) as url:
        yield Served(url, log)


# ------------------------------------------------------------------------- crashing parsers


def test_deep_jsonld_contexts_are_a_400_and_the_service_answers_on(service: Served) -> None:
    body = deep_context(20_000)
    assert len(body) < ServiceConfig().max_body_size  # refused for its shape, not its size
    response = post(service.url, body, "application/ld+json")
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert "could not be parsed" in error and "crashed" in error
    assert_alive(service.url)
    assert_validates(service.url)
    assert get_health(service.url)["validation"]["worker_restarts"] >= 1


HOSTILE_SHAPES = {
    # name: (media type, body, statuses that are a fair answer to it)
    # Near where the stack gives out, the context processing's memory (quadratic in the
    # depth) may reach the cap first.
    "jsonld-context-2500-deep": ("application/ld+json", deep_context(2_500), (400, 413)),
    "jsonld-arrays-300k-deep": (
        "application/ld+json",
        b'{"@id":"urn:a","urn:p":' + b"[" * 300_000 + b"1" + b"]" * 300_000 + b"}",
        (400,),
    ),
    "jsonld-objects-60k-deep": (
        "application/ld+json",
        b'{"@id":"urn:a",' + b'"urn:p":{' * 60_000 + b'"urn:q":1' + b"}" * 60_000 + b"}",
        (200, 400, 413, 504),
    ),
    "turtle-blank-nodes-70k-deep": (
        "text/turtle",
        b"<urn:a> <urn:p> " + b"[ <urn:p> " * 70_000 + b"<urn:b>" + b" ]" * 70_000 + b" .",
        (200, 413, 504),
    ),
    "turtle-lists-200k-deep": (
        "text/turtle",
        b"<urn:a> <urn:p> " + b"( " * 200_000 + b"<urn:b>" + b" )" * 200_000 + b" .",
        (200, 413, 504),
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE_SHAPES))
def test_hostile_shapes_cost_only_their_own_request(service: Served, name: str) -> None:
    media_type, body, fair = HOSTILE_SHAPES[name]
    assert len(body) < ServiceConfig().max_body_size
    response = post(service.url, body, media_type)
    assert response.status_code in fair, response.text[:500]
    if response.status_code != 200:
        assert response.json()["error"]
    assert_alive(service.url)


# ------------------------------------------------------------------------- the result cap


def test_a_long_report_is_cut_and_says_so(service: Served) -> None:
    body = bare_nodes(5)  # six results per node: 30, over the fixture's cap of 3
    summary = post(service.url, body, "text/turtle")
    assert summary.status_code == 200
    assert summary.headers["x-shacl-conforms"] == "false"
    assert summary.headers["x-shacl-results-total"] == "30"
    assert summary.headers["x-shacl-results-reported"] == "3"
    data = summary.json()
    assert len(data["violations"]) == 3
    assert data["truncated"]["total_results"] == 30
    assert data["truncated"]["reported_results"] == 3
    assert "first 3 of 30" in data["truncated"]["message"]

    turtle = post(service.url, body, "text/turtle", "text/turtle")
    report = Graph().parse(data=turtle.text, format="turtle")
    assert len(set(report.objects(None, SH.result))) == 3
    [comment] = report.objects(None, RDFS.comment)
    assert "first 3 of 30" in str(comment)

    text = post(service.url, body, "text/turtle", "text/plain").text
    assert text.startswith("Does not conform: 30 result(s).")
    assert "first 3 of 30" in text.splitlines()[0]
    html = post(service.url, body, "text/turtle", "text/html").text
    assert 'data-total-results="30"' in html and "first 3 of 30" in html

    within = post(service.url, VALID.read_bytes(), "text/turtle")
    assert "truncated" not in within.json()


# ------------------------------------------------------------------------- aborted bodies


def _abort_mid_body(url: str, path: str, content_type: str) -> None:
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n"
            "Content-Length: 100000\r\n\r\n".encode("ascii")
            + b"<urn:a> <urn:b> "
        )
        time.sleep(0.2)  # let the server start reading the body before the hang-up


def _access_lines(log: Path, path: str) -> list[dict]:
    lines = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and f'"path": "{path}"' in line:
            lines.append(json.loads(line))
    return lines


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/validate", "text/turtle"), ("/sparql", "application/sparql-query")],
)
def test_a_client_hanging_up_mid_body_is_one_log_line(
    service: Served, path: str, content_type: str
) -> None:
    # An earlier test's line may still trail in (a line is written once its response has
    # gone out), so this counts the hang-up's own status: one more 400, and no 5xx at all.
    def statuses() -> list[int]:
        return [line["status"] for line in _access_lines(service.log, path)]

    before = statuses().count(400)
    log_before = len(service.log.read_text(errors="replace"))
    _abort_mid_body(service.url, path, content_type)
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while statuses().count(400) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert statuses().count(400) == before + 1
    assert not [status for status in statuses() if status >= 500]
    # Only what was logged since the hang-up: earlier hostile uploads may have logged a
    # worker's own error output.
    text = service.log.read_text(errors="replace")[log_before:]
    assert "Traceback" not in text and "ClientDisconnect" not in text
    assert_alive(service.url)


# ------------------------------------------------------------------------- the time limit


@pytest.fixture(scope="module")
def slow(mini_release, start_service) -> Iterator[str]:
    """A 5 s limit on a validation and no memory cap (so the time limit is what stops it)."""
    with start_service(mini_release, validate_timeout_s=5, validate_memory_bytes=0) as url:
        yield url


def test_a_validation_over_the_time_limit_is_stopped_and_blocks_nothing(slow: str) -> None:
    finished: list[str] = []

    def upload() -> httpx.Response:
        response = post(slow, bare_nodes(25_000), "text/turtle")
        finished.append("upload")
        return response

    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(upload)
        wait_for_health(slow, lambda h: h["validation"]["busy"] >= 1, SETTLE_TIMEOUT_S)
        assert_alive(slow)  # while the validation runs: its worker is not the server
        finished.append("alive")
        response = pending.result()
    assert finished == ["alive", "upload"]
    assert response.status_code == 504, response.text
    assert "5 s limit" in response.json()["error"]
    after = wait_for_health(
        slow,
        lambda h: h["validation"]["busy"] == 0 and h["validation"]["workers"] == 1,
        SETTLE_TIMEOUT_S,
    )
    assert after["validation"]["worker_restarts"] == 1
    assert_validates(slow)


# ------------------------------------------------------------------------- queue and memory


@pytest.fixture(scope="module")
def single(mini_release, start_service) -> Iterator[str]:
    """One validation worker, no waiting room, a 200 MB cap and no time limit to speak of."""
    with start_service(
        mini_release,
        validate_workers=1,
        validate_queue_size=0,
        validate_timeout_s=600,
        validate_memory_bytes=200 * 1024**2,
        retry_after_s=7,
    ) as url:
        yield url


def test_a_full_queue_is_503_with_retry_after_and_the_cap_stops_a_hog(single: str) -> None:
    with ThreadPoolExecutor(1) as pool:
        hog = pool.submit(post, single, bare_nodes(25_000), "text/turtle")
        wait_for_health(single, lambda h: h["validation"]["busy"] >= 1, SETTLE_TIMEOUT_S)
        refused = post(single, VALID.read_bytes(), "text/turtle")
        assert_alive(single)  # queries have their own workers
        response = hog.result()
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == "7"
    assert "busy" in refused.json()["error"]
    assert response.status_code == 413, response.text
    assert "200 MiB" in response.json()["error"]
    wait_for_health(single, lambda h: h["validation"]["busy"] == 0, SETTLE_TIMEOUT_S)
    assert_validates(single)


def test_the_limits_are_configurable_and_documented() -> None:
    security = (Path(__file__).parents[1] / "SECURITY.md").read_text()
    for name in (
        "validate_timeout_s",
        "validate_workers",
        "validate_queue_size",
        "validate_memory_bytes",
        "validate_result_cap",
    ):
        assert hasattr(ServiceConfig(), name)
        assert name in security
