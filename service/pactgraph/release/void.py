"""VoID and DCAT for a release, computed from the files the release publishes.

``dataset-description.ttl`` (read by :mod:`pactgraph.release.description`) holds the words:
title, description, licences (the data's on the dataset, the software's on the service),
publisher, endpoint.
Everything countable is measured here when a release is built, from the release's own
N-Triples dump, so the description can never disagree with the data:

- ``void:triples``, ``void:entities`` (IRIs under ``void:uriSpace`` used as subjects),
  ``void:distinctSubjects``, ``void:distinctObjects``, ``void:properties``, ``void:classes``;
- a ``void:classPartition`` per class (``void:entities``) and a ``void:propertyPartition``
  per property (``void:triples``);
- every dump as a ``dcat:Distribution`` (media type, byte size, SHA-256) and a ``void:dataDump``;
- ``dcterms:bibliographicCitation``: how to cite this release (:mod:`pactgraph.release.citation`);
- a ``void:Linkset`` to Wikidata per linking property (``skos:exactMatch`` for actors, the
  ontology's SKOS mappings…) with the number of links.

:func:`linked_data_files` is the build step: it returns ``void.ttl`` and the generated
ontology and vocabulary pages (:mod:`pactgraph.release.docs_gen`) for the release directory.

>>> distribution_media_type("pactgraph.nt.gz")
('application/n-triples', True)
"""

from __future__ import annotations

import hashlib
from collections import Counter

import pyoxigraph as ox
from rdflib.compare import to_canonical_graph

from pactgraph.gates.validate import load_shapes
from pactgraph.rdf.formats import GRAPH_FORMATS
from pactgraph.rdf.namespaces import compact_iri as compact
from pactgraph.rdf.namespaces import prefixes
from pactgraph.release.citation import citation_text
from pactgraph.release.description import DATASET, dataset_license, description_triples
from pactgraph.release.docs_gen import documentation_pages
from pactgraph.settings import BASE_IRI, SETTINGS, Settings

VOID_FILE = "void.ttl"
# The shapes the release was checked against, blank nodes canonically labelled (RGDA1), so the
# service answers /shapes from a file instead of canonicalising (seconds) in every process.
SHAPES_FILE = "shapes.nt"
DOC = BASE_IRI + ".well-known/void"
WIKIDATA = DOC + "#wikidata"
WIKIDATA_SPACE = "http://www.wikidata.org/"
DUMP_PREFIX = "pactgraph."
GZIP = "application/gzip"
IANA = "https://www.iana.org/assignments/media-types/"

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
SPDX = "http://spdx.org/rdf/terms#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
OWL_VERSION_INFO = ox.NamedNode("http://www.w3.org/2002/07/owl#versionInfo")

# VoID partitions: kind (class / property) -> (its statistics key, what each one counts).
_PARTITIONS = {"class": ("classes", "entities"), "property": ("properties", "triples")}

# Dump file extension -> media type, from the service's one format table.
DUMP_MEDIA_TYPES: dict[str, str] = {f.extension: f.media_type for f in GRAPH_FORMATS.values()}


def _n(text: str) -> ox.NamedNode:
    return ox.NamedNode(text)


def _count(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_n(XSD + "integer"))


def distribution_media_type(name: str) -> tuple[str, bool]:
    """(media type of the RDF inside, whether it is gzipped) for a dump file name."""
    gzipped = name.endswith(".gz")
    extension = name.removesuffix(".gz").rsplit(".", 1)[-1]
    return DUMP_MEDIA_TYPES[extension], gzipped


def is_dump(name: str) -> bool:
    """Whether a release file is one of the RDF dumps (plain or gzipped).

    >>> is_dump("pactgraph.ttl.gz"), is_dump("release.json"), is_dump("void.ttl")
    (True, False, False)
    """
    if not name.startswith(DUMP_PREFIX):
        return False
    return name.removesuffix(".gz").rsplit(".", 1)[-1] in DUMP_MEDIA_TYPES


