"""What a linked-data page shows: the release's asserted triples and the entity page model.

:class:`LinkedData` holds the asserted quads of one release in an in-memory pyoxigraph store
(the inferred graph is left out: a page shows what the sources back, not what a reasoner
added) and answers the look-ups the pages need by triple pattern, never by SPARQL text.
:func:`entity_page` turns one IRI into an :class:`EntityPage` (label, types, definitions,
properties with linked and formatted values, incoming links, sources, claims, obligations),
which ``templates/entity.html`` renders with :func:`pactgraph.render.html.render`.

>>> format_literal("2018-10-01", XSD + "date")
'1 October 2018'
>>> format_literal("3800000000.00", XSD + "decimal")
'3,800,000,000'
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox

from pactgraph.gates.inference import INFERRED_GRAPH
from pactgraph.rdf.namespaces import PACT, compact_iri
from pactgraph.release.published import Release
from pactgraph.render.html import render
from pactgraph.settings import BASE_IRI

ENTITY_QUERY = "entity-query.rq"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
SCHEMA = "http://schema.org/"
PROV = "http://www.w3.org/ns/prov#"


def _iri(text: str) -> ox.NamedNode:
    return ox.NamedNode(text)


RDF_TYPE = _iri(RDF + "type")
# What names a node, best first; what defines it, in this order.
LABEL_PROPERTIES = (
    _iri(SKOS + "prefLabel"),
    _iri(RDFS + "label"),
    _iri(DCTERMS + "title"),
    _iri(PACT + "claimText"),
)
DEFINITION_PROPERTIES = (
    _iri(SKOS + "definition"),
    _iri(RDFS + "comment"),
    _iri(DCTERMS + "description"),
    _iri(PACT + "claimText"),
)
ATTESTED_BY = _iri(PACT + "attestedBy")
DERIVED_FROM = _iri(PROV + "wasDerivedFrom")
STATED_IN = _iri(PACT + "statedIn")
IDENTIFIED_AS = _iri(PACT + "identifiedAs")
SUPPORTS = _iri(PACT + "supports")
DISPUTES = _iri(PACT + "disputes")
# pact:attestedBy first: in the 0.2 transition an entity carries the same sources under
# prov:wasDerivedFrom too, and a source is listed once, under the first link that names it.
SOURCE_LINKS = (ATTESTED_BY, DERIVED_FROM, STATED_IN, IDENTIFIED_AS)
SOURCE_URLS = (_iri(SCHEMA + "url"), _iri(SCHEMA + "archivedAt"))
PUBLISHER = _iri(DCTERMS + "publisher")
ISSUED = _iri(DCTERMS + "issued")
MONETARY_AMOUNT = _iri(SCHEMA + "MonetaryAmount")
AMOUNT_VALUE = _iri(SCHEMA + "value")
CURRENCY = _iri(SCHEMA + "currency")
AMOUNT_QUALIFIERS = (_iri(PACT + "amountType"), _iri(PACT + "amountBasis"))
BEARER = _iri(PACT + "bearer")
BENEFICIARY = _iri(PACT + "beneficiary")
ARISES_UNDER = _iri(PACT + "arisesUnder")
PARTY = _iri(PACT + "party")
# The facts of an obligation shown in the instrument's and the actors' summaries.
OBLIGATION_FACTS = {
    "type": _iri(PACT + "obligationType"),
    "modality": _iri(PACT + "deonticModality"),
    "bindingness": _iri(PACT + "bindingness"),
    "amount": _iri(PACT + "amount"),
    "valid during": _iri(PACT + "validDuring"),
}
INSTRUMENT_CLASS = _iri(PACT + "Instrument")
ACTOR_CLASS = _iri(PACT + "Actor")


# ----------------------------------------------------------------------------- literals


def _date(text: str) -> str:
    parsed = date.fromisoformat(text[:10])
    return f"{parsed.day} {parsed.strftime('%B')} {parsed.year}"


def _number(text: str) -> str:
    value = Decimal(text)
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,}"


def _year_month(text: str) -> str:
    return date.fromisoformat(text[:7] + "-01").strftime("%B %Y")


# Datatype IRI -> how a person reads it. Anything else is shown as written.
LITERAL_FORMATS: dict[str, Callable[[str], str]] = {
    XSD + "date": _date,
    XSD + "dateTime": _date,
    XSD + "gYearMonth": _year_month,
    XSD + "decimal": _number,
    XSD + "integer": _number,
    XSD + "nonNegativeInteger": _number,
    XSD + "double": _number,
}


def format_literal(value: str, datatype: str | None) -> str:
    """A literal as a person reads it (dates spelled out, numbers grouped); as-is on failure.

    >>> format_literal("2016", XSD + "gYear")
    '2016'
    >>> format_literal("not a date", XSD + "date")
    'not a date'
    """
    formatter = LITERAL_FORMATS.get(datatype or "")
    if formatter is None:
        return value
    try:
        return formatter(value)
    except (ValueError, InvalidOperation):
        return value


# ----------------------------------------------------------------------------- prefixes


def compact(iri: str) -> str:
    """``prefix:local`` for an IRI in one of our namespaces, else the IRI (see namespaces).

    >>> compact("https://w3id.org/pactgraph/vocab/obligation-type/defense")
    'ot:defense'
    """
    return compact_iri(iri)


# ----------------------------------------------------------------------------- the data


class LinkedData:
    """The asserted quads of a release in memory, with the look-ups the pages need."""

    def __init__(self, store: ox.Store, version: str) -> None:
        self.store = store
        self.version = version

    @classmethod
    def from_quads(cls, quads: Iterable[ox.Quad], version: str) -> LinkedData:
        """Keep every quad except those of the inferred graph."""
        store = ox.Store()
        inferred = ox.NamedNode(str(INFERRED_GRAPH))
        store.extend(q for q in quads if q.graph_name != inferred)
        return cls(store, version)

    def triples(
        self,
        subject: ox.NamedNode | None = None,
        predicate: ox.NamedNode | None = None,
        obj: Any = None,
        graph: ox.NamedNode | None = None,
    ) -> list[ox.Triple]:
        """Distinct triples matching a pattern in any (or one) named graph, sorted."""
        found = {q.triple for q in self.store.quads_for_pattern(subject, predicate, obj, graph)}
        return sorted(found, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))

    def objects(self, subject: Any, predicate: ox.NamedNode) -> list[Any]:
        return [t.object for t in self.triples(subject, predicate)]

    def subjects(self, predicate: ox.NamedNode, obj: Any) -> list[Any]:
        return [t.subject for t in self.triples(None, predicate, obj)]

    def describe(self, iri: str) -> list[ox.Triple]:
        """What the data says about ``iri`` and what points to it ([] when it is unknown)."""
        try:
            node = ox.NamedNode(iri)
        except ValueError:  # not a valid IRI (a space, a NUL from the URL): nothing about it
            return []
        return sorted(
            {*self.triples(node), *self.triples(None, None, node)},
            key=lambda t: (str(t.subject), str(t.predicate), str(t.object)),
        )

    def graph(self, graph_iri: str) -> list[ox.Triple]:
        """Every triple of one named graph ([] when there is no such graph)."""
        try:
            graph = ox.NamedNode(graph_iri)
        except ValueError:  # not a valid IRI, so not a graph of ours
            return []
        return self.triples(graph=graph)

    def label(self, node: Any) -> str:
        """The node's English (or any) label, else its compact IRI, else the literal."""
        if not isinstance(node, ox.NamedNode):
            return node.value
        for prop in LABEL_PROPERTIES:
            values = [o for o in self.objects(node, prop) if isinstance(o, ox.Literal)]
            english = [v for v in values if v.language in (None, "en")]
            if english or values:
                return (english or values)[0].value
        return compact(node.value)

    def types(self, node: Any) -> list[ox.NamedNode]:
        return [o for o in self.objects(node, RDF_TYPE) if isinstance(o, ox.NamedNode)]

    def is_a(self, node: Any, cls: ox.NamedNode) -> bool:
        """Whether ``node`` is typed ``cls`` or a subclass of it (asserted subclassing)."""
        todo, seen = list(self.types(node)), set()
        sub_class_of = ox.NamedNode(RDFS + "subClassOf")
        while todo:
            current = todo.pop()
            if current == cls:
                return True
            if current not in seen:
                seen.add(current)
                todo.extend(o for o in self.objects(current, sub_class_of))
        return False


