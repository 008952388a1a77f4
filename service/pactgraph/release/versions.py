"""Ontology versions: the table ``ontology/versions.csv`` and the past versions kept as files.

Every change of the ontology raises ``owl:versionIRI`` (model decision 6). The current
version is ``ontology/pactgraph.ttl``; each past one is kept byte for byte under
``ontology/versions/<version>/`` and never loaded with the live model (its axioms would
contradict the current ones). A build copies each past version into the release as
``ontology-<version>.ttl``, which the service answers for ``/ontology/<version>`` as it is.
The table gives each version's file and the SHA-256 of its bytes;
``tests/test_ontology_versions.py`` keeps it true.

>>> [v.version for v in read_versions()][:1]
['0.1.0']
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from pactgraph.settings import SETTINGS, Settings

VERSIONS_TABLE = "versions.csv"
PAST_FILE = "ontology-{version}.ttl"
# The companion file kept with each past version (its own version IRI is
# ``…/ontology/alignments/<version>``), and the release file it is copied to.
PAST_COMPANIONS = {"alignments.ttl": "ontology-alignments-{version}.ttl"}


_VERSION_PATH = re.compile(r"(?:alignments/)?[0-9]+\.[0-9]+\.[0-9]+")


@dataclass(frozen=True)
class OntologyVersion:
    """One row of ``ontology/versions.csv``."""

    version: str
    version_iri: str
    file: str
    sha256: str
    released: str

    def path(self, settings: Settings = SETTINGS) -> Path:
        return settings.root / self.file

    def is_past(self) -> bool:
        """A kept past version (not the live ``ontology/pactgraph.ttl``).

        >>> OntologyVersion("0.1.0", "i", "ontology/versions/0.1.0/pactgraph.ttl", "", "").is_past()
        True
        """
        return self.file.startswith("ontology/versions/")


def read_versions(settings: Settings = SETTINGS) -> list[OntologyVersion]:
    """The rows of the versions table, oldest first ([] when there is no table)."""
    table = settings.ontology_dir / VERSIONS_TABLE
    if not table.is_file():
        return []
    with table.open(encoding="utf-8", newline="") as handle:
        return [OntologyVersion(**row) for row in csv.DictReader(handle)]


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def past_ontology_files(settings: Settings = SETTINGS) -> dict[str, bytes]:
    """Release file name → bytes of every past ontology version, unchanged.

    >>> sorted(past_ontology_files())  # doctest: +NORMALIZE_WHITESPACE
    ['ontology-0.1.0.ttl', 'ontology-0.2.0.ttl', 'ontology-alignments-0.1.0.ttl',
     'ontology-alignments-0.2.0.ttl']
    """
    files: dict[str, bytes] = {}
    for v in read_versions(settings):
        if not (v.is_past() and v.path(settings).is_file()):
            continue
        files[PAST_FILE.format(version=v.version)] = v.path(settings).read_bytes()
        for name, target in PAST_COMPANIONS.items():
            companion = v.path(settings).with_name(name)
            if companion.is_file():
                files[target.format(version=v.version)] = companion.read_bytes()
    return files


def past_file_name(name: str) -> str | None:
    """The release file holding ``/ontology/<name>`` when ``name`` is a past version.

    >>> past_file_name("0.1.0"), past_file_name("alignments/0.1.0"), past_file_name("../x")
    ('ontology-0.1.0.ttl', 'ontology-alignments-0.1.0.ttl', None)
    """
    if not _VERSION_PATH.fullmatch(name):
        return None
    return PAST_FILE.format(version=name.replace("/", "-"))