def _slug(iri: str) -> str:
    short = compact(iri)
    if short == iri:
        return hashlib.sha256(iri.encode()).hexdigest()[:12]
    return short.replace(":", "-")


_RDF_TYPE_TOKEN = f"<{RDF_TYPE.value}>".encode()


def _iri(token: bytes) -> str | None:
    """The IRI of an N-Triples term token, or None for a blank node or a literal."""
    return token[1:-1].decode() if token.startswith(b"<") else None


def statistics(ntriples: bytes) -> dict[str, object]:
    """Counts of canonical, sorted and unique N-Triples: totals, class entities and properties.

    Read off the lines as text, so a million triples take seconds: in N-Triples a subject and
    a predicate are single tokens (IRIs and blank-node labels hold no spaces), and the object
    is the rest of the line before `` .``.

    >>> stats = statistics(b'<https://w3id.org/pactgraph/id/actor/x> '
    ...     b'<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://x/C> .\\n')
    >>> stats["triples"], stats["entities"], stats["classes"]
    (1, 1, {'http://x/C': 1})
    """
    subjects: set[bytes] = set()
    objects: set[bytes] = set()
    properties: Counter[bytes] = Counter()
    class_members: dict[bytes, set[bytes]] = {}
    wikidata: Counter[bytes] = Counter()
    wikidata_start = b"<" + WIKIDATA_SPACE.encode()
    lines = [line for line in ntriples.split(b"\n") if line]
    for line in lines:
        subject, predicate, rest = line.split(b" ", 2)
        obj = rest[:-2]  # drop " ."
        subjects.add(subject)
        objects.add(obj)
        properties[predicate] += 1
        if predicate == _RDF_TYPE_TOKEN and obj.startswith(b"<"):
            class_members.setdefault(obj, set()).add(subject)
        if obj.startswith(wikidata_start):
            wikidata[predicate] += 1
    entity_start = b"<" + (BASE_IRI + "id/").encode()
    return {
        "triples": len(lines),
        "entities": sum(1 for s in subjects if s.startswith(entity_start)),
        "distinct_subjects": len(subjects),
        "distinct_objects": len(objects),
        "classes": dict(sorted((_iri(c), len(m)) for c, m in class_members.items())),
        "properties": dict(sorted((_iri(p), n) for p, n in properties.items())),
        "wikidata_links": dict(sorted((_iri(p), n) for p, n in wikidata.items())),
    }


def _distribution(name: str, data: bytes, version: str) -> list[ox.Triple]:
    node = _n(f"{DOC}#dist-{name}")
    checksum = _n(f"{DOC}#sha256-{name}")
    media_type, gzipped = distribution_media_type(name)
    url = _n(f"{BASE_IRI}dumps/{version}/{name}")
    triples = [
        ox.Triple(_n(DATASET), _n(DCAT + "distribution"), node),
        ox.Triple(_n(DATASET), _n(VOID + "dataDump"), url),
        ox.Triple(node, RDF_TYPE, _n(DCAT + "Distribution")),
        ox.Triple(node, _n(DCTERMS + "title"), ox.Literal(name)),
        ox.Triple(node, _n(DCAT + "downloadURL"), url),
        ox.Triple(node, _n(DCAT + "accessURL"), _n(f"{BASE_IRI}dumps/{version}/")),
        ox.Triple(node, _n(DCAT + "mediaType"), _n(IANA + media_type)),
        ox.Triple(
            node,
            _n(DCAT + "byteSize"),
            ox.Literal(str(len(data)), datatype=_n(XSD + "nonNegativeInteger")),
        ),
        ox.Triple(node, _n(DCTERMS + "license"), _n(dataset_license())),
        ox.Triple(node, _n(SPDX + "checksum"), checksum),
        ox.Triple(checksum, RDF_TYPE, _n(SPDX + "Checksum")),
        ox.Triple(checksum, _n(SPDX + "algorithm"), _n(SPDX + "checksumAlgorithm_sha256")),
        ox.Triple(
            checksum,
            _n(SPDX + "checksumValue"),
            ox.Literal(hashlib.sha256(data).hexdigest(), datatype=_n(XSD + "hexBinary")),
        ),
    ]
    if gzipped:
        triples.append(ox.Triple(node, _n(DCAT + "compressFormat"), _n(IANA + GZIP)))
    return triples


