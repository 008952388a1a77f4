"""What changed between two releases: per named graph, per entity, and as an exact patch.

Both sides are canonical N-Quads (``pactgraph.nq``: one quad a line, sorted, unique; blank
nodes labelled by RDFC-1.0), so a change is a set difference of lines: the lines only the
new side has were added, those only the old side has were removed. The patch is exactly
these two sets (``added.nq``, ``removed.nq``); :func:`apply_patch` turns the old dump into the
new one byte for byte, with the build's own sorting.

The work is done on the text, as the build's N-Triples dump is: in a canonical N-Quads line
``s p o g .`` the subject, the predicate and the graph name are single tokens (IRIs and
blank-node labels hold no space), and the object is what lies between them.

A changed OWL list in the ontology may relabel its blank nodes (RDFC-1.0 labels depend on
the whole list), so such a change shows as the list's quads removed and added again: still an
exact patch, only a longer one.

>>> old = Snapshot("1", frozenset({b"<s> <p> <o> <g> .", b"<s> <p> <x> <g> ."}))
>>> new = Snapshot("2", frozenset({b"<s> <p> <o> <g> .", b"<t> <p> <o> <g> ."}))
>>> change = diff(old, new)
>>> change.summary()["triples_added"], change.summary()["triples_removed"]
(1, 1)
>>> apply_patch(old.nquads(), change.added_nquads(), change.removed_nquads()) == new.nquads()
True
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pactgraph.rdf.namespaces import compact_iri
from pactgraph.release.published import NQUADS, Release, verify_release
from pactgraph.settings import GRAPH_IRI_BASE

ADDED = "added.nq"
REMOVED = "removed.nq"


def _lines(data: bytes) -> frozenset[bytes]:
    return frozenset(line for line in data.split(b"\n") if line)


def _joined(lines: frozenset[bytes] | set[bytes]) -> bytes:
    # The build's order (pactgraph.release.build._joined): bytes, sorted.
    return b"".join(line + b"\n" for line in sorted(lines))


@dataclass(frozen=True)
class Snapshot:
    """One side of a diff: a version and the lines of its canonical N-Quads dump."""

    version: str
    lines: frozenset[bytes]

    def nquads(self) -> bytes:
        """The dump these lines make (``pactgraph.nq``'s bytes)."""
        return _joined(self.lines)

    @property
    def nquads_sha256(self) -> str:
        return hashlib.sha256(self.nquads()).hexdigest()

    @classmethod
    def from_release(cls, path: Path) -> Snapshot:
        """A release directory, after checking its files against its ``SHA256SUMS``."""
        release = Release.open(path)
        verify_release(release)
        return cls(release.version, _lines((path / NQUADS).read_bytes()))

    @classmethod
    def from_nquads(cls, version: str, nquads: bytes) -> Snapshot:
        """A release's content from its version and its N-Quads dump, as the build makes them.

        >>> Snapshot.from_nquads("1.0.0-abc", b"<a> <b> <c> .").lines
        frozenset({b'<a> <b> <c> .'})
        """
        return cls(version, _lines(nquads))


@dataclass(frozen=True)
class Statement:
    """One changed quad, cut into its terms (N-Quads syntax).

    >>> Statement.parse(b'<http://e/s> <http://e/p> "a b" <http://e/g> .').object
    '"a b"'
    """

    subject: str
    predicate: str
    object: str
    graph: str

    @classmethod
    def parse(cls, line: bytes) -> Statement:
        subject, predicate, rest = line.decode("utf-8").split(" ", 2)
        obj, graph, _dot = rest.rsplit(" ", 2)
        return cls(subject, predicate, obj, graph)

    def as_json(self) -> dict[str, str]:
        return {"predicate": self.predicate, "object": self.object, "graph": _bare(self.graph)}


def _bare(term: str) -> str:
    """An IRI without its angle brackets; a blank node or a literal as it is written."""
    return term[1:-1] if term.startswith("<") else term


def _short(term: str) -> str:
    """A term for people: IRIs compacted with our prefixes where one fits, graph names
    relative to the graph base.

    >>> _short("<https://w3id.org/pactgraph/graph/actors/states>")
    'actors/states'
    """
    if not term.startswith("<"):
        return term
    iri = term[1:-1]
    if iri.startswith(GRAPH_IRI_BASE):
        return iri[len(GRAPH_IRI_BASE) :]
    short = compact_iri(iri)
    return short if short != iri else term


@dataclass
class EntityChange:
    """The statements about one subject that were added and removed, and what that means."""

    subject: str
    status: str  # "added" (a new subject), "removed" (gone), "changed" (in both)
    added: list[Statement] = field(default_factory=list)
    removed: list[Statement] = field(default_factory=list)


def _subjects(lines: frozenset[bytes]) -> set[bytes]:
    return {line.split(b" ", 1)[0] for line in lines}


@dataclass(frozen=True)
class ReleaseDiff:
    """The change from ``old`` to ``new``: the quads added and removed, sorted."""

    old: Snapshot
    new: Snapshot
    added: tuple[bytes, ...]
    removed: tuple[bytes, ...]

    def added_nquads(self) -> bytes:
        """``added.nq``: the quads to add to the old dump."""
        return _joined(set(self.added))

    def removed_nquads(self) -> bytes:
        """``removed.nq``: the quads to take out of the old dump."""
        return _joined(set(self.removed))

    def graphs(self) -> dict[str, dict[str, int]]:
        """Named graph IRI -> quads added and removed in it (only graphs that changed)."""
        counts: dict[str, dict[str, int]] = defaultdict(lambda: {"added": 0, "removed": 0})
        for kind, lines in (("added", self.added), ("removed", self.removed)):
            for line in lines:
                counts[_bare(Statement.parse(line).graph)][kind] += 1
        return dict(sorted(counts.items()))

    def entities(self) -> dict[str, EntityChange]:
        """Subject -> its change; a subject is added, removed, or changed (in both releases)."""
        old_subjects = _subjects(self.old.lines)
        new_subjects = _subjects(self.new.lines)
        changes: dict[str, EntityChange] = {}
        for kind, lines in (("added", self.added), ("removed", self.removed)):
            for line in lines:
                statement = Statement.parse(line)
                change = changes.get(statement.subject)
                if change is None:
                    token = statement.subject.encode("utf-8")
                    status = (
                        "added"
                        if token not in old_subjects
                        else "removed"
                        if token not in new_subjects
                        else "changed"
                    )
                    change = changes[statement.subject] = EntityChange(statement.subject, status)
                getattr(change, kind).append(statement)
        return dict(sorted(changes.items()))

    def summary(self) -> dict[str, Any]:
        """Counts: triples added and removed, graphs changed, subjects added/changed/removed."""
        entities = self.entities().values()
        return {
            "old": self.old.version,
            "new": self.new.version,
            "triples_added": len(self.added),
            "triples_removed": len(self.removed),
            "graphs_changed": len(self.graphs()),
            **{
                f"subjects_{status}": sum(1 for e in entities if e.status == status)
                for status in ("added", "changed", "removed")
            },
        }

    def as_json(self) -> dict[str, Any]:
        """The whole diff as JSON: both versions and digests, the summary, graphs and entities."""
        return {
            "old": {"version": self.old.version, "nquads_sha256": self.old.nquads_sha256},
            "new": {"version": self.new.version, "nquads_sha256": self.new.nquads_sha256},
            "summary": self.summary(),
            "graphs": self.graphs(),
            "entities": {
                _bare(subject): {
                    "status": change.status,
                    "added": [s.as_json() for s in change.added],
                    "removed": [s.as_json() for s in change.removed],
                }
                for subject, change in self.entities().items()
            },
        }

    def as_text(self) -> str:
        """A readable report: the summary, then per graph, then per entity (+ added, - removed)."""
        s = self.summary()
        out = [
            f"pactgraph diff {s['old']} -> {s['new']}",
            f"  {s['triples_added']:,} triple(s) added, {s['triples_removed']:,} removed, "
            f"in {s['graphs_changed']} named graph(s)",
            f"  subjects: {s['subjects_added']:,} added, {s['subjects_changed']:,} changed, "
            f"{s['subjects_removed']:,} removed",
        ]
        graphs = self.graphs()
        if graphs:
            out += ["", f"Named graphs (under {GRAPH_IRI_BASE}), quads added and removed:"]
            width = max(len(_short(f"<{g}>")) for g in graphs)
            for graph, counts in graphs.items():
                out.append(
                    f"  {_short(f'<{graph}>'):<{width}}  +{counts['added']:<6} -{counts['removed']}"
                )
        entities = self.entities()
        if entities:
            out += ["", "Entities:"]
            for subject, change in entities.items():
                out.append(f"  {_short(subject)} ({change.status})")
                for sign, statements in (("-", change.removed), ("+", change.added)):
                    for st in statements:
                        out.append(
                            f"    {sign} {_short(st.predicate)} {_short(st.object)}"
                            f"  [{_short(st.graph)}]"
                        )
        if not graphs:
            out += ["", "No change: both hold the same quads."]
        return "\n".join(out) + "\n"

    def write_patch(self, directory: Path) -> dict[str, Path]:
        """Write ``added.nq`` and ``removed.nq`` into ``directory``; returns them by name."""
        directory.mkdir(parents=True, exist_ok=True)
        written = {}
        for name, data in ((ADDED, self.added_nquads()), (REMOVED, self.removed_nquads())):
            (directory / name).write_bytes(data)
            written[name] = directory / name
        return written


def diff(old: Snapshot, new: Snapshot) -> ReleaseDiff:
    """The quads ``new`` has and ``old`` lacks (added), and the reverse (removed)."""
    return ReleaseDiff(
        old, new, tuple(sorted(new.lines - old.lines)), tuple(sorted(old.lines - new.lines))
    )


def apply_patch(nquads: bytes, added: bytes, removed: bytes) -> bytes:
    """The old dump with ``removed``'s lines taken out and ``added``'s put in, sorted.

    >>> apply_patch(b"<a> <p> <o> <g> .\\n", b"<b> <p> <o> <g> .\\n", b"<a> <p> <o> <g> .\\n")
    b'<b> <p> <o> <g> .\\n'
    """
    return _joined((_lines(nquads) - _lines(removed)) | _lines(added))
