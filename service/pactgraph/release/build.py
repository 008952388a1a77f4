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

Every release also holds the licence files and its own ``CITATION.cff``
(:mod:`pactgraph.release.citation`). With ``previous`` (``pactgraph build --previous DIR``), a
release the register knows (:mod:`pactgraph.release.register`), it also holds the change from
that release (:mod:`pactgraph.release.diff`): ``changes-from-<old version>.added.nq.gz`` and
``.removed.nq.gz``, and the predecessor and the diff's summary in ``release.json``. Without
it, nothing about other releases enters a release: its bytes never depend on what lies in ``dist/``.
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
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset

from pactgraph import progress
from pactgraph.gates.inference import add_inferred_graph_to_store
from pactgraph.gates.quality import quality_gate
from pactgraph.gates.reason import reasoning_problems
from pactgraph.gates.validate import compact, validate_store
from pactgraph.rdf.dataset import DataFiles, graph_iri_for, load_store
from pactgraph.rdf.jsonld import compact_jsonld
from pactgraph.rdf.namespaces import prefixes
from pactgraph.rdf.terms import rdflib_dataset
from pactgraph.release.citation import CITATION_FILE, licences, release_files, release_iri
from pactgraph.release.diff import ReleaseDiff, Snapshot, diff
from pactgraph.release.published import LATEST, RELEASE_JSON, STORE_DIR, SUMS, Release
from pactgraph.release.register import register_path, registered
from pactgraph.release.versions import past_ontology_files
from pactgraph.release.void import linked_data_files
from pactgraph.settings import BASE_IRI, SETTINGS, Settings

ONTOLOGY_IRI = BASE_IRI + "ontology"
BASENAME = "pactgraph"
_ONTOLOGY = ox.NamedNode(ONTOLOGY_IRI)
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_OWL_ONTOLOGY = ox.NamedNode("http://www.w3.org/2002/07/owl#Ontology")
_OWL_VERSION_INFO = ox.NamedNode("http://www.w3.org/2002/07/owl#versionInfo")
# gzip level 6 (gzip's own default): level 9 costs three times the time for ~1% of size.
GZIP_LEVEL = 6

# A gate looks at the loaded store and reports problems, one line each; [] means pass.
Gate = Callable[[ox.Store, Settings], list[str]]


class ReleaseConflict(RuntimeError):
    """``OUT/<version>`` exists with other files than this build makes (another predecessor).

    >>> "--previous" in str(ReleaseConflict("1.0-abc", Path("dist")))
    True
    """

    def __init__(self, version: str, out: Path) -> None:
        super().__init__(
            f"{out / version} already exists with other files (built with another --previous, or "
            "without one); a release never changes: build into another --out, or remove it if "
            "it was never published"
        )


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


def ontology_version(store: ox.Store) -> str | None:
    """``owl:versionInfo`` of the pactgraph ontology (or of the only ontology declared)."""
    ontologies = {q.subject for q in store.quads_for_pattern(None, _RDF_TYPE, _OWL_ONTOLOGY)}
    versions = {
        q.subject: q.object.value
        for q in store.quads_for_pattern(None, _OWL_VERSION_INFO, None)
        if q.subject in ontologies
    }
    if _ONTOLOGY in versions:
        return versions[_ONTOLOGY]
    return next(iter(versions.values())) if len(versions) == 1 else None


def gate_versioned(store: ox.Store, settings: Settings) -> list[str]:
    """The ontology must say which version it is: the release version starts with it."""
    if ontology_version(store) is None:
        return [f"the ontology <{ONTOLOGY_IRI}> declares no owl:versionInfo"]
    return []


def gate_shacl(store: ox.Store, settings: Settings) -> list[str]:
    """Every SHACL violation of the union of the graphs, one line each."""
    report = validate_store(store, settings)
    if report.conforms:
        return []
    return [
        f"{compact(v.focus_node)} {compact(v.path)}: {v.component}: {v.message}"
        for v in report.violations
    ] or ["the data does not conform to the shapes"]


def gate_no_blank_nodes(store: ox.Store, settings: Settings) -> list[str]:
    """Instance data has no blank nodes: every node must be linkable (model contract)."""
    problems = []
    for path in DataFiles.discover(settings).graph:
        graph = ox.NamedNode(graph_iri_for(path, settings))
        for quad in store.quads_for_pattern(None, None, None, graph):
            if isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode):
                problems.append(f"<{graph.value}>: blank node in triple ({quad.triple})")
    return sorted(problems)