@lru_cache(maxsize=4)
def _load(store_path: str, version: str) -> LinkedData:
    readonly = ox.Store.read_only(store_path)
    try:
        return LinkedData.from_quads(readonly.quads_for_pattern(None, None, None, None), version)
    finally:
        del readonly


def linked_data_for(release: Release) -> LinkedData:
    """The release's asserted data, read once per release and kept in memory."""
    return _load(str(release.store_path), release.version)


# ----------------------------------------------------------------------------- the page


@dataclass(frozen=True)
class Value:
    """One value as a page shows it: text, and a link when it is an IRI."""

    text: str
    href: str | None = None
    iri: str | None = None
    note: str = ""  # datatype or language, or an amount's qualifiers
    lang: str | None = None


@dataclass(frozen=True)
class PropertyValues:
    """One property of the entity (or pointing at it) and its values."""

    property: Value
    values: list[Value]


@dataclass(frozen=True)
class SourceRef:
    """A document behind the entity: its title, publisher, date and web addresses."""

    node: Value
    via: str  # the property that links to it
    publisher: Value | None
    issued: str | None
    urls: list[str]


@dataclass(frozen=True)
class ClaimRef:
    """A claim that supports or disputes the entity, with the sources that state it."""

    node: Value
    text: str
    stance: str
    sources: list[SourceRef]


