"""The w3id.org redirect rules (``w3id/pactgraph/.htaccess``) send every IRI a release uses to
a path the service answers.

The rules are read as Apache reads them in a folder's ``.htaccess``: each ``RewriteRule``'s
pattern is matched against the path below the folder (no leading slash), in order, the first
match with ``L`` ends the pass, ``$N`` in the substitution is the pattern's group N, and the
query string is passed on unchanged. A fragment (``/ontology#Term``) never reaches a server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pyoxigraph as ox
import pytest

from pactgraph.release.published import Release
from pactgraph.settings import BASE_IRI

HTACCESS = Path(__file__).resolve().parents[1] / "w3id" / "pactgraph" / ".htaccess"
RULE = re.compile(r"^\s*RewriteRule\s+(\S+)\s+(\S+)(?:\s+\[([^\]]*)\])?\s*$")
PLACEHOLDER = "pactgraph.example.org"


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    substitution: str
    flags: tuple[str, ...]

    @property
    def status(self) -> int | None:
        for flag in self.flags:
            if flag.startswith("R="):
                return int(flag[2:])
        return 302 if "R" in self.flags else None


def read_rules(path: Path = HTACCESS) -> list[Rule]:
    rules = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = RULE.match(line)
        if match:
            pattern, substitution, flags = match.groups()
            rules.append(
                Rule(re.compile(pattern), substitution, tuple((flags or "").split(",")))
            )
    return rules


def rewrite(rules: list[Rule], path: str) -> tuple[str, int | None]:
    """(target URL, redirect status) for ``path`` below the folder, as mod_rewrite gives it."""
    for rule in rules:
        match = rule.pattern.search(path)
        if match is None:
            continue
        # Apache's $N back-references in Python's template syntax (\g<N>).
        target = match.expand(re.sub(r"\$(\d)", r"\\g<\1>", rule.substitution))
        if "L" in rule.flags or rule.status is not None:
            return target, rule.status
        path = target
    raise AssertionError(f"no rule matches {path!r}")


def release_iris(release: Release) -> set[str]:
    """Every IRI under the base that the release's quads, VoID and citation use."""
    iris: set[str] = set()
    quads = list(ox.parse(path=str(release.nquads), format=ox.RdfFormat.N_QUADS))
    void = ox.parse(path=str(release.path / "void.ttl"), format=ox.RdfFormat.TURTLE)
    for quad in [*quads, *void]:
        for term in (quad.subject, quad.predicate, quad.object, quad.graph_name):
            if isinstance(term, ox.NamedNode) and term.value.startswith(BASE_IRI):
                iris.add(term.value)
    citation = (release.path / "CITATION.cff").read_text(encoding="utf-8")
    iris.update(re.findall(re.escape(BASE_IRI) + r'[^"\s]*', citation))
    return iris


def test_the_rules_parse_and_name_the_placeholder_host() -> None:
    rules = read_rules()
    assert rules, "no RewriteRule in the .htaccess"
    for rule in rules:
        assert urlsplit(rule.substitution).hostname == PLACEHOLDER
        assert rule.status in (303, 307)


def test_posted_endpoints_keep_their_method_and_the_rest_see_other() -> None:
    rules = read_rules()
    assert rewrite(rules, "sparql") == (f"https://{PLACEHOLDER}/sparql", 307)
    assert rewrite(rules, "validate") == (f"https://{PLACEHOLDER}/validate", 307)
    assert rewrite(rules, "id/actor/israel") == (f"https://{PLACEHOLDER}/id/actor/israel", 303)
    assert rewrite(rules, "sparqlx")[1] == 303  # the endpoint rule is anchored


@pytest.fixture(scope="module")
def served(release: Release, start_service):
    with start_service(release) as url:
        yield url


def test_every_iri_of_the_release_resolves_through_the_rules(
    release: Release, served: str
) -> None:
    rules = read_rules()
    iris = release_iris(release)
    paths = {urlsplit(iri)._replace(fragment="").geturl()[len(BASE_IRI) :] for iri in iris}
    # Every IRI form a release has must be among them, or this test would check too little.
    forms = {path.split("/", 1)[0] for path in paths}
    assert forms >= {"id", "ontology", "vocab", "graph", "shapes", ".well-known", "dumps", "sparql"}
    assert any(re.fullmatch(r"ontology/\d[\w.]*", p) for p in paths), "no versioned ontology IRI"
    assert any("#" in iri and iri.startswith(BASE_IRI + "ontology#") for iri in iris)
    unanswered = []
    with httpx.Client(base_url=served, timeout=30) as client:
        for path in sorted(paths):
            target, status = rewrite(rules, path)
            assert status in (303, 307)
            parts = urlsplit(target)
            assert parts.hostname == PLACEHOLDER
            answer = client.get(
                parts.path + (f"?{parts.query}" if parts.query else ""),
                headers={"Accept": "text/turtle, application/sparql-results+json;q=0.9, */*;q=0.1"},
            )
            if answer.status_code == 404 or answer.status_code >= 500:
                unanswered.append(f"{BASE_IRI}{path} -> {parts.path}: {answer.status_code}")
    assert not unanswered, "\n".join(unanswered)


def test_the_inferred_graph_resolves(live_service) -> None:
    """Regression: /graph/inferred was a 404 (the pages' data leaves that graph out), though
    every release has the graph and its IRI is in the dumps."""
    answer = httpx.get(
        live_service.url + "/graph/inferred", headers={"Accept": "application/n-triples"}
    )
    assert answer.status_code == 200
    lines = [line for line in answer.text.splitlines() if line.strip()]
    graphs = live_service.release.metadata["graphs"]
    assert len(lines) == graphs[BASE_IRI + "graph/inferred"] > 0