def void_triples(files: dict[str, bytes], version: str) -> list[ox.Triple]:
    """The whole description of a release whose files (name -> bytes) are ``files``."""
    stats = statistics(files["pactgraph.nt"])
    dataset = _n(DATASET)
    out = list(description_triples())
    out += [
        ox.Triple(dataset, _n(DCAT + "version"), ox.Literal(version)),
        # How to cite exactly this release (its version IRI and licence; release.citation).
        ox.Triple(
            dataset, _n(DCTERMS + "bibliographicCitation"), ox.Literal(citation_text(version))
        ),
        ox.Triple(dataset, OWL_VERSION_INFO, ox.Literal(version)),
        ox.Triple(dataset, _n(VOID + "triples"), _count(stats["triples"])),
        ox.Triple(dataset, _n(VOID + "entities"), _count(stats["entities"])),
        ox.Triple(dataset, _n(VOID + "distinctSubjects"), _count(stats["distinct_subjects"])),
        ox.Triple(dataset, _n(VOID + "distinctObjects"), _count(stats["distinct_objects"])),
        ox.Triple(dataset, _n(VOID + "classes"), _count(len(stats["classes"]))),
        ox.Triple(dataset, _n(VOID + "properties"), _count(len(stats["properties"]))),
    ]
    for kind, (key, measure) in _PARTITIONS.items():
        for iri, size in stats[key].items():
            part = _n(f"{DOC}#{kind}-{_slug(iri)}")
            out += [
                ox.Triple(dataset, _n(VOID + kind + "Partition"), part),
                ox.Triple(part, _n(VOID + kind), _n(iri)),
                ox.Triple(part, _n(VOID + measure), _count(size)),
            ]
    for prop, count in stats["wikidata_links"].items():
        linkset = _n(f"{DOC}#wikidata-{_slug(prop)}")
        out += [
            ox.Triple(dataset, _n(VOID + "subset"), linkset),
            ox.Triple(linkset, RDF_TYPE, _n(VOID + "Linkset")),
            ox.Triple(linkset, _n(VOID + "linkPredicate"), _n(prop)),
            ox.Triple(linkset, _n(VOID + "subjectsTarget"), dataset),
            ox.Triple(linkset, _n(VOID + "objectsTarget"), _n(WIKIDATA)),
            ox.Triple(linkset, _n(VOID + "triples"), _count(count)),
        ]
    for name in sorted(files):
        if is_dump(name):
            out += _distribution(name, files[name], version)
    return sorted(set(out), key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))


def void_turtle(files: dict[str, bytes], version: str) -> bytes:
    """``void.ttl``: :func:`void_triples` as Turtle with our prefixes (deterministic)."""
    return (
        ox.serialize(void_triples(files, version), format=ox.RdfFormat.TURTLE, prefixes=prefixes())
        or b""
    )


def linked_data_files(
    dataset: object, files: dict[str, bytes], version: str, settings: Settings = SETTINGS
) -> dict[str, bytes]:
    """The release build step: ``void.ttl``, the shapes, the ontology/vocabulary pages."""
    return {
        VOID_FILE: void_turtle(files, version),
        SHAPES_FILE: canonical_shapes(settings),
        **documentation_pages(dataset, settings),
    }


def canonical_shapes(settings: Settings = SETTINGS) -> bytes:
    """The SHACL shapes as sorted N-Triples with canonical blank-node labels (RGDA1).

    The same shapes give the same bytes in every run and process (parser-made blank-node
    labels differ from run to run), so ETags of ``/shapes`` hold.

    >>> canonical_shapes() == canonical_shapes()
    True
    """
    canonical = to_canonical_graph(load_shapes(settings))
    lines = canonical.serialize(format="nt", encoding="utf-8").splitlines(keepends=True)
    return b"".join(sorted(line for line in lines if line.strip()))
