"""Hostile requests over real HTTP: each is refused (or answered) with the right status and a
message, never reaches a listener on loopback, and never stops ``/healthz`` from answering.

Requests go out through a raw socket (:func:`send`), byte for byte as written here, so paths
with ``..`` and bodies that are not UTF-8 reach the server unnormalised. The loopback
listener is the one of ``test_sparql_safety`` (it counts every connection it accepts);
private and link-local addresses appear only inside refused queries — no packet is ever sent
anywhere but 127.0.0.1, because the guard refuses before any connection could be made.

For each case a ``/healthz`` request runs alongside. For the expensive ones (``heavy``) it is
sent once a worker is busy with the attack, and must complete first: the event loop and the
other worker stay free while the attack runs (completion order, no clock).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import socket
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from probes import Listener

SETTLE_TIMEOUT_S = 60.0
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
FORM = "application/x-www-form-urlencoded"
# Six triple patterns over the whole dataset: a cross product far beyond any time limit.
CROSS = "?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n ?o . ?p ?q ?r"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return bytes(out)


def send(
    port: int, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> Reply:
    """One HTTP/1.1 request on a fresh connection, exactly as given; the parsed reply."""
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    for name, value in (headers or {}).items():
        head += f"{name}: {value}\r\n"
    if body or method == "POST":
        head += f"Content-Length: {len(body)}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=300) as sock:
        # The server may answer (413) and close before reading all of a large body.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head.encode("latin-1") + b"\r\n" + body)
        data = bytearray()
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
    raw_head, _, payload = bytes(data).partition(b"\r\n\r\n")
    lines = raw_head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), f"no HTTP response: {bytes(data[:200])!r}"
    parsed = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    if parsed.get("transfer-encoding") == "chunked":
        payload = _dechunk(payload)
    return Reply(int(lines[0].split()[1]), parsed, payload)


@dataclass(frozen=True)
class Attack:
    """One hostile request and what the service must answer."""

    name: str
    method: str
    target: str
    status: int | tuple[int, ...]  # a tuple: any of these
    message: str  # a piece of the body that explains the answer
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    heavy: bool = False  # occupies a worker long enough to check /healthz overtakes it
    kind: str = ""  # the group it belongs to (set by attacks(); counted in the README)


def get(name: str, query: str, status: int, message: str, **extra: object) -> Attack:
    return Attack(name, "GET", "/sparql?" + urlencode({"query": query}), status, message, **extra)


def post_query(name: str, query: bytes | str, status: int, message: str, **extra) -> Attack:
    body = query.encode("utf-8") if isinstance(query, str) else query
    headers = {"Content-Type": SPARQL_QUERY, **extra.pop("headers", {})}
    return Attack(name, "POST", "/sparql", status, message, headers, body, **extra)


def form(name: str, fields: list[tuple[str, str]], status: int, message: str) -> Attack:
    body = urlencode(fields).encode("ascii")
    return Attack(name, "POST", "/sparql", status, message, {"Content-Type": FORM}, body)


PRIVATE_HOSTS = {
    "rfc1918-10": "10.0.0.1",
    "rfc1918-172": "172.16.0.1",
    "rfc1918-192": "192.168.1.1",
    "link-local-metadata": "169.254.169.254",
    "cgnat": "100.64.0.1",
    "ipv6-unique-local": "[fd00::1]",
    "ipv6-link-local": "[fe80::1]",
    "unspecified": "0.0.0.0",
}


def attacks(listener_port: int, secret: Path, version: str) -> list[Attack]:
    """Every hostile request of the suite (the listener's port fills the loopback IRIs)."""
    p = listener_port
    pattern = "{ ?s ?p ?o }"
    loopback = {
        "ipv4": f"http://127.0.0.1:{p}/sparql",
        "localhost": f"http://localhost:{p}/sparql",
        "ipv6": f"http://[::1]:{p}/sparql",
        "short-ipv4": f"http://127.1:{p}/sparql",
        "decimal-ipv4": f"http://2130706433:{p}/sparql",
        "hex-ipv4": f"http://0x7f000001:{p}/sparql",
        "userinfo-trick": f"http://example.org@127.0.0.1:{p}/sparql",
    }
    out: list[Attack] = []
    sections: list[tuple[int, str]] = []  # (index of the first attack, its kind)

    def begin(kind: str) -> None:
        sections.append((len(out), kind))

    # SSRF through SERVICE: loopback spellings and private ranges, GET and POST.
    begin("SSRF through SERVICE")
    for label, iri in loopback.items():
        out.append(
            get(
                f"service-loopback-{label}",
                f"SELECT * {{ SERVICE <{iri}> {pattern} }}",
                400,
                "allow-list",
            )
        )
    for label, host in PRIVATE_HOSTS.items():
        iri = f"http://{host}/sparql"
        out.append(
            post_query(
                f"service-private-{label}",
                f"SELECT * {{ SERVICE SILENT <{iri}> {pattern} }}",
                400,
                "allow-list",
            )
        )
    out.append(
        form(
            "service-form-post",
            [("query", f"ASK {{ SERVICE <{loopback['ipv4']}> {{}} }}")],
            400,
            "allow-list",
        )
    )
    # SSRF and file reads through FROM / FROM NAMED and the protocol's dataset parameters.
    begin("SSRF and file reads through FROM and dataset parameters")
    listener_data = f"http://127.0.0.1:{p}/data.ttl"
    for label, iri in {
        "http": listener_data,
        "file": secret.as_uri(),
        "file-etc": "file:///etc/passwd",
        "metadata": "http://169.254.169.254/latest/meta-data/",
    }.items():
        out.append(
            get(f"from-{label}", f"SELECT * FROM <{iri}> WHERE {pattern}", 400, "never fetched")
        )
        out.append(
            get(
                f"from-named-{label}",
                f"SELECT * FROM NAMED <{iri}> WHERE {pattern}",
                400,
                "never fetched",
            )
        )
        out.append(
            Attack(
                f"default-graph-uri-{label}",
                "GET",
                "/sparql?" + urlencode({"query": "ASK {}", "default-graph-uri": iri}),
                400,
                "never fetched",
            )
        )
    # Updates in every protocol form: refused (403) before anything is parsed.
    begin("SPARQL Update in every protocol form")
    updates = {
        "load": f"LOAD <{listener_data}>",
        "load-file": f"LOAD <{secret.as_uri()}> INTO GRAPH <urn:x>",
        "insert": "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "delete": "DELETE WHERE { ?s ?p ?o }",
        "clear": "CLEAR ALL",
        "drop": "DROP ALL",
    }
    for label, update in updates.items():
        out.append(
            Attack(
                f"update-get-{label}",
                "GET",
                "/sparql?" + urlencode({"update": update}),
                403,
                "read-only",
            )
        )
        out.append(form(f"update-form-{label}", [("update", update)], 403, "read-only"))
        out.append(
            Attack(
                f"update-direct-{label}",
                "POST",
                "/sparql",
                403,
                "read-only",
                {"Content-Type": SPARQL_UPDATE},
                update.encode(),
            )
        )
        out.append(get(f"update-as-query-{label}", update, 400, "SPARQL syntax error"))
        out.append(post_query(f"update-as-query-post-{label}", update, 400, "SPARQL syntax error"))
    out.append(
        form(
            "update-with-using-graph",
            [("query", "ASK {}"), ("using-graph-uri", listener_data)],
            403,
            "read-only",
        )
    )
    out.append(
        form("update-and-query", [("query", "ASK {}"), ("update", "CLEAR ALL")], 403, "read-only")
    )
    # Size and shape.
    begin("Size and shape of queries and requests")
    out.append(post_query("one-megabyte-query", "ASK {}" + " " * 1_048_576, 413, "limit"))
    out.append(post_query("over-query-length", "ASK {}" + " " * 200_000, 413, "characters"))
    out.append(
        Attack(
            "one-megabyte-url",
            "GET",
            "/sparql?query=" + "%20" * 350_000 + "ASK%7B%7D",
            414,  # refused while the head arrives (pactgraph.serve.server), naming POST
            "POST body",
        )
    )
    depth = 49_000  # within the 100 000-character limit; overflows an 8 MB stack ~20 times over
    out.append(
        post_query(
            "deeply-nested-groups",
            "SELECT * WHERE " + "{" * depth + "?s ?p ?o" + "}" * depth,
            200,
            "head",
        )
    )
    out.append(
        post_query(
            "deeply-nested-parentheses",
            "ASK { FILTER(" + "(" * depth + "true" + ")" * depth + ") }",
            200,
            "true",
        )
    )
    out.append(
        post_query(
            "deeply-nested-path",
            "ASK { ?s " + "(" * 30_000 + "<urn:p>" + ")" * 30_000 + " ?o }",
            200,
            "boolean",
        )
    )
    out.append(
        post_query(
            "deep-nesting-with-service",
            "ASK " + "{" * 20_000 + f"SERVICE <{loopback['ipv4']}> {{}}" + "}" * 20_000,
            400,
            "not run",
        )
    )
    out.append(
        post_query(
            "long-property-path",
            "SELECT * WHERE { ?s " + "/".join(["(<urn:p>|^<urn:q>)*"] * 3000) + " ?o }",
            504,
            "limit",
            heavy=True,
        )
    )
    out.append(
        get("cartesian-count", f"SELECT (COUNT(*) AS ?n) {{ {CROSS} }}", 504, "limit", heavy=True)
    )
    out.append(
        get(
            "cartesian-order-by",
            f"SELECT * {{ {CROSS} }} ORDER BY ?a ?r LIMIT 1",
            # Sorting materialises the product: whichever comes first, the time limit (504)
            # or the worker's memory cap (the worker dies alone: 500), it is an error.
            (504, 500),
            "stopped",
            heavy=True,
        )
    )
    out.append(
        get(
            "cartesian-group-concat",
            f"SELECT (GROUP_CONCAT(STR(?b)) AS ?g) {{ {CROSS} }}",
            504,
            "limit",
            heavy=True,
        )
    )
    out.append(
        get(
            "cartesian-unbounded-result",
            "SELECT * { ?a ?b ?c . ?d ?e ?f }",
            422,
            "LIMIT",
        )
    )
    out.append(
        get("regex-redos", 'ASK { FILTER(REGEX("' + "a" * 5000 + '!", "^(a+)+$")) }', 200, "false")
    )
    # Encodings.
    begin("Encodings")
    out.append(
        post_query(
            "latin-1-body",
            'ASK { FILTER("caf\xe9" != "") }'.encode("latin-1"),
            400,
            "not valid UTF-8",
        )
    )
    out.append(
        post_query(
            "declared-latin-1",
            "ASK {}",
            400,
            "Only UTF-8",
            headers={"Content-Type": SPARQL_QUERY + "; charset=iso-8859-1"},
        )
    )
    out.append(
        Attack(
            "form-not-utf8",
            "POST",
            "/sparql",
            400,
            "not valid UTF-8",
            {"Content-Type": FORM},
            b"query=ASK%20%7B%7D%FF%FE",
        )
    )
    out.append(
        Attack("url-not-utf8", "GET", "/sparql?query=ASK%20%7B%7D%C0%AF", 400, "not valid UTF-8")
    )
    out.append(post_query("utf-16-body", "ASK {}".encode("utf-16"), 400, "not valid UTF-8"))
    out.append(post_query("nul-in-query", "ASK {\x00}", 400, "SPARQL syntax error"))
    out.append(
        post_query("overlong-utf8-slash", b'ASK { FILTER("\xc0\xaf") }', 400, "not valid UTF-8")
    )
    # Parameters.
    begin("Protocol parameters")
    out.append(
        Attack(
            "duplicate-query",
            "GET",
            "/sparql?query=ASK%7B%7D&query=ASK%7B%7D",
            400,
            "More than one",
        )
    )
    out.append(
        form(
            "duplicate-query-url-and-form",
            [("query", "ASK {}"), ("query", "ASK {}")],
            400,
            "More than one",
        )
    )
    out.append(
        Attack(
            "query-in-url-and-body",
            "POST",
            "/sparql?query=ASK%7B%7D",
            400,
            "both",
            {"Content-Type": SPARQL_QUERY},
            b"ASK {}",
        )
    )
    out.append(
        Attack(
            "unknown-parameters-ignored",
            "GET",
            "/sparql?"
            + urlencode({"query": "ASK {}", "timeout": "0", "debug": "1", "x" * 2000: "y"}),
            200,
            "true",
        )
    )
    out.append(Attack("empty-query", "GET", "/sparql?query=", 400, "empty"))
    # Content types.
    begin("Content types")
    out.append(
        Attack("post-no-content-type", "POST", "/sparql", 415, "Content-Type", body=b"ASK {}")
    )
    for label, media in {
        "text-plain": "text/plain",
        "json": "application/json",
        "multipart": "multipart/form-data; boundary=x",
        "xml": "text/xml",
        "garbage": ";;;=;",
    }.items():
        out.append(
            Attack(
                f"post-{label}",
                "POST",
                "/sparql",
                415,
                "Content-Type",
                {"Content-Type": media},
                b"ASK {}",
            )
        )
    # Accept headers.
    begin("Accept headers")
    many = ",".join(f"application/x-{i};q=0.{i % 9 + 1}" for i in range(2500))
    out.append(
        get(
            "accept-unknown",
            "ASK {}",
            406,
            "Cannot produce",
            headers={"Accept": "application/x-nothing"},
        )
    )
    # Over the header bound: refused before any negotiation (pactgraph.serve.server).
    out.append(get("accept-huge", "ASK {}", 431, "Header fields", headers={"Accept": many}))
    out.append(
        get(
            "accept-nonsense-q",
            "ASK {}",
            200,
            "true",
            headers={"Accept": "*/*;q=NaN, text/csv;q=1e309, application/json;q=-5"},
        )
    )
    out.append(
        get(
            "accept-no-slash-junk",
            "ASK {}",
            406,
            "Cannot produce",
            headers={"Accept": ";;;,,,/,*;q"},
        )
    )
    # Compressed bodies: never inflated.
    begin("Compressed bodies")
    bomb = gzip.compress(b" " * 50_000_000)  # ~50 KB that would inflate to 50 MB
    for label, media, path in (
        ("sparql-query", SPARQL_QUERY, "/sparql"),
        ("form", FORM, "/sparql"),
        ("validate", "text/turtle", "/validate"),
    ):
        out.append(
            Attack(
                f"gzip-bomb-{label}",
                "POST",
                path,
                415,
                "Content-Encoding",
                {"Content-Type": media, "Content-Encoding": "gzip"},
                bomb,
            )
        )
    out.append(
        Attack(
            "deflate-body",
            "POST",
            "/sparql",
            415,
            "Content-Encoding",
            {"Content-Type": SPARQL_QUERY, "Content-Encoding": "deflate"},
            b"x",
        )
    )
    # Uploads to /validate: parser tricks and size.
    begin("Uploads to /validate")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:{p}/xxe">'
        f'<!ENTITY f SYSTEM "{secret.as_uri()}">]>'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="urn:a"><rdf:value>&x;&f;</rdf:value></rdf:Description>'
        "</rdf:RDF>"
    ).encode()
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(9))
        + ']><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="urn:a"><rdf:value>&j;</rdf:value></rdf:Description>'
        "</rdf:RDF>"
    ).encode()
    out.append(
        Attack(
            "validate-rdfxml-xxe",
            "POST",
            "/validate",
            415,
            "RDF/XML",
            {"Content-Type": "application/rdf+xml"},
            xxe,
        )
    )
    out.append(
        Attack(
            "validate-rdfxml-billion-laughs",
            "POST",
            "/validate",
            415,
            "RDF/XML",
            {"Content-Type": "application/rdf+xml"},
            laughs,
        )
    )
    out.append(
        Attack(
            "validate-xxe-as-turtle",
            "POST",
            "/validate",
            400,
            "",
            {"Content-Type": "text/turtle"},
            xxe,
        )
    )
    for label, ctx in {
        "http": f"http://127.0.0.1:{p}/context.jsonld",
        "file": secret.as_uri(),
        "nested": [{"@vocab": "urn:v#"}, f"http://127.0.0.1:{p}/c2"],
    }.items():
        doc = json.dumps({"@context": ctx, "@id": "urn:a", "urn:p": "v"}).encode()
        out.append(
            Attack(
                f"validate-jsonld-remote-context-{label}",
                "POST",
                "/validate",
                400,
                "never fetched",
                {"Content-Type": "application/ld+json"},
                doc,
            )
        )
    out.append(
        Attack(
            "validate-oversized",
            "POST",
            "/validate",
            413,
            "limit",
            {"Content-Type": "text/turtle"},
            b"#" * 1_100_000,
        )
    )
    out.append(
        Attack("validate-no-content-type", "POST", "/validate", 415, "", body=b"<a> <b> <c> .")
    )
    out.append(
        Attack(
            "validate-not-utf8",
            "POST",
            "/validate",
            400,
            "",
            {"Content-Type": "text/turtle"},
            b'<urn:a> <urn:b> "\xff\xfe" .',
        )
    )
    out.append(
        Attack(
            "sparql-oversized-form",
            "POST",
            "/sparql",
            413,
            "limit",
            {"Content-Type": FORM},
            b"query=ASK%7B%7D&pad=" + b"x" * 1_100_000,
        )
    )
    # Path traversal against the dumps and the linked-data pages.
    begin("Path traversal")
    for target in (
        "/dumps/../../../../etc/passwd",
        "/dumps/%2e%2e/%2e%2e/etc/passwd",
        "/dumps/..%2f..%2f..%2fetc%2fpasswd",
        "/dumps/latest/..%2f..%2fetc%2fpasswd",
        f"/dumps/{version}/..%2f..%2f..%2fetc%2fpasswd",
        f"/dumps/{version}/%2e%2e%2f%2e%2e%2frelease.json",
        f"/dumps/{version}/store/CURRENT",
        f"/dumps/{version}/store%2fCURRENT",
        f"/dumps/{version}/..%5c..%5cetc%5cpasswd",
        f"/dumps/{quote(secret.parent.as_posix(), safe='')}/secret.ttl",
        f"/dumps/{version}/%00",
        "/id/../../../etc/passwd",
        "/id/..%2f..%2fetc%2fpasswd",
        "/id/actor/..%2f..%2f..%2fetc%2fpasswd",
        "/id/actor/%2e%2e",
        "/id/actor/alpha%00",
        "/id/actor/alpha%00.ttl",
        "/id/actor/a%20b",
        "/id/actor/a%0d%0aSet-Cookie:%20x=y",
        "/vocab/x%20y/z",
        "/graph/a%3Eb",
        "/ontology/..%2f..%2f..%2fetc%2fpasswd",
        "/ontology/a%00b",
    ):
        name = target.replace(version, "VERSION").replace(quote(str(secret.parent), safe=""), "DIR")
        out.append(Attack(f"traversal {name}", "GET", target, 404, ""))
    # Each attack takes the kind of the section it was added in.
    starts = [start for start, _ in sections] + [len(out)]
    return [
        replace(attack, kind=kind)
        for (start, kind), end in zip(sections, starts[1:], strict=True)
        for attack in out[start:end]
    ]


