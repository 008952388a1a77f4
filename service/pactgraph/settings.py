"""Where pactgraph finds its data folders and writes its releases.

One object, :data:`SETTINGS`, answers every "where is it?" question, so no other module
hard-codes a path. In a checkout the data folders are the repository's own; in an installed
wheel they ship inside the package under ``pactgraph/data``. ``PACTGRAPH_DATA`` overrides both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import click

BASE_IRI = "https://w3id.org/pactgraph/"
GRAPH_IRI_BASE = BASE_IRI + "graph/"


def _find_data_root() -> Path:
    override = os.environ.get("PACTGRAPH_DATA")
    if override:
        return Path(override).resolve()
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "graph").is_dir() and (checkout / "ontology").is_dir():
        return checkout
    return Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Settings:
    """Paths to the data folders, all derived from one root.

    >>> s = Settings(root=Path("/x"))
    >>> s.graph_dir
    PosixPath('/x/graph')
    """

    root: Path

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def ontology_versions_dir(self) -> Path:
        """Past ontology versions, kept byte for byte and never loaded with the live model."""
        return self.root / "ontology" / "versions"

    @property
    def vocab_dir(self) -> Path:
        return self.root / "ontology" / "vocab"

    @property
    def graph_dir(self) -> Path:
        return self.root / "graph"

    @property
    def shapes_dir(self) -> Path:
        return self.root / "shapes"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def qc_dir(self) -> Path:
        return self.root / "queries" / "qc"


SETTINGS = Settings(root=_find_data_root())


def current_settings() -> Settings:
    """The data settings of the running command (``--data``, else the shipped data).

    The command line puts its ``Settings`` on the root click context; a command in any layer
    reads them here, so no module imports the command line to learn them.

    >>> current_settings() is SETTINGS  # outside a command
    True
    """
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx else None
    return obj if isinstance(obj, Settings) else SETTINGS

# Releases are written under the current directory unless told otherwise (a wheel's
# package folder is not a place to write into).
DEFAULT_DIST = Path(os.environ.get("PACTGRAPH_DIST", "dist"))


def project_file(name: str) -> Path:
    """A file of the project itself (``LICENSE``, ``CITATION.cff``, the release register).

    The checkout's top folder in a checkout, ``pactgraph/data`` in an installed wheel (where
    pyproject.toml's force-include puts them). Unlike the data folders, ``PACTGRAPH_DATA`` and
    ``--data`` do not move these: the licences are the project's, whatever data is built.

    >>> project_file("LICENSE").name
    'LICENSE'
    """
    checkout = Path(__file__).resolve().parents[2] / name
    return checkout if checkout.is_file() else Path(__file__).resolve().parent / "data" / name
