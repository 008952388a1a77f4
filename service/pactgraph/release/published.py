"""Releases on disk: ``OUT/<version>/`` directories and the ``OUT/latest`` link.

A release directory holds the dumps (``pactgraph.{ttl,nt,nq,jsonld}`` and their ``.gz``),
``SHA256SUMS``, ``release.json`` and ``store/`` (a pyoxigraph store of the same quads, which
the service opens read-only). It is written once by :func:`pactgraph.release.build.build` and
never changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LATEST = "latest"
RELEASE_JSON = "release.json"
SUMS = "SHA256SUMS"
STORE_DIR = "store"
NQUADS = "pactgraph.nq"


@dataclass(frozen=True)
class Release:
    """One published release directory.

    >>> r = Release(Path("dist/1.0.0-abc"), "1.0.0-abc", 3)
    >>> r.nquads
    PosixPath('dist/1.0.0-abc/pactgraph.nq')
    >>> r.store_path
    PosixPath('dist/1.0.0-abc/store')
    """

    path: Path
    version: str
    triple_count: int

    @property
    def nquads(self) -> Path:
        return self.path / NQUADS

    @property
    def store_path(self) -> Path:
        return self.path / STORE_DIR

    @property
    def metadata(self) -> dict[str, Any]:
        """The parsed ``release.json`` (version, counts, per-graph counts, file sizes)."""
        return json.loads((self.path / RELEASE_JSON).read_text(encoding="utf-8"))

    @property
    def files(self) -> dict[str, Path]:
        """The published files, by name, in ``SHA256SUMS`` order (the store is not one)."""
        names = [line.split("  ", 1)[1] for line in self.checksums.splitlines() if line]
        return {name: self.path / name for name in [*names, SUMS]}

    @property
    def checksums(self) -> str:
        return (self.path / SUMS).read_text(encoding="ascii")

    def open_store(self):  # -> pyoxigraph.Store (imported lazily: the CLI starts faster)
        """The release's store, opened read-only."""
        import pyoxigraph

        return pyoxigraph.Store.read_only(str(self.store_path))

    @classmethod
    def open(cls, path: Path) -> Release:
        """Read a release directory (raises ``FileNotFoundError`` if it is not one)."""
        metadata = json.loads((path / RELEASE_JSON).read_text(encoding="utf-8"))
        return cls(path=path, version=metadata["version"], triple_count=metadata["triple_count"])


class ReleaseCorrupt(Exception):
    """A release file does not match its ``SHA256SUMS`` line (or is missing)."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def verify_release(release: Release) -> None:
    """Check every file ``SHA256SUMS`` lists; raise :class:`ReleaseCorrupt` naming the bad ones.

    A release directory without ``SHA256SUMS`` (a bare store, as some tests build) has nothing
    to check. The service calls this before it opens anything, so a damaged or tampered dump
    is never served with a checksum that vouches for other bytes.

    >>> verify_release(Release(Path("/nonexistent"), "x", 0)) is None
    True
    """
    if not (release.path / SUMS).is_file():
        return
    bad = []
    for line in release.checksums.splitlines():
        expected, _, name = line.partition("  ")
        if not name:
            continue
        path = release.path / name
        if not path.is_file():
            bad.append(f"{name}: missing")
        elif _sha256(path) != expected:
            bad.append(f"{name}: SHA-256 differs from SHA256SUMS")
    if bad:
        raise ReleaseCorrupt(
            f"release {release.version} at {release.path} is corrupt and will not be served: "
            + "; ".join(bad)
            + ". Rebuild it (pactgraph build) or restore the files."
        )


def latest_release(out: Path) -> Release | None:
    """The release ``out/latest`` points at, or ``None`` when there is none yet.

    >>> latest_release(Path("/nonexistent")) is None
    True
    """
    link = out / LATEST
    try:
        return Release.open(link.resolve(strict=True))
    except (FileNotFoundError, NotADirectoryError, KeyError, ValueError):
        return None