# ------------------------------------------------------------------------------ fixtures


@dataclass(frozen=True)
class Target:
    port: int
    version: str


@pytest.fixture(scope="module")
def target(mini_release, start_service) -> Iterator[Target]:
    """The mini release with a 3 s limit, a 1000-row cap and two workers (one spare)."""
    with start_service(
        mini_release, timeout_s=3, max_concurrent=2, queue_size=4, row_cap=1000
    ) as url:
        yield Target(int(url.rsplit(":", 1)[1]), mini_release.version)


def _health(port: int) -> dict:
    reply = send(port, "GET", "/healthz")
    assert reply.status == 200
    return json.loads(reply.body)


def _wait_until_busy(port: int) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < deadline:
        if _health(port)["busy"] >= 1:
            return
        time.sleep(0.01)
    raise AssertionError("the attack never occupied a worker")


def _idle(port: int) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < deadline:
        health = _health(port)
        if health["workers"] == 2 and health["busy"] == 0:
            return
        time.sleep(0.05)
    raise AssertionError(f"the service did not settle: {health}")


CASES = [a.name for a in attacks(1, Path("/x"), "0.0.0-case")]


def test_the_readme_counts_the_cases_by_kind() -> None:
    """The README's table of the adversarial suite is this suite's own count."""
    counted = Counter(a.kind for a in attacks(1, Path("/x"), "0.0.0-case"))
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = dict(
        re.findall(
            r"^\s*\| (.+?) \| (\d+) \|$",
            readme.split("<!-- adversarial -->")[1].split("<!-- /adversarial -->")[0],
            flags=re.MULTILINE,
        )
    )
    assert {kind: int(n) for kind, n in table.items()} == dict(counted)
    assert f"{sum(counted.values())} hostile requests" in readme


