"""Validate data against the SHACL shapes in ``shapes/`` with pySHACL.

The ontology and the SKOS vocabularies are added to a copy of the data graph before
validation, so ``sh:class`` and ``sh:targetClass`` follow ``rdfs:subClassOf`` and
concept-scheme checks see ``skos:inScheme``. (pySHACL's own ``ont_graph`` option copies only
RDFS/OWL axioms, not SKOS concepts, so it cannot serve the scheme checks.) No inference is
run: with the hierarchy present, SHACL Core gets class membership right without it, many
times faster.

:func:`validate_store` validates a pyoxigraph store that already holds the ontology and the
vocabularies as named graphs (as a build does): small stores go through the same pySHACL
path, large ones to the shapes compiled to SPARQL (:mod:`pactgraph.gates.shacl_sparql`) on the
store itself, with no rdflib copy of the data.

>>> from rdflib import Graph
>>> report = validate_graph(Graph())
>>> report.conforms, report.violations
(True, [])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

from pactgraph import progress
from pactgraph.gates import shacl_sparql
from pactgraph.gates.shacl_engines import ENGINES, engine_for, run_shacl
from pactgraph.rdf.dataset import DataFiles, load_union, ontology_graph, turtle_files
from pactgraph.rdf.namespaces import compact_iri
from pactgraph.rdf.terms import add_triples, to_oxigraph
from pactgraph.settings import SETTINGS, Settings

SHAPES = Namespace("https://w3id.org/pactgraph/shapes#")


def _local_name(node: Node | None) -> str:
    """The part of an IRI after its last ``#`` or ``/``.

    >>> _local_name(SH.MinCountConstraintComponent)
    'MinCountConstraintComponent'
    """
    if node is None:
        return ""
    text = str(node)
    return text[max(text.rfind("#"), text.rfind("/")) + 1 :]


def compact(node: Node | None) -> str:
    """A short, readable rendering of a node: ``prefix:local`` for known IRIs, N3 otherwise.

    >>> compact(URIRef("https://w3id.org/pactgraph/id/actor/israel"))
    'actor:israel'
    >>> from rdflib import Literal
    >>> compact(Literal("3.8"))
    '"3.8"'
    """
    if node is None:
        return "-"
    if isinstance(node, URIRef):
        short = compact_iri(str(node), path_locals=True)
        if short != str(node):
            return short
    return node.n3()


@dataclass(frozen=True)
class Violation:
    """One SHACL validation result, flattened for people and tests.

    ``source_shape`` is the shape that produced the result (often a blank-node property
    shape); ``shape`` is the named shape it belongs to (the shape itself when it is named,
    otherwise the node shape that holds the property shape). ``graphs`` are the named graphs
    (one per data file) that describe the focus node, when a Dataset was validated.
    """

    focus_node: Node
    path: Node | None
    component: str
    message: str
    source_shape: Node
    severity: str
    value: Node | None
    shape: URIRef | None = None
    graphs: tuple[URIRef, ...] = ()
    # The sh:ValidationResult node in the report's results graph (to cut the graph with
    # the list, see ValidationReport.first); not part of what the violation says.
    result: Node | None = field(default=None, compare=False, repr=False)

    @property
    def shape_name(self) -> str:
        """Local name of the named shape, e.g. ``ObligationShape``."""
        return _local_name(self.shape)

    def sort_key(self) -> tuple[str, ...]:
        """Order by focus node, then path, constraint and value: stable across runs."""
        return (
            compact(self.focus_node),
            compact(self.path),
            self.shape_name,
            self.component,
            compact(self.value),
            self.message,
        )

    def as_text(self) -> str:
        """One readable block: focus node, path, constraint, value and message."""
        lines = [
            f"{self.severity}: {compact(self.focus_node)}",
            f"  path:       {compact(self.path)}",
            f"  constraint: {self.component} (shape:{self.shape_name})",
        ]
        if self.value is not None:
            lines.append(f"  value:      {compact(self.value)}")
        if self.graphs:
            lines.append(f"  in:         {', '.join(compact(g) for g in self.graphs)}")
        lines.append(f"  message:    {self.message}")
        return "\n".join(lines)


@dataclass
class ValidationReport:
    """The outcome of validating a graph: whether it conforms, and every result.

    ``total_results`` is set only on a report cut by :meth:`first`: how many results the
    validation found, of which ``violations`` (and ``results_graph``) hold the first ones.
    """

    conforms: bool
    violations: list[Violation] = field(default_factory=list)
    results_graph: Graph = field(default_factory=Graph, repr=False)
    total_results: int | None = None

    @property
    def cut_notice(self) -> str | None:
        """The sentence saying the report was cut, with the counts (``None``: complete).

        >>> ValidationReport(conforms=False, total_results=5).cut_notice
        'This report is cut: it lists the first 0 of 5 results.'
        """
        if self.total_results is None:
            return None
        return (
            f"This report is cut: it lists the first {len(self.violations)} of "
            f"{self.total_results} results."
        )

    def first(self, cap: int) -> ValidationReport:
        """The report with only its first ``cap`` results (in :meth:`Violation.sort_key`
        order), its results graph cut to match and saying so; ``self`` when within the cap.

        Writing every result of a large failing upload can take longer than validating it
        and make a report of tens of megabytes; the first results tell what to fix.

        >>> bare = "<urn:a> a <https://w3id.org/pactgraph/ontology#Obligation> ."
        >>> report = validate_graph(Graph().parse(data=bare, format="turtle"))
        >>> cut = report.first(2)
        >>> len(cut.violations), cut.total_results == len(report.violations) > 2
        (2, True)
        >>> len(set(cut.results_graph.objects(None, SH.result)))
        2
        """
        if len(self.violations) <= cap:
            return self
        kept = self.violations[:cap]
        graph = Graph(namespace_manager=self.results_graph.namespace_manager)
        reports = set(self.results_graph.subjects(SH.result, None))
        for report in reports:
            for predicate, obj in self.results_graph.predicate_objects(report):
                if predicate != SH.result:
                    graph.add((report, predicate, obj))
        cut = ValidationReport(self.conforms, kept, graph, total_results=len(self.violations))
        for report in reports:
            graph.add((report, RDFS.comment, Literal(cut.cut_notice)))
            for violation in kept:
                graph.add((report, SH.result, violation.result))
        for violation in kept:
            # The result with its blank nodes (paths, nested sh:detail results).
            graph += self.results_graph.cbd(violation.result)
        return cut

    def as_text(self) -> str:
        """Every violation as a readable block, sorted; identical for identical input.

        >>> ValidationReport(conforms=True).as_text()
        'Conforms: no violations.'
        """
        if not self.violations and self.total_results is None:
            return "Conforms: no violations." if self.conforms else "Does not conform."
        blocks = [v.as_text() for v in sorted(self.violations, key=Violation.sort_key)]
        header = f"Does not conform: {self.total_results or len(self.violations)} result(s)."
        if self.cut_notice:
            header += f" {self.cut_notice}"
        return "\n\n".join([header, *blocks])

    def as_turtle(self) -> str:
        """The pySHACL results graph (a ``sh:ValidationReport``) as Turtle, headed by a
        comment that counts the report's own results (``sh:result``) apart from the ones
        nested under ``sh:detail``, which explain an ``sh:node``/``sh:or`` result and are
        not results of the report themselves: counting every ``sh:ValidationResult`` node
        would overcount.

        >>> ValidationReport(conforms=True).as_turtle().splitlines()[0]
        '# 0 result(s) in the report (sh:result); 0 more nested under sh:detail.'
        """
        graph = self.results_graph
        top = set(graph.objects(predicate=SH.result))
        nested = set(graph.subjects(RDF.type, SH.ValidationResult)) - top
        header = (
            f"# {len(top)} result(s) in the report (sh:result); "
            f"{len(nested)} more nested under sh:detail.\n"
        )
        return header + graph.serialize(format="turtle")


def _fingerprint(files: Iterable[Path]) -> tuple[tuple[str, int, int], ...]:
    """Path, size and modification time of each file: changes whenever a file is edited."""
    return tuple(
        (str(path), path.stat().st_size, path.stat().st_mtime_ns) for path in sorted(files)
    )


@lru_cache(maxsize=4)
def _shapes_for(fingerprint: tuple[tuple[str, int, int], ...]) -> Graph:
    return load_union(Path(path) for path, _, _ in fingerprint)


@lru_cache(maxsize=4)
def _ontology_for(fingerprint: tuple[tuple[str, int, int], ...], settings: Settings) -> Graph:
    del fingerprint  # only part of the cache key
    return ontology_graph(settings)


def _cached_shapes(settings: Settings) -> Graph:
    return _shapes_for(_fingerprint(turtle_files(settings.shapes_dir)))


def _cached_ontology(settings: Settings) -> Graph:
    files = DataFiles.discover(settings)
    return _ontology_for(_fingerprint([*files.ontology, *files.vocab]), settings)


def load_shapes(settings: Settings = SETTINGS) -> Graph:
    """Every shapes file under ``settings.shapes_dir`` as one Graph (a copy the caller owns).

    >>> from rdflib.namespace import RDF
    >>> shapes = load_shapes()
    >>> (SHAPES.ObligationShape, RDF.type, SH.NodeShape) in shapes
    True
    """
    copy = Graph()
    copy += _cached_shapes(settings)
    return copy


def _named_shape(shapes: Graph, shape: Node) -> URIRef | None:
    """The named shape a (possibly blank-node) source shape belongs to."""
    seen: set[Node] = set()
    while not isinstance(shape, URIRef):
        if shape in seen:
            return None
        seen.add(shape)
        parent = shapes.value(predicate=SH.property, object=shape)
        if parent is None:
            return None
        shape = parent
    return shape


def _graphs_describing(data: Graph) -> Callable[[Node], tuple[URIRef, ...]]:
    """For a Dataset: which named graphs hold triples about a node (so a report can say
    which file to fix). For a plain Graph there is nothing to say."""
    if not isinstance(data, Dataset):
        return lambda node: ()
    return lambda node: tuple(
        sorted({g for _, _, _, g in data.quads((node, None, None, None)) if g is not None})
    )


def _graphs_in_store(store: ox.Store) -> Callable[[Node], tuple[URIRef, ...]]:
    """Which named graphs of a store hold triples about a node (the file to fix)."""
    def graphs(node: Node) -> tuple[URIRef, ...]:
        if not isinstance(node, URIRef | BNode):  # a literal is never a subject
            return ()
        names = {q.graph_name for q in store.quads_for_pattern(to_oxigraph(node), None, None)}
        return tuple(sorted(URIRef(g.value) for g in names if isinstance(g, ox.NamedNode)))

    return graphs


def _violations(
    results: Graph, shapes: Graph, graphs_of: Callable[[Node], tuple[URIRef, ...]]
) -> list[Violation]:
    found = []
    # Only the report's own results: results nested under sh:detail (why an sh:node or
    # sh:or member failed) repeat the top-level one from the inner shape's point of view.
    for result in results.objects(predicate=SH.result):
        source_shape = results.value(result, SH.sourceShape)
        messages = sorted(str(m) for m in results.objects(result, SH.resultMessage))
        found.append(
            Violation(
                focus_node=results.value(result, SH.focusNode),
                path=results.value(result, SH.resultPath),
                component=_local_name(results.value(result, SH.sourceConstraintComponent)),
                message=" / ".join(messages),
                source_shape=source_shape,
                severity=_local_name(results.value(result, SH.resultSeverity)),
                value=results.value(result, SH.value),
                shape=_named_shape(shapes, source_shape),
                graphs=graphs_of(results.value(result, SH.focusNode)),
                result=result,
            )
        )
    return sorted(found, key=Violation.sort_key)


def _with_ontology(data: Graph, settings: Settings) -> Graph:
    """A new Graph: the data (a Dataset counts as the union of its graphs) plus the ontology
    and vocabularies. pySHACL would validate each graph of a Dataset on its own."""
    union = Graph()
    union += _cached_ontology(settings)
    if isinstance(data, Dataset):
        for subject, predicate, obj, _ in data.quads():
            union.add((subject, predicate, obj))
    else:
        union += data
    return union


def validate_graph(data: Graph, settings: Settings = SETTINGS) -> ValidationReport:
    """Validate ``data`` (a Graph, or a Dataset taken as the union of its graphs).

    >>> from pactgraph.rdf.dataset import load_union
    >>> report = validate_graph(load_union([]))
    >>> report.conforms
    True
    """
    # A copy: pySHACL adds a few RDFS axioms to the shapes graph it is given, and the cached
    # graph may be shared by concurrent calls (the service validates in a thread pool).
    shapes = load_shapes(settings)
    # pySHACL, or SPARQL on a store for large inputs (same shapes, same results graph).
    conforms, results = run_shacl(_with_ontology(data, settings), shapes)
    return ValidationReport(
        conforms=bool(conforms),
        violations=_violations(results, shapes, _graphs_describing(data)),
        results_graph=results,
    )


def validate_files(files: list[Path], settings: Settings = SETTINGS) -> ValidationReport:
    """Parse ``files`` and validate their union with the ontology (``pactgraph validate``).

    Reports the stages ``load`` (a count of files) and ``shacl`` to the progress reporter in
    use (:mod:`pactgraph.progress`; by default nowhere).

    >>> validate_files([]).conforms
    True
    """
    with progress.stage("load", total=len(files), unit="files") as running:
        data = load_union(files, settings, on_file=lambda _path: running.advance())
        running.note(f"{len(data):,} triples from {len(files)} files")
    with progress.stage("shacl") as running:
        report = validate_graph(data, settings)
        running.note("conforms" if report.conforms else f"{len(report.violations)} result(s)")
    return report


def validate_store(store: ox.Store, settings: Settings = SETTINGS) -> ValidationReport:
    """Validate the union of a store's graphs; the store holds the ontology and vocabularies.

    Below ``SPARQL_MIN_TRIPLES`` quads the union is copied into rdflib for pySHACL (the
    reference); from there on the SPARQL engine queries the store directly.
    ``PACTGRAPH_SHACL_ENGINE`` forces an engine either way.

    >>> import pyoxigraph
    >>> validate_store(pyoxigraph.Store()).conforms
    True
    """
    shapes = load_shapes(settings)
    engine = engine_for(len(store))
    if engine == "sparql":
        conforms, results = shacl_sparql.validate(store, shapes)
    else:
        conforms, results = ENGINES[engine](add_triples(Graph(), store), shapes)
    return ValidationReport(
        conforms=bool(conforms),
        violations=_violations(results, shapes, _graphs_in_store(store)),
        results_graph=results,
    )
