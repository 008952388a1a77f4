"""The embedded pyoxigraph store that answers SPARQL queries.

Either the ``store/`` of a release (opened read-only, no loading) or, when there is no
current release, an in-memory store loaded from the data files. Both hold one named graph
per file; queries see their union as the default graph (see :mod:`pactgraph.rdf.query`).
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from pactgraph.rdf.dataset import load_store
from pactgraph.release.build import source_digest
from pactgraph.release.published import Release, latest_release
from pactgraph.settings import DEFAULT_DIST, SETTINGS, Settings


def current_release(out: Path = DEFAULT_DIST, settings: Settings = SETTINGS) -> Release | None:
    """The latest release in ``out`` if it was built from the data as it is now."""
    release = latest_release(out)
    if release is None or not release.store_path.is_dir() or not is_current(release, settings):
        return None
    return release


def is_current(release: Release, settings: Settings = SETTINGS) -> bool:
    """Whether a release was built from exactly the data files under ``settings``."""
    return release.metadata.get("source_digest") == source_digest(settings)


def open_store(out: Path = DEFAULT_DIST, settings: Settings = SETTINGS) -> ox.Store:
    """The current release's store (read-only), or else the data loaded into memory.

    Raises :class:`pactgraph.rdf.dataset.DataFileError` if the data must be loaded and a file
    does not parse.
    """
    release = current_release(out, settings)
    if release is not None:
        return release.open_store()
    return load_store(settings=settings)
