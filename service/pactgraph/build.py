"""Build a release: load, check, dump, and publish an immutable directory.

A build runs in this order, and stops at the first step that finds problems:

1. load ontology, vocabularies and graph into one dataset, a named graph per file;
2. run :data:`GATES` in order — SHACL validation first, then whatever else a release must
   pass (append ``(name, function)`` pairs; a gate returns a list of problems, empty = pass;
   a gate may also add to the dataset, as the inferred graph does);
3. write the dumps into a temporary directory inside ``OUT`` and rename it to
   ``OUT/<version>``; then repoint ``OUT/latest`` at it atomically.

The version is ``<owl:versionInfo of the ontology>-<12 hex of sha256(N-Quads dump)>``, so the
same input always gives the same version and the same bytes, and a release directory, once
written, never changes.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import OWL, RDF, BNode, Dataset, Graph, Literal, URIRef

from pactgraph.dataset import DataFiles, graph_iri_for, load_dataset
from pactgraph.namespaces import CONTEXT_FILE, jsonld_context
from pactgraph.release import LATEST, RELEASE_JSON, STORE_DIR, SUMS, Release
from pactgraph.settings import BASE_IRI, SETTINGS, Settings

ONTOLOGY_IRI = URIRef(BASE_IRI + "ontology")
BASENAME = "pactgraph"

# A gate looks at the loaded dataset and reports problems, one line each; [] means pass.
Gate = Callable[[Dataset, Settings], list[str]]


class ReleaseError(RuntimeError):
    """A build refused to publish: which gate failed and its problems.

    >>> str(ReleaseError("shacl", ["a", "b"]))
    'release gate shacl failed with 2 problem(s)'
    """

    def __init__(self, gate: str, problems: list[str]) -> None:
        self.gate = gate
        self.problems = problems
        super().__init__(f"release gate {gate} failed with {len(problems)} problem(s)")


# ---------------------------------------------------------------------------------- gates


def union_graph(dataset: Dataset) -> Graph:
    """All triples of all named graphs in one Graph, with the data's prefixes."""
    union = Graph(bind_namespaces="none")
    for prefix, namespace in dataset.namespaces():
        union.bind(prefix, namespace)
    union.addN((s, p, o, union) for s, p, o, _ in dataset.quads((None, None, None, None)))
    return union


def gate_shacl(dataset: Dataset, settings: Settings) -> list[str]:
    """Every SHACL violation of the union of the graphs, one line each."""
    from pactgraph.validate import compact, validate_graph  # pyshacl is slow to import

    report = validate_graph(dataset, settings=settings)
    if report.conforms:
        return []
    return [
        f"{compact(v.focus_node)} {compact(v.path)}: {v.component}: {v.message}"
        for v in report.violations
    ] or ["the data does not conform to the shapes"]


def ontology_version(dataset: Dataset) -> str | None:
    """``owl:versionInfo`` of the pactgraph ontology (or of the only ontology declared)."""
    ontologies = {s for s, _, _, _ in dataset.quads((None, RDF.type, OWL.Ontology, None))}
    versions = {
        s: str(o)
        for s, _, o, _ in dataset.quads((None, OWL.versionInfo, None, None))
        if s in ontologies
    }
    if ONTOLOGY_IRI in versions:
        return versions[ONTOLOGY_IRI]
    return next(iter(versions.values())) if len(versions) == 1 else None


def gate_versioned(dataset: Dataset, settings: Settings) -> list[str]:
    """The ontology must say which version it is: the release version starts with it."""
    if ontology_version(dataset) is None:
        return [f"the ontology <{ONTOLOGY_IRI}> declares no owl:versionInfo"]
    return []


def gate_no_blank_nodes(dataset: Dataset, settings: Settings) -> list[str]:
    """Instance data has no blank nodes: every node must be linkable (model contract)."""
    instance_files = DataFiles.discover(settings).graph
    instance_graphs = {graph_iri_for(path, settings) for path in instance_files}
    problems = []
    for s, p, o, g in dataset.quads((None, None, None, None)):
        graph_name = getattr(g, "identifier", g)
        if graph_name in instance_graphs and (isinstance(s, BNode) or isinstance(o, BNode)):
            problems.append(f"<{graph_name}>: blank node in triple ({s.n3()} {p.n3()} {o.n3()})")
    return sorted(problems)


def gate_reasoning(dataset: Dataset, settings: Settings) -> list[str]:
    """HermiT: refuse an inconsistent graph or an unsatisfiable class (see pactgraph.reason)."""
    from pactgraph.reason import reasoning_gate  # owlready2 is slow to import

    return reasoning_gate(dataset, settings)


def gate_quality(dataset: Dataset, settings: Settings) -> list[str]:
    """Every query in queries/qc/ must return no rows (see pactgraph.quality)."""
    from pactgraph.quality import quality_gate

    return quality_gate(dataset, settings)


def gate_inferred_graph(dataset: Dataset, settings: Settings) -> list[str]:
    """Add the inferred named graph to the release (see pactgraph.inference); never fails."""
    from pactgraph.inference import inference_gate

    return inference_gate(dataset, settings)