@dataclass(frozen=True)
class ObligationRef:
    """One obligation, summarised: who owes what to whom, under which instrument."""

    node: Value
    bearer: list[Value]
    beneficiary: list[Value]
    instrument: list[Value]
    facts: dict[str, list[Value]]
    comment: str


@dataclass
class EntityPage:
    """Everything ``entity.html`` shows about one node."""

    iri: str
    label: str
    types: list[Value]
    definitions: list[str]
    properties: list[PropertyValues]
    incoming: list[PropertyValues]
    sources: list[SourceRef]
    claims: list[ClaimRef]
    obligation_sections: list[tuple[str, list[ObligationRef]]] = field(default_factory=list)
    query_href: str = "/"


class Linker:
    """Turns IRIs into links: our own IRIs point at this service, others stay as they are.

    >>> Linker("http://127.0.0.1:8000/").href("https://w3id.org/pactgraph/id/actor/israel")
    'http://127.0.0.1:8000/id/actor/israel'
    >>> Linker("/").href("https://w3id.org/pactgraph/id/actor/israel")
    '/id/actor/israel'
    >>> Linker("http://h/").href("http://www.wikidata.org/entity/Q801")
    'http://www.wikidata.org/entity/Q801'
    """

    def __init__(self, served_base: str) -> None:
        self.served_base = served_base.rstrip("/") + "/"

    def href(self, iri: str) -> str:
        if iri.startswith(BASE_IRI):
            return self.served_base + iri[len(BASE_IRI) :]
        return iri


def _value(data: LinkedData, node: Any, linker: Linker, subject: Any = None) -> Value:
    if isinstance(node, ox.NamedNode):
        text = data.label(node)
        note = ""
        if MONETARY_AMOUNT in data.types(node):
            text, note = _amount_text(data, node)
        return Value(text=text, href=linker.href(node.value), iri=node.value, note=note)
    if isinstance(node, ox.Literal):
        datatype = node.datatype.value if node.datatype else None
        text = format_literal(node.value, datatype)
        # An amount's own value reads with its currency (schema:value "3.8e9" + "USD").
        if (
            subject is not None
            and data.objects(subject, CURRENCY)
            and datatype
            in (
                XSD + "decimal",
                XSD + "integer",
            )
        ):
            text = f"{text} {data.objects(subject, CURRENCY)[0].value}"
        note = node.language or (compact(datatype) if datatype else "")
        if datatype == RDF + "langString" or datatype == XSD + "string":
            note = node.language or ""
        return Value(text=text, note=note, lang=node.language)
    return Value(text=str(node))


def _amount_text(data: LinkedData, amount: ox.NamedNode) -> tuple[str, str]:
    values = data.objects(amount, AMOUNT_VALUE)
    currency = " ".join(c.value for c in data.objects(amount, CURRENCY))
    if not values:
        return data.label(amount), ""
    number = format_literal(values[0].value, XSD + "decimal")
    qualifiers = [data.label(q) for p in AMOUNT_QUALIFIERS for q in data.objects(amount, p)]
    return f"{number} {currency}".strip(), ", ".join(qualifiers)


def _grouped(
    data: LinkedData, pairs: Iterable[tuple[ox.NamedNode, Any]], linker: Linker, subject: Any
) -> list[PropertyValues]:
    by_property: dict[ox.NamedNode, list[Any]] = defaultdict(list)
    for predicate, node in pairs:
        by_property[predicate].append(node)
    rows = []
    for predicate, nodes in by_property.items():
        values = [_value(data, n, linker, subject) for n in nodes]
        rows.append(PropertyValues(_value(data, predicate, linker), values))
    return sorted(rows, key=lambda row: row.property.text.lower())


