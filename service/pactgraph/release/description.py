"""The hand-written part of the dataset description: ``dataset-description.ttl``.

The file beside this module holds the words a release is described and cited with: title,
description, publisher, keywords, the licences with their labels and SPDX identifiers, the
endpoint. :mod:`pactgraph.release.void` adds what is measured; :mod:`pactgraph.release.citation`
reads the words for ``CITATION.cff``; the service names the data licence in its ``Link`` header.

>>> DATASET
'https://w3id.org/pactgraph/.well-known/void#dataset'
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from pactgraph.settings import BASE_IRI

DESCRIPTION_FILE = Path(__file__).resolve().parent / "dataset-description.ttl"
DATASET = BASE_IRI + ".well-known/void#dataset"
DCTERMS = "http://purl.org/dc/terms/"


@lru_cache(maxsize=1)
def description_triples() -> tuple[ox.Triple, ...]:
    """The hand-written part of the description.

    >>> any(t.subject.value == DATASET for t in description_triples())
    True
    """
    return tuple(q.triple for q in ox.parse(path=str(DESCRIPTION_FILE), format=ox.RdfFormat.TURTLE))


def dataset_license() -> str:
    """The licence IRI ``dataset-description.ttl`` gives the dataset.

    >>> dataset_license()
    'https://creativecommons.org/licenses/by/4.0/'
    """
    for t in description_triples():
        if t.subject == ox.NamedNode(DATASET) and t.predicate == ox.NamedNode(DCTERMS + "license"):
            return t.object.value
    raise LookupError("dataset-description.ttl gives the dataset no dcterms:license")