# The release gates, in order. Append more with GATES.append(("name", function)) in this
# module; the first gate reporting problems stops the build.
GATES: list[tuple[str, Gate]] = [
    ("ontology-version", gate_versioned),
    ("shacl", gate_shacl),
    ("no-blank-nodes", gate_no_blank_nodes),
    ("reasoning", gate_reasoning),
    ("quality", gate_quality),
    ("inferred-graph", gate_inferred_graph),
]


def run_gates(
    dataset: Dataset, settings: Settings = SETTINGS, gates: Iterable[tuple[str, Gate]] = GATES
) -> None:
    """Run gates in order; raise :class:`ReleaseError` for the first that finds problems."""
    for name, gate in gates:
        problems = gate(dataset, settings)
        if problems:
            raise ReleaseError(name, problems)


# ---------------------------------------------------------------------------------- dumps


def _to_oxigraph(term: object) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"cannot convert {term!r} to an RDF term")


def to_oxigraph_dataset(dataset: Dataset) -> ox.Dataset:
    """The rdflib dataset as a pyoxigraph Dataset with canonical blank-node labels.

    Canonical labels (RDFC-1.0) make the dumps byte-identical between builds even where the
    ontology uses blank nodes (OWL lists and restrictions).
    """
    quads = ox.Dataset()
    for s, p, o, g in dataset.quads((None, None, None, None)):
        graph_name = getattr(g, "identifier", g)
        graph = ox.DefaultGraph() if graph_name is None else _to_oxigraph(graph_name)
        quads.add(ox.Quad(_to_oxigraph(s), _to_oxigraph(p), _to_oxigraph(o), graph))
    quads.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return quads


def _sorted_lines(data: bytes) -> bytes:
    lines = sorted({line for line in data.decode("utf-8").splitlines() if line})
    return "".join(line + "\n" for line in lines).encode("utf-8")


def nquads_dump(quads: ox.Dataset) -> bytes:
    """Canonical N-Quads, one quad a line, sorted and unique."""
    return _sorted_lines(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"")


def ntriples_dump(quads: ox.Dataset) -> bytes:
    """Canonical N-Triples of the union graph, sorted and unique."""
    triples = (ox.Triple(q.subject, q.predicate, q.object) for q in quads)
    return _sorted_lines(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"")


def _parse_sorted(data: bytes, fmt: ox.RdfFormat) -> list[ox.Quad]:
    return list(ox.parse(data, format=fmt))


def dumps(dataset: Dataset, quads: ox.Dataset) -> dict[str, bytes]:
    """Every published file (by name) of a release, before compression."""
    nquads = nquads_dump(quads)
    ntriples = ntriples_dump(quads)
    prefixes = {prefix: str(ns) for prefix, ns in sorted(dataset.namespaces()) if prefix}
    # Turtle and JSON-LD are written from the sorted dumps so their order is stable too.
    triples = [q.triple for q in _parse_sorted(ntriples, ox.RdfFormat.N_TRIPLES)]
    in_order = _parse_sorted(nquads, ox.RdfFormat.N_QUADS)
    return {
        f"{BASENAME}.nq": nquads,
        f"{BASENAME}.nt": ntriples,
        f"{BASENAME}.ttl": ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes)
        or b"",
        f"{BASENAME}.jsonld": compact_jsonld(in_order),
    }


# The dump embeds our JSON-LD context, so reading the dump never needs a network fetch.
JSONLD_CONTEXT = CONTEXT_FILE


