"""The embedded pyoxigraph store that answers SPARQL queries.

Either the ``store/`` of a release (opened read-only, no loading) or, when there is no
current release, an in-memory store loaded from the data files. Both hold one named graph
per file; queries see their union as the default graph (see :mod:`pactgraph.query`).
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset

from pactgraph.dataset import load_store
from pactgraph.release import Release, is_current, latest_release
from pactgraph.settings import DEFAULT_DIST, SETTINGS, Settings
from pactgraph.terms import oxigraph_quads


def memory_store(dataset: Dataset) -> ox.Store:
    """An in-memory store holding the dataset's quads.

    >>> from rdflib import URIRef
    >>> ds = Dataset()
    >>> ds.graph(URIRef("http://example.org/g")).add(
    ...     (URIRef("http://example.org/s"), URIRef("http://example.org/p"), URIRef("http://example.org/o")))
    <Graph identifier=http://example.org/g (<class 'rdflib.graph.Graph'>)>
    >>> len(memory_store(ds))
    1
    """
    store = ox.Store()
    store.extend(oxigraph_quads(dataset))
    return store


def current_release(out: Path = DEFAULT_DIST, settings: Settings = SETTINGS) -> Release | None:
    """The latest release in ``out`` if it was built from the data as it is now."""
    release = latest_release(out)
    if release is None or not release.store_path.is_dir() or not is_current(release, settings):
        return None
    return release


def open_store(out: Path = DEFAULT_DIST, settings: Settings = SETTINGS) -> ox.Store:
    """The current release's store (read-only), or else the data loaded into memory.

    Raises :class:`pactgraph.dataset.DataFileError` if the data must be loaded and a file
    does not parse.
    """
    release = current_release(out, settings)
    if release is not None:
        return release.open_store()
    return load_store(settings=settings)
