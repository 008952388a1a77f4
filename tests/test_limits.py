"""Resource limits that hold under abuse: memory per worker, slow clients, a killed worker.

- A query that needs more memory than ``worker_memory_bytes`` kills only its own worker: the
  client gets an error with a message, a concurrent query is answered, the pool replaces the
  worker and the service answers again.
- A client that trickles its request body never occupies a query worker: with one worker and
  no waiting room, other queries are answered while the slow body is still arriving.
- A worker killed from outside (``kill -9``) under load costs at most the requests it held;
  the pool starts a replacement by itself.

Worker processes are found through ``/proc`` (the children of the server process that run
``multiprocessing.spawn``); the server is told apart from other test servers by its port.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from probes import get_health, wait_for_health

SETTLE_TIMEOUT_S = 120.0
# Four triple patterns over the mini data (48 triples: 5.3 million rows), each row adding a
# predicate IRI and a long separator to one string: gigabytes, far beyond a small cap.
MEMORY_HOG = (
    "SELECT (GROUP_CONCAT(STR(?b) ; separator='"
    + "x" * 200
    + "') AS ?g) WHERE { ?a ?b ?c . ?d ?e ?f . ?g1 ?h ?i . ?j ?k ?l }"
)


# ------------------------------------------------------------------------- helpers


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields follow the last ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _listens_on(pid: int, port: int) -> bool:
    """Whether ``pid`` holds the listening socket of ``port`` (through /proc/net/tcp)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":  # LISTEN
            inodes.add(fields[9])
    try:
        links = [os.readlink(f) for f in (Path("/proc") / str(pid) / "fd").iterdir()]
    except OSError:
        return False
    return any(link == f"socket:[{inode}]" for link in links for inode in inodes)


def worker_pids(url: str) -> list[int]:
    """The query worker processes of the server at ``url`` (a child of this test process)."""
    port = int(url.rsplit(":", 1)[1])
    servers = [pid for pid in _children(os.getpid()) if _listens_on(pid, port)]
    assert len(servers) == 1, f"cannot tell which process serves {url}"
    return sorted(p for p in _children(servers[0]) if "spawn_main" in _cmdline(p))


def ask(url: str) -> httpx.Response:
    return httpx.get(url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=120)


# ------------------------------------------------------------------------- memory cap


@pytest.fixture(scope="module")
def capped(mini_release, start_service) -> Iterator[str]:
    """Two workers of at most 1 GiB address space each, and a generous time limit."""
    with start_service(
        mini_release,
        max_concurrent=2,
        timeout_s=600,
        worker_memory_bytes=1024**3,
        max_query_length=2000,  # a small query thread stack, so the cap is mostly heap
    ) as url:
        yield url


def test_a_query_over_the_memory_cap_kills_only_its_worker(capped: str) -> None:
    before = get_health(capped)
    pids = worker_pids(capped)
    finished: list[str] = []

    def hog() -> httpx.Response:
        response = httpx.get(capped + "/sparql", params={"query": MEMORY_HOG}, timeout=600)
        finished.append("hog")
        return response

    with ThreadPoolExecutor(1) as pool:
        blown = pool.submit(hog)
        wait_for_health(capped, lambda h: h["busy"] >= 1, SETTLE_TIMEOUT_S)
        other = ask(capped)  # the other worker still answers
        finished.append("ask")
        response = blown.result()
    assert other.status_code == 200 and other.json()["boolean"] is True
    assert finished == ["ask", "hog"]
    assert response.status_code == 500
    assert "stopped unexpectedly" in response.text and "memory" in response.text
    after = wait_for_health(
        capped, lambda h: h["workers"] == 2 and h["busy"] == 0, SETTLE_TIMEOUT_S
    )
    assert after["worker_restarts"] == before["worker_restarts"] + 1
    survivors = set(worker_pids(capped)) & set(pids)
    assert len(survivors) == 1, "exactly the hog's worker was replaced"
    assert ask(capped).status_code == 200


def test_the_cap_is_configurable_and_documented() -> None:
    from pactgraph.serve.config import ServiceConfig

    assert ServiceConfig().worker_memory_bytes == 2 * 1024**3
    assert "worker_memory_bytes" in (Path(__file__).parents[1] / "SECURITY.md").read_text()


# ------------------------------------------------------------------------- slow clients


