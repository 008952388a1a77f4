"""Load the Turtle files into one RDF dataset, one named graph per file.

The named graph of a file is its path (relative to the data root, without ``.ttl``) under
``https://w3id.org/pactgraph/graph/`` — except that files under ``graph/`` drop that folder
name, and files under ``ontology/vocab/`` are named ``vocab/…``, as the model contract says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import NamespaceManager

from pactgraph.settings import GRAPH_IRI_BASE, SETTINGS, Settings

# Errors other than rdflib's BadSyntax state their position in a few wordings.
_LINE_PATTERN = re.compile(r"\bline (\d+)")
# How much of the offending line to quote on each side of the error position.
_CONTEXT_CHARS = 30


class DataFileError(ValueError):
    """A data file that cannot be parsed; says which file and which line.

    >>> str(DataFileError(Path("graph/x.ttl"), 3, "bad token"))
    'graph/x.ttl:3: bad token'
    """

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


def graph_iri_for(path: Path, settings: Settings = SETTINGS) -> URIRef:
    """The named-graph IRI a data file loads into.

    >>> s = Settings(root=Path("/r"))
    >>> graph_iri_for(Path("/r/graph/instruments/mous.ttl"), s)
    rdflib.term.URIRef('https://w3id.org/pactgraph/graph/instruments/mous')
    >>> graph_iri_for(Path("/r/ontology/vocab/status.ttl"), s)
    rdflib.term.URIRef('https://w3id.org/pactgraph/graph/vocab/status')
    >>> graph_iri_for(Path("/r/ontology/pactgraph.ttl"), s)
    rdflib.term.URIRef('https://w3id.org/pactgraph/graph/ontology/pactgraph')
    """
    path = path.resolve()
    for folder, prefix in (
        (settings.vocab_dir, "vocab/"),
        (settings.graph_dir, ""),
        (settings.ontology_dir, "ontology/"),
        (settings.shapes_dir, "shapes/"),
    ):
        if path.is_relative_to(folder.resolve()):
            relative = path.relative_to(folder.resolve()).with_suffix("")
            return URIRef(GRAPH_IRI_BASE + prefix + relative.as_posix())
    return URIRef(GRAPH_IRI_BASE + "external/" + path.stem)


def _describe(error: Exception) -> tuple[int | None, str]:
    """The line number and a one-line complaint for a parser error.

    rdflib's BadSyntax renders as several lines ("at line 3 of <>:" then "Bad syntax (why)
    at ^ in: <the whole file>"), so its first line says nothing useful; its attributes hold
    the real reason and position.
    """
    why = getattr(error, "_why", None)
    if isinstance(why, str) and hasattr(error, "lines"):
        return int(error.lines) + 1, f"{why}{_near(error)}"
    text = " ".join(str(error).split()) or type(error).__name__
    match = _LINE_PATTERN.search(text)
    return (int(match.group(1)) if match else None), text


def _near(error: Exception) -> str:
    """`` (near: ex:a ex:p ^foo:b .)``: the offending line, ``^`` at the parser's position."""
    source, index = getattr(error, "_str", None), getattr(error, "_i", None)
    if not isinstance(source, bytes | str) or not isinstance(index, int):
        return ""
    if isinstance(source, bytes):
        before = source[:index].decode("utf-8", "replace")
        after = source[index:].decode("utf-8", "replace")
    else:
        before, after = source[:index], source[index:]
    before = before.rsplit("\n", 1)[-1][-_CONTEXT_CHARS:].lstrip()
    after = after.split("\n", 1)[0][:_CONTEXT_CHARS].rstrip()
    if not (before or after):
        return ""
    return f" (near: {before}^{after})"


def parse_file(path: Path) -> Graph:
    """Parse one Turtle file, or raise :class:`DataFileError` naming the file and line.

    The graph's namespace bindings are exactly the file's own ``@prefix`` lines (no rdflib
    defaults), so releases can reuse the data's prefixes.
    """
    graph = Graph(bind_namespaces="none")
    try:
        graph.parse(path, format="turtle")
    except Exception as error:  # rdflib raises many types; all mean "this file is broken"
        line, message = _describe(error)
        raise DataFileError(path, line, message) from error
    return graph


