"""Our prose is our own: no long run of words copied from the seed article or a source excerpt.

Facts, names and document titles may carry over, so only the prose properties (comments,
definitions, claim texts, findings…) are checked, and only runs of ``RUN`` words or more count
as copying: long enough that a shared title or name alone does not trigger it.
The article and the dossier live in ``shared/`` beside the checkout (as on CI).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import DCTERMS, RDFS, SKOS, Literal, URIRef

from pactgraph.rdf.dataset import load_dataset

PACT = "https://w3id.org/pactgraph/ontology#"
PROSE_PROPERTIES = {
    RDFS.comment,
    SKOS.definition,
    SKOS.scopeNote,
    DCTERMS.description,
    URIRef(PACT + "claimText"),
    URIRef(PACT + "finding"),
    URIRef(PACT + "emphasizes"),
    URIRef(PACT + "basisNote"),
}
RUN = 12
SHARED = Path(__file__).resolve().parents[2] / "shared"
ARTICLE = SHARED / "seed" / "article.txt"
DOSSIER = SHARED / "research" / "sources.md"


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9$%]+", text.lower().replace("\u2019", "'"))


def _runs(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + RUN]) for i in range(len(words) - RUN + 1)}


def _reference_runs() -> dict[tuple[str, ...], str]:
    runs = dict.fromkeys(_runs(_words(ARTICLE.read_text(encoding="utf-8"))), "the article")
    # The dossier's verbatim excerpts are the quoted strings; its own notes are ours.
    for excerpt in re.findall(r'"([^"]{40,})"', DOSSIER.read_text(encoding="utf-8")):
        runs.update(dict.fromkeys(_runs(_words(excerpt)), "a dossier excerpt"))
    return runs


def _copied_runs(text: str, reference: dict[tuple[str, ...], str]) -> list[str]:
    return [f"{reference[r]}: {' '.join(r)}" for r in _runs(_words(text)) if r in reference]


def test_the_checker_catches_a_copied_sentence() -> None:
    sentence = " ".join(f"w{i}" for i in range(RUN))
    reference = dict.fromkeys(_runs(_words(sentence)), "x")
    assert _copied_runs(f"Before {sentence} after.", reference)
    assert not _copied_runs(" ".join(f"w{i}" for i in range(RUN - 1)), reference)


@pytest.mark.skipif(
    not ARTICLE.exists(),
    reason="dev-only: the article and dossier (../shared/) are not beside this checkout",
)
def test_no_prose_literal_copies_the_article_or_a_source() -> None:
    reference = _reference_runs()
    copied = [
        f"{subject} {predicate}: {hit}"
        for subject, predicate, obj, _ in load_dataset().quads()
        if predicate in PROSE_PROPERTIES and isinstance(obj, Literal)
        for hit in _copied_runs(str(obj), reference)
    ]
    assert not copied, "copied wording:\n" + "\n".join(sorted(copied))
