"""The register of published releases: ``releases.csv`` at the data root, committed.

Releases are built on many machines and ``dist/`` is not in the repository, so what was
published is written down here, one row per release, in the order they were published:
``version``, ``date`` (ISO, the day it was registered as published) and ``nquads_sha256``
(the SHA-256 of its ``pactgraph.nq``, which is the whole data: the version's hash part is its
first 12 hex digits). ``pactgraph build --previous DIR`` only diffs against a release this
register knows with exactly those bytes, so a change log always starts from something a
reader could have downloaded. ``pactgraph register DIR`` appends a release.

>>> RegisteredRelease("0.1.0-abc", "2026-01-02", "ab" * 32).version
'0.1.0-abc'
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from pactgraph.release.published import Release, verify_release
from pactgraph.settings import Settings

REGISTER_FILE = "releases.csv"


class RegisterError(ValueError):
    """A release the register does not know, or one that contradicts it."""


@dataclass(frozen=True)
class RegisteredRelease:
    """One published release: its version, the day it was published, its N-Quads digest."""

    version: str
    date: str
    nquads_sha256: str


FIELDS = tuple(f.name for f in fields(RegisteredRelease))


def register_path(settings: Settings) -> Path:
    """Where the register of the data under ``settings`` lives (its root's ``releases.csv``).

    >>> register_path(Settings(root=Path("/x")))
    PosixPath('/x/releases.csv')
    """
    return settings.root / REGISTER_FILE


def read_register(path: Path) -> list[RegisteredRelease]:
    """The rows of a register, in publication order ([] when there is no register yet).

    >>> read_register(Path("/nonexistent/releases.csv"))
    []
    """
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        if tuple(reader.fieldnames or ()) != FIELDS:
            raise RegisterError(f"{path}: the header must be {','.join(FIELDS)}")
        return [RegisteredRelease(**row) for row in reader]


def nquads_sha256(release: Release) -> str:
    """SHA-256 of a release's ``pactgraph.nq``."""
    digest = hashlib.sha256()
    with release.nquads.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def registered(path: Path, version: str, sha256: str) -> RegisteredRelease:
    """The register's row for ``version``; :class:`RegisterError` unless it has those bytes."""
    rows = {row.version: row for row in read_register(path)}
    row = rows.get(version)
    if row is None:
        known = ", ".join(rows) or "none yet"
        raise RegisterError(
            f"release {version} is not in the register {path} (registered: {known}); a build "
            f"diffs only against a published release. If {version} was published, register "
            "it first: pactgraph register DIR"
        )
    if row.nquads_sha256 != sha256:
        raise RegisterError(
            f"release {version} in {path} has N-Quads SHA-256 {row.nquads_sha256}, but the "
            f"given directory's pactgraph.nq has {sha256}: not the published release"
        )
    return row


def register_release(
    release_dir: Path, path: Path, date: dt.date | None = None
) -> tuple[RegisteredRelease, bool]:
    """Append the release in ``release_dir`` to the register at ``path``.

    Checks the release's files against its ``SHA256SUMS`` first. Returns the row and whether it
    was added (False: already registered with the same bytes). A version registered with
    other bytes is a :class:`RegisterError`.
    """
    release = Release.open(release_dir)
    verify_release(release)
    row = RegisteredRelease(
        release.version, (date or dt.datetime.now(dt.UTC).date()).isoformat(),
        nquads_sha256(release),
    )
    for known in read_register(path):
        if known.version == row.version:
            if known.nquads_sha256 != row.nquads_sha256:
                raise RegisterError(
                    f"{path} already registers {row.version} with other bytes "
                    f"({known.nquads_sha256})"
                )
            return known, False
    new_file = not path.is_file()
    with path.open("a", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        if new_file:
            writer.writerow(FIELDS)
        writer.writerow(astuple(row))
    return row, True