@pytest.fixture(scope="module")
def single(mini_release, start_service) -> Iterator[str]:
    """One worker and no waiting room: anything that held the worker would make others 503."""
    with start_service(mini_release, max_concurrent=1, queue_size=0, timeout_s=30) as url:
        yield url


def test_a_slow_body_does_not_hold_a_worker(single: str) -> None:
    port = int(single.rsplit(":", 1)[1])
    body = b"ASK { ?s ?p ?o }"
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    head = (
        "POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Content-Type: application/sparql-query\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode("ascii") + body[:3])  # the start of the body, then a pause
    answered = []
    for byte in body[3:-1]:
        # Between every trickled byte another client's query is answered in full: the one
        # worker is free while the slow body is still arriving.
        response = ask(single)
        assert response.status_code == 200, response.text
        answered.append(response.json()["boolean"])
        sock.sendall(bytes([byte]))
    assert get_health(single)["busy"] == 0
    sock.sendall(body[-1:])
    reply = b""
    while chunk := sock.recv(65536):
        reply += chunk
    sock.close()
    assert reply.startswith(b"HTTP/1.1 200")
    assert b'"boolean":true' in reply
    assert answered == [True] * (len(body) - 4)


def test_a_client_that_never_finishes_its_body_does_not_hold_a_worker(single: str) -> None:
    port = int(single.rsplit(":", 1)[1])
    stalled = []
    for _ in range(3):  # more stalled clients than workers
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        sock.sendall(
            b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: 1000\r\n\r\nASK"
        )
        stalled.append(sock)
    try:
        response = ask(single)
        assert response.status_code == 200
        assert get_health(single)["busy"] == 0
    finally:
        for sock in stalled:
            sock.close()


# ------------------------------------------------------------------------- a killed worker


@pytest.fixture(scope="module")
def pool_of_two(mini_release, start_service) -> Iterator[str]:
    # No result cache: every request of the load must reach a worker.
    with start_service(
        mini_release, max_concurrent=2, queue_size=16, timeout_s=60, result_cache_bytes=0
    ) as url:
        yield url


def test_a_worker_killed_under_load_costs_at_most_its_own_requests(pool_of_two: str) -> None:
    clients, per_client = 4, 25
    queries = ["ASK { ?s ?p ?o }", "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"]
    results: list[httpx.Response] = []
    done = threading.Event()
    lock = threading.Lock()
    before = get_health(pool_of_two)
    victim = worker_pids(pool_of_two)[0]

    def client(index: int) -> None:
        with httpx.Client(base_url=pool_of_two, timeout=120) as http:
            for i in range(per_client):
                query = queries[(index + i) % len(queries)]
                response = http.get("/sparql", params={"query": query})
                with lock:
                    results.append(response)
                    if len(results) == clients * per_client // 3:
                        done.set()

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(client, i) for i in range(clients)]
        done.wait(SETTLE_TIMEOUT_S)
        os.kill(victim, signal.SIGKILL)  # a third of the way through the run
        for future in futures:
            future.result()
    failed = [r for r in results if r.status_code != 200]
    assert len(results) == clients * per_client
    # One worker holds one query at a time: at most one request can be lost with it.
    assert len(failed) <= 1, [(r.status_code, r.text) for r in failed]
    for response in failed:
        assert response.status_code == 500 and "stopped unexpectedly" in response.text
    after = wait_for_health(
        pool_of_two, lambda h: h["workers"] == 2 and h["busy"] == 0, SETTLE_TIMEOUT_S
    )
    assert after["worker_restarts"] == before["worker_restarts"] + 1
    assert victim not in worker_pids(pool_of_two)
    assert ask(pool_of_two).status_code == 200
    assert json.loads(ask(pool_of_two).text)["boolean"] is True


def test_a_killed_worker_is_reported_as_killed_not_out_of_memory(single: str) -> None:
    """Regression: the message used to guess "(out of memory?)" whatever ended the worker."""
    endless = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    [victim] = worker_pids(single)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(httpx.get, single + "/sparql", params={"query": endless}, timeout=120)
        wait_for_health(single, lambda h: h["busy"] >= 1, SETTLE_TIMEOUT_S)
        os.kill(victim, signal.SIGKILL)
        response = pending.result()
    assert response.status_code == 500
    assert "stopped unexpectedly" in response.text and "SIGKILL" in response.text
    assert "memory" not in response.text
    wait_for_health(single, lambda h: h["workers"] == 1 and h["busy"] == 0, SETTLE_TIMEOUT_S)
