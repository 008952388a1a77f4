"""A deterministic generator of synthetic pactgraph data, for benchmarks.

For a seed and a target size (10k, 100k, 1M triples) it writes a complete data root — the
real ontology, vocabularies, shapes and quality checks, plus ``graph/synthetic/*.ttl`` — so
every ``pactgraph --data ROOT …`` verb runs on it unchanged. The data follows the model
contract and the shapes: states and their agencies, instruments of every kind with parties,
status, bindingness, dates and a validity period; obligations (a mutual pair per instrument,
linked by ``pact:reciprocalOf``) with a bearer, a beneficiary, a type, a modality and an
amount; amounts, fiscal-year periods and instants; one source per instrument (used by every
node it documents) and a claim per instrument stated in that source.

The files are N-Triples lines (valid Turtle), written in a fixed order: the same seed and
size give byte-identical files.

Usage::

    python bench/synthetic.py --size 100k --seed 1 --out /tmp/pactgraph-100k
    pactgraph --data /tmp/pactgraph-100k reason

>>> files = generate(500, seed=1)
>>> sorted(files)
['actors.ttl', 'claims.ttl', 'instruments.ttl', 'obligations.ttl', 'sources.ttl', 'time.ttl']
>>> generate(500, seed=1) == files
True
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "service"))

from pactgraph.settings import BASE_IRI, SETTINGS  # noqa: E402

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}

PACT = BASE_IRI + "ontology#"
ID = BASE_IRI + "id/"
VOCAB = BASE_IRI + "vocab/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD = "http://www.w3.org/2001/XMLSchema#"
SCHEMA = "http://schema.org/"
DCTERMS = "http://purl.org/dc/terms/"
TIME = "http://www.w3.org/2006/time#"
ORG_SUB = "http://www.w3.org/ns/org#subOrganizationOf"

# Instrument classes with the status, bindingness and date property that suit each.
INSTRUMENT_KINDS = [
    ("Treaty", "in-force", "legally-binding", "dateSigned"),
    ("ExecutiveAgreement", "in-force", "legally-binding", "dateSigned"),
    ("MemorandumOfUnderstanding", "signed", "politically-binding", "dateSigned"),
    ("AuthorizationAct", "enacted", "legally-binding", "dateEnacted"),
    ("AppropriationAct", "enacted", "legally-binding", "dateEnacted"),
    ("Bill", "introduced", "non-binding", "dateIntroduced"),
    ("Program", "active", "politically-binding", "dateAnnounced"),
    ("JointExercise", "completed", "non-binding", "dateAnnounced"),
]
OBLIGATION_TYPES = ["defense", "consultation", "military-aid", "reporting", "logistics-support"]
AMOUNT_TYPES = ["pledged", "authorized", "appropriated"]
SOURCE_KINDS = ["government", "congressional", "news", "crs-report", "analysis"]
# Triples one cluster (an instrument and everything around it) adds; sets the cluster count.
TRIPLES_PER_CLUSTER = 67
ACTORS_PER_CLUSTER = 0.2


def iri(kind: str, slug: str) -> str:
    """An instance IRI in N-Triples form.

    >>> iri("actor", "state-1")
    '<https://w3id.org/pactgraph/id/actor/state-1>'
    """
    return f"<{ID}{kind}/{slug}>"


def term(namespace: str, local: str) -> str:
    return f"<{namespace}{local}>"


def text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"@en'


def typed(value: str, datatype: str) -> str:
    return f'"{value}"^^<{XSD}{datatype}>'


def line(subject: str, predicate: str, obj: str) -> str:
    return f"{subject} {predicate} {obj} .\n"


def _actors(count: int, source: str) -> Iterator[str]:
    for n in range(count):
        node = iri("actor", f"synthetic-{n}")
        if n % 3 == 0:
            yield line(node, f"<{RDF_TYPE}>", term(PACT, "State"))
            yield line(node, f"<{LABEL}>", text(f"Synthetic state {n}"))
        else:
            yield line(node, f"<{RDF_TYPE}>", term(PACT, "Agency"))
            yield line(node, f"<{LABEL}>", text(f"Synthetic agency {n}"))
            yield line(node, f"<{ORG_SUB}>", iri("actor", f"synthetic-{n - n % 3}"))
        yield line(node, term(PACT, "attestedBy"), source)


def _date(rng: random.Random) -> str:
    return f"{rng.randint(1950, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def generate(size: int, seed: int = 1) -> dict[str, str]:
    """File name → contents of a synthetic graph of about ``size`` triples."""
    rng = random.Random(seed)
    clusters = max(1, size // TRIPLES_PER_CLUSTER)
    actor_count = max(3, int(clusters * ACTORS_PER_CLUSTER))
    states = [n for n in range(actor_count) if n % 3 == 0]
    out: dict[str, list[str]] = {
        name: [] for name in ("actors", "sources", "instruments", "obligations", "time", "claims")
    }
    registry = iri("source", "synthetic-registry")
    out["sources"] += [
        line(registry, f"<{RDF_TYPE}>", term(PACT, "Source")),
        line(registry, f"<{LABEL}>", text("Synthetic registry of actors")),
        line(registry, term(DCTERMS, "title"), text("Synthetic registry of actors")),
        line(registry, term(DCTERMS, "publisher"), iri("actor", "synthetic-0")),
        line(registry, term(PACT, "sourceKind"), term(VOCAB, "source-kind/reference-work")),
        line(registry, term(SCHEMA, "url"), "<https://example.org/synthetic/registry>"),
    ]
    out["actors"] += list(_actors(actor_count, registry))
    for n in range(clusters):
        kind, status, binding, date_property = INSTRUMENT_KINDS[n % len(INSTRUMENT_KINDS)]
        first, second = rng.sample(states, 2) if len(states) > 1 else (0, 0)
        party_a, party_b = iri("actor", f"synthetic-{first}"), iri("actor", f"synthetic-{second}")
        source = iri("source", f"synthetic-{n}")
        instrument = iri("instrument", f"synthetic-{n}")
        start = rng.randint(1990, 2030)
        years = rng.randint(1, 10)
        period = iri("period", f"synthetic-{n}")
        begin = iri("instant", f"synthetic-{n}-begin")
        end = iri("instant", f"synthetic-{n}-end")
        derived = term(PACT, "attestedBy")
        out["sources"] += [
            line(source, f"<{RDF_TYPE}>", term(PACT, "Source")),
            line(source, f"<{LABEL}>", text(f"Synthetic document {n}")),
            line(source, term(DCTERMS, "title"), text(f"Synthetic document {n}")),
            line(source, term(DCTERMS, "publisher"), party_a),
            line(source, term(DCTERMS, "issued"), typed(_date(rng), "date")),
            line(
                source,
                term(PACT, "sourceKind"),
                term(VOCAB, f"source-kind/{SOURCE_KINDS[n % len(SOURCE_KINDS)]}"),
            ),
            line(source, term(SCHEMA, "url"), f"<https://example.org/synthetic/doc/{n}>"),
        ]
        out["time"] += [
            line(period, f"<{RDF_TYPE}>", term(TIME, "ProperInterval")),
            line(period, f"<{LABEL}>", text(f"Synthetic period {n}: FY{start}-FY{start + years}")),
            line(period, term(TIME, "hasBeginning"), begin),
            line(period, term(TIME, "hasEnd"), end),
            line(begin, f"<{RDF_TYPE}>", term(TIME, "Instant")),
            line(begin, f"<{LABEL}>", text(f"Synthetic instant {n} (begin)")),
            line(begin, term(TIME, "inXSDDate"), typed(f"{start - 1}-10-01", "date")),
            line(end, f"<{RDF_TYPE}>", term(TIME, "Instant")),
            line(end, f"<{LABEL}>", text(f"Synthetic instant {n} (end)")),
            line(end, term(TIME, "inXSDDate"), typed(f"{start + years}-09-30", "date")),
        ]
        out["instruments"] += [
            line(instrument, f"<{RDF_TYPE}>", term(PACT, kind)),
            line(instrument, f"<{LABEL}>", text(f"Synthetic {kind} {n}")),
            line(instrument, term(PACT, "party"), party_a),
            line(instrument, term(PACT, "party"), party_b),
            line(instrument, term(PACT, "status"), term(VOCAB, f"instrument-status/{status}")),
            line(instrument, term(PACT, "bindingness"), term(VOCAB, f"bindingness/{binding}")),
            line(instrument, term(PACT, date_property), typed(_date(rng), "date")),
            line(instrument, term(PACT, "validDuring"), period),
            line(instrument, derived, source),
        ]
        for side, (bearer, beneficiary) in enumerate(((party_a, party_b), (party_b, party_a))):
            obligation = iri("obligation", f"synthetic-{n}-{side}")
            other = iri("obligation", f"synthetic-{n}-{1 - side}")
            amount = iri("amount", f"synthetic-{n}-{side}")
            kind_of_duty = OBLIGATION_TYPES[(n + side) % len(OBLIGATION_TYPES)]
            out["obligations"] += [
                line(obligation, f"<{RDF_TYPE}>", term(PACT, "Duty")),
                line(obligation, f"<{LABEL}>", text(f"Synthetic obligation {n}-{side}")),
                line(obligation, term(PACT, "bearer"), bearer),
                line(obligation, term(PACT, "beneficiary"), beneficiary),
                line(obligation, term(PACT, "arisesUnder"), instrument),
                line(
                    obligation,
                    term(PACT, "obligationType"),
                    term(VOCAB, f"obligation-type/{kind_of_duty}"),
                ),
                line(
                    obligation,
                    term(PACT, "deonticModality"),
                    term(VOCAB, "deontic-modality/obligation"),
                ),
                line(obligation, term(PACT, "amount"), amount),
                line(obligation, term(PACT, "validDuring"), period),
                line(obligation, derived, source),
                line(amount, f"<{RDF_TYPE}>", term(SCHEMA, "MonetaryAmount")),
                line(amount, f"<{LABEL}>", text(f"Synthetic amount {n}-{side}")),
                line(
                    amount,
                    term(SCHEMA, "value"),
                    typed(str(rng.randint(1, 5000) * 1_000_000), "decimal"),
                ),
                line(amount, term(SCHEMA, "currency"), '"USD"'),
                line(
                    amount,
                    term(PACT, "amountType"),
                    term(VOCAB, f"amount-type/{AMOUNT_TYPES[n % len(AMOUNT_TYPES)]}"),
                ),
                line(
                    amount, term(PACT, "amountBasis"), term(VOCAB, "amount-basis/total-for-period")
                ),
                line(amount, derived, source),
            ]
            if side == 0:
                out["obligations"].append(line(obligation, term(PACT, "reciprocalOf"), other))
        claim = iri("claim", f"synthetic-{n}")
        out["claims"] += [
            line(claim, f"<{RDF_TYPE}>", term(PACT, "Claim")),
            line(claim, f"<{LABEL}>", text(f"Synthetic claim {n}")),
            line(
                claim, term(PACT, "claimText"), text(f"Synthetic instrument {n} binds two states.")
            ),
            line(claim, term(PACT, "statedIn"), source),
            line(claim, term(PACT, "supports"), instrument),
        ]
    return {f"{name}.ttl": "".join(lines) for name, lines in out.items()}


def write_root(out: Path, size: int, seed: int = 1) -> int:
    """Write a data root (model files copied, synthetic graph generated); return its triples."""
    if out.exists():
        shutil.rmtree(out)
    for folder in ("ontology", "shapes"):
        shutil.copytree(SETTINGS.root / folder, out / folder)
    shutil.copytree(SETTINGS.qc_dir, out / "queries" / "qc")
    graph_dir = out / "graph" / "synthetic"
    graph_dir.mkdir(parents=True)
    total = 0
    for name, content in generate(size, seed).items():
        (graph_dir / name).write_text(content, encoding="utf-8")
        total += content.count("\n")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="100k")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    triples = write_root(args.out, SIZES[args.size], args.seed)
    print(f"{triples} synthetic triples (seed {args.seed}) under {args.out}")


if __name__ == "__main__":
    main()