@pytest.mark.parametrize("name", CASES)
def test_attack(target: Target, listener: Listener, secret_file: Path, name: str) -> None:
    attack = next(
        a
        for a in attacks(listener.server_address[1], secret_file, target.version)
        if a.name == name
    )
    _idle(target.port)
    finished: list[str] = []

    def run_attack() -> Reply:
        reply = send(target.port, attack.method, attack.target, attack.headers, attack.body)
        finished.append("attack")
        return reply

    def run_health() -> dict:
        health = _health(target.port)
        finished.append("health")
        return health

    with ThreadPoolExecutor(2) as pool:
        attacked = pool.submit(run_attack)
        if attack.heavy:
            _wait_until_busy(target.port)
        health = pool.submit(run_health).result()
        reply = attacked.result()
    assert health["status"] == "ok"
    if attack.heavy:
        assert finished == ["health", "attack"]
    expected = attack.status if isinstance(attack.status, tuple) else (attack.status,)
    assert reply.status in expected, reply.text[:500]
    assert attack.message in reply.text
    assert "secret-marker" not in reply.text and "root:x:0:0" not in reply.text
    assert "from-the-listener" not in reply.text
    assert "set-cookie" not in reply.headers
    assert listener.foreign_connections() == 0
    if reply.status >= 400:  # every refusal says why, in words, briefly (no echoed payload)
        assert reply.body.strip(), "an error without a message"
        assert len(reply.body) < 4000, f"a {len(reply.body)}-byte error message"