def gate_reasoning(store: ox.Store, settings: Settings) -> list[str]:
    """Refuse an inconsistent graph or an unsatisfiable class (see pactgraph.gates.reason)."""
    return reasoning_problems(store, settings)


def gate_quality(store: ox.Store, settings: Settings) -> list[str]:
    """Every query in queries/qc/ must return no rows (see pactgraph.gates.quality)."""
    return quality_gate(store, settings)


def gate_inferred_graph(store: ox.Store, settings: Settings) -> list[str]:
    """Add the inferred named graph to the release (see pactgraph.gates.inference); never fails."""
    added = add_inferred_graph_to_store(store)
    progress.current().note(f"{added:,} inferred triples")
    return []


# A triple asserted in two named graphs is counted twice by a union default graph (pyoxigraph's,
# the Oxigraph server's), while SPARQL's default graph is an RDF merge and the dumps, VoID and
# /healthz count it once. Refusing such releases keeps every count in agreement without
# deduplicating each query's default graph (which would cost lookups their speed).
_TRIPLES_IN_SEVERAL_GRAPHS = """
SELECT ?s ?p ?o (GROUP_CONCAT(STR(?g); separator=" ") AS ?graphs)
WHERE { GRAPH ?g { ?s ?p ?o } }
GROUP BY ?s ?p ?o HAVING (COUNT(?g) > 1)
ORDER BY ?s ?p ?o
"""


def gate_one_graph_per_triple(store: ox.Store, settings: Settings) -> list[str]:
    """Each triple is asserted in one named graph only (so the default graph is a set)."""
    return [
        f"{row['s']} {row['p']} {row['o']} is asserted in several graphs: {row['graphs'].value}"
        " (keep it in one file)"
        for row in store.query(_TRIPLES_IN_SEVERAL_GRAPHS)
    ]


# The release gates, in order. Append more with GATES.append(("name", function)) in this
# module; the first gate reporting problems stops the build.
GATES: list[tuple[str, Gate]] = [
    ("ontology-version", gate_versioned),
    ("shacl", gate_shacl),
    ("no-blank-nodes", gate_no_blank_nodes),
    ("reasoning", gate_reasoning),
    ("quality", gate_quality),
    ("inferred-graph", gate_inferred_graph),
    # Last: the inferred graph must not restate an asserted triple either.
    ("one-graph-per-triple", gate_one_graph_per_triple),
]


def run_gates(
    store: ox.Store, settings: Settings = SETTINGS, gates: Iterable[tuple[str, Gate]] = GATES
) -> None:
    """Run gates in order; raise :class:`ReleaseError` for the first that finds problems.

    Each gate is a progress stage of its own name (see :mod:`pactgraph.progress`).
    """
    for name, gate in gates:
        with progress.stage(name) as running:
            problems = gate(store, settings)
            if problems:
                running.note(f"{len(problems)} problem(s)")
            elif running.summary() == "done":
                running.note("passed")
        if problems:
            raise ReleaseError(name, problems)


# ---------------------------------------------------------------------------------- dumps


def _has_blank_node(quad: ox.Quad) -> bool:
    return isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode)


def _lines(data: bytes) -> set[bytes]:
    return {line for line in data.split(b"\n") if line}


