"""How to cite a release, and under which licences it comes.

Every release directory gets ``LICENSE`` (the code, MIT), ``LICENSE-DATA`` (the data, CC BY
4.0) and a ``CITATION.cff`` of its own, whose version is the release version: that changes
with the data, so it cannot be the committed ``CITATION.cff`` (which cites the software at the
package version). The words come from ``dataset-description.ttl`` (title, description,
publisher, licences with their labels and SPDX identifiers); the file's shape from
``templates/release-citation.cff``.

A release is named by its version IRI, ``https://w3id.org/pactgraph/dumps/<version>/``: the
folder of its files, which the service answers and w3id.org redirects to it.

>>> release_iri("0.1.0-abc")
'https://w3id.org/pactgraph/dumps/0.1.0-abc/'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pactgraph.release.description import description_triples
from pactgraph.render.html import TEMPLATES_DIR
from pactgraph.settings import BASE_IRI, project_file

LICENSE = "LICENSE"
LICENSE_DATA = "LICENSE-DATA"
LICENSE_FILES = (LICENSE, LICENSE_DATA)
CITATION_FILE = "CITATION.cff"
TEMPLATE = "release-citation.cff"

_DCAT = "http://www.w3.org/ns/dcat#"
_DCTERMS = "http://purl.org/dc/terms/"
_FOAF = "http://xmlns.com/foaf/0.1/"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_DATASET = BASE_IRI + ".well-known/void#dataset"
_SERVICE = BASE_IRI + ".well-known/void#sparql-service"
CITATION_MESSAGE = (
    "If you use this data, please cite this release as below; its version IRI names exactly "
    "the data you used. The data is licensed under CC BY 4.0 (LICENSE-DATA)."
)


def release_iri(version: str) -> str:
    """The permanent IRI of a release: the folder of its files under ``/dumps/``."""
    return f"{BASE_IRI}dumps/{version}/"


@dataclass(frozen=True)
class Licence:
    """A licence as the dataset description names it.

    >>> Licence("http://spdx.org/licenses/MIT", "MIT", "MIT", "LICENSE").as_json()["spdx"]
    'MIT'
    """

    iri: str
    label: str
    spdx: str
    file: str

    def as_json(self) -> dict[str, str]:
        return {"iri": self.iri, "name": self.label, "spdx": self.spdx, "file": self.file}


@dataclass(frozen=True)
class Credits:
    """Who and what a citation names: title, description, publisher and the two licences."""

    title: str
    abstract: str
    author: str
    keywords: tuple[str, ...]
    data_licence: Licence
    code_licence: Licence


def _objects(triples: tuple[ox.Triple, ...], subject: str, predicate: str) -> list[ox.Term]:
    found = (t for t in triples if t.subject.value == subject and t.predicate.value == predicate)
    return sorted((t.object for t in found), key=str)


def _one(triples: tuple[ox.Triple, ...], subject: str, predicate: str) -> str:
    found = _objects(triples, subject, predicate)
    if not found:
        raise LookupError(f"dataset-description.ttl gives <{subject}> no <{predicate}>")
    return found[0].value


def _licence(triples: tuple[ox.Triple, ...], holder: str, file: str) -> Licence:
    iri = _one(triples, holder, _DCTERMS + "license")
    return Licence(
        iri, _one(triples, iri, _RDFS + "label"), _one(triples, iri, _DCTERMS + "identifier"), file
    )


@lru_cache(maxsize=1)
def credits() -> Credits:
    """The citation's words, read from ``dataset-description.ttl``.

    >>> credits().author, credits().data_licence.spdx, credits().code_licence.spdx
    ('pactgraph maintainers', 'CC-BY-4.0', 'MIT')
    """
    triples = description_triples()
    publisher = _one(triples, _DATASET, _DCTERMS + "publisher")
    return Credits(
        title=_one(triples, _DATASET, _DCTERMS + "title"),
        abstract=_one(triples, _DATASET, _DCTERMS + "description"),
        author=_one(triples, publisher, _FOAF + "name"),
        keywords=tuple(k.value for k in _objects(triples, _DATASET, _DCAT + "keyword")),
        data_licence=_licence(triples, _DATASET, LICENSE_DATA),
        code_licence=_licence(triples, _SERVICE, LICENSE),
    )


def citation_text(version: str) -> str:
    """One line to cite a release with, naming its version IRI and its licence.

    >>> print(citation_text("0.1.0-abc"))  # doctest: +NORMALIZE_WHITESPACE
    pactgraph maintainers. pactgraph, release 0.1.0-abc [data set].
    https://w3id.org/pactgraph/dumps/0.1.0-abc/. Licensed under CC BY 4.0.
    """
    words = credits()
    return (
        f"{words.author}. {words.title}, release {version} [data set]. "
        f"{release_iri(version)}. Licensed under {words.data_licence.label}."
    )


_ENV = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
# A JSON string is a YAML double-quoted scalar; unlike Jinja's tojson, keep ' and < as they are.
_ENV.filters["quoted"] = lambda text: json.dumps(text, ensure_ascii=False)


def release_citation(version: str) -> bytes:
    """The ``CITATION.cff`` of the release ``version`` (Citation File Format 1.2.0).

    >>> b'version: "0.1.0-abc"' in release_citation("0.1.0-abc")
    True
    """
    words = credits()
    text = _ENV.get_template(TEMPLATE).render(
        message=CITATION_MESSAGE,
        title=words.title,
        abstract=words.abstract,
        version=version,
        author=words.author,
        license_spdx=words.data_licence.spdx,
        release_iri=release_iri(version),
        keywords=words.keywords,
    )
    return text.encode("utf-8")


def licences() -> dict[str, dict[str, str]]:
    """``release.json``'s ``licenses``: the data's and the code's, with their files.

    >>> sorted(licences())
    ['code', 'data']
    """
    words = credits()
    return {"data": words.data_licence.as_json(), "code": words.code_licence.as_json()}


def release_files(version: str) -> dict[str, bytes]:
    """What every release holds besides its data: the two licence files and its citation."""
    files = {name: project_file(name).read_bytes() for name in LICENSE_FILES}
    files[CITATION_FILE] = release_citation(version)
    return files