def _sorted_jsonld(value: object, ordered: bool = False) -> object:
    """JSON-LD with every unordered array in a stable order (an ``@list`` keeps its order)."""
    if isinstance(value, dict):
        return {key: _sorted_jsonld(item, ordered=key == "@list") for key, item in value.items()}
    if isinstance(value, list):
        items = [_sorted_jsonld(item) for item in value]
        return items if ordered else sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
    return value


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _rdflib_term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> URIRef | BNode | Literal:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == _XSD_STRING:  # rdflib keeps plain literals apart from xsd:string
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def compact_jsonld(quads: Iterable[ox.Quad]) -> bytes:
    """The dataset as compact JSON-LD (one ``@graph`` per named graph), in a stable order.

    >>> q = ox.Quad(ox.NamedNode("https://w3id.org/pactgraph/id/actor/x"),
    ...             ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
    ...             ox.Literal("X"), ox.NamedNode("https://w3id.org/pactgraph/graph/a"))
    >>> b'"@id": "actor:x"' in compact_jsonld([q])
    True
    """
    context = jsonld_context()
    dataset = Dataset()
    for quad in quads:  # built term by term so blank nodes keep their canonical labels
        dataset.add((*map(_rdflib_term, quad.triple), _rdflib_term(quad.graph_name)))
    document = json.loads(dataset.serialize(format="json-ld", context=context, auto_compact=True))
    if isinstance(document, dict):
        document["@context"] = context  # rdflib may shorten it; keep the whole context
    text = json.dumps(_sorted_jsonld(document), indent=1, sort_keys=True, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def gzip_bytes(data: bytes) -> bytes:
    """gzip with no file name and mtime 0, so the same input gives the same bytes.

    >>> gzip_bytes(b"x") == gzip_bytes(b"x")
    True
    >>> gzip.decompress(gzip_bytes(b"x"))
    b'x'
    """
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buffer.getvalue()


def sha256sums(files: dict[str, bytes]) -> bytes:
    """``sha256sum`` output (two spaces, sorted by name) for the given files."""
    lines = [f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in sorted(files)]
    return "".join(lines).encode("ascii")


def source_digest(settings: Settings = SETTINGS) -> str:
    """A sha256 over the data files (relative path and bytes): did the input change?

    ``pactgraph query`` uses it to decide whether the latest release is current.
    """
    digest = hashlib.sha256()
    for path in DataFiles.discover(settings).all:
        digest.update(path.relative_to(settings.root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class ReleaseContent:
    """Everything a release directory holds except the store: file name → bytes."""

    version: str
    files: dict[str, bytes]


def release_content(dataset: Dataset, settings: Settings = SETTINGS) -> ReleaseContent:
    """The versioned, checksummed files of a release for a dataset that passed the gates."""
    quads = to_oxigraph_dataset(dataset)
    plain = dumps(dataset, quads)
    nquads = plain[f"{BASENAME}.nq"]
    version = f"{ontology_version(dataset)}-{hashlib.sha256(nquads).hexdigest()[:12]}"
    files = {**plain, **{f"{name}.gz": gzip_bytes(data) for name, data in plain.items()}}
    # VoID/DCAT measured from these very files, and the ontology/vocabulary HTML pages.
    from pactgraph.void import linked_data_files

    files.update(linked_data_files(dataset, files, version, settings))
    per_graph: dict[str, int] = {}
    for quad in quads:
        per_graph[quad.graph_name.value] = per_graph.get(quad.graph_name.value, 0) + 1
    metadata = {
        "version": version,
        "ontology_version": ontology_version(dataset),
        "triple_count": plain[f"{BASENAME}.nt"].count(b"\n"),
        "quad_count": nquads.count(b"\n"),
        "graphs": dict(sorted(per_graph.items())),
        "files": {name: len(data) for name, data in sorted(files.items())},
        "source_digest": source_digest(settings),
    }
    files[RELEASE_JSON] = (json.dumps(metadata, indent=2, sort_keys=True) + "\n").encode()
    files[SUMS] = sha256sums(files)
    return ReleaseContent(version=version, files=files)


# -------------------------------------------------------------------------------- publish


def _write_release(tmp: Path, content: ReleaseContent) -> None:
    for name, data in content.files.items():
        (tmp / name).write_bytes(data)
    store = ox.Store(str(tmp / STORE_DIR))
    store.bulk_load(path=str(tmp / f"{BASENAME}.nq"), format=ox.RdfFormat.N_QUADS)
    store.flush()
    del store  # closes RocksDB before the directory is renamed and opened read-only


def point_latest(out: Path, version: str) -> None:
    """Make ``out/latest`` point at ``out/version``, atomically (a rename over the old link)."""
    link = out / LATEST
    tmp_link = out / f".{LATEST}-{os.getpid()}-{version}"
    tmp_link.unlink(missing_ok=True)
    tmp_link.symlink_to(version, target_is_directory=True)
    os.replace(tmp_link, link)


def publish(content: ReleaseContent, out: Path) -> Release:
    """Write ``out/<version>/`` (unless it exists: releases are immutable) and point latest."""
    out.mkdir(parents=True, exist_ok=True)
    final = out / content.version
    if not final.exists():
        tmp = Path(tempfile.mkdtemp(prefix=f".build-{content.version}-", dir=out))
        try:
            _write_release(tmp, content)
            os.chmod(tmp, 0o755)  # mkdtemp makes 0700; a release is for everyone to read
            tmp.rename(final)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            # A concurrent build of the same input won the rename: same version, same bytes.
            if not (final / SUMS).is_file():
                raise
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    point_latest(out, content.version)
    return Release.open(final.resolve())


def build(out: Path, settings: Settings = SETTINGS) -> Release:
    """Load, gate, dump and publish; return the (new or identical existing) release.

    Raises :class:`pactgraph.dataset.DataFileError` for a broken file and
    :class:`ReleaseError` when a gate fails; in both cases ``out`` is left as it was.
    """
    dataset = checked_dataset(settings)
    return publish(release_content(dataset, settings), out)


def checked_dataset(settings: Settings = SETTINGS) -> Dataset:
    """The dataset as a release publishes it: loaded, then passed through every gate.

    Gates may add to it (the inferred graph does), so compare dumps against this, not
    against :func:`pactgraph.dataset.load_dataset`.
    """
    dataset = load_dataset(settings=settings)
    run_gates(dataset, settings)
    return dataset