def _joined(lines: Iterable[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in sorted(lines))


def nquads_dump(store: ox.Store) -> bytes:
    """Canonical N-Quads of the store: one quad a line, sorted, unique.

    pyoxigraph labels blank nodes at random when it parses; the quads that hold one (OWL
    lists in the ontology, say) are relabelled canonically (RDFC-1.0), which only needs those
    quads, so the dumps are byte-identical between builds.
    """
    if next(store.quads_for_pattern(None, None, None, ox.DefaultGraph()), None) is not None:
        raise ValueError(
            "a release keeps every quad in a named graph; the default graph is not empty"
        )
    lines = _lines(store.dump(format=ox.RdfFormat.N_QUADS) or b"")
    with_blanks = [quad for quad in store if _has_blank_node(quad)]
    if with_blanks:
        lines -= _lines(ox.serialize(with_blanks, format=ox.RdfFormat.N_QUADS) or b"")
        canonical = ox.Dataset(with_blanks)
        canonical.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
        lines |= _lines(ox.serialize(canonical, format=ox.RdfFormat.N_QUADS) or b"")
    return _joined(lines)


def ntriples_dump(nquads: bytes) -> bytes:
    """The union graph of N-Quads (every quad in a named graph) as sorted, unique N-Triples.

    Done on the text, which is ten times faster than parsing: in a line ``s p o g .`` the
    graph name is an IRI or a blank node, neither of which holds a space, so dropping the
    last term leaves the triple in N-Triples. (A default-graph line ``s p o .`` would not
    survive this, and a release has none: every file loads into a graph of its own.)

    >>> ntriples_dump(b'<http://e/s> <http://e/p> "a b" <http://e/g> .\\n')
    b'<http://e/s> <http://e/p> "a b" .\\n'
    """
    triples = set()
    for line in nquads.split(b"\n"):
        if line:
            triple, _graph, _dot = line.rsplit(b" ", 2)
            triples.add(triple + b" .")
    return _joined(triples)


def graph_counts(store: ox.Store) -> dict[str, int]:
    """Quads per named graph."""
    return {
        graph.value: sum(1 for _ in store.quads_for_pattern(None, None, None, graph))
        for graph in sorted(store.named_graphs(), key=lambda graph: graph.value)
    }


def turtle_dump(ntriples: bytes) -> bytes:
    """Turtle with our prefixes, written from the sorted N-Triples so its order is stable."""
    triples = (q.triple for q in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES))
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes()) or b""


def jsonld_files(nquads: bytes) -> dict[str, bytes]:
    """``pactgraph.jsonld`` and its ``.gz`` (a side job of large builds: see release_content)."""
    jsonld = compact_jsonld(nquads)
    return {f"{BASENAME}.jsonld": jsonld, f"{BASENAME}.jsonld.gz": gzip_bytes(jsonld)}


def write_store(path: Path, nquads: bytes) -> Path:
    """A pyoxigraph (RocksDB) store of the quads at ``path``, closed again; returns ``path``."""
    store = ox.Store(str(path))
    store.bulk_load(input=nquads, format=ox.RdfFormat.N_QUADS)
    store.flush()
    del store  # closes RocksDB before the directory is renamed and opened read-only
    return path


class _Inline(Executor):
    """An executor that runs each job at once in this process (small builds)."""

    def submit(self, fn: Callable, /, *args: object, **kwargs: object) -> Future:
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


# Above this many quads the two slowest steps of a release, the JSON-LD dump and the on-disk
# store, run in processes of their own beside the other dumps (builds have 2 cores to use);
# below it, starting a process costs more than it saves.
PARALLEL_MIN_QUADS = 200_000


def _side_jobs(quads: int) -> Executor:
    if quads < PARALLEL_MIN_QUADS:
        return _Inline()
    # spawn, not fork: the parent holds a pyoxigraph store and its threads.
    return ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn"))


def gzip_bytes(data: bytes) -> bytes:
    """gzip with no file name and mtime 0, so the same input gives the same bytes.

    >>> gzip_bytes(b"x") == gzip_bytes(b"x")
    True
    >>> gzip.decompress(gzip_bytes(b"x"))
    b'x'
    """
    buffer = io.BytesIO()
    with gzip.GzipFile(
        filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=GZIP_LEVEL
    ) as gz:
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


def release_version(store: ox.Store, nquads: bytes) -> str:
    """``<owl:versionInfo>-<12 hex of sha256(nquads)>``: the version a release of these quads has.

    >>> release_version(ox.Store(), b"")
    'None-e3b0c44298fc'
    """
    return f"{ontology_version(store)}-{hashlib.sha256(nquads).hexdigest()[:12]}"


def changes_files(change: ReleaseDiff) -> dict[str, bytes]:
    """The patch from the predecessor, gzipped: ``changes-from-<old>.added.nq.gz`` and
    ``.removed.nq.gz`` (plain N-Quads inside; see :mod:`pactgraph.release.diff`).

    >>> old = Snapshot("0.1-a", frozenset())
    >>> sorted(changes_files(diff(old, Snapshot("0.1-b", frozenset()))))
    ['changes-from-0.1-a.added.nq.gz', 'changes-from-0.1-a.removed.nq.gz']
    """
    return {
        patch_name(change.old.version, "added"): gzip_bytes(change.added_nquads()),
        patch_name(change.old.version, "removed"): gzip_bytes(change.removed_nquads()),
    }


