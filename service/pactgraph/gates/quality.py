"""Quality checks: SPARQL queries under ``queries/qc/`` that must return no rows.

Each check is one ``.rq`` file whose first lines are ``# title:`` and ``# description:``; every
row it returns is a finding. By convention the offending node is the variable ``?node`` (else
the first variable) and the other variables give detail. The checks run on pyoxigraph over
the whole dataset, with the union of the named graphs as the default graph (``GRAPH ?g``
still reaches each file's own graph), and with the inferred graph left out: they judge what
people wrote, not what a reasoner added.

>>> check = QualityCheck.parse(Path("x.rq"), "# title: Example\\n# description: d\\nASK {}")
>>> check.title, check.name
('Example', 'x')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import click
import pyoxigraph as ox
from rdflib import Dataset

from pactgraph import progress
from pactgraph.gates.inference import INFERRED_GRAPH
from pactgraph.rdf.dataset import load_store
from pactgraph.rdf.namespaces import compact_iri
from pactgraph.rdf.terms import memory_store
from pactgraph.settings import SETTINGS, Settings, current_settings

_HEADER = re.compile(r"^#\s*(title|description):\s*(.*)$")
# The variable that names the offending node in every check.
NODE_VARIABLE = "node"


class CheckFileError(ValueError):
    """A ``queries/qc`` file without its ``# title:`` / ``# description:`` header."""


@dataclass(frozen=True)
class QualityCheck:
    """One quality-check query and what it is for."""

    path: Path
    title: str
    description: str
    query: str

    @property
    def name(self) -> str:
        """The file name without ``.rq`` (how the CLI and tests refer to a check)."""
        return self.path.stem

    @classmethod
    def parse(cls, path: Path, text: str) -> QualityCheck:
        """Read the header lines of a check; raise :class:`CheckFileError` without them."""
        header: dict[str, str] = {}
        for line in text.splitlines():
            match = _HEADER.match(line.strip())
            if not match:
                break
            header[match.group(1)] = match.group(2).strip()
        if not header.get("title") or not header.get("description"):
            raise CheckFileError(f"{path}: must start with '# title:' and '# description:'")
        return cls(path, header["title"], header["description"], text)

    @classmethod
    def load(cls, path: Path) -> QualityCheck:
        """Read a check from its ``.rq`` file."""
        return cls.parse(path, path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Finding:
    """One row of a check: the offending node and the row's other values (already shortened).

    >>> check = QualityCheck(Path("a.rq"), "Duplicate label", "d", "")
    >>> str(Finding(check, "actor:x", {"other": "actor:y"}))
    'Duplicate label: actor:x (other: actor:y)'
    """

    check: QualityCheck
    node: str
    details: dict[str, str] = field(default_factory=dict)
    # The node as a full IRI (or blank-node label), for programs that compare findings.
    iri: str = ""

    def __str__(self) -> str:
        detail = ", ".join(f"{key}: {value}" for key, value in self.details.items())
        return f"{self.check.title}: {self.node}" + (f" ({detail})" if detail else "")


def load_checks(settings: Settings = SETTINGS) -> list[QualityCheck]:
    """Every check under ``queries/qc/``, in file-name order."""
    return [QualityCheck.load(path) for path in sorted(settings.qc_dir.glob("*.rq"))]


def asserted_store(data: ox.Store | Dataset) -> ox.Store:
    """A pyoxigraph store of the data without its inferred graph (a copy only if need be)."""
    if isinstance(data, Dataset):
        data = memory_store(data)
    inferred = ox.NamedNode(INFERRED_GRAPH)
    if not data.contains_named_graph(inferred):
        return data
    asserted = ox.Store()
    asserted.extend(q for q in data if q.graph_name != inferred)
    return asserted


def _show(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        short = compact_iri(term.value)
        return f"<{short}>" if short == term.value else short
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value


def run_check(store: ox.Store, check: QualityCheck) -> list[Finding]:
    """The findings of one check (its result rows) on a store."""
    results = store.query(check.query, use_default_graph_as_union=True)
    if isinstance(results, ox.QueryBoolean):  # an ASK check fails when it is true
        return [Finding(check, "(the whole dataset)")] if bool(results) else []
    if not isinstance(results, ox.QuerySolutions):
        raise CheckFileError(f"{check.path}: a quality check must be a SELECT or ASK query")
    variables = [v.value for v in results.variables]
    key = NODE_VARIABLE if NODE_VARIABLE in variables else variables[0]
    findings = []
    for row in results:
        details = {
            name: _show(row[name]) for name in variables if name != key and row[name] is not None
        }
        node = row[key]
        findings.append(Finding(check, _show(node), details, node.value if node else ""))
    return findings


def run_checks(
    data: ox.Store | Dataset,
    checks: list[QualityCheck] | None = None,
    settings: Settings = SETTINGS,
) -> list[Finding]:
    """Run every check (by default all of ``queries/qc/``) on the data; return all findings.

    >>> from pactgraph.rdf.dataset import load_dataset
    >>> run_checks(load_dataset())
    []
    """
    store = asserted_store(data)
    checks = load_checks(settings) if checks is None else checks
    running = progress.current()  # the build's quality stage, if any: a bar over the checks
    running.set_total(len(checks), "checks")
    findings: list[Finding] = []
    for check in checks:
        findings.extend(run_check(store, check))
        running.advance()
    return findings


def quality_gate(store: ox.Store, settings: Settings = SETTINGS) -> list[str]:
    """Build gate: one line per finding of every quality check (empty = pass)."""
    return [str(finding) for finding in run_checks(store, settings=settings)]


@click.command("check")
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="NAME",
    help="Run just this check (file name without .rq); repeatable.",
)
def check_command(only: tuple[str, ...]) -> None:
    """Run the quality checks in queries/qc/ (each must return no rows).

    Prints every finding with its check's title and the offending node, then a summary per
    check. Exits 1 when any check finds something.
    """
    settings = current_settings()
    checks = load_checks(settings)
    unknown = set(only) - {check.name for check in checks}
    if unknown:
        raise click.BadParameter(
            f"no such check: {', '.join(sorted(unknown))}", param_hint="--only"
        )
    chosen = [check for check in checks if not only or check.name in only]
    findings = run_checks(load_store(settings=settings), chosen, settings)
    for finding in findings:
        click.echo(str(finding))
    for check in chosen:
        count = sum(1 for finding in findings if finding.check == check)
        click.echo(f"{'FAIL' if count else 'ok  '} {check.name}: {check.title} ({count})", err=True)
    if findings:
        raise SystemExit(1)
