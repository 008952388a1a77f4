"""The summary on top of a state's page: what a reader came for, before the cards.

For a ``pact:State`` :func:`state_summary` gathers, from the release's asserted data (the same
in-memory store as the rest of the page, read with the SPARQL of
``templates/state-instruments.rq`` and ``templates/state-commitments.rq``):

- its instruments by kind and latest status;
- the provisions that favour it and those it bears, by kind of obligation and bindingness;
- its strongest commitment from the United States, as ranked by the example query
  ``queries/25-partners-by-strongest-commitment.rq`` (the ranking is data: the commitment
  strength scheme); left out when the data root has no such query;
- a timeline of its instruments' dated status histories
  (:func:`pactgraph.render.figures.timeline_svg`).

Everything is sorted, so a page is the same bytes for the same release (its ETag holds).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from pactgraph.render.figures import StatusChange, TimelineRow, timeline_svg
from pactgraph.render.html import render
from pactgraph.serve.pages import PACT, RDFS, LinkedData, Linker, Value, _value
from pactgraph.settings import SETTINGS

STATE_CLASS = ox.NamedNode(PACT + "State")
STRENGTH_QUERY = "25-partners-by-strongest-commitment.rq"
NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class Tally:
    """A count under a heading, split by a second facet (``[(facet, count)]``, largest first)."""

    heading: str
    count: int
    split: list[tuple[str, int]]


@dataclass(frozen=True)
class Strongest:
    """The United States' strongest commitment to the state, from the strength ranking."""

    strength: str
    rank: int
    provision: Value | None
    instrument: Value | None


@dataclass
class StateSummary:
    """What the top of a state's page shows."""

    instruments: list[Tally]
    instrument_count: int
    favour: list[Tally]
    favour_by_binding: list[Tally]
    borne: list[Tally]
    borne_by_binding: list[Tally]
    strongest: list[Strongest] = field(default_factory=list)
    timeline: str = ""
    undated: list[Value] = field(default_factory=list)