def patch_name(old_version: str, kind: str) -> str:
    """The release file of one half (``added`` or ``removed``) of the patch from a release.

    >>> patch_name("0.1-a", "added")
    'changes-from-0.1-a.added.nq.gz'
    """
    return f"changes-from-{old_version}.{kind}.nq.gz"


def _previous_metadata(change: ReleaseDiff, files: dict[str, str]) -> dict[str, object]:
    return {
        "version": change.old.version,
        "iri": release_iri(change.old.version),
        "nquads_sha256": change.old.nquads_sha256,
        "summary": change.summary(),
        "patch": files,
    }


@dataclass(frozen=True)
class ReleaseContent:
    """Everything a release directory holds: file name → bytes, and maybe the store.

    ``store_dir`` is a store already written beside the release (large builds write it while
    the dumps are made); when it is ``None`` the store is loaded from the N-Quads at publish.
    """

    version: str
    files: dict[str, bytes]
    store_dir: Path | None = None


def _documented_graphs(store: ox.Store, settings: Settings) -> Dataset:
    """The ontology and vocabulary graphs, in rdflib, for the documentation pages."""
    files = DataFiles.discover(settings)
    names = [ox.NamedNode(graph_iri_for(path, settings)) for path in files.ontology + files.vocab]
    quads = (q for name in names for q in store.quads_for_pattern(None, None, None, name))
    return rdflib_dataset(quads)


def _dump_files(
    nquads: bytes, version: str, scratch: Path | None
) -> tuple[dict[str, bytes], Path | None]:
    """The dumps and their gzip files; for a large build with ``scratch``, the store too."""
    with _side_jobs(nquads.count(b"\n")) as side:
        jsonld = side.submit(jsonld_files, nquads)
        store_job = None
        if scratch is not None and not isinstance(side, _Inline):
            folder = Path(tempfile.mkdtemp(prefix=f".store-{version}-", dir=scratch))
            store_job = side.submit(write_store, folder / STORE_DIR, nquads)
        try:
            ntriples = ntriples_dump(nquads)
            plain = {
                f"{BASENAME}.nq": nquads,
                f"{BASENAME}.nt": ntriples,
                f"{BASENAME}.ttl": turtle_dump(ntriples),
            }
            # zlib lets go of the GIL: the dumps compress side by side on the machine's cores.
            with ThreadPoolExecutor() as pool:
                zipped = dict(zip(plain, pool.map(gzip_bytes, plain.values()), strict=True))
            files = {**plain, **{f"{name}.gz": data for name, data in zipped.items()}}
            files.update(jsonld.result())
            return files, store_job.result() if store_job else None
        except BaseException:
            if store_job is not None:
                store_job.cancel()
                shutil.rmtree(folder, ignore_errors=True)
            raise


def release_content(
    store: ox.Store,
    settings: Settings = SETTINGS,
    scratch: Path | None = None,
    previous: Snapshot | None = None,
) -> ReleaseContent:
    """The versioned, checksummed files of a release for a store that passed the gates.

    With ``scratch`` (a folder on the release's file system) a large build also writes the
    release's store there, in a process of its own, while the dumps are made. With
    ``previous`` (a registered release), the change from it is part of the release.
    """
    with progress.stage("n-quads") as running:
        nquads = nquads_dump(store)
        quads = nquads.count(b"\n")
        running.note(f"{quads:,} quads, canonical")
    version = release_version(store, nquads)
    change = None
    if previous is not None:
        if previous.version == version:
            raise ValueError(f"--previous is release {version} itself: the data has not changed")
        with progress.stage("changes") as running:
            change = diff(previous, Snapshot(version, frozenset(nquads.splitlines())))
            summary = change.summary()
            running.note(
                f"+{summary['triples_added']:,} -{summary['triples_removed']:,} triples "
                f"from {previous.version}"
            )
    with progress.stage("dumps") as running:
        files, store_dir = _dump_files(nquads, version, scratch)
        running.note(f"{len(files)} files" + (" and the store" if store_dir else ""))
    # The licences and this release's citation; the patch from the predecessor, if one.
    files.update(release_files(version))
    # Past ontology versions, as they were (served at /ontology/<version>).
    files.update(past_ontology_files(settings))
    patch = changes_files(change) if change is not None else {}
    files.update(patch)
    # VoID/DCAT measured from these very files, and the ontology/vocabulary HTML pages.

    try:
        with progress.stage("linked-data") as running:
            documented = _documented_graphs(store, settings)
            pages = linked_data_files(documented, files, version, settings)
            running.note(f"{len(pages)} files (VoID, ontology and vocabulary pages)")
        files.update(pages)
    except BaseException:
        _discard_scratch(ReleaseContent(version, files, store_dir))
        raise
    metadata = {
        "version": version,
        "ontology_version": ontology_version(store),
        "triple_count": files[f"{BASENAME}.nt"].count(b"\n"),
        "quad_count": nquads.count(b"\n"),
        "graphs": graph_counts(store),
        "files": {name: len(data) for name, data in sorted(files.items())},
        "source_digest": source_digest(settings),
        "licenses": licences(),
        "citation": {"file": CITATION_FILE, "iri": release_iri(version)},
    }
    if change is not None:
        kinds = ("added", "removed")
        metadata["previous"] = _previous_metadata(
            change, {kind: patch_name(change.old.version, kind) for kind in kinds}
        )
    files[RELEASE_JSON] = (json.dumps(metadata, indent=2, sort_keys=True) + "\n").encode()
    files[SUMS] = sha256sums(files)
    return ReleaseContent(version=version, files=files, store_dir=store_dir)