def _source(data: LinkedData, node: Any, via: ox.NamedNode, linker: Linker) -> SourceRef:
    publishers = data.objects(node, PUBLISHER)
    issued = data.objects(node, ISSUED)
    urls = [u.value for p in SOURCE_URLS for u in data.objects(node, p)]
    return SourceRef(
        node=_value(data, node, linker),
        via=data.label(via),
        publisher=_value(data, publishers[0], linker) if publishers else None,
        issued=_value(data, issued[0], linker).text if issued else None,
        urls=urls,
    )


def _sources(data: LinkedData, node: ox.NamedNode, linker: Linker) -> list[SourceRef]:
    found: list[SourceRef] = []
    seen: set[ox.NamedNode] = set()
    for prop in SOURCE_LINKS:
        for source in data.objects(node, prop):
            if isinstance(source, ox.NamedNode) and source not in seen:
                seen.add(source)
                found.append(_source(data, source, prop, linker))
    return found


def _claims(data: LinkedData, node: ox.NamedNode, linker: Linker) -> list[ClaimRef]:
    claims = []
    for stance, prop in (("supports", SUPPORTS), ("disputes", DISPUTES)):
        for claim in data.subjects(prop, node):
            texts = data.objects(claim, _iri(PACT + "claimText"))
            claims.append(
                ClaimRef(
                    node=_value(data, claim, linker),
                    text=texts[0].value if texts else data.label(claim),
                    stance=stance,
                    sources=_sources(data, claim, linker),
                )
            )
    return claims


def _obligation(data: LinkedData, node: Any, linker: Linker) -> ObligationRef:
    def values(prop: ox.NamedNode) -> list[Value]:
        return [_value(data, o, linker) for o in data.objects(node, prop)]

    comments = data.objects(node, _iri(RDFS + "comment"))
    return ObligationRef(
        node=_value(data, node, linker),
        bearer=values(BEARER),
        beneficiary=values(BENEFICIARY),
        instrument=values(ARISES_UNDER),
        facts={name: values(prop) for name, prop in OBLIGATION_FACTS.items()},
        comment=comments[0].value if comments else "",
    )


def _obligation_sections(
    data: LinkedData, node: ox.NamedNode, linker: Linker
) -> list[tuple[str, list[ObligationRef]]]:
    # Heading -> the property that ties a provision to this node. Instruments list what
    # arises under them; actors the provisions they bear and those in their favour. A
    # provision may be a duty, a permission or a political commitment (each card shows its
    # modality), so the headings do not say "bound".
    wanted: dict[str, ox.NamedNode] = {}
    if data.is_a(node, INSTRUMENT_CLASS):
        wanted["Provisions under this instrument"] = ARISES_UNDER
    if data.is_a(node, ACTOR_CLASS):
        wanted["Provisions it bears (duties, permissions, commitments)"] = BEARER
        wanted["Provisions in its favour"] = BENEFICIARY
    sections = []
    for heading, prop in wanted.items():
        found = [_obligation(data, o, linker) for o in data.subjects(prop, node)]
        if found:
            sections.append((heading, found))
    return sections


def query_link(iri: str, label: str) -> str:
    """The query page's URL, opening a SELECT of everything about (and pointing at) ``iri``."""
    text = render(ENTITY_QUERY, iri=iri, label=label)
    return "/?" + urlencode({"query": text, "tabTitle": label[:60]})


def entity_page(data: LinkedData, iri: str, linker: Linker) -> EntityPage | None:
    """The page model of ``iri``, or ``None`` when the release says nothing about it."""
    node = ox.NamedNode(iri)
    outgoing = data.triples(node)
    incoming = data.triples(None, None, node)
    if not outgoing and not incoming:
        return None
    shown_apart = {RDF_TYPE}
    label = data.label(node)
    definitions = [
        o.value
        for p in DEFINITION_PROPERTIES
        for o in data.objects(node, p)
        if isinstance(o, ox.Literal)
    ]
    properties = _grouped(
        data,
        ((t.predicate, t.object) for t in outgoing if t.predicate not in shown_apart),
        linker,
        node,
    )
    incoming_rows = _grouped(data, ((t.predicate, t.subject) for t in incoming), linker, None)
    return EntityPage(
        iri=iri,
        label=label,
        types=[_value(data, t, linker) for t in data.types(node)],
        definitions=list(dict.fromkeys(definitions)),
        properties=properties,
        incoming=incoming_rows,
        sources=_sources(data, node, linker),
        claims=_claims(data, node, linker),
        obligation_sections=_obligation_sections(data, node, linker),
        query_href=query_link(iri, label),
    )