def _local(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _tallies(pairs: list[tuple[str, str]]) -> list[Tally]:
    """``(heading, facet)`` pairs counted by heading, then by facet within it."""
    by_heading: dict[str, Counter[str]] = defaultdict(Counter)
    for heading, facet in pairs:
        by_heading[heading][facet] += 1
    tallies = [
        Tally(heading, sum(counts.values()), sorted(counts.items(), key=lambda i: (-i[1], i[0])))
        for heading, counts in by_heading.items()
    ]
    return sorted(tallies, key=lambda t: (-t.count, t.heading))


def _select(data: LinkedData, template: str, iri: str) -> list[dict[str, Any]]:
    text = render(template, iri=iri)
    results = data.store.query(text, use_default_graph_as_union=True)
    names = [v.value for v in results.variables]
    return [{name: row[name] for name in names if row[name] is not None} for row in results]


def _kind(data: LinkedData, node: ox.NamedNode, kinds: set[ox.NamedNode]) -> str:
    """The most specific of the node's own classes (one that no other of them specialises)."""
    own = sorted(k for k in kinds if k.value.startswith(PACT))
    sub_class_of = ox.NamedNode(RDFS + "subClassOf")

    def supers(cls: ox.NamedNode) -> set[ox.NamedNode]:
        found, todo = set(), [cls]
        while todo:
            for parent in data.objects(todo.pop(), sub_class_of):
                if isinstance(parent, ox.NamedNode) and parent not in found:
                    found.add(parent)
                    todo.append(parent)
        return found

    generic = {s for k in own for s in supers(k)}
    specific = [k for k in own if k not in generic] or own
    return data.label(specific[0]) if specific else "instrument"


def _instruments(
    data: LinkedData, iri: str, linker: Linker
) -> tuple[list[Tally], int, str, list[Value], str]:
    rows = _select(data, "state-instruments.rq", iri)
    kinds: dict[ox.NamedNode, set[ox.NamedNode]] = defaultdict(set)
    status: dict[ox.NamedNode, ox.NamedNode] = {}
    changes: dict[ox.NamedNode, set[StatusChange]] = defaultdict(set)
    for row in rows:
        node = row["instrument"]
        kinds[node].add(row["kind"])
        if "status" in row:
            status[node] = row["status"]
        if "change" in row:
            limited = row.get("for")
            if limited is not None and not _concerns(data, limited, iri):
                continue  # a change limited to another party of the instrument
            note = f"for {data.label(limited)}" if limited is not None else ""
            changes[node].add(
                StatusChange(
                    row["date"].value, _local(row["to"].value), data.label(row["to"]), note
                )
            )
    named = {node: data.label(node) for node in kinds}
    kind_of = {node: _kind(data, node, kinds[node]) for node in kinds}
    tallies = _tallies(
        [
            (kind_of[n], data.label(status[n]) if n in status else NOT_RECORDED)
            for n in sorted(kinds, key=lambda n: n.value)
        ]
    )
    timeline_rows = [
        TimelineRow(named[n], linker.href(n.value), kind_of[n], tuple(sorted(changes[n], key=str)))
        for n in sorted(kinds, key=lambda n: n.value)
        if changes.get(n)
    ]
    undated = [
        _value(data, n, linker)
        for n in sorted(kinds, key=lambda n: named[n].lower())
        if not changes.get(n)
    ]
    label = data.label(ox.NamedNode(iri))
    svg = timeline_svg(
        timeline_rows,
        f"Timeline of {label}'s instruments",
        f"Each row is an instrument of {label}; each coloured band is a status it held, from the"
        " date a source gives until the next recorded change. Names link to the instruments.",
        "timeline",
    )
    described = f"{len(timeline_rows)} of {len(kinds)} instruments have a dated status history."
    return tallies, len(kinds), svg, undated, described


def _concerns(data: LinkedData, party: ox.NamedNode, iri: str) -> bool:
    """Whether ``party`` is the state or one of its bodies."""
    todo, seen = [party], set()
    sub_organization_of = ox.NamedNode("http://www.w3.org/ns/org#subOrganizationOf")
    while todo:
        node = todo.pop()
        if node.value == iri:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(data.objects(node, sub_organization_of))
    return False


def _commitments(data: LinkedData, iri: str) -> dict[str, tuple[list[Tally], list[Tally]]]:
    rows = _select(data, "state-commitments.rq", iri)
    grouped: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for row in rows:
        direction = row["direction"].value
        key = (direction, row["provision"].value)
        if key in seen:  # a provision with two kinds or bindingnesses is counted once
            continue
        seen.add(key)
        kind = data.label(row["type"]) if "type" in row else NOT_RECORDED
        binding = data.label(row["binding"]) if "binding" in row else NOT_RECORDED
        grouped[direction].append((row["provision"].value, kind, binding))
    out = {}
    for direction, items in grouped.items():
        by_kind = _tallies([(kind, binding) for _, kind, binding in items])
        by_binding = _tallies([(binding, kind) for _, kind, binding in items])
        out[direction] = (by_kind, by_binding)
    return out


@lru_cache(maxsize=4)
def _strength_rows(data: LinkedData, query_path: str, mtime_ns: int) -> list[dict[str, Any]]:
    del mtime_ns  # the cache key: a changed query is read again
    text = Path(query_path).read_text(encoding="utf-8")
    results = data.store.query(text, use_default_graph_as_union=True)
    names = [v.value for v in results.variables]
    return [{name: row[name] for name in names if row[name] is not None} for row in results]


def strength_rows(data: LinkedData, queries_dir: Path | None = None) -> list[dict[str, Any]]:
    """The rows of the partners-by-strongest-commitment query ([] when it is not installed)."""
    path = (queries_dir or SETTINGS.queries_dir) / STRENGTH_QUERY
    if not path.is_file():
        return []
    return _strength_rows(data, str(path), path.stat().st_mtime_ns)


def _strongest(data: LinkedData, iri: str, linker: Linker) -> list[Strongest]:
    mine = [r for r in strength_rows(data) if r.get("partner") == ox.NamedNode(iri)]
    ranks = [int(r["rank"].value) for r in mine if "rank" in r]
    if not ranks:
        return []
    best = min(ranks)
    found = {}
    for r in mine:
        if "rank" not in r or int(r["rank"].value) != best:
            continue
        provision = _value(data, r["provision"], linker) if "provision" in r else None
        instrument = _value(data, r["instrument"], linker) if "instrument" in r else None
        strength = r["strengthLabel"].value if "strengthLabel" in r else str(best)
        key = (provision.iri if provision else "", instrument.iri if instrument else "")
        found[key] = Strongest(strength, best, provision, instrument)
    return [found[k] for k in sorted(found)]


def state_summary(data: LinkedData, iri: str, linker: Linker) -> StateSummary | None:
    """The summary of a state's page; ``None`` when ``iri`` is not a ``pact:State``."""
    node = ox.NamedNode(iri)
    if STATE_CLASS not in data.types(node):
        return None
    tallies, count, svg, undated, _ = _instruments(data, iri, linker)
    commitments = _commitments(data, iri)
    favour = commitments.get("in its favour", ([], []))
    borne = commitments.get("borne by it", ([], []))
    return StateSummary(
        instruments=tallies,
        instrument_count=count,
        favour=favour[0],
        favour_by_binding=favour[1],
        borne=borne[0],
        borne_by_binding=borne[1],
        strongest=_strongest(data, iri, linker),
        timeline=svg,
        undated=undated,
    )