# -------------------------------------------------------------------------------- publish


def _write_release(tmp: Path, content: ReleaseContent) -> None:
    for name, data in content.files.items():
        (tmp / name).write_bytes(data)
    if content.store_dir is not None:
        os.rename(content.store_dir, tmp / STORE_DIR)
    else:
        write_store(tmp / STORE_DIR, content.files[f"{BASENAME}.nq"])


def _discard_scratch(content: ReleaseContent) -> None:
    """Remove a store written ahead that was not used (the release existed, or it failed)."""
    if content.store_dir is not None:
        shutil.rmtree(content.store_dir.parent, ignore_errors=True)


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
    if (final / SUMS).is_file() and (final / SUMS).read_bytes() != content.files[SUMS]:
        _discard_scratch(content)
        raise ReleaseConflict(content.version, out)
    if not final.exists():
        tmp = Path(tempfile.mkdtemp(prefix=f".build-{content.version}-", dir=out))
        try:
            with progress.stage("publish") as running:
                _write_release(tmp, content)
                running.note(f"{len(content.files)} files and the store")
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
        finally:
            _discard_scratch(content)
    _discard_scratch(content)
    point_latest(out, content.version)
    return Release.open(final.resolve())


def registered_previous(previous: Path, register: Path) -> Snapshot:
    """The release in ``previous``, once the register confirms it was published with these bytes.

    Raises :class:`pactgraph.release.register.RegisterError` (a ``ValueError``) for a release
    the register does not know, and :class:`pactgraph.release.published.ReleaseCorrupt` for
    damaged files.
    """
    snapshot = Snapshot.from_release(previous)
    registered(register, snapshot.version, snapshot.nquads_sha256)
    return snapshot


def build(
    out: Path,
    settings: Settings = SETTINGS,
    previous: Path | None = None,
    register: Path | None = None,
) -> Release:
    """Load, gate, dump and publish; return the (new or identical existing) release.

    With ``previous``, a release directory that the register (``register``, by default the
    data root's ``releases.csv``) lists, the release also holds the change from it.

    Raises :class:`pactgraph.rdf.dataset.DataFileError` for a broken file and
    :class:`ReleaseError` when a gate fails; in both cases ``out`` is left as it was.
    """
    before = None
    if previous is not None:  # checked first: a refusal should not wait for the gates
        before = registered_previous(previous, register or register_path(settings))
    store = checked_store(settings)
    out.mkdir(parents=True, exist_ok=True)
    return publish(release_content(store, settings, scratch=out, previous=before), out)


def data_snapshot(settings: Settings = SETTINGS) -> Snapshot:
    """The working data, built in memory as a release would be (every gate run), unwritten."""
    store = checked_store(settings)
    nquads = nquads_dump(store)
    return Snapshot.from_nquads(release_version(store, nquads), nquads)


def checked_store(settings: Settings = SETTINGS) -> ox.Store:
    """The quads as a release publishes them: loaded, then passed through every gate.

    Gates may add to the store (the inferred graph does), so compare dumps against this, not
    against :func:`pactgraph.rdf.dataset.load_store`.
    """
    files = DataFiles.discover(settings).all
    with progress.stage("load", total=len(files), unit="files") as running:
        store = load_store(files, settings, on_file=lambda _path: running.advance())
        running.note(f"{len(store):,} quads from {len(files)} files")
    run_gates(store, settings)
    return store