def turtle_files(folder: Path) -> list[Path]:
    """Every ``.ttl`` under a folder, in a stable order (so builds are reproducible)."""
    return sorted(folder.rglob("*.ttl")) if folder.is_dir() else []


@dataclass(frozen=True)
class DataFiles:
    """The files that make up the dataset, grouped by role."""

    ontology: list[Path]
    vocab: list[Path]
    graph: list[Path]

    @property
    def all(self) -> list[Path]:
        return [*self.ontology, *self.vocab, *self.graph]

    @classmethod
    def discover(cls, settings: Settings = SETTINGS) -> DataFiles:
        vocab = turtle_files(settings.vocab_dir)
        # Past versions (ontology/versions/) are served as they were, never merged with the
        # live ontology: their axioms would contradict the current ones.
        past = settings.ontology_versions_dir
        ontology = [
            p
            for p in turtle_files(settings.ontology_dir)
            if p not in vocab and not p.is_relative_to(past)
        ]
        return cls(ontology=ontology, vocab=vocab, graph=turtle_files(settings.graph_dir))


def load_dataset(paths: Iterable[Path] | None = None, settings: Settings = SETTINGS) -> Dataset:
    """Load files (by default ontology, vocabularies and graph) into a Dataset.

    Each file becomes its own named graph; the default graph stays empty, and queries use the
    union of the named graphs. The dataset's namespace bindings are the files' ``@prefix``
    declarations (the first file to bind a prefix wins), not rdflib's defaults.

    >>> ds = load_dataset()
    >>> len(list(ds.graphs())) > 1
    True
    """
    dataset = Dataset()
    dataset.namespace_manager = NamespaceManager(dataset, bind_namespaces="none")
    for path in DataFiles.discover(settings).all if paths is None else paths:
        parsed = parse_file(path)
        named = dataset.graph(graph_iri_for(path, settings))
        named += parsed
        bound = dict(dataset.namespaces())
        for prefix, namespace in parsed.namespaces():
            if prefix not in bound:
                dataset.bind(prefix, namespace, override=False)
    return dataset


def load_store(
    paths: Iterable[Path] | None = None,
    settings: Settings = SETTINGS,
    on_file: Callable[[Path], None] | None = None,
) -> ox.Store:
    """Load files (by default ontology, vocabularies and graph) into an in-memory store.

    The same named graphs as :func:`load_dataset`, parsed by pyoxigraph, which is what lets a
    build take a million triples (rdflib's parser needs minutes for them). When a file does
    not parse, rdflib re-reads it for the complaint, so both loaders word errors alike.
    ``on_file`` is called with each file once it is loaded (progress).

    >>> store = load_store()
    >>> len(store) > 1000
    True
    """
    store = ox.Store()
    for path in DataFiles.discover(settings).all if paths is None else paths:
        try:
            store.bulk_load(
                path=str(path),
                format=ox.RdfFormat.TURTLE,
                base_iri=path.resolve().as_uri(),
                to_graph=ox.NamedNode(graph_iri_for(path, settings)),
            )
        except (SyntaxError, ValueError, OSError) as error:
            parse_file(path)  # raises DataFileError in rdflib's words, with the line
            raise DataFileError(path, getattr(error, "lineno", None), str(error)) from error
        if on_file is not None:
            on_file(path)
    return store


def load_union(
    paths: Iterable[Path],
    settings: Settings = SETTINGS,
    on_file: Callable[[Path], None] | None = None,
) -> Graph:
    """Parse files into one plain Graph (what pyshacl and reasoners take); ``on_file`` is
    called with each file once it is parsed (progress).

    >>> g = load_union(DataFiles.discover().ontology)
    >>> len(g) > 0
    True
    """
    union = Graph()
    for path in paths:
        union += parse_file(path)
        if on_file is not None:
            on_file(path)
    return union


def ontology_graph(settings: Settings = SETTINGS) -> Graph:
    """The ontology plus the SKOS vocabularies as one Graph (the class hierarchy SHACL needs)."""
    files = DataFiles.discover(settings)
    return load_union([*files.ontology, *files.vocab], settings)
